//! The gate: the only code that opens Service Data (ARCHITECTURE.md).
//!
//! Every entry point runs **one pipeline** (`pipeline.rs`):
//!
//! resolve the subject -> build the decision's context (`context.rs`) ->
//! decide by policy -> run the checks (`checks/`, one ordered list) ->
//! record the decision -> commit it with the access's own changes (fail
//! closed) -> open.
//!
//! # Entry points
//!
//! - [`Steward::gate`] (and [`Steward::read`] on it): every access to a
//!   live subject's data — reads, exports, the operator's identifier
//!   listing, erasure, rectification, and the administrator powers of
//!   `tenancy/admin.rs` (`admin_view`, `admin_legal_access`, account changes).
//!   The export and listing code open only through the [`Opened`] it
//!   returned (`Opened::open_record`, `Opened::open_identifiers`).
//! - [`Steward::read_held`]: records kept under a legal hold after an
//!   erasure (N3.7), `comply` only; the same pipeline, opening with the
//!   hold key.
//! - [`Steward::verify_records`] (`system.rs`): the integrity check that
//!   authenticates every ciphertext and drops the plaintext (counts only
//!   leave; recorded per region).
//! - [`Steward::disclose`] (`disclose.rs`): a subject's data to a
//!   registered recipient on a basis of N6.3-N6.7, decided with the
//!   consent and grant states, its ledger row committed with its audit
//!   entry (N6.2, N8.4); a third-party app's [`Steward::read`] is one.
//! - `Steward::open_registered_email` (`system.rs`): the email address a
//!   data subject request's one-time code is sent to (N7.4), opened after
//!   the opening is recorded.
//!
//! # The checks
//!
//! After an allowing policy decision every entry point runs the same
//! ordered list, `checks::CHECKS`: `legal_hold` (held records open for
//! `comply` only, N3.7), `processing_restriction` (a data subject's
//! restriction or objection, N7.2), `transfer_mechanism` (N4.4). The first
//! refusal turns the decision into a denial naming its policy id and
//! clause; the denial is recorded like any other.
//!
//! # Effects that need plaintext
//!
//! `effects.rs` holds what needs a data key inside Steward without the
//! plaintext leaving it: minting a subject and sealing at ingest (a
//! seal-only `SealingKey`), re-sealing held records under a hold key at
//! erasure, merging a rectification, sealing and opening a rectification
//! request's corrections, and re-wrapping data keys at key rotation. The
//! callers (vault, intake, holds, requests) decide through the pipeline
//! first and commit the effect with the decision.
//!
//! # Opening is private to this module (checked by the compiler)
//!
//! The keyring is held in `keys::Keys`, whose methods that unwrap a data
//! key are `pub(in crate::gate)`; the opener (`keys::open_row`, the sealer
//! an [`Opened`] carries) is private to this module too. Code elsewhere in
//! the crate gets seal-only keys and the methods of an [`Opened`], which
//! only the pipeline makes, after a recorded allowing decision. Outside the
//! crate (server, CLI) an [`Opened`] cannot be built nor its key reached:
//!
//! ```compile_fail,E0616
//! // The key an allowed access carries is private to the gate.
//! fn steal(o: &steward_core::Opened) { let _ = &o.sealer; }
//! ```
//!
//! ```compile_fail,E0451
//! // No `Opened` without the pipeline.
//! let _ = steward_core::Opened {
//!     region: 0, subject: None, decision: Default::default(), audit_index: 0,
//!     request_id: String::new(), sealer: None,
//! };
//! ```
//!
//! Inside the crate, `probe.rs` (compiled only with `--cfg
//! steward_gate_probe`) calls the opener, the key unwrapping and the
//! carried sealer from outside the gate; `scripts/gate_probe.sh` builds it
//! and passes only when the compiler refuses each call (E0624 private
//! method, E0616 private field, E0603 private function). CI runs it.

mod ask;
mod audit;
mod checks;
mod context;
mod disclose;
mod effects;
mod keys;
mod merge;
mod pipeline;
mod rekey;
mod system;
mod transfer;

use serde_json::Value;
use steward_domain::{Category, Kind, Purpose, RecordId, SubjectId};
use steward_policy::{Action, Decision};

pub(crate) use crate::entry::{
    new_request_id, now_ts, random_id_bits, record_ref, system_entry, token,
};
pub use ask::DisclosureAsk;
pub(crate) use audit::denied;
pub use checks::ProcessingRestriction;
pub use disclose::{Disclosed, DisclosureRequest};
pub(crate) use effects::{RequestSealed, SealingKey};
pub(crate) use keys::Keys;
pub(crate) use transfer::TransferCheck;
pub use transfer::{Transfer, TransferMechanism};

/// A request to the gate. Build it with [`AccessRequest::new`] and the
/// builder methods, or with struct update syntax
/// (`AccessRequest { purpose, ..AccessRequest::new(p, a, s) }`), so that a
/// new optional field touches only the code that uses it.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    /// The principal's name (authenticated by the caller's channel: the CLI
    /// operator's shell, or the API's token check).
    pub principal: String,
    /// What is asked.
    pub action: Action,
    /// The data subject, as an identifier argument (`root`, `ip:10.0.0.1`,
    /// `ann@example.com`, `sub_…`). Never logged: it is resolved to an opaque
    /// id and a blind-index reference before anything is recorded.
    pub subject: String,
    /// Restrict to one category.
    pub category: Option<Category>,
    /// Restrict to one record kind of that category (N2): decided as
    /// `resource.kind` (issue 17 items 4 and 5: the recommendations
    /// service reads `communications.feedback`, a support provider
    /// `communications.support`, a professional-services provider
    /// `account.profile`), and only records of that kind are opened. A
    /// kind of another category than `category` is refused before
    /// anything is decided ([`CoreError::Input`](crate::CoreError::Input)).
    pub kind: Option<Kind>,
    /// The purpose of processing (N3). Required.
    pub purpose: Option<Purpose>,
    /// A support case id (N3.5).
    pub case_id: Option<String>,
    /// A recorded legal obligation id (N3.7, N6.5d).
    pub obligation_id: Option<String>,
    /// A need-to-know grant id (N5.5, N3.8).
    pub grant_id: Option<String>,
    /// An open incident about the subject (N8.5, N3.8): the justification
    /// of a security or incident-response read for `protect`.
    pub incident_id: Option<String>,
    /// The customer organisation the subject belongs to (N1.2), as the
    /// caller established it from the tenancy registry; administrators and
    /// resellers are decided against it (N6.5). `None`: no organisation.
    pub organisation: Option<String>,
}

impl AccessRequest {
    /// A request by `principal` to do `action` on `subject` (an identifier
    /// argument or a `sub_` id), with every optional part unset: no
    /// category (all), no purpose (denied, N3), no case, no obligation, no
    /// grant, no organisation.
    pub fn new(principal: impl Into<String>, action: Action, subject: impl Into<String>) -> Self {
        AccessRequest {
            principal: principal.into(),
            action,
            subject: subject.into(),
            category: None,
            kind: None,
            purpose: None,
            case_id: None,
            obligation_id: None,
            grant_id: None,
            incident_id: None,
            organisation: None,
        }
    }

    /// Citing a support case (`None`: none cited; N3.5, N3.8).
    pub fn case(mut self, case: Option<&str>) -> Self {
        self.case_id = case.map(str::to_owned);
        self
    }

    /// Citing a need-to-know grant (`None`: none cited; N5.5, N3.8).
    pub fn grant(mut self, grant: Option<&str>) -> Self {
        self.grant_id = grant.map(str::to_owned);
        self
    }

    /// Citing an open incident that names the subject (`None`: none cited;
    /// N8.5, N3.8).
    pub fn incident(mut self, incident: Option<&str>) -> Self {
        self.incident_id = incident.map(str::to_owned);
        self
    }

    /// With the purpose of processing (N3).
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// Restricted to one category.
    pub fn category(mut self, category: Category) -> Self {
        self.category = Some(category);
        self
    }

    /// Restricted to one record kind, and so to its category (N2).
    pub fn kind(mut self, kind: Kind) -> Self {
        self.category = Some(kind.category());
        self.kind = Some(kind);
        self
    }

    /// Citing a recorded legal obligation (`None`: none cited).
    pub fn obligation(mut self, obligation: Option<&str>) -> Self {
        self.obligation_id = obligation.map(str::to_owned);
        self
    }

    /// About a subject of the customer organisation `organisation`.
    pub fn organisation(mut self, organisation: impl Into<String>) -> Self {
        self.organisation = Some(organisation.into());
        self
    }
}

/// Why the gate said no: the condition that failed, the deciding policies and
/// their clauses, and where the denial sits in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The condition, in plain words.
    pub reason: String,
    /// Deciding policy ids.
    pub policy_ids: Vec<String>,
    /// Clause ids those policies carry.
    pub clause_ids: Vec<String>,
    /// The audit entry recording the denial.
    pub audit_index: Option<u64>,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)?;
        if !self.policy_ids.is_empty() {
            write!(f, " [policy {}]", self.policy_ids.join(", "))?;
        }
        if !self.clause_ids.is_empty() {
            write!(f, " [{}]", self.clause_ids.join(", "))?;
        }
        if let Some(i) = self.audit_index {
            write!(f, " (audit entry {i})")?;
        }
        Ok(())
    }
}

/// Where a subject lives: its home region (index into the configured
/// regions) and its opaque id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub region: usize,
    pub id: SubjectId,
}

/// One record opened by the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedRecord {
    /// Record id.
    pub id: RecordId,
    /// Category.
    pub category: String,
    /// Kind.
    pub kind: String,
    /// Product.
    pub product: String,
    /// Region.
    pub region: String,
    /// Ingest time, ms since the epoch.
    pub stored_at_ms: i64,
    /// The record body: `{"fields":{…},"occurred_at":…}`.
    pub body: Value,
}

/// What the gate hands back after an allowed access: the decision, where it
/// is recorded, and (for an access that reveals data) the key to open the
/// subject's records with, usable only through its methods.
#[derive(Debug)]
pub struct Opened {
    /// The index of the subject's home region (N4.1).
    pub region: usize,
    /// The subject, if the identifier resolved to one.
    pub subject: Option<SubjectId>,
    /// The decision.
    pub decision: Decision,
    /// The audit entry recording it.
    pub audit_index: u64,
    /// The request id.
    pub request_id: String,
    /// The opener: set by the pipeline only, after the decision is
    /// committed, for an access that reveals data.
    pub(in crate::gate) sealer: Option<keys::Opener>,
}
