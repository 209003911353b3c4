//! The justifications a person's access to one subject cites (issue 17
//! item 1, N3.8, N5.5): support cases, including billing interactions
//! (N3.5), and need-to-know grants (N5.5). Each is decided by the core
//! (support and billing staff open cases; security staff grant), audited,
//! and cited on a read as `case=` or `grant=`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, created, parse_category, parse_purpose};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cases", post(case_open))
        .route("/v1/cases/{id}/close", post(case_close))
        .route("/v1/need-to-know-grants", post(grant_add))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(case_open, case_close, grant_add))]
pub(crate) struct Doc;

/// A support case to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseIn {
    /// The subject's identifier (`username:ann`, `sub_…`).
    pub subject: String,
    /// technical, account (default) or billing (a billing interaction, N3.8).
    #[serde(default)]
    pub kind: Option<String>,
}

/// An opened support case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseOut {
    /// Id to cite as `case=`.
    pub id: String,
    /// The subject (opaque id).
    pub subject: String,
    /// technical, account or billing.
    pub kind: String,
    /// open or closed.
    pub status: String,
}

/// Open a support case about a subject (N3.5, N3.8): support staff open
/// any kind, billing staff billing cases (decided by the core, audited).
/// Reads for `assist` (support) or `provide_services` (billing) cite it as
/// `case=`.
#[utoipa::path(post, path = "/v1/cases", tag = "principals", request_body = CaseIn,
    responses((status = 201, description = "Opened", body = CaseOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn case_open(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(body): ApiJson<CaseIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let kind = match body.kind.as_deref() {
        None => steward_domain::CaseKind::Account,
        Some(k) => k
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("kind: {e}")))?,
    };
    let case = blocking(&state, move |st| {
        st.open_case_of_kind(&by, &body.subject, kind)
    })
    .await?;
    Ok(created(&CaseOut {
        id: case.id.to_string(),
        subject: case.subject,
        kind: case.kind.as_str().to_owned(),
        status: case.status.as_str().to_owned(),
    }))
}

/// Close a support case (N3.5): reads citing it are denied from then on.
#[utoipa::path(post, path = "/v1/cases/{id}/close", tag = "principals",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 204, description = "Closed"),
        (status = 400, description = "Unknown case", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn case_close(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let by = c.name().to_owned();
    blocking(&state, move |st| st.close_case(&by, &id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A need-to-know grant to make (N5.5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantIn {
    /// The staff principal who may read.
    pub grantee: String,
    /// The subject's identifier (`username:ann`, `sub_…`).
    pub subject: String,
    /// The purpose (N3).
    pub purpose: String,
    /// The categories (N2) it reaches, at least one.
    pub categories: Vec<String>,
    /// The last valid day, `YYYY-MM-DD` (at most 90 days ahead).
    pub expires_on: String,
    /// An external reference (ticket, change request), 1 to 200 characters.
    pub reference: String,
}

/// A need-to-know grant made.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantOut {
    /// Id to cite as `grant=`.
    pub id: String,
    /// The grantee.
    pub grantee: String,
    /// The subject (opaque id).
    pub subject: String,
    /// The last valid day.
    pub expires_on: String,
}

/// Grant a staff member need-to-know access to one subject's data of named
/// categories for one purpose, until a day (N5.5, N3.8): decided by the
/// core (`manage_principals` for protect: security staff), audited. Reads
/// cite it as `grant=`.
#[utoipa::path(post, path = "/v1/need-to-know-grants", tag = "principals", request_body = GrantIn,
    responses((status = 201, description = "Granted", body = GrantOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn grant_add(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(g): ApiJson<GrantIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let purpose = parse_purpose(Some(&g.purpose))?
        .ok_or_else(|| ApiError::BadRequest("purpose: required (N3)".into()))?;
    let mut categories = Vec::with_capacity(g.categories.len());
    for c in &g.categories {
        if let Some(c) = parse_category(Some(c))? {
            categories.push(c);
        }
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let expires_on = time::Date::parse(&g.expires_on, &fmt).map_err(|_| {
        ApiError::BadRequest("expires_on: a date YYYY-MM-DD, e.g. 2024-06-30".into())
    })?;
    let req = steward_core::GrantRequest {
        grantee: g.grantee,
        subject: g.subject,
        purpose,
        categories,
        expires_on,
        reference: g.reference,
    };
    let grant = blocking(&state, move |st| st.grant_need_to_know(&by, &req)).await?;
    Ok(created(&GrantOut {
        id: grant.id,
        grantee: grant.grantee,
        subject: grant.subject,
        expires_on: grant.expires_on.to_string(),
    }))
}
