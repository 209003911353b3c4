//! Principals (N5.5): staff, services, processors and third-party apps are
//! added and revoked here; administrators, resellers and users come through
//! the tenancy routes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, post};
use serde::{Deserialize, Serialize};
use steward_domain::{Principal, PrincipalKind, Team};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, created, date};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::PrincipalOut;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/principals", post(principal_add))
        .route(
            "/v1/principals/{name}",
            delete(principal_revoke).patch(principal_change),
        )
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(principal_add, principal_revoke, principal_change))]
pub(crate) struct Doc;

/// A principal to add (staff, services, processors, third-party apps;
/// administrators, resellers and users come through the tenancy endpoints).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalIn {
    /// Name (1 to 64 of `A-Z a-z 0-9 . _ -`).
    pub name: String,
    /// employee, contractor, agent, affiliate_staff, service, processor or third_party_app.
    pub kind: String,
    /// Staff teams.
    #[serde(default)]
    pub teams: Vec<String>,
    /// YYYY-MM-DD the confidentiality obligation was signed (staff, N5.5).
    #[serde(default)]
    pub confidentiality_signed_on: Option<String>,
    /// YYYY-MM-DD the privacy training expires (staff, N8.6).
    #[serde(default)]
    pub training_expires_on: Option<String>,
    /// YYYY-MM-DD the engagement ends (contractors, agents).
    #[serde(default)]
    pub engagement_ends_on: Option<String>,
}

/// Add a principal (N5.5): needs `manage_principals`. A name that exists
/// is refused (400), whatever its kind: change it with `PATCH`.
#[utoipa::path(post, path = "/v1/principals", tag = "principals", request_body = PrincipalIn,
    responses((status = 201, description = "Added", body = PrincipalOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn principal_add(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(p): ApiJson<PrincipalIn>,
) -> Result<Response, ApiError> {
    let principal = principal_from(&p)?;
    // Decided by the core (principal_add: manage_principals, protect); a
    // name that exists is refused whatever its kind (issue 14).
    let by = c.name().to_owned();
    let out = PrincipalOut::from(&principal);
    blocking(&state, move |st| st.add_principal(&by, &principal)).await?;
    Ok(created(&out))
}

/// The principal a request body describes (kind, teams and dates parsed).
fn principal_from(p: &PrincipalIn) -> Result<Principal, ApiError> {
    let kind: PrincipalKind = p
        .kind
        .parse()
        .map_err(|_| ApiError::BadRequest("kind: not a principal kind".into()))?;
    let teams = p
        .teams
        .iter()
        .map(|t| t.parse::<Team>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::BadRequest("teams: not a team".into()))?;
    Ok(Principal {
        name: p.name.clone(),
        kind,
        teams,
        confidentiality_signed_on: date("confidentiality_signed_on", &p.confidentiality_signed_on)?,
        training_expires_on: date("training_expires_on", &p.training_expires_on)?,
        engagement_ends_on: date("engagement_ends_on", &p.engagement_ends_on)?,
        subject: None,
        organisations: vec![],
        revoked: false,
    })
}

/// The result of a change of a principal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedOut {
    /// The principal as changed.
    pub principal: PrincipalOut,
    /// Tokens revoked because its kind or teams changed.
    pub tokens_revoked: u64,
}

/// Change a principal's kind, teams and dates (N5.5): its own audited
/// operation (manage_principals, protect). When the kind or the teams
/// change, every token of the principal is revoked at once. The body's
/// `name` must be the path's.
#[utoipa::path(patch, path = "/v1/principals/{name}", tag = "principals", request_body = PrincipalIn,
    params(("name" = String, Path, description = "Principal name")),
    responses((status = 200, description = "Changed", body = ChangedOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn principal_change(
    State(state): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    ApiJson(p): ApiJson<PrincipalIn>,
) -> Result<axum::Json<ChangedOut>, ApiError> {
    if p.name != name {
        return Err(ApiError::BadRequest(
            "name: the body's name must be the path's principal".into(),
        ));
    }
    let principal = principal_from(&p)?;
    let by = c.name().to_owned();
    let out = PrincipalOut::from(&principal);
    let n = blocking(&state, move |st| st.change_principal(&by, &principal)).await?;
    Ok(axum::Json(ChangedOut {
        principal: out,
        tokens_revoked: n,
    }))
}

/// Revoke a principal (N5.5): every request from the next one on is refused.
#[utoipa::path(delete, path = "/v1/principals/{name}", tag = "principals",
    params(("name" = String, Path, description = "Principal name")),
    responses((status = 204, description = "Revoked"),
        (status = 400, description = "Unknown principal", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn principal_revoke(
    State(state): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Decided by policy inside `revoke_principal` (manage_principals, protect).
    let by = c.name().to_owned();
    blocking(&state, move |st| st.revoke_principal(&by, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}
