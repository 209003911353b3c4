//! The policy engine: a validated pack, and decisions against it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
    Schema,
};
use steward_domain::{
    CaseKind, ObligationKind, Principal, PrincipalKind, ProcessorService, Purpose, SubjectId, Team,
};
use time::Date;

use crate::cache::{ContextCache, ContextKey, PreparedPrincipal, PrincipalCache};
use crate::error::PolicyError;
use crate::guard::Guard;
use crate::guard::Known;
use crate::pack::{self, PackManifest, PolicyInfo, SCHEMA_FILE};
use crate::request::{Action, Decision, DecisionBasis, DecisionRequest, RequestContext};
use crate::slice;

/// The Cedar entity type of principals.
pub const PRINCIPAL_TYPE: &str = "Steward::Principal";
/// The Cedar entity type of the resource: one subject's data of one category.
pub const RESOURCE_TYPE: &str = "Steward::SubjectData";
/// The Cedar entity type of actions.
pub const ACTION_TYPE: &str = "Steward::Action";

pub use crate::request::days_since_epoch;

/// A loaded, validated policy pack, ready to decide.
///
/// Holds the pack's schema and policy set, and per action the slice of
/// policies whose action scope can match it, so a decision evaluates only
/// the policies that can apply. Immutable after load: share it across
/// threads by reference or `Arc` (it is `Send + Sync`).
pub struct PolicyEngine {
    manifest: PackManifest,
    schema: Schema,
    policies: PolicySet,
    // The policies that can apply, per (action, purpose, kind, revocation,
    // category): see `Slices`.
    slices: Slices,
    // False only in tests that compare slices with the whole set.
    slicing: bool,
    // False only in tests that compare decisions with and without the
    // prepared principals.
    caching: bool,
    infos: Vec<PolicyInfo>,
    by_id: HashMap<String, usize>,
    // INVARIANT: action_uids[a.index()] is `Steward::Action::"<a.as_str()>"`.
    action_uids: Vec<EntityUid>,
    // The action entity with its ancestors as parents, where the schema puts
    // the action in a group; None otherwise (no entity needed).
    action_entities: Vec<Option<Entity>>,
    principal_type: EntityTypeName,
    resource_type: EntityTypeName,
    authorizer: Authorizer,
    contexts: ContextCache,
    principals: PrincipalCache,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("name", &self.manifest.name)
            .field("version", &self.manifest.version)
            .field("policies", &self.infos.len())
            .finish()
    }
}

impl PolicyEngine {
    /// The default pack, embedded in the binary: the privacy notice of
    /// 2024-01-18 (`crates/steward-policy/pack/`).
    ///
    /// Errors: none in a released build (a test loads it); any
    /// [`PolicyError`] if the embedded files were edited into an invalid pack.
    pub fn default_pack() -> Result<Self, PolicyError> {
        let pack = pack::load(
            pack::EMBEDDED_MANIFEST,
            pack::EMBEDDED_SCHEMA,
            pack::EMBEDDED_POLICIES,
            "<embedded default pack>",
        )?;
        Self::from_loaded(pack)
    }

    /// Load a pack directory (an operator's `--policy-dir`): `pack.toml`,
    /// `schema.cedarschema` and every `*.cedar` file in it.
    ///
    /// Errors: [`PolicyError::Io`] for an unreadable file,
    /// [`PolicyError::NoPolicies`] without `.cedar` files, and every load
    /// error of [`PolicyEngine::from_sources`].
    pub fn load_dir(dir: &Path) -> Result<Self, PolicyError> {
        let texts = pack::read_dir(dir)?;
        let files: Vec<(&str, &str)> = texts
            .policies
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let pack = pack::load(
            &texts.manifest,
            &texts.schema,
            &files,
            &dir.display().to_string(),
        )?;
        Self::from_loaded(pack)
    }

    /// Load a pack from its texts: the manifest, the Cedar schema, and
    /// (file name, policy text) pairs.
    ///
    /// Errors: [`PolicyError::Manifest`], [`PolicyError::Schema`],
    /// [`PolicyError::Parse`] (file:line:column), [`PolicyError::Template`],
    /// [`PolicyError::MissingAnnotation`] (no `@id` or `@clause`; a forbid
    /// without `@reason`), [`PolicyError::BadAnnotation`],
    /// [`PolicyError::DuplicateId`], [`PolicyError::Validation`] (strict
    /// validation: file, policy id and Cedar's message for every problem),
    /// [`PolicyError::SchemaMismatch`] (the schema rejects the entities,
    /// actions or context the engine builds).
    pub fn from_sources(
        manifest: &str,
        schema: &str,
        policy_files: &[(&str, &str)],
    ) -> Result<Self, PolicyError> {
        let pack = pack::load(manifest, schema, policy_files, "<sources>")?;
        Self::from_loaded(pack)
    }

    fn from_loaded(pack: pack::LoadedPack) -> Result<Self, PolicyError> {
        let mismatch = |message: String| PolicyError::SchemaMismatch {
            file: SCHEMA_FILE.to_owned(),
            message,
        };
        let principal_type = EntityTypeName::from_str(PRINCIPAL_TYPE)
            .map_err(|e| mismatch(format!("{PRINCIPAL_TYPE}: {e}")))?;
        let resource_type = EntityTypeName::from_str(RESOURCE_TYPE)
            .map_err(|e| mismatch(format!("{RESOURCE_TYPE}: {e}")))?;
        let action_type = EntityTypeName::from_str(ACTION_TYPE)
            .map_err(|e| mismatch(format!("{ACTION_TYPE}: {e}")))?;
        let action_uids: Vec<EntityUid> = Action::ALL
            .iter()
            .map(|a| {
                EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a.as_str()))
            })
            .collect();

        let schema_actions = pack
            .schema
            .action_entities()
            .map_err(|e| mismatch(e.to_string()))?;
        let mut action_entities = Vec::with_capacity(action_uids.len());
        let mut ancestors_of: Vec<Vec<EntityUid>> = Vec::with_capacity(action_uids.len());
        for (action, uid) in Action::ALL.iter().zip(&action_uids) {
            let ancestors: Vec<EntityUid> = match schema_actions.ancestors(uid) {
                Some(it) => it.cloned().collect(),
                None => {
                    return Err(mismatch(format!(
                        "the schema declares no action {uid} (for Action::{action:?})"
                    )));
                }
            };
            action_entities.push(if ancestors.is_empty() {
                None
            } else {
                Some(Entity::new_no_attrs(
                    uid.clone(),
                    ancestors.iter().cloned().collect(),
                ))
            });
            ancestors_of.push(ancestors);
        }

        // Slices by (action, purpose, principal kind, revocation,
        // category): see `slice`. Built on first use.
        let mut pinned = Vec::new();
        for p in pack.policies.policies() {
            let est = p
                .to_json()
                .map_err(|e| mismatch(format!("policy {} to JSON: {e}", p.id())))?;
            pinned.push((p.clone(), slice::pins_of(&est), Guard::of(&est)));
        }
        let slices = Slices::new(pinned, ancestors_of, action_uids.clone());

        let by_id = pack
            .infos
            .iter()
            .enumerate()
            .map(|(i, info)| (info.id.clone(), i))
            .collect();
        let engine = PolicyEngine {
            manifest: pack.manifest,
            schema: pack.schema,
            policies: pack.policies,
            slices,
            slicing: true,
            caching: true,
            infos: pack.infos,
            by_id,
            action_uids,
            action_entities,
            principal_type,
            resource_type,
            authorizer: Authorizer::new(),
            contexts: ContextCache::default(),
            principals: PrincipalCache::default(),
        };
        engine.check_conformance().map_err(mismatch)?;
        Ok(engine)
    }

    /// Check that the schema accepts what [`PolicyEngine::decide`] builds:
    /// principals with and without every optional attribute, the resource,
    /// every action and the context. Without this, a schema that disagrees
    /// with the engine would make every decision an evaluation error.
    fn check_conformance(&self) -> Result<(), String> {
        let today =
            Date::from_calendar_date(2024, time::Month::January, 18).map_err(|e| e.to_string())?;
        let full = Principal {
            name: "conformance-full".to_owned(),
            kind: PrincipalKind::Contractor,
            teams: vec![Team::Support],
            confidentiality_signed_on: Some(today),
            training_expires_on: Some(today),
            engagement_ends_on: Some(today),
            subject: Some(SubjectId(1)),
            organisations: vec!["org".to_owned()],
            revoked: false,
        };
        let bare = Principal {
            name: "conformance-bare".to_owned(),
            kind: PrincipalKind::Service,
            teams: vec![],
            confidentiality_signed_on: None,
            training_expires_on: None,
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        };
        let context = RequestContext::new(today);
        for principal in [&full, &bare] {
            for action in Action::ALL {
                let req = DecisionRequest {
                    principal,
                    action,
                    subject: Some("sub_0000000000000001"),
                    category: Some(steward_domain::Category::Account),
                    organisation: Some("org"),
                    kind: None,
                    purpose: Some(Purpose::ProvideServices),
                    context,
                };
                let prepared = self.prepare(principal)?;
                let built = self.build(&req, &prepared.uid)?;
                let p = self.principal_entity(principal)?;
                let r = self.resource_entity(&req, &built.resource_uid)?;
                Entities::from_entities([p, r], Some(&self.schema))
                    .map_err(|e| format!("entities: {}", pack_diag(&e)))?;
                Request::new(
                    built.principal_uid.clone(),
                    self.action_uids[action.index()].clone(),
                    built.resource_uid.clone(),
                    self.context(
                        &Self::context_key(Purpose::ProvideServices, &context, None),
                        &context,
                    )?,
                    Some(&self.schema),
                )
                .map_err(|e| format!("request for action {action}: {}", pack_diag(&e)))?;
            }
        }
        Ok(())
    }

    /// The pack's version (`pack.toml`), e.g. `2024-01-18.1`: written into
    /// every audit entry beside the decision.
    pub fn version(&self) -> &str {
        &self.manifest.version
    }

    /// The pack's name, e.g. `steward-default`.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The day the pack governs from (N6.8).
    pub fn effective(&self) -> Date {
        self.manifest.effective
    }

    /// Every policy of the pack, in file then source order.
    pub fn policies(&self) -> &[PolicyInfo] {
        &self.infos
    }

    /// The policy with this `@id`.
    pub fn policy(&self, id: &str) -> Option<&PolicyInfo> {
        self.info(id)
    }

    /// The pack's Cedar schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The pack's validated Cedar policy set (policies renamed to their `@id`).
    pub fn policy_set(&self) -> &PolicySet {
        &self.policies
    }

    /// Decide `req`. Never panics; never errors: anything that prevents a
    /// decision (no purpose, a malformed request, a policy that fails to
    /// evaluate) is a denial that names the cause. See [`Decision`].
    pub fn decide(&self, req: &DecisionRequest<'_>) -> Decision {
        let Some(purpose) = req.purpose else {
            return Decision::deny(
                DecisionBasis::NoPurpose,
                Vec::new(),
                vec!["N3".to_owned()],
                "a purpose is required (N3)".to_owned(),
            );
        };
        match self.decide_inner(req, purpose) {
            Ok(d) => d,
            Err(message) => Decision::deny(
                DecisionBasis::Error,
                Vec::new(),
                Vec::new(),
                format!("the request could not be evaluated, so it is denied: {message}"),
            ),
        }
    }

    fn decide_inner(
        &self,
        req: &DecisionRequest<'_>,
        purpose: Purpose,
    ) -> Result<Decision, String> {
        let prepared = if self.caching {
            self.prepared(req.principal)?
        } else {
            Arc::new(self.prepare(req.principal)?)
        };
        let built = self.build(req, &prepared.uid)?;
        let entities = self.entity_store(req, &built, &prepared)?;
        let key = Self::context_key(purpose, &req.context, None);
        let context = self.context(&key, &req.context)?;
        let response = self.evaluate(req, purpose, &key, &built, context, &entities)?;
        let diagnostics = response.diagnostics();

        if diagnostics.errors().next().is_some() {
            let errors: Vec<_> = diagnostics.errors().collect();
            let mut ids: Vec<String> = Vec::new();
            let mut reason = String::from(
                "a policy failed to evaluate, so the request is denied (fail closed): ",
            );
            for (i, e) in errors.iter().enumerate() {
                if i > 0 {
                    reason.push_str("; ");
                }
                let _ = write!(reason, "{e}");
                let cedar_policy::AuthorizationError::PolicyEvaluationError(pe) = e;
                ids.push(pe.policy_id().to_string());
            }
            ids.sort();
            ids.dedup();
            let clauses = self.clauses_of(ids.iter().map(String::as_str));
            return Ok(Decision::deny(DecisionBasis::Error, ids, clauses, reason));
        }

        let mut ids: Vec<&str> = diagnostics.reason().map(|id| id.as_ref()).collect();
        ids.sort_unstable();
        let allowed = response.decision() == cedar_policy::Decision::Allow;
        if ids.is_empty() {
            // Default deny (Allow always has a reason).
            return Ok(self.default_deny(req, purpose, &built, &entities));
        }
        let clause_ids = self.clauses_of(ids.iter().copied());
        let mut reason = String::new();
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                reason.push_str("; ");
            }
            match self.info(id).and_then(|p| p.reason.as_deref()) {
                Some(r) => reason.push_str(r),
                None => {
                    let _ = write!(reason, "permitted by {id}");
                }
            }
        }
        Ok(Decision {
            allowed,
            policy_ids: ids.into_iter().map(str::to_owned).collect(),
            clause_ids,
            reason,
            basis: if allowed {
                DecisionBasis::Permit
            } else {
                DecisionBasis::Forbid
            },
            justification: None,
        })
    }

    fn info(&self, id: &str) -> Option<&PolicyInfo> {
        self.by_id.get(id).and_then(|&i| self.infos.get(i))
    }

    fn clauses_of<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ids {
            if let Some(info) = self.info(id) {
                for c in &info.clauses {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
            }
        }
        out
    }

    /// The request's entity store: the prepared principal's, with the
    /// resource and (where the schema groups actions) the action added.
    fn entity_store(
        &self,
        req: &DecisionRequest<'_>,
        built: &Built,
        prepared: &PreparedPrincipal,
    ) -> Result<Entities, String> {
        let resource = self.resource_entity(req, &built.resource_uid)?;
        let base = prepared.entities.clone();
        match self.action_entities.get(req.action.index()) {
            Some(Some(a)) => base.add_entities([resource, a.clone()], None),
            _ => base.add_entities([resource], None),
        }
        .map_err(|e| e.to_string())
    }

    /// Cedar's answer for `req` with purpose `purpose` and context `key`,
    /// over the policies that can apply: the slice of the request's
    /// static parts, less those its guards rule out (see `guard`).
    fn evaluate(
        &self,
        req: &DecisionRequest<'_>,
        purpose: Purpose,
        key: &ContextKey,
        built: &Built,
        context: Context,
        entities: &Entities,
    ) -> Result<cedar_policy::Response, String> {
        let action_uid = self
            .action_uids
            .get(req.action.index())
            .ok_or("no action entity for the request")?;
        let request = Request::new(
            built.principal_uid.clone(),
            action_uid.clone(),
            built.resource_uid.clone(),
            context,
            None,
        )
        .map_err(|e| e.to_string())?;
        if !self.slicing {
            return Ok(self
                .authorizer
                .is_authorized(&request, &self.policies, entities));
        }
        let slice = SliceKey {
            action: req.action,
            purpose,
            kind: req.principal.kind,
            revoked: req.principal.revoked,
            category: req.category,
        };
        let known = Known {
            key,
            today: days_since_epoch(req.context.today),
            principal: req.principal,
            category: req.category,
            subject_given: req.subject.is_some_and(|s| !s.is_empty()),
            cross_region: req.context.cross_region,
        };
        let set = self.slices.get(slice, &known)?;
        Ok(self.authorizer.is_authorized(&request, &set, entities))
    }

    /// A denial because no policy applied: what was asked, and a hint at
    /// what would allow it.
    fn default_deny(
        &self,
        req: &DecisionRequest<'_>,
        purpose: Purpose,
        built: &Built,
        entities: &Entities,
    ) -> Decision {
        let who = describe(req.principal);
        let what = match req.category {
            Some(c) => format!("{} {}", req.action.verb(), c.as_str()),
            None => req.action.verb().to_owned(),
        };
        let mut reason = format!("no policy permits {who} to {what} for {}", purpose.as_str());
        let allowed_with = |p: Purpose| -> Option<Vec<String>> {
            let resp = (0..RELAXED.len()).find_map(|i| {
                let key = Self::context_key(p, &req.context, Some(i));
                let ctx = self.context(&key, &req.context).ok()?;
                let resp = self.evaluate(req, p, &key, built, ctx, entities).ok()?;
                (resp.decision() == cedar_policy::Decision::Allow
                    && resp.diagnostics().errors().next().is_none())
                .then_some(resp)
            })?;
            let mut ids: Vec<&str> = resp.diagnostics().reason().map(|i| i.as_ref()).collect();
            ids.sort_unstable();
            Some(
                ids.into_iter()
                    .filter_map(|id| self.info(id))
                    .map(|info| {
                        info.hint
                            .clone()
                            .or_else(|| info.reason.clone())
                            .unwrap_or_else(|| format!("see policy {}", info.id))
                    })
                    .collect(),
            )
        };
        if let Some(hints) = allowed_with(purpose) {
            // Only the context's conditions were missing.
            reason.push_str("; ");
            reason.push_str(&hints.join("; "));
        } else {
            let others: Vec<&str> = Purpose::ALL
                .into_iter()
                .filter(|&p| p != purpose && allowed_with(p).is_some())
                .map(Purpose::as_str)
                .collect();
            if others.is_empty() {
                let _ = write!(
                    reason,
                    "; no purpose lets {who} {what} (N5.5: access only for those who need it)"
                );
            } else {
                let _ = write!(
                    reason,
                    "; {who} may {what} only for {} (N3: the purpose must be bound to the principal and category)",
                    others.join(", ")
                );
            }
        }
        let mut clause_ids = vec![purpose.clause().to_owned()];
        if purpose.clause() != "N5.5" {
            clause_ids.push("N5.5".to_owned());
        }
        Decision::deny(DecisionBasis::DefaultDeny, Vec::new(), clause_ids, reason)
    }
}

/// The relaxed contexts a default deny's hint is looked for in: (case kind,
/// obligation kind, processor service) triples that together meet every
/// permit's condition on them (a technical case, a legal request, a
/// support-ticket processor; a billing case, a data subject request, a
/// professional-services processor).
const RELAXED: [(CaseKind, ObligationKind, ProcessorService); 2] = [
    (
        CaseKind::Technical,
        ObligationKind::LegalRequest,
        ProcessorService::SupportTicket,
    ),
    (
        CaseKind::Billing,
        ObligationKind::DataSubjectRequest,
        ProcessorService::ProfessionalServices,
    ),
];

/// An error with its causes and help, for load errors.
fn pack_diag(e: &dyn miette::Diagnostic) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    if let Some(h) = e.help() {
        s.push_str(" (help: ");
        s.push_str(&h.to_string());
        s.push(')');
    }
    s
}

/// "a support employee", "an incident response contractor", "a data subject".
fn describe(p: &Principal) -> String {
    let kind = match p.kind {
        PrincipalKind::AffiliateStaff => "affiliate staff member".to_owned(),
        k => k.as_str().replace('_', " "),
    };
    let text = if p.kind.is_staff() && !p.teams.is_empty() {
        let teams: Vec<String> = p
            .teams
            .iter()
            .map(|t| t.as_str().replace('_', " "))
            .collect();
        format!("{} {kind}", teams.join("/"))
    } else {
        kind
    };
    let article = if text.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {text}")
}

mod disclosure;
mod inputs;
mod slices;

use inputs::Built;
use slices::{SliceKey, Slices};
#[cfg(test)]
mod tests;
