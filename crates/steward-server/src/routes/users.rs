//! Administrator and reseller powers over an organisation's users
//! (N6.5a-e): view records, change the password, suspend, read for a legal
//! obligation, restrict edits and deletions. Each decided by the gate
//! against the user's organisation and audited; an unknown user is decided
//! too, so a refusal does not tell whether the user exists (issue 14 item 8).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::gated;
use crate::extract::{ApiJson, Params, params, parse_category};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{RecordsOut, records_out};

/// The token scope these routes need (N5.1).
const SCOPE: &str = "admin";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users/{user}/records", get(admin_view))
        .route("/v1/users/{user}/password", put(admin_change_password))
        .route("/v1/users/{user}/suspension", put(admin_suspend))
        .route("/v1/users/{user}/legal-access", get(admin_legal_access))
        .route("/v1/users/{user}/restrictions", put(admin_restrict))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    admin_view,
    admin_change_password,
    admin_suspend,
    admin_legal_access,
    admin_restrict
))]
pub(crate) struct Doc;

/// N6.5a: an administrator or authorised reseller views a user's account,
/// billing, usage or configuration records (purpose provide_services).
/// Decided by the gate against the user's organisation; audited.
#[utoipa::path(get, path = "/v1/users/{user}/records", tag = "administrators",
    params(("user" = String, Path, description = "User name"),
        ("category" = String, Query, description = "account, billing, usage or configuration")),
    responses((status = 200, description = "Allowed", body = RecordsOut),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (told only to a principal the gate allows; any other is denied the same whether or not the user exists)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_view(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    q: Params,
) -> Result<axum::Json<RecordsOut>, ApiError> {
    let q = params(q, &["category"])?;
    let category = parse_category(q.get("category"))?.ok_or_else(|| {
        ApiError::BadRequest("category: required (account, billing, usage or configuration)".into())
    })?;
    let by = c.name().to_owned();
    let out = gated(&state, move |st| {
        let (o, r) = st.admin_view(&by, &user, category)?;
        Ok(records_out(&o, r))
    })
    .await?;
    Ok(axum::Json(out))
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    /// 12 to 1024 characters; stored as an argon2id hash.
    pub password: String,
}

/// The audit entry of an allowed change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    /// The audit entry recording the gate's decision.
    pub audit_index: u64,
}

/// N6.5b: an administrator or authorised reseller changes a user's password.
#[utoipa::path(put, path = "/v1/users/{user}/password", tag = "administrators", request_body = PasswordIn,
    params(("user" = String, Path, description = "User name")),
    responses((status = 200, description = "Changed", body = Done),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (told only to a principal the gate allows; any other is denied the same whether or not the user exists)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_change_password(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    ApiJson(p): ApiJson<PasswordIn>,
) -> Result<axum::Json<Done>, ApiError> {
    let by = c.name().to_owned();
    // The core checks the length, decides (N6.5b) and stores an argon2id hash.
    let idx = gated(&state, move |st| {
        st.admin_change_password(&by, &user, &p.password)
    })
    .await?;
    Ok(axum::Json(Done { audit_index: idx }))
}

/// Suspension.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionIn {
    /// true to suspend (the user's tokens stop working at once), false to restore.
    pub suspended: bool,
}

/// N6.5c: an administrator or authorised reseller suspends (or restores) a
/// user's access: effective at once, every token of the user is refused on
/// its next request.
#[utoipa::path(put, path = "/v1/users/{user}/suspension", tag = "administrators", request_body = SuspensionIn,
    params(("user" = String, Path, description = "User name")),
    responses((status = 200, description = "Changed", body = Done),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (told only to a principal the gate allows; any other is denied the same whether or not the user exists)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_suspend(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    ApiJson(s): ApiJson<SuspensionIn>,
) -> Result<axum::Json<Done>, ApiError> {
    let by = c.name().to_owned();
    let idx = gated(&state, move |st| st.admin_suspend(&by, &user, s.suspended)).await?;
    Ok(axum::Json(Done { audit_index: idx }))
}

/// N6.5d: an administrator or authorised reseller reads a user's account
/// information for a recorded legal obligation (purpose comply).
#[utoipa::path(get, path = "/v1/users/{user}/legal-access", tag = "administrators",
    params(("user" = String, Path, description = "User name"),
        ("obligation" = Option<String>, Query, description = "Recorded legal obligation id (POST /v1/obligations)")),
    responses((status = 200, description = "Allowed", body = RecordsOut),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (told only to a principal the gate allows; any other is denied the same whether or not the user exists)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_legal_access(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    q: Params,
) -> Result<axum::Json<RecordsOut>, ApiError> {
    let q = params(q, &["obligation"])?;
    let by = c.name().to_owned();
    let ob = q.get("obligation").cloned();
    let out = gated(&state, move |st| {
        let (o, r) = st.admin_legal_access(&by, &user, ob.as_deref())?;
        Ok(records_out(&o, r))
    })
    .await?;
    Ok(axum::Json(out))
}

/// Restrictions to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionsIn {
    /// The user may not edit their information or privacy settings.
    pub edit: bool,
    /// The user may not delete their information.
    pub delete: bool,
}

/// N6.5e: an administrator or authorised reseller restricts a user's
/// ability to edit or delete their information or privacy settings; the
/// user's own attempt then fails with 403 naming the restriction.
#[utoipa::path(put, path = "/v1/users/{user}/restrictions", tag = "administrators", request_body = RestrictionsIn,
    params(("user" = String, Path, description = "User name")),
    responses((status = 200, description = "Set", body = Done),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (told only to a principal the gate allows; any other is denied the same whether or not the user exists)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_restrict(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    ApiJson(r): ApiJson<RestrictionsIn>,
) -> Result<axum::Json<Done>, ApiError> {
    let by = c.name().to_owned();
    let idx = gated(&state, move |st| {
        st.admin_restrict(
            &by,
            &user,
            steward_core::Restrictions {
                edit: r.edit,
                delete: r.delete,
            },
        )
    })
    .await?;
    Ok(axum::Json(Done { audit_index: idx }))
}
