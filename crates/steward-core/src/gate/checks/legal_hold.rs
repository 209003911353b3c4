//! N3.7: records kept under a legal hold after an erasure open for the
//! legal duty alone (`comply`, against a recorded legal obligation, which
//! the policy decision already required).

use steward_domain::Purpose;

use super::{Access, Verdict};
use crate::{CoreError, Steward};

/// Refuse a held-record access for any purpose but `comply`
/// (policy id `legal-hold-comply-only`, N3.7, N8.8). Live accesses pass.
pub(super) fn check(_: &Steward, a: &Access<'_>) -> Result<Verdict, CoreError> {
    if !a.held || a.req.purpose == Some(Purpose::Comply) {
        return Ok(Verdict::Pass);
    }
    Ok(Verdict::Refuse {
        policy_id: "legal-hold-comply-only",
        clause_ids: &["N3.7", "N8.8"],
        reason: "records kept under a legal hold after an erasure open only for comply, against a recorded legal obligation (N3.7)".into(),
    })
}
