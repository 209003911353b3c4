//! The checks on the caller that the HTTP layer still makes before calling
//! the core: the `manage_principals` decision (audited), the kind and team
//! checks of tenancy, obligations and self-service, and the `dsr_handle`
//! decision of request handling. Kept together so that moving them into the
//! core (issue 12, item 1) removes them from one place.

use steward_core::Action;
use steward_domain::{PrincipalKind, Purpose, Team};

use crate::authn::Caller;
use crate::call::{blocking, gated};
use crate::problem::ApiError;
use crate::state::AppState;

/// Decide `manage_principals` for `protect` (audited): principals, tokens, tenancy.
pub(crate) async fn manage(state: &AppState, c: &Caller, what: &str) -> Result<(), ApiError> {
    let p = c.0.principal.clone();
    let what = what.to_owned();
    gated(state, move |st| {
        st.authorize_system(&p, Action::ManagePrincipals, Purpose::Protect, &what)
    })
    .await
}

/// Refuse data subjects (403): they use the `/v1/me` endpoints (N7).
pub(crate) fn forbid_data_subject(c: &Caller) -> Result<(), ApiError> {
    if c.0.principal.kind == PrincipalKind::DataSubject {
        return Err(ApiError::Forbidden(
            "data subjects use the /v1/me endpoints for their own data (N7)".into(),
        ));
    }
    Ok(())
}

/// Whether the caller may record a legal obligation without
/// `manage_principals`: administrators and resellers, and legal or privacy
/// staff (N3.7, N6.5d).
pub(crate) fn may_record_obligation(c: &Caller) -> bool {
    let p = &c.0.principal;
    matches!(
        p.kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller
    ) || (p.kind.is_staff()
        && p.teams
            .iter()
            .any(|t| matches!(t, Team::Legal | Team::Privacy)))
}

/// Whether the caller administers `org` (its administrator or an authorised reseller).
fn administers(c: &Caller, org: &str) -> bool {
    matches!(
        c.0.principal.kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller
    ) && c.0.principal.organisations.iter().any(|o| o == org)
}

/// Allow an organisation's administrators and resellers, or `manage_principals`.
pub(crate) async fn administers_or_manage(
    state: &AppState,
    c: &Caller,
    org: &str,
) -> Result<(), ApiError> {
    if administers(c, org) {
        return Ok(());
    }
    manage(state, c, "tenancy").await
}

/// The caller's own user name, for the `/v1/me` data endpoints: 403 unless
/// the caller is a data subject with a subject.
pub(crate) fn own_user(c: &Caller) -> Result<String, ApiError> {
    if c.0.principal.kind != PrincipalKind::DataSubject || c.0.principal.subject.is_none() {
        return Err(ApiError::Forbidden(
            "the /v1/me data endpoints are for users (data subjects) reading their own data (N7)"
                .into(),
        ));
    }
    Ok(c.name().to_owned())
}

/// The caller's own subject id (`sub_…`), when the caller is a data subject.
pub(crate) fn own_subject(c: &Caller) -> Option<String> {
    let p = &c.0.principal;
    (p.kind == PrincipalKind::DataSubject)
        .then(|| p.subject.map(|s| s.to_string()))
        .flatten()
}

/// Handling requests is decided by the pack (`dsr_handle`: privacy-team
/// staff) and audited, allowed or refused (403); `what` is the request id,
/// or `dsr_requests` for the register.
pub(crate) async fn staff_only(state: &AppState, c: &Caller, what: &str) -> Result<(), ApiError> {
    let p = c.0.principal.clone();
    let what = what.to_owned();
    blocking(state, move |st| st.authorize_dsr_handling(&p, &what)).await
}
