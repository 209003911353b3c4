//! Support cases as stored (registry `support_cases`, N3.5): the row the
//! case workflow writes (`services.rs`) and the gate reads when a read
//! cites the case (`gate/context.rs`). A module of its own, below both, so
//! that the gate reads the typed row without a module circle.

use serde::{Deserialize, Serialize};
use steward_domain::{CaseId, CaseKind, CaseStatus};

/// An open or closed support case about a subject (N3.5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SupportCase {
    /// Case id (`case-` and 16 hex digits).
    pub id: CaseId,
    /// The subject (opaque id).
    pub subject: String,
    /// Open or closed (N3.5).
    pub status: CaseStatus,
    /// Who opened it.
    pub opened_by: String,
    /// What it is about (N3.5, N3.8): a technical case reaches usage and
    /// configuration, a billing case is a billing interaction. Cases
    /// recorded before kinds existed are `account`.
    #[serde(default)]
    pub kind: CaseKind,
    /// The support-ticket processor it is assigned to (N6.6, issue 17
    /// item 4; [`Steward::assign_case`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}
