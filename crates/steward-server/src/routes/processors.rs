//! Processors on instruction (N6.6, issue 17 item 4): assigning an open
//! support case to a support-ticket processor, and recording and ending a
//! professional-services engagement. Each is decided by the core (support
//! staff assign cases; legal and privacy staff record engagements),
//! audited; the routes only translate.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, created, parse_category};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cases/{id}/assign", post(case_assign))
        .route("/v1/engagements", post(engagement_record))
        .route("/v1/engagements/{id}/end", post(engagement_end))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(case_assign, engagement_record, engagement_end))]
pub(crate) struct Doc;

/// The processor to assign a case to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// The processor principal, acting as a subprocessor registered for
    /// `support_ticket`.
    pub processor: String,
}

/// A case as assigned.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedOut {
    /// Case id.
    pub id: String,
    /// The processor it is assigned to.
    pub assignee: String,
}

/// Assign an open support case to a registered support-ticket processor
/// (N6.6, N3.5): it may then read the case's ticket content
/// (`kind=communications.support`) for `assist`, citing `case=`. Decided
/// by the core (`manage_cases` for assist: support staff), audited.
#[utoipa::path(post, path = "/v1/cases/{id}/assign", tag = "principals", request_body = AssignIn,
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "Assigned", body = AssignedOut),
        (status = 400, description = "Unknown or closed case, or not a registered support-ticket processor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn case_assign(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignIn>,
) -> Result<axum::Json<AssignedOut>, ApiError> {
    let by = c.name().to_owned();
    let case = blocking(&state, move |st| st.assign_case(&by, &id, &body.processor)).await?;
    Ok(axum::Json(AssignedOut {
        id: case.id.to_string(),
        assignee: case.assignee.unwrap_or_default(),
    }))
}

/// A professional-services engagement to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementIn {
    /// The processor principal, acting as a subprocessor registered for
    /// `professional_services`.
    pub processor: String,
    /// The organisation whose users it covers.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Subjects it covers, as identifiers (`username:ann`, `sub_…`).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Categories (N2), each registered for the subprocessor.
    pub categories: Vec<String>,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub ends_on: String,
    /// Statement of work or contract reference, 1 to 200 characters.
    pub reference: String,
}

/// A recorded engagement.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementOut {
    /// Id (`eng_…`).
    pub id: String,
    /// The processor.
    pub processor: String,
    /// The organisation covered, if any.
    pub organisation: Option<String>,
    /// The subjects covered (opaque ids).
    pub subjects: Vec<String>,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: String,
    /// The day it was ended early, if it was.
    pub ended_on: Option<String>,
}

impl From<steward_core::Engagement> for EngagementOut {
    fn from(e: steward_core::Engagement) -> Self {
        EngagementOut {
            id: e.id,
            processor: e.processor,
            organisation: e.organisation,
            subjects: e.subjects,
            starts_on: e.starts_on.to_string(),
            ends_on: e.ends_on.to_string(),
            ended_on: e.ended_on.map(|d| d.to_string()),
        }
    }
}

fn day(field: &str, v: &str) -> Result<time::Date, ApiError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, &fmt)
        .map_err(|_| ApiError::BadRequest(format!("{field}: a date YYYY-MM-DD, e.g. 2024-06-30")))
}

/// Record a professional-services engagement (N6.6): the processor may
/// read the contact details (`kind=account.profile`) of the subjects it
/// covers for `provide_services` while it is current. Decided by the core
/// (`manage_transfers` for protect: legal and privacy staff), audited.
#[utoipa::path(post, path = "/v1/engagements", tag = "principals", request_body = EngagementIn,
    responses((status = 201, description = "Recorded", body = EngagementOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn engagement_record(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(e): ApiJson<EngagementIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let mut categories = Vec::with_capacity(e.categories.len());
    for c in &e.categories {
        if let Some(c) = parse_category(Some(c))? {
            categories.push(c);
        }
    }
    let new = steward_core::NewEngagement {
        processor: e.processor,
        organisation: e.organisation,
        subjects: e.subjects,
        categories,
        starts_on: day("starts_on", &e.starts_on)?,
        ends_on: day("ends_on", &e.ends_on)?,
        reference: e.reference,
    };
    let rec = blocking(&state, move |st| st.record_engagement(&by, &new)).await?;
    Ok(created(&EngagementOut::from(rec)))
}

/// End a professional-services engagement today (N6.6): it covers nothing
/// from then on. Decided like recording one, audited.
#[utoipa::path(post, path = "/v1/engagements/{id}/end", tag = "principals",
    params(("id" = String, Path, description = "Engagement id")),
    responses((status = 200, description = "Ended", body = EngagementOut),
        (status = 400, description = "Unknown or already ended", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn engagement_end(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<EngagementOut>, ApiError> {
    let by = c.name().to_owned();
    let e = blocking(&state, move |st| st.end_engagement(&by, &id)).await?;
    Ok(axum::Json(EngagementOut::from(e)))
}
