//! N4.4: Service Data that leaves the EEA, the UK or Switzerland needs a
//! transfer mechanism on record; the transfer is then registered in the
//! decision's commit.

use super::{Access, Verdict, moves_data};
use crate::gate::TransferCheck;
use crate::{CoreError, Steward};

/// For an access that moves a subject's data from its home region to this
/// node's: pass when it is no transfer, name the mechanism relied on, or
/// refuse (policy id `transfer-mechanism-required`, N4.4) without one.
pub(super) fn check(st: &Steward, a: &Access<'_>) -> Result<Verdict, CoreError> {
    if a.subject.is_none() || !moves_data(a.action) {
        return Ok(Verdict::Pass);
    }
    Ok(match st.transfer_check(a.home, a.processing)? {
        TransferCheck::NotATransfer => Verdict::Pass,
        TransferCheck::Mechanism(m) => Verdict::Transfer(m),
        TransferCheck::Refused(reason) => Verdict::Refuse {
            policy_id: "transfer-mechanism-required",
            clause_ids: &["N4.4"],
            reason,
        },
    })
}
