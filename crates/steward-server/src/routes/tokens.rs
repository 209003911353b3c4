//! API tokens (N5.1, N5.5): issue, list and revoke. Only a token's SHA-256
//! is stored; the token is shown once, at issue.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, post};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, Params, created, params};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{IssuedOut, TokenOut};

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tokens", post(token_issue).get(token_list))
        .route("/v1/tokens/{id}", delete(token_revoke))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(token_issue, token_list, token_revoke))]
pub(crate) struct Doc;

/// Issue a token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The principal the token authenticates.
    pub principal: String,
    /// Lifetime in seconds (1 to 31,622,400); default 30 days.
    #[serde(default)]
    pub ttl_secs: Option<u64>,
    /// Scope labels.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Issue an API token for a principal (N5.5): needs `manage_principals`.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, description = "Issued", body = IssuedOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn token_issue(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    // Decided by the core (token_issue: manage_principals, protect), audited.
    let by = c.name().to_owned();
    let t = blocking(&state, move |st| {
        st.issue_token(
            &by,
            &req.principal,
            req.ttl_secs.unwrap_or(30 * 24 * 3600),
            req.scopes,
        )
    })
    .await?;
    Ok(created(&IssuedOut {
        token: t.token,
        info: t.info.into(),
    }))
}

/// List tokens: your own, or (with `manage_principals`) any principal's.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    params(("principal" = Option<String>, Query, description = "Whose tokens; default your own")),
    responses((status = 200, description = "Tokens", body = Vec<TokenOut>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn token_list(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
) -> Result<axum::Json<Vec<TokenOut>>, ApiError> {
    let q = params(q, &["principal"])?;
    let who = q
        .get("principal")
        .cloned()
        .unwrap_or_else(|| c.name().to_owned());
    // Another principal's tokens are decided by the core (token_list), audited.
    let by = c.name().to_owned();
    let list = blocking(&state, move |st| st.tokens(&by, Some(&who))).await?;
    Ok(axum::Json(list.into_iter().map(TokenOut::from).collect()))
}

/// Revoke a token: effective on the next request. Your own, or any with
/// `manage_principals`.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn token_revoke(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Another principal's token is decided by the core (token_revoke), audited.
    let by = c.name().to_owned();
    if !blocking(&state, move |st| st.revoke_token(&by, &id)).await? {
        return Err(ApiError::NotFound("no token with that id".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}
