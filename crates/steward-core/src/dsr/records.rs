//! The request register's rows and their parts (N7.2, N7.4).

use super::*;
/// How a request came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    /// The HTTP API (`POST /v1/requests`).
    Api,
    /// The command line (`steward requests open`), run by an operator.
    Cli,
    /// An email to the privacy contact (N7.4, `steward intake email`).
    Email {
        /// The id of the stored message (communications Service Data,
        /// encrypted), if it was stored.
        record: Option<String>,
    },
}

/// Where identity verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Nobody to verify against: the sender matches no registered contact.
    /// Such a request is recorded but never fulfilled automatically.
    Unverified,
    /// A one-time code can be sent to the registered contact.
    Pending,
    /// A code was sent and not yet entered.
    CodeSent,
    /// Verified.
    Verified,
    /// Too many wrong codes: locked; an operator may reject the request.
    Locked,
}

/// Identity verification of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The state.
    pub state: VerificationState,
    /// `authenticated_subject`, `operator`, `administrator` or `one_time_code`.
    pub method: Option<String>,
    /// Who verified: a principal name, or `registered_contact` for a code.
    pub verified_by: Option<String>,
    /// When (RFC 3339 UTC).
    pub verified_at: Option<String>,
}

/// A deadline extension (GDPR only, once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// The new deadline (YYYY-MM-DD).
    pub until: String,
    /// The reason recorded (given by the operator; no identifiers).
    pub reason: String,
    /// Who extended.
    pub by: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// What a request asks beyond its type, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetails {
    /// Objection: the purpose objected to (N3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// Rectification: the record to correct (`rec_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Rectification: the corrected fields, sealed under the subject's data
    /// key (AES-256-GCM, AAD `steward-dsr-corrections` and the request id),
    /// base64. Never in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrections_sealed: Option<String>,
}

/// What a request asks beyond its type, as given to [`Steward::open_request`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewRequestDetails {
    /// Objection: the purpose objected to (required for an objection).
    pub purpose: Option<Purpose>,
    /// Rectification: the record to correct (required for a rectification
    /// of a known subject).
    pub record: Option<RecordId>,
    /// Rectification: the corrected fields (validated against the record's
    /// closed schema when executed, N1.3).
    pub corrections: Option<Fields>,
}

/// The outcome of an executed request, tagged by the request's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestResult {
    /// Access (N7.2, N7.3): the ZIP written for the subject.
    Access {
        /// The ZIP (0600) in `<data_dir>/requests/`.
        path: String,
        /// Records in it.
        records: u64,
    },
    /// Export, portability (N7.1, N7.2): the ZIP written for the subject.
    Export {
        /// The ZIP (0600) in `<data_dir>/requests/`.
        path: String,
        /// Records in it.
        records: u64,
    },
    /// Erasure (N8.8): the erasure receipt.
    Erasure {
        /// The receipt id (`erasure-…`).
        receipt_id: String,
        /// Records made unreadable.
        records_unreadable: u64,
        /// Records kept under a legal hold (listed on the receipt, N3.7).
        #[serde(default)]
        records_retained: u64,
    },
    /// Rectification (N7.2): the corrected record.
    Rectification {
        /// The new record's id.
        record_id: String,
    },
    /// Restriction of processing recorded (the gate honours it).
    Restriction {
        /// Always true: the restriction is on record.
        recorded: bool,
    },
    /// Objection to a purpose recorded (the gate honours it).
    Objection {
        /// The purpose objected to.
        purpose: Purpose,
    },
}

/// One transition in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// The state after the transition.
    pub state: RequestState,
    /// Who made it (principal name, or `registered_contact`, or `steward`).
    pub by: String,
    /// What happened, in plain words (never Service Data).
    pub note: String,
}

/// A data subject request as stored in the `dsr_requests` registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Id, `dsr_` and 16 hex digits.
    pub id: RequestId,
    /// The type.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Where it stands.
    pub state: RequestState,
    /// The subject (opaque `sub_…`), or `None` for a sender who matches no subject.
    pub subject: Option<String>,
    /// The subject's home region.
    pub subject_region: Option<String>,
    /// The blind index (HMAC-SHA-256, hex) of the identifier the request was
    /// made under; never the identifier.
    pub identifier_ref: Option<String>,
    /// The principal who asked (a data subject's user, an operator, an
    /// administrator, or the intake service for an email).
    pub requester: String,
    /// How it came in.
    pub channel: Channel,
    /// When received (RFC 3339 UTC).
    pub received_at: String,
    /// Whose deadline rules apply.
    pub jurisdiction: Jurisdiction,
    /// The deadline (YYYY-MM-DD); moved by an extension.
    pub due_on: String,
    /// The extension, if granted.
    pub extension: Option<Extension>,
    /// The policy pack version in force at receipt: the request executes under it.
    pub policy_version: String,
    /// Identity verification.
    pub verification: Verification,
    /// What is asked beyond the type.
    pub details: RequestDetails,
    /// The legal obligation recorded for it (N3.7), once executing.
    pub obligation: Option<String>,
    /// The outcome, once completed.
    pub result: Option<RequestResult>,
    /// Why rejected or failed.
    pub reason: Option<String>,
    /// Executions started.
    pub attempts: u32,
    /// Every transition.
    pub history: Vec<HistoryEntry>,
}

impl Request {
    /// The deadline as a date.
    pub fn due_date(&self) -> Result<Date, CoreError> {
        parse_date(&self.due_on).ok_or_else(|| corrupt(&self.id, "due_on"))
    }

    /// Overdue on `today`: not final and past its deadline.
    pub fn overdue_on(&self, today: Date) -> bool {
        !self.state.is_final() && self.due_date().is_ok_and(|d| today > d)
    }
}

/// Which requests [`Steward::requests`] lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Only requests past their deadline and not completed or rejected.
    pub overdue: bool,
    /// Only requests in this state.
    pub state: Option<RequestState>,
}
