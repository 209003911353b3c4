//! N6.4: the subject's consent for a disclosure, established before the
//! policy decides it: current, none, withdrawn, expired, or a Global
//! Privacy Control opt-out (the conflict rule: `crate::sharing::GPC_RULE`).
//! The pack refuses the consent basis unless the state is `current`.

use steward_domain::SubjectId;

use super::super::AccessRequest;
use super::super::ask::DisclosureAsk;
use crate::sharing::{ConsentDecision, consent_state};
use crate::{CoreError, Steward};

/// The consent state of disclosing `subject`'s data to the asked recipient
/// for the request's purpose, now.
pub(super) fn facts(
    st: &Steward,
    req: &AccessRequest,
    ask: &DisclosureAsk,
    subject: Option<SubjectId>,
) -> Result<ConsentDecision, CoreError> {
    consent_state(st, subject, &ask.recipient.id, req.purpose)
}
