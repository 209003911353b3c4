//! Authentication (N5.1, N5.5): bearer tokens checked on every request,
//! brute-force lockout per client address (refusing guesses, never a valid
//! token) and per account (the login), counted and decided by the core in
//! the store every node shares (issue 21 item 5), a rate limit per
//! principal (per node), and
//! the token scope each route declares (`needs_scope`, beside its routes).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use steward_core::{AuthFailure, Authenticated, Guarded};

use crate::problem::ApiError;
use crate::state::AppState;

/// The client address of a request, as the accept loop recorded it.
pub(crate) fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Refuse a locked-out address with 429 and `Retry-After` (N5.1); the
/// core answers from the store every node shares. A store that cannot be
/// read fails closed (503).
pub(crate) async fn check_lockout(state: &AppState, ip: Option<IpAddr>) -> Result<(), ApiError> {
    let Some(ip) = ip else { return Ok(()) };
    let now = state.limits.now_ms();
    let left =
        crate::call::blocking(state, move |st| st.lockout_left(&Guarded::Address(ip), now)).await?;
    if let Some(secs) = left {
        state.metrics.rate_limited.fetch_add(1, Relaxed);
        return Err(ApiError::TooManyRequests(
            "too many failed authentications from this address: try again later (N5.1)".into(),
            secs,
        ));
    }
    Ok(())
}

/// Count a failed authentication of `who` in the core (which decides
/// whether it starts a lockout, N5.1); true when it did. A failure to
/// count is logged and counts as no lockout: the request is refused
/// anyway.
pub(crate) async fn count_failure(state: &AppState, who: Guarded) -> bool {
    let (rule, now) = (state.limits.rule(), state.limits.now_ms());
    match crate::call::blocking(state, move |st| st.count_auth_failure(&who, rule, now)).await {
        Ok(started) => {
            if started {
                state.metrics.lockouts.fetch_add(1, Relaxed);
            }
            started
        }
        Err(e) => {
            crate::log::event(
                "error",
                "failed authentication not counted",
                serde_json::json!({"request_id": crate::problem::request_id(), "error": format!("{e:?}")}),
            );
            false
        }
    }
}

/// Count a failed authentication from `ip` (and maybe start a lockout).
pub(crate) async fn failed(state: &AppState, ip: Option<IpAddr>, why: &str) {
    state.metrics.auth_failures.fetch_add(1, Relaxed);
    let locked = match ip {
        Some(ip) => count_failure(state, Guarded::Address(ip)).await,
        None => false,
    };
    crate::log::event(
        "warn",
        "authentication failed",
        serde_json::json!({"request_id": crate::problem::request_id(), "reason": why, "lockout_started": locked}),
    );
}

/// The outcome of a request's bearer token, checked once before its body
/// is read (`app::around`, so that an authenticated request draws on the
/// body budget of authenticated clients, issue 14 item 4) and taken up by
/// [`Caller`].
#[derive(Debug, Clone)]
pub(crate) struct TokenChecked(pub Result<Authenticated, AuthFailure>);

/// The token of an `Authorization: Bearer <token>` header, if any.
fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let header = headers.get(AUTHORIZATION)?.to_str().ok()?;
    match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => Some(t.trim().to_owned()),
        _ => None,
    }
}

/// Check the request's bearer token before its body is read, and leave the
/// outcome for [`Caller`]. True when the token authenticates. A failure of
/// the core (store unavailable) counts as not authenticated here; the
/// extractor then checks again and reports it.
pub(crate) async fn check_token_early(state: &AppState, req: &mut axum::extract::Request) -> bool {
    let Some(token) = bearer(req.headers()) else {
        return false;
    };
    // GPC (issue 19): `Sec-GPC: 1` on an authenticated request; the core
    // records it as a data subject's opt-out (and ignores anyone else's).
    let gpc = req
        .headers()
        .get("sec-gpc")
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"1");
    let st = state.steward.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let res = st.authenticate_token(&token)?;
        if let (true, Ok(a)) = (gpc, &res) {
            st.record_gpc(&a.principal.name)?;
        }
        Ok::<_, steward_core::CoreError>(res)
    });
    match checked.await {
        Ok(Ok(res)) => {
            let ok = res.is_ok();
            req.extensions_mut().insert(TokenChecked(res));
            ok
        }
        _ => false,
    }
}

/// The authenticated caller of a request (`Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Authenticated);

impl Caller {
    /// The principal's name.
    pub fn name(&self) -> &str {
        &self.0.principal.name
    }
}

/// Refuse a request whose credential did not authenticate: 429 while its
/// address is locked out, else 401 after counting the failure (N5.1).
async fn refuse(state: &AppState, ip: Option<IpAddr>, why: &str, detail: &'static str) -> ApiError {
    if let Err(locked) = check_lockout(state, ip).await {
        return locked;
    }
    failed(state, ip, why).await;
    ApiError::Unauthenticated(detail)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = peer_ip(parts);
        let res = match parts.extensions.remove::<TokenChecked>() {
            Some(TokenChecked(res)) => res,
            None => {
                if parts.headers.get(AUTHORIZATION).is_none() {
                    check_lockout(state, ip).await?;
                    state.metrics.auth_failures.fetch_add(1, Relaxed);
                    return Err(ApiError::Unauthenticated(
                        "this endpoint needs a credential: send `Authorization: Bearer <token>`",
                    ));
                }
                let Some(token) = bearer(&parts.headers) else {
                    return Err(refuse(
                        state,
                        ip,
                        "not_bearer",
                        "the Authorization header must be `Bearer <token>`",
                    )
                    .await);
                };
                let st = state.steward.clone();
                tokio::task::spawn_blocking(move || st.authenticate_token(&token))
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))??
            }
        };
        // A valid token is served whatever its address did (issue 14 item
        // 6): the address lockout refuses guesses, not credentials.
        let a = match res {
            Ok(a) => a,
            Err(f) => {
                return Err(refuse(
                    state,
                    ip,
                    f.as_str(),
                    "the bearer token is not valid: it is unknown, expired or revoked, or its principal is suspended",
                )
                .await);
            }
        };
        if let Err(secs) = state.limits.take(&a.principal.name) {
            state.metrics.rate_limited.fetch_add(1, Relaxed);
            return Err(ApiError::TooManyRequests(
                "this principal is over its request rate (N5.1)".into(),
                secs,
            ));
        }
        // N5.1: a scoped token reaches only its scopes' endpoints: the
        // scope the matched route declared (`needs_scope`).
        if let Some(needed) = required_scope(parts)
            && !steward_core::scope_allows(&a.scopes, needed)
        {
            return Err(ApiError::Forbidden(format!(
                "this token's scopes ({}) do not include `{needed}`, which this endpoint needs: use a token with scope `{needed}` or without scopes",
                a.scopes.join(", ")
            )));
        }
        crate::log::note_principal(&a.principal.name);
        Ok(Caller(a))
    }
}

/// The token scope (one of [`steward_core::TOKEN_SCOPES`]) the routes of a
/// feature need, set on the request by the layer [`needs_scope`] returns;
/// `None`: any token (the public documents and the metrics).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequiredScope(pub Option<&'static str>);

/// The layer a feature router applies with `route_layer` to declare the
/// token scope its routes need (N5.1); `None` for routes any token reaches.
pub(crate) fn needs_scope(scope: Option<&'static str>) -> axum::Extension<RequiredScope> {
    axum::Extension(RequiredScope(scope))
}

/// The scope the matched route declared. A route that declared none needs
/// `manage`: a route added without a scope fails closed.
fn required_scope(parts: &Parts) -> Option<&'static str> {
    parts
        .extensions
        .get::<RequiredScope>()
        .map_or(Some("manage"), |s| s.0)
}

/// The client address of a request that is not authenticated by a token
/// (the login), after refusing a locked-out address with 429 (N5.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotLockedOut(pub Option<IpAddr>);

impl FromRequestParts<AppState> for NotLockedOut {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = peer_ip(parts);
        check_lockout(state, ip).await?;
        Ok(NotLockedOut(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Limits, LimitsClock};
    use std::time::Duration;

    #[test]
    fn a_route_without_a_declared_scope_needs_manage_n5_1() {
        let mut parts = axum::http::Request::new(()).into_parts().0;
        assert_eq!(required_scope(&parts), Some("manage"));
        parts.extensions.insert(RequiredScope(Some("ingest")));
        assert_eq!(required_scope(&parts), Some("ingest"));
        parts.extensions.insert(RequiredScope(None));
        assert_eq!(required_scope(&parts), None);
        let ingest_only = vec!["ingest".to_string()];
        assert!(steward_core::scope_allows(&ingest_only, "ingest"));
        assert!(!steward_core::scope_allows(&ingest_only, "read"));
        assert!(steward_core::scope_allows(&[], "manage"));
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refuses_n5_1() {
        let clock = LimitsClock::manual();
        let l = Limits::new(3, Duration::from_secs(60), 5, clock.clone());
        let ok = (0..10).filter(|_| l.take("p").is_ok()).count();
        assert_eq!(ok, 10);
        assert_eq!(l.take("p"), Err(1));
        assert!(l.take("q").is_ok());
        // 200 ms at 5 per second refill exactly one token.
        clock.advance(Duration::from_millis(200));
        assert_eq!(l.take("p"), Ok(()));
        assert_eq!(l.take("p"), Err(1));
    }
}
