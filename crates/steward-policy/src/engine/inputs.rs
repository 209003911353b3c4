//! The Cedar inputs of a decision: the principal's uid and entity store
//! (prepared once per principal, rebuilt when it changes), the resource
//! entity, and the context (cached per day and [`ContextKey`]; a
//! disclosure's facts are added uncached).

use std::sync::Arc;

use cedar_policy::{Context, Entities, Entity, EntityId, EntityUid, RestrictedExpression};

use steward_domain::{Principal, Purpose};

use super::{PolicyEngine, RELAXED, days_since_epoch, disclosure};
use crate::cache::{CONTEXT_BOOLS, CONTEXT_STRS, ContextKey, PreparedPrincipal};
use crate::request::{DecisionRequest, RequestContext};

/// The request's entity ids.
pub(super) struct Built {
    pub(super) principal_uid: EntityUid,
    pub(super) resource_uid: EntityUid,
}

fn str_expr(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

impl PolicyEngine {
    /// The request's entity ids, with the principal's uid from its
    /// prepared inputs. Errors: an empty subject id.
    pub(super) fn build(
        &self,
        req: &DecisionRequest<'_>,
        principal_uid: &EntityUid,
    ) -> Result<Built, String> {
        if req.subject == Some("") {
            return Err("the subject id is empty: give a sub_ id or none".to_owned());
        }
        // The resource's id is only for Cedar's bookkeeping; policies read
        // its attributes.
        let resource_uid = EntityUid::from_type_name_and_id(
            self.resource_type.clone(),
            EntityId::new(req.subject.unwrap_or("")),
        );
        Ok(Built {
            principal_uid: principal_uid.clone(),
            resource_uid,
        })
    }

    /// The principal's inputs, built once per principal and engine (see
    /// [`PrincipalCache`](crate::cache::PrincipalCache)).
    pub(super) fn prepared(&self, p: &Principal) -> Result<Arc<PreparedPrincipal>, String> {
        self.principals.get_or_build(p, || self.prepare(p))
    }

    /// Builds the principal's inputs without the cache.
    pub(super) fn prepare(&self, p: &Principal) -> Result<PreparedPrincipal, String> {
        let entity = self.principal_entity(p)?;
        let uid = entity.uid();
        let entities = Entities::from_entities([entity], None).map_err(|e| e.to_string())?;
        Ok(PreparedPrincipal {
            principal: p.clone(),
            uid,
            entities,
        })
    }

    pub(super) fn principal_entity(&self, p: &Principal) -> Result<Entity, String> {
        let uid =
            EntityUid::from_type_name_and_id(self.principal_type.clone(), EntityId::new(&p.name));
        let mut attrs: Vec<(String, RestrictedExpression)> = Vec::with_capacity(9);
        attrs.push(("kind".into(), str_expr(p.kind.as_str())));
        attrs.push((
            "teams".into(),
            RestrictedExpression::new_set(p.teams.iter().map(|t| str_expr(t.as_str()))),
        ));
        attrs.push((
            "is_staff".into(),
            RestrictedExpression::new_bool(p.kind.is_staff()),
        ));
        if let Some(d) = p.confidentiality_signed_on {
            attrs.push((
                "confidentiality_signed_on".into(),
                RestrictedExpression::new_long(days_since_epoch(d)),
            ));
        }
        if let Some(d) = p.training_expires_on {
            attrs.push((
                "training_expires_on".into(),
                RestrictedExpression::new_long(days_since_epoch(d)),
            ));
        }
        if let Some(d) = p.engagement_ends_on {
            attrs.push((
                "engagement_ends_on".into(),
                RestrictedExpression::new_long(days_since_epoch(d)),
            ));
        }
        attrs.push(("revoked".into(), RestrictedExpression::new_bool(p.revoked)));
        attrs.push((
            "organisations".into(),
            RestrictedExpression::new_set(
                p.organisations
                    .iter()
                    .map(|o| RestrictedExpression::new_string(o.clone())),
            ),
        ));
        if let Some(s) = p.subject {
            attrs.push((
                "subject".into(),
                RestrictedExpression::new_string(s.to_string()),
            ));
        }
        Entity::new_with_tags(uid, attrs, [], []).map_err(|e| e.to_string())
    }

    pub(super) fn resource_entity(
        &self,
        req: &DecisionRequest<'_>,
        uid: &EntityUid,
    ) -> Result<Entity, String> {
        let attrs = [
            ("subject".to_owned(), str_expr(req.subject.unwrap_or(""))),
            (
                "category".to_owned(),
                str_expr(req.category.map(|c| c.as_str()).unwrap_or("")),
            ),
            (
                "organisation".to_owned(),
                str_expr(req.organisation.unwrap_or("")),
            ),
            (
                "cross_region".to_owned(),
                RestrictedExpression::new_bool(req.context.cross_region),
            ),
            (
                "kind".to_owned(),
                str_expr(req.kind.map(|k| k.as_str()).unwrap_or("")),
            ),
        ];
        Entity::new_with_tags(uid.clone(), attrs, [], []).map_err(|e| e.to_string())
    }

    /// What the Cedar context is made of besides the day. `relax` sets
    /// every condition the requester could meet (a case of the variant's
    /// kind, an obligation of its kind covering the category, a grant, an
    /// incident, aggregates): used only to find the hint of a default deny;
    /// `None` is the request's own context.
    pub(super) fn context_key(
        purpose: Purpose,
        ctx: &RequestContext,
        relax: Option<usize>,
    ) -> ContextKey {
        match relax.and_then(|i| RELAXED.get(i)) {
            None => ContextKey {
                purpose,
                open_case: ctx.open_case_for_subject || ctx.case_kind.is_some(),
                case_kind: ctx.case_kind,
                legal: ctx.legal_obligation_recorded,
                obligation_kind: ctx
                    .obligation_kind
                    .filter(|_| ctx.legal_obligation_recorded),
                covers: ctx.legal_obligation_recorded && ctx.obligation_covers_category,
                grant: ctx.grant_for_subject,
                incident: ctx.incident_for_subject,
                processor_service: ctx.processor_service,
                assigned: ctx.case_assigned_to_principal,
                engagement: ctx.engagement_covers,
                aggregate: ctx.aggregate_only,
                operator: ctx.configured_operator,
            },
            Some(&(case_kind, obligation_kind, processor_service)) => ContextKey {
                purpose,
                open_case: true,
                case_kind: Some(case_kind),
                legal: true,
                obligation_kind: Some(obligation_kind),
                covers: true,
                grant: true,
                incident: true,
                processor_service: Some(processor_service),
                assigned: true,
                engagement: true,
                aggregate: true,
                // An identity fact, not a condition the requester could
                // meet: never relaxed for hints.
                operator: ctx.configured_operator,
            },
        }
    }

    /// The Cedar context of `key` and the request's day (cached per day
    /// and key) and, for a disclosure, its facts (not cached).
    pub(super) fn context(
        &self,
        key: &ContextKey,
        ctx: &RequestContext,
    ) -> Result<Context, String> {
        let key = *key;
        let today = days_since_epoch(ctx.today);
        if let Some(facts) = ctx.disclosure {
            // A disclosure's facts vary per request: not cached.
            return Context::from_pairs(
                Self::context_pairs(today, &key)
                    .into_iter()
                    .chain(disclosure::pairs(&facts)),
            )
            .map_err(|e| e.to_string());
        }
        if !self.caching {
            return Self::build_context(today, &key);
        }
        self.contexts
            .get_or_build(today, key, || Self::build_context(today, &key))
    }

    fn build_context(today: i64, k: &ContextKey) -> Result<Context, String> {
        Context::from_pairs(Self::context_pairs(today, k)).map_err(|e| e.to_string())
    }

    /// The context's attributes: `today`, then [`CONTEXT_STRS`] and
    /// [`CONTEXT_BOOLS`] read from `k` (the guards read the same).
    fn context_pairs(today: i64, k: &ContextKey) -> Vec<(String, RestrictedExpression)> {
        let mut pairs = Vec::with_capacity(1 + CONTEXT_STRS.len() + CONTEXT_BOOLS.len());
        pairs.push(("today".to_owned(), RestrictedExpression::new_long(today)));
        for (i, name) in CONTEXT_STRS.iter().enumerate() {
            pairs.push(((*name).to_owned(), str_expr(k.str_fact(i).unwrap_or(""))));
        }
        for (i, name) in CONTEXT_BOOLS.iter().enumerate() {
            let b = k.bool_fact(i).unwrap_or(false);
            pairs.push(((*name).to_owned(), RestrictedExpression::new_bool(b)));
        }
        pairs
    }
}
