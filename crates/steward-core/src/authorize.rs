//! Every management decision in one place (N5.5): who may change
//! principals, tokens, tenancy, support cases, legal obligations, keys,
//! transfer mechanisms, run the retention sweep, handle data subject
//! requests, take email in, or report and work incidents.
//!
//! Each such core operation names its [`ManagementAction`] and calls
//! [`Steward::authorize_management`] (or, when the allowed decision must be
//! committed with the change itself, `decide_management`) with the acting
//! principal's name. The policy pack decides; the decision, allowed or
//! denied, is appended to the audit log (fail closed) in the shape of every
//! other decision (`decision_entry`), so the CLI and the HTTP API, which
//! only authenticate and translate, record the same decision for the same
//! operation. No team or kind check lives outside the pack or this crate.
//!
//! The actions are a closed list ([`ManagementAction::ALL`]): a test calls
//! every one of them as a principal the pack does not allow and counts the
//! audited denials, so a new operation added without a decision fails it.

use std::fmt;

use steward_audit::{EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{CaseKind, Category, ObligationKind, Principal, Purpose, SubjectId};
use steward_policy::{Action, Decision, DecisionRequest, RequestContext};
use steward_store::ChangeSet;

use crate::{CoreError, Steward};

/// A management operation of the core, decided by the policy pack before it
/// changes anything or reveals registry data (N5.5). Each maps to one Cedar
/// action and one purpose ([`ManagementAction::policy_action`],
/// [`ManagementAction::purpose`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManagementAction {
    /// Add a principal (N5.5).
    PrincipalAdd,
    /// Revoke a principal (N5.5).
    PrincipalRevoke,
    /// Change a principal's kind or teams, revoking its tokens (N5.5).
    PrincipalChange,
    /// Issue an API token for a principal (N5.1, N5.5).
    TokenIssue,
    /// Revoke another principal's token (N5.5).
    TokenRevoke,
    /// List another principal's tokens (N5.5).
    TokenList,
    /// Create a partner (authorised reseller, N1.2).
    PartnerCreate,
    /// Create a customer organisation (N1.2).
    OrganisationCreate,
    /// Add an organisation's administrator (N6.5).
    OrgAdminAdd,
    /// Add a partner's reseller principal (N1.2, N6.5).
    ResellerAdd,
    /// Create a user of an organisation (N1.2).
    UserCreate,
    /// Read an organisation's settings (N6.5a).
    OrganisationView,
    /// List an organisation's users (N6.5a).
    OrganisationUsers,
    /// Set whether an organisation's users may export their own data (N7.1).
    OrganisationSettings,
    /// Open a support case (N3.5).
    CaseOpen,
    /// Close a support case (N3.5).
    CaseClose,
    /// Assign an open support case to a support-ticket processor (N6.6,
    /// N3.5; issue 17 item 4).
    CaseAssign,
    /// Record a professional-services engagement of a processor (N6.6;
    /// issue 17 item 4).
    EngagementRecord,
    /// End a professional-services engagement early (N6.6).
    EngagementEnd,
    /// Record a legal obligation (N3.7, N6.5d).
    ObligationRecord,
    /// Rotate the key-encryption key (N5.2).
    KeysRotate,
    /// Retire a key-encryption key version (N5.2).
    KeysRetire,
    /// Rotate the blind-index key: mint a new version, re-index every
    /// identifier under it, destroy the old one (N5.2; issue 13 item 3).
    BlindIndexRotate,
    /// Record a transfer mechanism (N4.4).
    TransferMechanismAdd,
    /// Delete records past their retention period (N8.8).
    RetentionSweep,
    /// Handle data subject requests: the register, one-time codes,
    /// approval, rejection, extension (N7.2, N7.4).
    DsrHandle,
    /// Take an email in and store it as a communications record (N7.4, N3.1).
    EmailIntake,
    /// Search the audit log (N5.4, N5.1): itself decided and recorded.
    AuditSearch,
    /// Register a recipient of Service Data (N6.2, N8.9).
    RecipientAdd,
    /// Grant a third-party app scopes in an organisation (N6.3).
    AppGrant,
    /// Revoke a third-party app's grant (N6.3).
    AppGrantRevoke,
    /// Set an organisation's app admin policy (N6.3).
    AppPolicySet,
    /// Read the disclosure ledger: the APPI provision record (N8.4).
    DisclosureReport,
    /// Grant a person need-to-know access to one subject (N5.5, N3.8).
    GrantAdd,
    /// Merge two subjects that are one person (N7.2; issue 15 item 4).
    SubjectsMerge,
    /// Read the identity reports: identifiers confusable with each other,
    /// subjects without an identifier (N7.2; issue 15 items 1 and 3).
    IdentityReport,
    /// Report a suspected incident, by API, CLI, email or a detector (N8.5, N5.1).
    IncidentReport,
    /// Assess and work incidents, and manage on-call schedules: the
    /// dedicated incident team (N8.5).
    IncidentManage,
}

impl ManagementAction {
    /// Every management action, once. A core operation that changes state
    /// or reveals registry data is one of these.
    pub const ALL: [ManagementAction; 38] = [
        ManagementAction::PrincipalAdd,
        ManagementAction::PrincipalRevoke,
        ManagementAction::PrincipalChange,
        ManagementAction::TokenIssue,
        ManagementAction::TokenRevoke,
        ManagementAction::TokenList,
        ManagementAction::PartnerCreate,
        ManagementAction::OrganisationCreate,
        ManagementAction::OrgAdminAdd,
        ManagementAction::ResellerAdd,
        ManagementAction::UserCreate,
        ManagementAction::OrganisationView,
        ManagementAction::OrganisationUsers,
        ManagementAction::OrganisationSettings,
        ManagementAction::CaseOpen,
        ManagementAction::CaseClose,
        ManagementAction::CaseAssign,
        ManagementAction::EngagementRecord,
        ManagementAction::EngagementEnd,
        ManagementAction::ObligationRecord,
        ManagementAction::KeysRotate,
        ManagementAction::KeysRetire,
        ManagementAction::BlindIndexRotate,
        ManagementAction::TransferMechanismAdd,
        ManagementAction::RetentionSweep,
        ManagementAction::DsrHandle,
        ManagementAction::EmailIntake,
        ManagementAction::AuditSearch,
        ManagementAction::RecipientAdd,
        ManagementAction::AppGrant,
        ManagementAction::AppGrantRevoke,
        ManagementAction::AppPolicySet,
        ManagementAction::DisclosureReport,
        ManagementAction::GrantAdd,
        ManagementAction::SubjectsMerge,
        ManagementAction::IdentityReport,
        ManagementAction::IncidentReport,
        ManagementAction::IncidentManage,
    ];

    /// A stable snake_case name (`principal_add`), carried in the audit
    /// entry's resource as `op:<name>`.
    pub fn as_str(self) -> &'static str {
        use ManagementAction as M;
        match self {
            M::PrincipalAdd => "principal_add",
            M::PrincipalRevoke => "principal_revoke",
            M::PrincipalChange => "principal_change",
            M::TokenIssue => "token_issue",
            M::TokenRevoke => "token_revoke",
            M::TokenList => "token_list",
            M::PartnerCreate => "partner_create",
            M::OrganisationCreate => "organisation_create",
            M::OrgAdminAdd => "org_admin_add",
            M::ResellerAdd => "reseller_add",
            M::UserCreate => "user_create",
            M::OrganisationView => "organisation_view",
            M::OrganisationUsers => "organisation_users",
            M::OrganisationSettings => "organisation_settings",
            M::CaseOpen => "case_open",
            M::CaseClose => "case_close",
            M::CaseAssign => "case_assign",
            M::EngagementRecord => "engagement_record",
            M::EngagementEnd => "engagement_end",
            M::ObligationRecord => "obligation_record",
            M::KeysRotate => "keys_rotate",
            M::KeysRetire => "keys_retire",
            M::BlindIndexRotate => "blind_index_rotate",
            M::TransferMechanismAdd => "transfer_mechanism_add",
            M::RetentionSweep => "retention_sweep",
            M::DsrHandle => "dsr_handle",
            M::EmailIntake => "email_intake",
            M::AuditSearch => "audit_search",
            M::RecipientAdd => "recipient_add",
            M::AppGrant => "app_grant",
            M::AppGrantRevoke => "app_grant_revoke",
            M::AppPolicySet => "app_policy_set",
            M::DisclosureReport => "disclosure_report",
            M::GrantAdd => "grant_add",
            M::SubjectsMerge => "subjects_merge",
            M::IdentityReport => "identity_report",
            M::IncidentReport => "incident_report",
            M::IncidentManage => "incident_manage",
        }
    }

    /// The Cedar action the pack decides it as (the audit entry's action).
    ///
    /// | operations | action | purpose | who (default pack) |
    /// |---|---|---|---|
    /// | principals, tokens, need-to-know grants | `manage_principals` | protect | security staff, the configured operator (N5.5) |
    /// | partners, organisations, administrators, resellers, users | `manage_tenancy` | provide_services | security staff, the configured operator (N1.2) |
    /// | an organisation's settings and users | `manage_organisation` | provide_services | its administrators and resellers (N6.5a, N7.1), security staff, the configured operator |
    /// | support cases, assigning one to a support-ticket processor | `manage_cases` | assist | support staff, the configured operator (N3.5, N6.6); billing staff for billing cases (N3.8) |
    /// | legal obligations | `record_obligation` | comply | legal staff for legal process, governmental requests and record keeping, privacy staff for data subject requests (N3.7); administrators for their organisation (N6.5d) |
    /// | keys (KEK rotation and retirement, blind-index key rotation) | `keys_rotate` | protect | security staff, services, the configured operator (N5.2) |
    /// | an organisation's third-party app grants and app policy | `manage_organisation` | provide_services | as above (N6.3) |
    /// | transfer mechanisms, recipients, professional-services engagements | `manage_transfers` | protect | legal and privacy staff (N4.4, N8.9, N6.6) |
    /// | retention sweep | `retention_sweep` | protect | privacy staff, services (N8.8) |
    /// | data subject requests; merging subjects, identity reports (issue 15) | `dsr_handle` | comply | privacy staff (N7.2, N7.4) |
    /// | email intake | `ingest` of communications | provide_services | services (N3.1) |
    /// | audit search, the disclosure ledger | `audit_read` | protect | privacy, security and incident-response staff (N5.4, N5.1, N8.4) |
    /// | incident reports | `report_incident` | protect | staff and services (N8.5, N5.1) |
    /// | incidents and on-call | `manage_incidents` | protect | incident-response staff (N8.5) |
    pub fn policy_action(self) -> Action {
        use ManagementAction as M;
        match self {
            M::PrincipalAdd
            | M::PrincipalRevoke
            | M::PrincipalChange
            | M::TokenIssue
            | M::TokenRevoke
            | M::TokenList
            | M::GrantAdd => Action::ManagePrincipals,
            M::PartnerCreate
            | M::OrganisationCreate
            | M::OrgAdminAdd
            | M::ResellerAdd
            | M::UserCreate => Action::ManageTenancy,
            M::OrganisationView
            | M::OrganisationUsers
            | M::OrganisationSettings
            | M::AppGrant
            | M::AppGrantRevoke
            | M::AppPolicySet => Action::ManageOrganisation,
            M::CaseOpen | M::CaseClose | M::CaseAssign => Action::ManageCases,
            M::ObligationRecord => Action::RecordObligation,
            M::KeysRotate | M::KeysRetire | M::BlindIndexRotate => Action::KeysRotate,
            M::TransferMechanismAdd | M::RecipientAdd | M::EngagementRecord | M::EngagementEnd => {
                Action::ManageTransfers
            }
            M::RetentionSweep => Action::RetentionSweep,
            M::DsrHandle | M::SubjectsMerge | M::IdentityReport => Action::DsrHandle,
            M::EmailIntake => Action::Ingest,
            M::AuditSearch | M::DisclosureReport => Action::AuditRead,
            M::IncidentReport => Action::ReportIncident,
            M::IncidentManage => Action::ManageIncidents,
        }
    }

    /// The purpose (N3) the operation serves.
    pub fn purpose(self) -> Purpose {
        match self.policy_action() {
            Action::ManageTenancy | Action::ManageOrganisation | Action::Ingest => {
                Purpose::ProvideServices
            }
            Action::ManageCases => Purpose::Assist,
            Action::RecordObligation | Action::DsrHandle => Purpose::Comply,
            _ => Purpose::Protect,
        }
    }

    /// The category the decision is about, for the one operation that
    /// stores Service Data (email intake: communications).
    fn category(self) -> Option<Category> {
        (self == ManagementAction::EmailIntake).then_some(Category::Communications)
    }

    /// Whether the operation is itself the record of a legal obligation
    /// (N3.7): recording one, and handling data subject requests, whose
    /// register is the record of the obligations it handles (N7.2).
    fn is_obligation_record(self) -> bool {
        matches!(
            self,
            ManagementAction::ObligationRecord
                | ManagementAction::DsrHandle
                | ManagementAction::SubjectsMerge
                | ManagementAction::IdentityReport
        )
    }
}

impl fmt::Display for ManagementAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a management decision is about: an id for the audit entry
/// (`what`: a principal name, a token id, an organisation id, a case id, or
/// a register name such as `principals`), the organisation it concerns
/// (administrators are decided against it, N6.5) and the subject, if one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    /// The id recorded in the audit entry's resource (a Steward-made name,
    /// never an identifier).
    pub what: &'a str,
    /// The organisation concerned (N1.2, N6.5), if any.
    pub organisation: Option<&'a str>,
    /// The subject concerned (opaque id), if any.
    pub subject: Option<SubjectId>,
    /// The kind of the support case opened (N3.5, N3.8), for
    /// [`ManagementAction::CaseOpen`]: the pack decides who opens which kind.
    pub case_kind: Option<CaseKind>,
    /// The kind of the legal obligation recorded (N3.7), for
    /// [`ManagementAction::ObligationRecord`]: the pack decides who records
    /// which kind (issue 17 item 2).
    pub obligation_kind: Option<ObligationKind>,
}

impl<'a> Target<'a> {
    /// A target named `what`, of no organisation or subject.
    pub fn named(what: &'a str) -> Self {
        Target {
            what,
            organisation: None,
            subject: None,
            case_kind: None,
            obligation_kind: None,
        }
    }

    /// The same target, opening a case of `kind`.
    pub fn case_of_kind(mut self, kind: CaseKind) -> Self {
        self.case_kind = Some(kind);
        self
    }

    /// The same target, recording an obligation of `kind`.
    pub fn obligation_of_kind(mut self, kind: ObligationKind) -> Self {
        self.obligation_kind = Some(kind);
        self
    }

    /// The same target, concerning organisation `org`.
    pub fn in_organisation(mut self, org: &'a str) -> Self {
        self.organisation = Some(org);
        self
    }

    /// The same target, concerning subject `s`.
    pub fn about(mut self, s: SubjectId) -> Self {
        self.subject = Some(s);
        self
    }
}

/// An allowed management decision: the principal as loaded now, and the
/// pack's decision (recorded in the audit log).
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The acting principal.
    pub principal: Principal,
    /// The decision (allowed), as recorded.
    pub decision: Decision,
}

/// Mark `e`, the record of an operation's effect, as the record of its
/// allowed decision `d` of `action` too (decision, purpose, policy ids, and
/// the decision's clauses after those `e` names): for an operation whose
/// decision is committed with its effect, one entry for both.
pub(crate) fn stamp(e: &mut EntryDraft, d: &Decision, action: ManagementAction) {
    e.decision = steward_audit::Decision::Allow;
    e.purpose = Some(token(action.purpose().as_str()));
    e.policy_ids = d.policy_ids.iter().map(|p| token(p)).collect();
    for c in &d.clause_ids {
        if !e.clause_ids.iter().any(|x| x.as_str() == c) {
            e.clause_ids.push(token(c));
        }
    }
}

/// An audit token of a Steward-made name (an invalid one becomes a safe
/// placeholder, as everywhere in the audit log).
fn token(s: &str) -> steward_audit::Token {
    steward_audit::Token::new(s)
        .unwrap_or_else(|_| steward_audit::Token::new("invalid-token").expect("literal token"))
}

impl Steward {
    /// Decide management operation `action` on `target` for principal `by`
    /// through the policy pack, and record the decision in the audit log
    /// whether allowed or denied (fail closed: nothing proceeds if it cannot
    /// be recorded).
    ///
    /// Whether `by` is the configured operator (`config.operator`) goes to
    /// the pack as `context.configured_operator` (policies
    /// `bootstrap-operator*`, N5.5); a revoked principal is denied by the
    /// pack's `forbid-revoked` (N5.5), audited.
    ///
    /// Errors: [`CoreError::Input`] for an unknown principal;
    /// [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn authorize_management(
        &self,
        by: &str,
        action: ManagementAction,
        target: Target<'_>,
    ) -> Result<Authorized, CoreError> {
        let principal = self.principal(by)?;
        let (decision, entry) = self.decide_management(&principal, action, target)?;
        self.store()?
            .commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(Authorized {
            principal,
            decision,
        })
    }

    /// Decide like [`Steward::authorize_management`], recording a denial at
    /// once, but return an allowed decision's audit entry uncommitted, for a
    /// caller that commits it with the change it allows (one transaction).
    pub(crate) fn decide_management(
        &self,
        principal: &Principal,
        action: ManagementAction,
        target: Target<'_>,
    ) -> Result<(Decision, EntryDraft), CoreError> {
        let d = self.management_decision(principal, action, target);
        let mut resource = Resource::new(if action == ManagementAction::EmailIntake {
            ResourceKind::Batch
        } else {
            ResourceKind::Principal
        })
        .id(token(&format!("op:{}", action.as_str())));
        if !target.what.is_empty() {
            resource = resource.id(token(target.what));
        }
        if let Some(org) = target.organisation {
            resource = resource.id(token(&format!("organisation:{org}")));
        }
        if let Some(s) = target.subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        let entry = self.decision_entry(
            &d,
            action.policy_action().as_str(),
            &principal.name,
            Some(action.purpose()),
            0,
            resource,
        );
        if !d.allowed {
            return Err(self.record_denial(d, entry));
        }
        Ok((d, entry))
    }

    /// The pack's decision on `action` for `principal`, not recorded.
    fn management_decision(
        &self,
        principal: &Principal,
        action: ManagementAction,
        target: Target<'_>,
    ) -> Decision {
        let mut context = RequestContext::new(self.clock.today());
        context.configured_operator = principal.name == self.config.operator;
        context.legal_obligation_recorded = action.is_obligation_record();
        context.case_kind = target.case_kind;
        context.obligation_kind = target.obligation_kind;
        let subject = target.subject.map(|s| s.to_string());
        self.policy.decide(&DecisionRequest {
            principal,
            action: action.policy_action(),
            subject: subject.as_deref(),
            category: action.category(),
            organisation: target.organisation,
            kind: None,
            purpose: Some(action.purpose()),
            context,
        })
    }

    /// Whether the pack would allow `principal` management `action` on
    /// `target`, not recorded: for a choice inside an operation that records
    /// itself (whether a request opened on a subject's behalf is verified at
    /// once, N7.2).
    pub(crate) fn may_manage(
        &self,
        principal: &Principal,
        action: ManagementAction,
        target: Target<'_>,
    ) -> bool {
        self.management_decision(principal, action, target).allowed
    }

    /// Decide whether `principal` may handle data subject requests (read
    /// the register, send and check one-time codes, approve, reject,
    /// extend; N7.2, N7.4): [`ManagementAction::DsrHandle`], the pack's
    /// `dsr_handle` action for `comply` (policy
    /// `staff-privacy-handle-requests`: privacy-team staff), recorded like
    /// every management decision, its resource `what`: the request id, or
    /// `dsr_requests` for the register.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn authorize_dsr_handling(
        &self,
        principal: &Principal,
        what: &str,
    ) -> Result<(), CoreError> {
        let (_, entry) =
            self.decide_management(principal, ManagementAction::DsrHandle, Target::named(what))?;
        self.store()?
            .commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        Ok(())
    }

    /// The data subject requests `by` may see, oldest first: a data
    /// subject sees their own without a decision (N7.2); anyone else sees
    /// the register when the pack lets them handle requests
    /// ([`ManagementAction::DsrHandle`], audited).
    ///
    /// Errors: [`CoreError::Input`] for an unknown principal;
    /// [`CoreError::Denied`] (audited).
    pub fn requests_as(
        &self,
        by: &str,
        filter: crate::RequestFilter,
    ) -> Result<Vec<crate::Request>, CoreError> {
        let p = self.principal(by)?;
        if let Some(own) = p.subject {
            let own = own.to_string();
            return Ok(self
                .requests(filter)?
                .into_iter()
                .filter(|r| r.subject.as_deref() == Some(own.as_str()))
                .collect());
        }
        self.authorize_dsr_handling(&p, "dsr_requests")?;
        self.requests(filter)
    }

    /// Data subject request `id` as `by`: the data subject it is about sees
    /// it; anyone else only when the pack lets them handle requests
    /// ([`ManagementAction::DsrHandle`], decided and audited whether or not
    /// the request exists, so a refusal does not tell whether it does).
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown principal or, to an allowed principal, an unknown request.
    pub fn request_as(&self, by: &str, id: &str) -> Result<crate::Request, CoreError> {
        let p = self.principal(by)?;
        let r = self.request(id);
        if let (Ok(r), Some(own)) = (&r, p.subject)
            && r.subject.as_deref() == Some(own.to_string().as_str())
        {
            return Ok(r.clone());
        }
        self.authorize_dsr_handling(&p, id)?;
        r
    }

    /// Send request `id`'s one-time code (N7.4) as `by`: decided first
    /// ([`ManagementAction::DsrHandle`], audited), then
    /// [`Steward::send_verification`].
    pub fn send_verification_as(&self, by: &str, id: &str) -> Result<crate::Request, CoreError> {
        let p = self.principal(by)?;
        self.authorize_dsr_handling(&p, id)?;
        self.known_request(id)?;
        self.send_verification(id)
    }

    /// [`CoreError::NotFound`] unless request `id` exists (asked only of a
    /// principal allowed to handle requests).
    fn known_request(&self, id: &str) -> Result<(), CoreError> {
        self.request(id).map(|_| ()).map_err(|e| match e {
            CoreError::Input(_) => {
                CoreError::NotFound("no such data subject request for you".into())
            }
            other => other,
        })
    }

    /// Check the one-time code the data subject received for request `id`
    /// (N7.4) as `by`: decided first ([`ManagementAction::DsrHandle`],
    /// audited), then [`Steward::verify`].
    pub fn verify_as(&self, by: &str, id: &str, code: &str) -> Result<crate::Request, CoreError> {
        let p = self.principal(by)?;
        self.authorize_dsr_handling(&p, id)?;
        self.known_request(id)?;
        self.verify(id, code)
    }

    /// Whether `by` may read the operational metrics (request and error
    /// counts, no Service Data): anyone but a data subject, whose
    /// credentials reach only their own data (N7). A refusal is audited.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Input`] for an
    /// unknown principal.
    pub fn authorize_metrics(&self, by: &str) -> Result<(), CoreError> {
        let p = self.principal(by)?;
        if p.kind == steward_domain::PrincipalKind::DataSubject {
            return Err(self.refuse(
                &p,
                "metrics_read",
                None,
                "data-subjects-own-data-only",
                "N7.2",
                "data subjects use the /v1/me endpoints for their own data (N7)".into(),
            ));
        }
        Ok(())
    }

    /// Decide `principal`'s retention sweep (N8.8,
    /// [`ManagementAction::RetentionSweep`]): a denial is audited at once;
    /// the allowed decision is returned for [`stamp`] to record as each
    /// region's sweep entry, committed with its deletions.
    pub(crate) fn decide_retention_sweep(
        &self,
        principal: &str,
    ) -> Result<(Principal, Decision), CoreError> {
        let actor = self.principal(principal)?;
        let (d, _) = self.decide_management(
            &actor,
            ManagementAction::RetentionSweep,
            Target::named("records"),
        )?;
        Ok((actor, d))
    }

    /// The pack's decision on `dsr_handle` for `principal`, not recorded.
    pub(crate) fn may_handle_requests(&self, principal: &Principal) -> bool {
        self.may_manage(
            principal,
            ManagementAction::DsrHandle,
            Target::named("dsr_requests"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_distinct_name_and_maps_to_a_pack_action() {
        let mut names: Vec<&str> = ManagementAction::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ManagementAction::ALL.len());
        for a in ManagementAction::ALL {
            // Every mapped action is one the pack's schema declares.
            assert!(Action::ALL.contains(&a.policy_action()), "{a}");
        }
    }
}
