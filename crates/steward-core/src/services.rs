//! Principals (N5.5), support cases (N3.5), legal obligations (N3.7), and the
//! audit log's verification, proofs and search.

use serde::{Deserialize, Serialize};
use steward_audit::{Resource, ResourceKind};
use steward_audit::{VerifyFailure, VerifyReport};
use steward_domain::{
    CaseId, CaseKind, CaseStatus, Category, ObligationId, ObligationKind, Principal, PrincipalKind,
    SubjectId,
};
use steward_store::{ChangeSet, RegistryTable};

use crate::authorize::{ManagementAction, Target};
pub use crate::cases::SupportCase;
use crate::gate::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// Serialise a registry row or principal, as an error rather than an empty
/// string if it ever fails.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, CoreError> {
    serde_json::to_string(v).map_err(|e| CoreError::Input(format!("internal: serialise: {e}")))
}

/// Administrators, resellers and users are principals of the tenancy
/// registry (N1.2): added and changed only through it.
fn not_a_tenancy_kind(kind: PrincipalKind) -> Result<(), CoreError> {
    if matches!(
        kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller | PrincipalKind::DataSubject
    ) {
        return Err(CoreError::Input(
            "kind: administrators, resellers and users are added through /v1/organisations and /v1/partners (N1.2)".into(),
        ));
    }
    Ok(())
}

/// A recorded legal obligation (N3.7, N6.5d).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LegalObligation {
    /// Id (`obligation-` and 16 hex digits).
    pub id: ObligationId,
    /// `legal_request`, `government_request`, `record_keeping` or `data_subject_request`.
    pub kind: String,
    /// External reference (docket number, statute).
    pub reference: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// The organisation whose subjects it concerns (N1.2): cited for a
    /// subject of another organisation, or of none, it is not a recorded
    /// obligation for that request. `None`: not limited to an organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The subjects (opaque `sub_` ids) it concerns; empty: not limited to
    /// named subjects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// The principals who may cite it; empty: any principal the policy pack
    /// lets act for `comply` (the data subject request engine's own
    /// obligations, executed by whichever privacy-team member approves).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cited_by: Vec<String>,
    /// The categories (N2) it covers (issue 17 item 3): a `comply` read
    /// citing it names one of them. Empty: every category, each named in
    /// its read; only a data subject request's export, rectification or
    /// erasure reaches the whole subject at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
}

impl LegalObligation {
    /// The obligation a data subject request is (N3.7, N7.2): of kind
    /// `data_subject_request`, referencing request `request`, recorded by
    /// `by`, concerning its `subject` (opaque id) only, citable by whoever
    /// the pack lets handle requests.
    pub(crate) fn of_request(request: &str, by: &str, subject: &str) -> Self {
        LegalObligation {
            id: ObligationId::from_random(crate::gate::random_id_bits()),
            kind: "data_subject_request".into(),
            reference: request.to_owned(),
            recorded_by: by.to_owned(),
            organisation: None,
            subjects: vec![subject.to_owned()],
            cited_by: vec![],
            categories: vec![],
        }
    }

    /// Its kind, when it is one of N3.7's (rows are validated when
    /// recorded; an unknown kind counts as none).
    pub fn kind(&self) -> Option<ObligationKind> {
        self.kind.parse().ok()
    }
}

/// What a legal obligation concerns and who may cite it (N3.7), given when
/// it is recorded ([`Steward::record_obligation_for`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObligationScope {
    /// The organisation whose subjects it concerns. An administrator or
    /// reseller records only for an organisation they manage (N6.5d);
    /// when they manage exactly one, it is the default.
    pub organisation: Option<String>,
    /// Identifiers (`username:ann`, `sub_…`) of the subjects it concerns;
    /// each must name exactly one known subject (and, with `organisation`,
    /// one of that organisation).
    pub subjects: Vec<String>,
    /// The principals who may cite it. Empty: only the recorder when the
    /// recorder is an administrator or reseller (N6.5d); anyone the policy
    /// pack lets act for `comply` when the recorder is staff (N3.7).
    pub cited_by: Vec<String>,
    /// The categories (N2) it covers; empty: every category, one named per
    /// read (issue 17 item 3).
    pub categories: Vec<Category>,
}

/// The outcome of `audit verify`.
#[derive(Debug)]
pub enum VerifyOutcome {
    /// Everything verified.
    Ok(VerifyReport),
    /// The first bad index and what is wrong.
    Failed(VerifyFailure),
}

fn valid_name(name: &str) -> Result<(), CoreError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(CoreError::Input(format!(
            "principal name must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got {} characters)",
            name.chars().count()
        )));
    }
    Ok(())
}

impl Steward {
    /// The principal acting on a management command: it must exist and not be
    /// revoked (N5.5: revocation takes effect on the next request, for
    /// management as for reads).
    pub(crate) fn acting(&self, by: &str) -> Result<Principal, CoreError> {
        let p = self.principal(by)?;
        if p.revoked {
            return Err(CoreError::Input(format!(
                "principal `{by}` is revoked and may not act (N5.5)"
            )));
        }
        Ok(p)
    }

    /// Add a principal (N5.5), recorded in the audit log. A name that
    /// exists is refused, whatever its kind, so a customer administrator or
    /// a user is never replaced by a staff member with their tokens still
    /// working (issue 14): change a principal with
    /// [`Steward::change_principal`]. A revoked principal's name is never
    /// reused: revocation is final, so the audit trail of that name stays
    /// unambiguous. Administrators, resellers and users are added through
    /// tenancy ([`Steward::add_org_admin`], [`Steward::add_reseller`],
    /// [`Steward::create_user`], N1.2).
    ///
    /// `by` is decided by the pack first ([`ManagementAction::PrincipalAdd`]:
    /// `manage_principals` for `protect`: security staff, or the configured
    /// operator through policy `bootstrap-operator`), audited either way.
    ///
    /// Errors: [`CoreError::Denied`] naming the condition;
    /// [`CoreError::Input`] for a bad name or kind, a name that exists, or a
    /// revoked name.
    pub fn add_principal(&self, by: &str, p: &Principal) -> Result<(), CoreError> {
        valid_name(&p.name)?;
        not_a_tenancy_kind(p.kind)?;
        self.authorize_management(by, ManagementAction::PrincipalAdd, Target::named(&p.name))?;
        self.put_principal(by, p)
    }

    /// Store a new principal and its audit entry, for a caller that has
    /// decided the change already (tenancy: [`Steward::add_org_admin`]).
    /// Refuses a name that exists (revoked or not).
    pub(crate) fn put_principal(&self, by: &str, p: &Principal) -> Result<(), CoreError> {
        valid_name(&p.name)?;
        self.refuse_existing(&p.name)?;
        let mut e = system_entry("principal_add", &p.name, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5")];
        self.store()?.commit(ChangeSet {
            principals: vec![(p.name.clone(), to_json(p)?, p.revoked)],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// Refuse a principal name that exists: revoked (final, N5.5) or not.
    pub(crate) fn refuse_existing(&self, name: &str) -> Result<(), CoreError> {
        match self.store()?.principal(name)? {
            Some((_, true)) => Err(CoreError::Input(format!(
                "principal `{name}` was revoked; revocation is final (N5.5): add the person under a new name"
            ))),
            Some((_, false)) => Err(CoreError::Input(format!(
                "principal `{name}` already exists: a name is never replaced; change its kind or teams with `steward principals change` (PATCH /v1/principals/{name}), or choose another name"
            ))),
            None => Ok(()),
        }
    }

    /// Change a staff, service, processor or app principal's kind, teams
    /// and dates to those of `p` (matched by `p.name`), as `by` (N5.5). Its
    /// own audited operation ([`ManagementAction::PrincipalChange`],
    /// `manage_principals` for `protect`), and when the kind or the teams
    /// change, every token of the principal is revoked in the same step,
    /// so no credential issued for the old powers carries the new ones.
    /// Returns how many tokens were revoked.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown or revoked principal, or when either the old or the new kind
    /// is an administrator, reseller or user (their powers come from
    /// tenancy, N1.2).
    pub fn change_principal(&self, by: &str, p: &Principal) -> Result<u64, CoreError> {
        valid_name(&p.name)?;
        not_a_tenancy_kind(p.kind)?;
        self.authorize_management(
            by,
            ManagementAction::PrincipalChange,
            Target::named(&p.name),
        )?;
        let old = self.principal(&p.name)?;
        if old.revoked {
            return Err(CoreError::Input(format!(
                "principal `{}` is revoked; revocation is final (N5.5)",
                p.name
            )));
        }
        not_a_tenancy_kind(old.kind)?;
        let mut new = p.clone();
        new.subject = None;
        new.organisations = vec![];
        new.revoked = false;
        let powers_changed = old.kind != new.kind || {
            let (mut a, mut b) = (old.teams.clone(), new.teams.clone());
            a.sort();
            b.sort();
            a != b
        };
        let mut e = system_entry("principal_change", &p.name, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5")];
        self.store()?.commit(ChangeSet {
            principals: vec![(new.name.clone(), to_json(&new)?, false)],
            audit: vec![e],
            ..Default::default()
        })?;
        if powers_changed {
            self.revoke_tokens_of(by, &p.name)
        } else {
            Ok(0)
        }
    }

    /// Revoke a principal: every request from the next one on is denied (N5.5).
    /// `by` is decided by the pack ([`ManagementAction::PrincipalRevoke`],
    /// `manage_principals` for `protect`), audited. Errors:
    /// [`CoreError::Denied`]; [`CoreError::Input`] for an unknown principal.
    pub fn revoke_principal(&self, by: &str, name: &str) -> Result<(), CoreError> {
        self.authorize_management(by, ManagementAction::PrincipalRevoke, Target::named(name))?;
        let mut p = self.principal(name)?;
        p.revoked = true;
        let mut e = system_entry("principal_revoke", name, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5")];
        self.store()?.commit(ChangeSet {
            principals: vec![(p.name.clone(), to_json(&p)?, true)],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// All principals.
    pub fn principals(&self) -> Result<Vec<Principal>, CoreError> {
        let rows = self.store()?.principals()?;
        rows.into_iter()
            .map(|(name, body, revoked)| {
                let mut p: Principal = serde_json::from_str(&body).map_err(|e| {
                    CoreError::Store(steward_store::StoreError::Corrupt(format!(
                        "principal {name}: {e}"
                    )))
                })?;
                p.revoked = revoked;
                Ok(p)
            })
            .collect()
    }

    /// Open a support case about a subject (N3.5): support staff may then read
    /// the subject's account and communications for `assist` citing the case.
    /// Decided by the pack first ([`ManagementAction::CaseOpen`],
    /// `manage_cases` for `assist`: support staff, the configured operator),
    /// audited.
    ///
    /// Errors: [`CoreError::Denied`]; [`CoreError::Input`] when the
    /// identifier matches no subject.
    pub fn open_case(&self, by: &str, subject: &str) -> Result<SupportCase, CoreError> {
        self.open_case_of_kind(by, subject, CaseKind::Account)
    }

    /// Open a support case of `kind` about a subject (N3.5, N3.8): a
    /// `technical` case lets support staff read usage and configuration, a
    /// `billing` case (a billing interaction) lets billing staff read the
    /// subject's billing and account. Decided by the pack first
    /// ([`ManagementAction::CaseOpen`] with the kind: support staff open
    /// any kind, billing staff billing cases), audited.
    ///
    /// Errors: as [`Steward::open_case`].
    pub fn open_case_of_kind(
        &self,
        by: &str,
        subject: &str,
        kind: CaseKind,
    ) -> Result<SupportCase, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::CaseOpen,
            Target::named("support_cases").case_of_kind(kind),
        )?;
        let (located, _) = self.resolve(subject)?;
        let id = located
            .map(|l| l.id)
            .ok_or_else(|| CoreError::Input("--subject matches no data subject".into()))?;
        let case = SupportCase {
            id: CaseId::from_random(crate::gate::random_id_bits()),
            subject: id.to_string(),
            status: CaseStatus::Open,
            opened_by: by.into(),
            kind,
            assignee: None,
        };
        let mut e = system_entry("case_open", &case.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.5")];
        e.resource = Resource::new(ResourceKind::Subject)
            .id(token(&case.id))
            .id(token(&format!("case_kind:{kind}")))
            .subject(steward_audit::SubjectRef::new(id.0 as u64));
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::SupportCases,
                case.id.to_string(),
                row_json(&case)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(case)
    }

    /// Close a support case: reads citing it are denied from then on.
    /// Decided like [`Steward::open_case_of_kind`], with the case's kind
    /// ([`ManagementAction::CaseClose`]).
    pub fn close_case(&self, by: &str, case_id: &str) -> Result<(), CoreError> {
        // Decided with the case's kind when it exists (billing staff close
        // billing cases, N3.8); an unknown case is decided as of no kind.
        let kind = self
            .store()?
            .registry_get(RegistryTable::SupportCases, case_id)?
            .and_then(|b| parse_row::<SupportCase>(RegistryTable::SupportCases, case_id, &b).ok())
            .map(|c| c.kind);
        let mut target = Target::named(case_id);
        target.case_kind = kind;
        self.authorize_management(by, ManagementAction::CaseClose, target)?;
        let body = self
            .store()?
            .registry_get(RegistryTable::SupportCases, case_id)?
            .ok_or_else(|| CoreError::Input(format!("no support case `{case_id}`")))?;
        let mut case: SupportCase = parse_row(RegistryTable::SupportCases, case_id, &body)?;
        case.status = CaseStatus::Closed;
        let mut e = system_entry("case_close", &case.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.5")];
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::SupportCases,
                case.id.to_string(),
                row_json(&case)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// Record a legal obligation (N3.7) that `comply` decisions may cite,
    /// concerning the organisation `by` manages when it manages exactly one
    /// (an administrator, N6.5d; then citable by `by` only), else not
    /// limited to subjects: [`Steward::record_obligation_for`] with a
    /// default [`ObligationScope`].
    pub fn record_obligation(
        &self,
        by: &str,
        kind: &str,
        reference: &str,
    ) -> Result<LegalObligation, CoreError> {
        self.record_obligation_for(by, kind, reference, &ObligationScope::default())
    }

    /// Record a legal obligation (N3.7) of `kind` (`legal_request`,
    /// `government_request`, `record_keeping`, `data_subject_request`) with
    /// an external `reference` (1 to 200 characters), concerning and
    /// citable as `scope` says. The gate counts it as recorded only for a
    /// request by a principal who may cite it about a subject it concerns
    /// (issue 14: an obligation one organisation's administrator recorded
    /// does not unlock another organisation's subjects).
    ///
    /// Decided by the pack first ([`ManagementAction::ObligationRecord`],
    /// `record_obligation` for `comply`, with the organisation: legal and
    /// privacy staff; an administrator or reseller for an organisation they
    /// manage), audited.
    ///
    /// Errors: [`CoreError::Denied`]; [`CoreError::Input`] for a bad kind or
    /// reference, an identifier that names no subject or one of another
    /// organisation, or an unknown principal to cite it.
    pub fn record_obligation_for(
        &self,
        by: &str,
        kind: &str,
        reference: &str,
        scope: &ObligationScope,
    ) -> Result<LegalObligation, CoreError> {
        let Ok(parsed_kind) = kind.parse::<ObligationKind>() else {
            return Err(CoreError::Input(format!(
                "obligation kind `{}`: expected legal_request, government_request, record_keeping or data_subject_request",
                kind.chars().take(64).collect::<String>()
            )));
        };
        if reference.is_empty() || reference.chars().count() > 200 {
            return Err(CoreError::Input("reference: 1 to 200 characters".into()));
        }
        let recorder = self.principal(by)?;
        // N6.5d: an administrator of exactly one organisation records for it.
        let organisation = scope.organisation.clone().or_else(|| {
            (recorder.organisations.len() == 1).then(|| recorder.organisations[0].clone())
        });
        // Issue 17 item 2: the pack decides who records which kind.
        let mut target = Target::named("legal_obligations").obligation_of_kind(parsed_kind);
        if let Some(o) = &organisation {
            target = target.in_organisation(o);
        }
        self.authorize_management(by, ManagementAction::ObligationRecord, target)?;
        let mut subjects = Vec::with_capacity(scope.subjects.len());
        for (i, ident) in scope.subjects.iter().enumerate() {
            let s = self.find(ident)?.ok_or_else(|| {
                CoreError::Input(format!(
                    "subjects[{i}]: the identifier matches no data subject"
                ))
            })?;
            if let Some(o) = &organisation
                && self.organisation_of_subject(s)?.as_deref() != Some(o.as_str())
            {
                return Err(CoreError::Input(format!(
                    "subjects[{i}]: the subject is not of organisation `{o}`"
                )));
            }
            subjects.push(s.to_string());
        }
        // Who may cite it: those named; by default an administrator's or a
        // reseller's obligation only by its recorder (N6.5d), a staff
        // member's by whoever the pack lets act for comply (N3.7).
        let mut cited_by = if !scope.cited_by.is_empty() {
            scope.cited_by.clone()
        } else if recorder.organisations.is_empty() {
            vec![]
        } else {
            vec![by.to_owned()]
        };
        cited_by.sort();
        cited_by.dedup();
        for (i, p) in cited_by.iter().enumerate() {
            if self.store()?.principal(p)?.is_none() {
                return Err(CoreError::Input(format!(
                    "cited_by[{i}]: no principal `{}`",
                    p.chars().take(64).collect::<String>()
                )));
            }
        }
        let ob = LegalObligation {
            id: ObligationId::from_random(crate::gate::random_id_bits()),
            kind: kind.into(),
            reference: reference.into(),
            recorded_by: by.into(),
            organisation,
            subjects,
            cited_by,
            categories: {
                let mut c = scope.categories.clone();
                c.sort();
                c.dedup();
                c
            },
        };
        let mut e = system_entry("obligation_record", &ob.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.7")];
        if let Some(o) = &ob.organisation {
            e.resource = e.resource.id(token(&format!("organisation:{o}")));
        }
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::LegalObligations,
                ob.id.to_string(),
                to_json(&ob)?,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(ob)
    }

    /// Legal obligation `id` when it counts as recorded for a request by
    /// `principal` about `subject` (N3.7): it exists, `principal` may cite
    /// it, and it concerns the subject (named, or of its organisation). A
    /// scoped obligation never applies to a request about no known subject.
    /// Its kind and categories then go to the pack (issue 17 items 2, 3).
    ///
    /// Errors: [`CoreError::Store`] for a corrupt row (named).
    pub(crate) fn obligation_applies(
        &self,
        id: &str,
        principal: &str,
        subject: Option<SubjectId>,
    ) -> Result<Option<LegalObligation>, CoreError> {
        let Some(body) = self
            .store_read()?
            .registry_get(RegistryTable::LegalObligations, id)?
        else {
            return Ok(None);
        };
        let ob: LegalObligation = serde_json::from_str(&body).map_err(|e| {
            CoreError::Store(steward_store::StoreError::Corrupt(format!(
                "legal_obligations {id}: {e}"
            )))
        })?;
        if !ob.cited_by.is_empty() && !ob.cited_by.iter().any(|p| p == principal) {
            return Ok(None);
        }
        if !ob.subjects.is_empty()
            && !subject.is_some_and(|s| ob.subjects.iter().any(|x| *x == s.to_string()))
        {
            return Ok(None);
        }
        if let Some(org) = &ob.organisation {
            let Some(s) = subject else {
                return Ok(None);
            };
            if self.organisation_of_subject(s)?.as_deref() != Some(org.as_str()) {
                return Ok(None);
            }
        }
        Ok(Some(ob))
    }

    /// Erasure receipts stored so far (N8.8).
    pub fn receipts(&self) -> Result<Vec<crate::ErasureReceipt>, CoreError> {
        let mut out = Vec::new();
        for r in 0..self.regions.len() {
            out.extend(
                self.rstore(r)?
                    .registry_list(RegistryTable::ErasureReceipts)?
                    .into_iter()
                    .map(|(k, b)| parse_row(RegistryTable::ErasureReceipts, &k, &b))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(out)
    }

    fn leaf_hashes(&self, to: u64) -> Result<Vec<[u8; 32]>, CoreError> {
        let mut leaves = Vec::new();
        self.store()?.audit_scan(0, to, &mut |row| {
            leaves.push(steward_audit::leaf_hash(&row.entry));
            true
        })?;
        Ok(leaves)
    }

    /// An inclusion proof (RFC 9162 §2.1.3) of entry `index` in the tree of the
    /// latest checkpoint that covers it: (entry bytes, checkpoint note, proof).
    pub fn audit_prove_inclusion(
        &self,
        index: u64,
    ) -> Result<(Vec<u8>, String, Vec<[u8; 32]>), CoreError> {
        let cps = self.store()?.checkpoints()?;
        let (size, note) = cps
            .into_iter()
            .rev()
            .find(|(s, _)| *s > index)
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "no checkpoint covers index {index} yet: run `steward audit checkpoint`"
                ))
            })?;
        let leaves = self.leaf_hashes(size)?;
        let proof = steward_audit::inclusion_proof(&leaves, index, size)
            .map_err(|e| CoreError::Input(e.to_string()))?;
        let mut entry = Vec::new();
        self.store()?.audit_scan(index, index + 1, &mut |row| {
            entry = row.entry;
            false
        })?;
        Ok((entry, note, proof))
    }

    /// A consistency proof (RFC 9162 §2.1.4) between two checkpointed sizes:
    /// (old note, new note, proof).
    pub fn audit_prove_consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<(String, String, Vec<[u8; 32]>), CoreError> {
        let cps = self.store()?.checkpoints()?;
        let find = |s: u64| {
            cps.iter()
                .find(|(size, _)| *size == s)
                .map(|(_, n)| n.clone())
                .ok_or_else(|| {
                    CoreError::Input(format!(
                        "no checkpoint of size {s}; sizes are: {}",
                        cps.iter()
                            .map(|c| c.0.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        };
        let (o, n) = (find(old)?, find(new)?);
        let leaves = self.leaf_hashes(new)?;
        let proof = steward_audit::consistency_proof(&leaves, old, new)
            .map_err(|e| CoreError::Input(e.to_string()))?;
        Ok((o, n, proof))
    }

    /// Cut a signed checkpoint now and publish it to the configured
    /// witnesses (best effort: see [`Steward::audit_checkpoint_published`]).
    pub fn audit_checkpoint(&self) -> Result<u64, CoreError> {
        Ok(self.audit_checkpoint_published()?.0)
    }

    /// [`Steward::audit_search_as`] as the configured operator (the CLI's
    /// principal).
    pub fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<String>, CoreError> {
        let operator = self.config.operator.clone();
        self.audit_search_as(&operator, filter)
    }

    /// Search the audit log as `by`: decided by the pack
    /// ([`ManagementAction::AuditSearch`], `audit_read` for `protect`) and
    /// recorded, allowed or denied (issue 13, item 3). A subject filter (an
    /// identifier or a `sub_` id) is resolved to the live subject's opaque
    /// id and entries are matched by it alone: once the subject is erased its
    /// identifiers resolve to nothing, so a guessed identifier links to no
    /// entry (entries carry no blind-index prefix; the log itself is
    /// unchanged). Returns the matching entries' canonical JSON.
    ///
    /// Errors: [`CoreError::Denied`] (audited); store errors.
    pub fn audit_search_as(
        &self,
        by: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<String>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::AuditSearch,
            Target::named("audit_log"),
        )?;
        let mut subject_ref: Option<String> = None;
        if let Some(s) = &filter.subject {
            let (located, _) = self.resolve(s)?;
            subject_ref = located.map(|l| l.id.to_string());
            if subject_ref.is_none() {
                return Ok(vec![]);
            }
        }
        let mut out = Vec::new();
        // An entry that does not decode is corruption of the log: the search
        // stops and says where, rather than answer from the rest (issue 12).
        let mut undecodable: Option<(usize, u64)> = None;
        for region in 0..self.regions.len() {
            self.rstore(region)?.audit_scan(0, u64::MAX, &mut |row| {
                let (Ok(e), Ok(v)) = (
                    steward_audit::AuditEntry::decode(&row.entry),
                    serde_json::from_slice::<serde_json::Value>(&row.entry),
                ) else {
                    undecodable = Some((region, row.index));
                    return false;
                };
                let ok = filter
                    .principal
                    .as_ref()
                    .is_none_or(|p| e.principal.as_str() == p)
                    && filter
                        .purpose
                        .as_ref()
                        .is_none_or(|p| e.purpose.as_ref().map(|t| t.as_str()) == Some(p.as_str()))
                    && filter
                        .decision
                        .as_ref()
                        .is_none_or(|d| v["decision"].as_str() == Some(d.as_str()))
                    && filter
                        .action
                        .as_ref()
                        .is_none_or(|a| e.action.as_str() == a)
                    && filter
                        .since
                        .as_ref()
                        .is_none_or(|t| e.time.as_str() >= t.as_str())
                    && filter
                        .until
                        .as_ref()
                        .is_none_or(|t| e.time.as_str() < t.as_str())
                    && (filter.subject.is_none() || {
                        let subs = v["resource"]["subjects"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        subject_ref
                            .as_ref()
                            .is_some_and(|s| subs.iter().any(|x| x.as_str() == Some(s)))
                    });
                if ok {
                    out.push(String::from_utf8_lossy(&row.entry).into_owned());
                }
                true
            })?;
            if let Some((r, index)) = undecodable {
                return Err(CoreError::Integrity {
                    record: format!("audit entry {index} of region {}", self.regions[r].config.name),
                    reason: "it does not decode as an audit entry: the log is damaged; run `steward audit verify` and restore the store from a backup".into(),
                });
            }
        }
        Ok(out)
    }
}

/// Filters of `steward audit search`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Principal name.
    pub principal: Option<String>,
    /// Purpose key.
    pub purpose: Option<String>,
    /// `allow`, `deny` or `done`.
    pub decision: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// RFC 3339 lower bound (inclusive).
    pub since: Option<String>,
    /// RFC 3339 upper bound (exclusive).
    pub until: Option<String>,
    /// A subject identifier (resolved through the blind index).
    pub subject: Option<String>,
}
