//! N6.3: a third-party app's grant for a disclosure, established before
//! the policy decides it: in scope, out of scope, none, or revoked (also
//! when the subject's organisation blocks apps). The pack refuses the
//! third_party_service basis unless the grant is in scope.

use steward_domain::{GrantState, Principal, RecipientKind, SubjectId};

use super::super::AccessRequest;
use super::super::ask::DisclosureAsk;
use crate::sharing::grant_state;
use crate::{CoreError, Steward};

/// The grant state of the asked app recipient for the subject's
/// organisation, the request's category and purpose, now; and the grant.
pub(super) fn facts(
    st: &Steward,
    _principal: &Principal,
    req: &AccessRequest,
    ask: &DisclosureAsk,
    subject: Option<SubjectId>,
) -> Result<(GrantState, Option<String>), CoreError> {
    if ask.recipient.kind != RecipientKind::ThirdPartyApp {
        return Ok((GrantState::None, None));
    }
    let org = match subject {
        Some(s) => st.organisation_of_subject(s)?,
        None => None,
    };
    grant_state(
        st,
        &ask.recipient.id,
        org.as_deref(),
        subject,
        req.category,
        req.purpose,
    )
}
