//! What the gate asks ([`DecisionRequest`]) and what it is told ([`Decision`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use steward_domain::{
    CaseKind, Category, ConsentState, DisclosureBasis, GrantState, Kind, ObligationKind, Principal,
    ProcessorService, Purpose, RecipientKind,
};
use time::Date;

use crate::error::UnknownActionError;

/// An action a principal asks to perform. Each is a Cedar action
/// `Steward::Action::"<as_str>"` in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read one subject's records of one category (N3).
    Read,
    /// Export a subject's data: access and portability (N7.1, N7.2).
    Export,
    /// Erase a subject's data: crypto-shredding (N8.8).
    Erase,
    /// Correct a subject's data (N7.2).
    Rectify,
    /// Store Service Data delivered by a platform service (N3.1, N1.3).
    Ingest,
    /// Disclose a subject's data outside the provider (N6.2-N6.7).
    Disclose,
    /// Produce an internal report from aggregated or anonymised data (N3.9).
    Report,
    /// An administrator views account and billing information, activity and statistics (N6.5a).
    AdminView,
    /// An administrator changes a user's account password (N6.5b).
    AdminChangePassword,
    /// An administrator suspends or terminates a user's account access (N6.5c).
    AdminSuspend,
    /// An administrator accesses account information for a legal obligation (N6.5d).
    AdminLegalAccess,
    /// An administrator restricts a user's ability to delete or edit their information (N6.5e).
    AdminRestrict,
    /// Grant, change or revoke principals (N5.5).
    ManagePrincipals,
    /// Read the audit log (N5.4, N8.4).
    AuditRead,
    /// Rotate encryption keys (N5.2).
    KeysRotate,
    /// Handle data subject requests: read the register, send and check
    /// one-time codes, approve, reject, extend (N7.2, N7.4).
    DsrHandle,
    /// Create partners, organisations, their administrators, resellers and
    /// users: the tenancy registry (N1.2, N6.5).
    ManageTenancy,
    /// View and change one organisation's settings and list its users
    /// (N6.5a, N7.1, N1.2).
    ManageOrganisation,
    /// Open and close support cases (N3.5).
    ManageCases,
    /// Record a legal obligation that `comply` decisions may cite (N3.7, N6.5d).
    RecordObligation,
    /// Record transfer mechanisms for data leaving its region (N4.4).
    ManageTransfers,
    /// Run the retention sweep that deletes expired records (N8.8).
    RetentionSweep,
    /// Report a suspected incident (N8.5, N5.1).
    ReportIncident,
    /// Assess and work incidents and manage on-call schedules (N8.5).
    ManageIncidents,
}

impl Action {
    /// All actions, in schema order.
    pub const ALL: [Action; 24] = [
        Action::Read,
        Action::Export,
        Action::Erase,
        Action::Rectify,
        Action::Ingest,
        Action::Disclose,
        Action::Report,
        Action::AdminView,
        Action::AdminChangePassword,
        Action::AdminSuspend,
        Action::AdminLegalAccess,
        Action::AdminRestrict,
        Action::ManagePrincipals,
        Action::AuditRead,
        Action::KeysRotate,
        Action::DsrHandle,
        Action::ManageTenancy,
        Action::ManageOrganisation,
        Action::ManageCases,
        Action::RecordObligation,
        Action::ManageTransfers,
        Action::RetentionSweep,
        Action::ReportIncident,
        Action::ManageIncidents,
    ];

    /// The snake_case key: the Cedar action id and the audit log's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Export => "export",
            Action::Erase => "erase",
            Action::Rectify => "rectify",
            Action::Ingest => "ingest",
            Action::Disclose => "disclose",
            Action::Report => "report",
            Action::AdminView => "admin_view",
            Action::AdminChangePassword => "admin_change_password",
            Action::AdminSuspend => "admin_suspend",
            Action::AdminLegalAccess => "admin_legal_access",
            Action::AdminRestrict => "admin_restrict",
            Action::ManagePrincipals => "manage_principals",
            Action::AuditRead => "audit_read",
            Action::KeysRotate => "keys_rotate",
            Action::DsrHandle => "dsr_handle",
            Action::ManageTenancy => "manage_tenancy",
            Action::ManageOrganisation => "manage_organisation",
            Action::ManageCases => "manage_cases",
            Action::RecordObligation => "record_obligation",
            Action::ManageTransfers => "manage_transfers",
            Action::RetentionSweep => "retention_sweep",
            Action::ReportIncident => "report_incident",
            Action::ManageIncidents => "manage_incidents",
        }
    }

    /// The action in plain words, as a verb phrase for denial messages
    /// ("read", "change the password of").
    pub fn verb(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Export => "export",
            Action::Erase => "erase",
            Action::Rectify => "rectify",
            Action::Ingest => "ingest",
            Action::Disclose => "disclose",
            Action::Report => "report on",
            Action::AdminView => "view as administrator",
            Action::AdminChangePassword => "change the password of",
            Action::AdminSuspend => "suspend",
            Action::AdminLegalAccess => "access for a legal obligation",
            Action::AdminRestrict => "restrict",
            Action::ManagePrincipals => "manage principals",
            Action::AuditRead => "read the audit log",
            Action::KeysRotate => "rotate keys",
            Action::DsrHandle => "handle data subject requests",
            Action::ManageTenancy => "manage partners, organisations and their users",
            Action::ManageOrganisation => "manage the organisation",
            Action::ManageCases => "open or close support cases",
            Action::RecordObligation => "record legal obligations",
            Action::ManageTransfers => "record transfer mechanisms",
            Action::RetentionSweep => "run the retention sweep",
            Action::ReportIncident => "report incidents",
            Action::ManageIncidents => "work incidents and on-call schedules",
        }
    }

    /// Position in [`Action::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = UnknownActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownActionError {
                name: s.chars().take(64).collect(),
            })
    }
}

/// Facts about the request that the gate establishes before it asks for a
/// decision. Each becomes an attribute of the Cedar `context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestContext {
    /// Today (UTC); compared with training, confidentiality and engagement
    /// dates (N5.5, N8.6). Sent to Cedar as days since 1970-01-01.
    pub today: Date,
    /// A support case about the requested subject is open (N3.5, N3.8).
    pub open_case_for_subject: bool,
    /// The kind of that case (N3.5, N3.8): a technical case reaches usage
    /// and configuration, a billing case is a billing interaction. `None`
    /// when no open case about the subject is cited (a context with
    /// `open_case_for_subject` but no kind is decided as a case of no kind:
    /// account and communications only).
    pub case_kind: Option<CaseKind>,
    /// A legal obligation is recorded for this request: legal process, an
    /// enforceable governmental request, a record-keeping duty, or a data
    /// subject request being fulfilled (N3.7, N7.2).
    pub legal_obligation_recorded: bool,
    /// The kind of that obligation (N3.7, N7.2); `None` when none applies.
    pub obligation_kind: Option<ObligationKind>,
    /// That obligation covers the requested category: it names it, or it
    /// names no category (every category, one named at a time; a data
    /// subject request always covers all). False for a request of no
    /// category: only a data subject request's export, rectification or
    /// erasure reaches the whole subject (issue 17 item 3).
    pub obligation_covers_category: bool,
    /// A current need-to-know grant (N5.5) for this principal, subject,
    /// purpose and category is cited.
    pub grant_for_subject: bool,
    /// An open incident (or a detector's alert, which opens one) that
    /// names the subject is cited (N3.6, N8.5; set by the core's gate from
    /// the incident registry).
    pub incident_for_subject: bool,
    /// For a processor (N6.6, issue 17 item 4): the service of the
    /// registered subprocessor the principal acts as, when that
    /// registration is in effect (its change notice's lead time passed)
    /// and lists the requested category; `None` otherwise and for every
    /// other principal. Cedar `context.processor_service` ("" for `None`).
    pub processor_service: Option<ProcessorService>,
    /// The cited support case is open, about the requested subject, and
    /// assigned to this principal (a support-ticket processor, N6.6, N3.5).
    pub case_assigned_to_principal: bool,
    /// A professional-services engagement of this principal is current
    /// (started, not past its last day, not ended) and covers the
    /// requested subject (by subject or organisation) and category (N6.6).
    pub engagement_covers: bool,
    /// The request yields only aggregated or anonymised data, never a single
    /// subject's records (N3.9).
    pub aggregate_only: bool,
    /// The subject's data lives in a region other than the one where the
    /// request is processed (N4.2): only centralised operations may do that.
    pub cross_region: bool,
    /// The principal is the deployment's configured operator
    /// (`config.operator`, the first operator, whose bootstrap credential
    /// `steward serve` prints once): policy `bootstrap-operator` lets them
    /// manage principals, tokens and tenancy, and rotate keys, to protect
    /// Service Data (N5.5). Set by Steward from its configuration, never
    /// from the request.
    pub configured_operator: bool,
    /// For a disclosure (action `disclose`, N6.2-N6.7): the basis, the
    /// recipient's kind and the consent and grant states the gate
    /// established. `None` for every other action; a `disclose` without
    /// them is refused by the pack (`disclosure-needs-basis`, N6.2).
    pub disclosure: Option<DisclosureFacts>,
}

/// The facts of one disclosure the pack decides on (N6.2-N6.7), each
/// from a closed vocabulary: Cedar context attributes `disclosure_basis`,
/// `recipient_kind`, `consent_state` and `grant_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisclosureFacts {
    /// The basis claimed (N6.3-N6.7; there is no sale, N6.6).
    pub basis: DisclosureBasis,
    /// The kind of the registered recipient.
    pub recipient_kind: RecipientKind,
    /// The subject's consent for this recipient and purpose now (N6.4).
    pub consent: ConsentState,
    /// The recipient app's grant for this category and purpose now (N6.3).
    pub grant: GrantState,
}

impl RequestContext {
    /// A context for `today` with every flag false.
    pub fn new(today: Date) -> Self {
        RequestContext {
            today,
            open_case_for_subject: false,
            case_kind: None,
            legal_obligation_recorded: false,
            obligation_kind: None,
            obligation_covers_category: false,
            grant_for_subject: false,
            incident_for_subject: false,
            processor_service: None,
            case_assigned_to_principal: false,
            engagement_covers: false,
            aggregate_only: false,
            cross_region: false,
            configured_operator: false,
            disclosure: None,
        }
    }
}

/// One question to the policy engine: may `principal` perform `action` on
/// `subject`'s data of `category`, for `purpose`?
#[derive(Debug, Clone, Copy)]
pub struct DecisionRequest<'a> {
    /// Who asks (authenticated by the gate).
    pub principal: &'a Principal,
    /// What they ask to do.
    pub action: Action,
    /// The data subject, as an opaque `sub_` id; `None` for aggregate
    /// reports and system actions (keys, principals, audit log).
    /// `Some("")` is refused as malformed.
    pub subject: Option<&'a str>,
    /// The category of Service Data (N2); `None` for requests about no
    /// single category (subject-wide erasure, system actions).
    pub category: Option<Category>,
    /// The record kind the request is limited to (N2; a kind of
    /// `category`), or `None` for every kind of the category. Cedar
    /// `resource.kind`, the full dotted name or "". Issue 17 items 4 and 5:
    /// the recommendations service reads `communications.feedback` only,
    /// processors ticket content or contact details only.
    pub kind: Option<Kind>,
    /// The customer organisation the subject belongs to (N1.2), if any.
    pub organisation: Option<&'a str>,
    /// Why (N3). A request with no purpose is denied before Cedar is asked.
    pub purpose: Option<Purpose>,
    /// Facts established by the gate.
    pub context: RequestContext,
}

/// What decided a [`Decision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionBasis {
    /// At least one permit applied and no forbid did.
    Permit,
    /// At least one forbid applied.
    Forbid,
    /// No policy applied: default deny (N3, N5.5).
    DefaultDeny,
    /// The request named no purpose (N3): denied before Cedar was asked.
    NoPurpose,
    /// The request could not be built or a policy failed to evaluate:
    /// denied, fail closed.
    Error,
}

/// The answer: allowed or not, which policies decided, the clauses they
/// enforce, and why in plain words. Goes to the audit log as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the action may proceed.
    pub allowed: bool,
    /// The `@id`s of the deciding policies, sorted: the permits that applied
    /// when allowed, the forbids that applied when a forbid decided, the
    /// failing policies on an evaluation error; empty on default deny.
    pub policy_ids: Vec<String>,
    /// The clause IDs of the deciding policies (their `@clause`s, in first
    /// appearance order, without duplicates). On default deny: the
    /// purpose's clause and N5.5; with no purpose: N3.
    pub clause_ids: Vec<String>,
    /// The condition that decided, in plain words: the `@reason` of the
    /// deciding policies, or for a default deny what was asked and a hint
    /// at the condition that would allow it.
    pub reason: String,
    /// What decided.
    pub basis: DecisionBasis,
    /// The justification the allowed access cited, as the gate verified it
    /// (N3.8, N5.5): `case:<id>`, `obligation:<id>`, `grant:<id>` (or
    /// `incident:<id>` once incidents exist), comma-separated when several
    /// were cited; `None` when none was (automated services, a data
    /// subject's own data, administrators' powers). Set by the caller
    /// that established the justification (steward-core's gate), not by
    /// the engine; recorded in the audit entry beside the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

impl Decision {
    pub(crate) fn deny(
        basis: DecisionBasis,
        policy_ids: Vec<String>,
        clause_ids: Vec<String>,
        reason: String,
    ) -> Self {
        Decision {
            allowed: false,
            policy_ids,
            clause_ids,
            reason,
            basis,
            justification: None,
        }
    }
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// Whole days from 1970-01-01 to `date` (negative before): the unit of every
/// date in the schema.
pub fn days_since_epoch(date: Date) -> i64 {
    i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY
}
