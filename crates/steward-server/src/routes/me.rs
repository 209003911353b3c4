//! Self-service (N7): a user's login, who they are, their own records and
//! export, and their requests to edit or delete their information.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, NotLockedOut, needs_scope};
use steward_core::Guarded;
use crate::call::{blocking, gated};
use crate::extract::{ApiJson, Params, created, params, parse_category};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{IssuedOut, PrincipalOut, RecordsOut, UserOut, records_out};
use crate::zip_stream::export_zip;

/// The token scope these routes need (N5.1); the login takes no token.
const SCOPE: &str = "self";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/token", post(login))
        .route("/v1/me", get(me))
        .route("/v1/me/records", get(me_records))
        .route("/v1/me/export", get(me_export))
        .route("/v1/me/account", axum::routing::patch(me_edit).delete(me_delete))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(login, me, me_records, me_export, me_edit, me_delete))]
pub(crate) struct Doc;

/// A user's login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// The user's name (`u-…`).
    pub user: String,
    /// The password.
    pub password: String,
}

/// Exchange a user's password for a 12-hour API token (N7.2). Failed
/// attempts count towards the address's lockout and the account's (N5.1):
/// an account that failed too often is locked for a while whatever the
/// address, and its administrator is told (an audited `login_lockout`).
/// Every refusal says the same whether or not the user exists.
#[utoipa::path(post, path = "/v1/auth/token", tag = "self-service", security(()), request_body = LoginIn,
    responses((status = 201, description = "Issued", body = IssuedOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong user or password, or suspended", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Locked out after failed attempts (address or account)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn login(
    State(state): State<AppState>,
    NotLockedOut(ip): NotLockedOut,
    ApiJson(l): ApiJson<LoginIn>,
) -> Result<Response, ApiError> {
    let (account, now) = (Guarded::Account(l.user.clone()), state.limits.now_ms());
    let left = blocking(&state, move |st| st.lockout_left(&account, now)).await?;
    if let Some(secs) = left {
        state.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ApiError::TooManyRequests(
            "too many failed logins to this account: try again later (N5.1)".into(),
            secs,
        ));
    }
    // The core checks the password (argon2id, the same work for every
    // failure) and issues the token.
    let user = l.user.clone();
    let issued = blocking(&state, move |st| st.login(&l.user, &l.password, 12 * 3600)).await?;
    let Some(t) = issued else {
        crate::authn::failed(&state, ip, "bad_password").await;
        // The core counts it for the account (on every node) and, when
        // this starts the account's lockout, tells its administrator
        // (audited); nothing about it goes back to the client.
        crate::authn::count_failure(&state, Guarded::Account(user)).await;
        return Err(ApiError::Unauthenticated(
            "wrong user or password, or the user is suspended",
        ));
    };
    Ok(created(&IssuedOut {
        token: t.token,
        info: t.info.into(),
    }))
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    /// The principal.
    pub principal: PrincipalOut,
    /// The user account, for a data subject with one.
    pub user: Option<UserOut>,
}

/// The caller's principal and, for a user, their account (N7.3).
#[utoipa::path(get, path = "/v1/me", tag = "self-service",
    responses((status = 200, description = "You", body = MeOut),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me(
    State(state): State<AppState>,
    c: Caller,
) -> Result<axum::Json<MeOut>, ApiError> {
    let name = c.name().to_owned();
    let user = blocking(&state, move |st| st.user(&name)).await?;
    Ok(axum::Json(MeOut {
        principal: PrincipalOut::from(&c.0.principal),
        user: user.map(UserOut::from),
    }))
}

/// A user's own records (N7.2, N7.3): account, billing contact, payments
/// and transactions, product and communication settings, by category.
#[utoipa::path(get, path = "/v1/me/records", tag = "self-service",
    params(("category" = Option<String>, Query, description = "One category (N2)")),
    responses((status = 200, description = "Your records", body = RecordsOut),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a user, or denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me_records(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
) -> Result<axum::Json<RecordsOut>, ApiError> {
    let q = params(q, &["category"])?;
    let category = parse_category(q.get("category"))?;
    let name = c.name().to_owned();
    let out = gated(&state, move |st| {
        let (o, r) = st.self_records(&name, category)?;
        Ok(records_out(&o, r))
    })
    .await?;
    Ok(axum::Json(out))
}

/// A user's export of their own data as a ZIP (N7.1, N7.2): refused with
/// the reason when their organisation does not allow it (audited).
#[utoipa::path(get, path = "/v1/me/export", tag = "self-service",
    responses((status = 200, description = "The ZIP", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a user, organisation disallows, or denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me_export(
    State(state): State<AppState>,
    c: Caller,
) -> Result<Response, ApiError> {
    let name = c.name().to_owned();
    export_zip(&state, move |st, out| {
        st.self_user(&name)?;
        st.self_export(&name, out)
    })
    .await
}

/// An accepted change request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The audit entry recording the allowed decision.
    pub audit_index: u64,
    /// What happens next.
    pub status: String,
}

/// A user's request to edit their account information or privacy settings
/// (N7.2): refused with 403 naming the restriction when an administrator
/// restricted it (N6.5e); otherwise decided by the gate (`rectify`),
/// audited, and accepted for the rectification workflow.
#[utoipa::path(patch, path = "/v1/me/account", tag = "self-service",
    request_body(content = Object, content_type = "application/json", description = "The account fields to change"),
    responses((status = 202, description = "Accepted", body = Accepted),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Restricted (N6.5e) or denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me_edit(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(_fields): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response, ApiError> {
    let name = c.name().to_owned();
    let idx = gated(&state, move |st| st.self_service_change(&name, false)).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            audit_index: idx,
            status: "accepted for rectification".into(),
        }),
    )
        .into_response())
}

/// A user's request to delete their information (N7.2): refused with 403
/// naming the restriction when an administrator restricted it (N6.5e);
/// otherwise decided by the gate (`erase`) and audited.
#[utoipa::path(delete, path = "/v1/me/account", tag = "self-service",
    responses((status = 202, description = "Accepted", body = Accepted),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Restricted (N6.5e) or denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn me_delete(
    State(state): State<AppState>,
    c: Caller,
) -> Result<Response, ApiError> {
    let name = c.name().to_owned();
    let idx = gated(&state, move |st| st.self_service_change(&name, true)).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            audit_index: idx,
            status: "accepted for erasure".into(),
        }),
    )
        .into_response())
}
