//! The checks every entry point runs after an allowing policy decision, in
//! one ordered list ([`CHECKS`]). Each is one small function in its own
//! file with the [`Check`] signature; the first refusal turns the decision
//! into a denial (recorded like any other) and the later checks do not run.
//!
//! To add a check (consent, grants): write `checks/<name>.rs` with one
//! `pub(super) fn check(&Steward, &Access) -> Result<Verdict, CoreError>`
//! and add it to [`CHECKS`] where it belongs in the order.

mod legal_hold;
mod processing_restriction;
pub use processing_restriction::ProcessingRestriction;
mod transfer_mechanism;

use steward_domain::{Principal, SubjectId};
use steward_policy::{Action, Decision, DecisionBasis};

use super::AccessRequest;
use super::TransferMechanism;
use crate::{CoreError, Steward};

/// Actions that hand Service Data to the requester: restricted by a data
/// subject's restriction (N7.2), and transfers when they cross a zone (N4.4).
fn moves_data(a: Action) -> bool {
    matches!(
        a,
        Action::Read
            | Action::Export
            | Action::AdminView
            | Action::AdminLegalAccess
            | Action::Disclose
    )
}

/// What a check sees: the access as the pipeline resolved it.
pub(in crate::gate) struct Access<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The request as asked.
    pub req: &'a AccessRequest,
    /// The action decided (a held-record read is a `read`).
    pub action: Action,
    /// The subject, if the identifier resolved to one.
    pub subject: Option<SubjectId>,
    /// The subject's home region (index).
    pub home: usize,
    /// The region this node processes in (index).
    pub processing: usize,
    /// Records kept under a legal hold after an erasure (N3.7).
    pub held: bool,
}

/// A check's answer.
pub(in crate::gate) enum Verdict {
    /// Nothing to say.
    Pass,
    /// Allowed as a transfer under this mechanism (N4.4): the pipeline
    /// registers the transfer in the decision's commit.
    Transfer(TransferMechanism),
    /// Refused: the deciding policy id, its clauses and the reason.
    Refuse {
        policy_id: &'static str,
        clause_ids: &'static [&'static str],
        reason: String,
    },
}

/// The signature of a check.
pub(in crate::gate) type Check = fn(&Steward, &Access<'_>) -> Result<Verdict, CoreError>;

/// Every check, in the order every entry point runs them.
pub(in crate::gate) const CHECKS: [(&str, Check); 3] = [
    ("legal_hold", legal_hold::check),
    ("processing_restriction", processing_restriction::check),
    ("transfer_mechanism", transfer_mechanism::check),
];

/// Run [`CHECKS`] on an allowed `decision` (nothing runs on a denial):
/// a refusal overrides it (basis `forbid`); returns the transfer mechanism
/// the access relies on, if any.
pub(in crate::gate) fn run(
    st: &Steward,
    access: &Access<'_>,
    decision: &mut Decision,
) -> Result<Option<TransferMechanism>, CoreError> {
    let mut transfer = None;
    for (_, check) in CHECKS {
        if !decision.allowed {
            break;
        }
        match check(st, access)? {
            Verdict::Pass => {}
            Verdict::Transfer(m) => transfer = Some(m),
            Verdict::Refuse {
                policy_id,
                clause_ids,
                reason,
            } => {
                decision.allowed = false;
                decision.basis = DecisionBasis::Forbid;
                decision.policy_ids = vec![policy_id.into()];
                decision.clause_ids = clause_ids.iter().map(|c| (*c).to_owned()).collect();
                decision.reason = reason;
                transfer = None;
            }
        }
    }
    Ok(transfer)
}
