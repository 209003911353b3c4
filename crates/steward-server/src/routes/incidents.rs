//! `/v1/incidents` and `/v1/oncall` (N8.5, N5.1): report an incident (any
//! staff member; the text is sealed), and, for the incident team, list,
//! read, assess, give roles, add tasks, the due list, the timeline (JSON or
//! HTML), who is on call and the schedule as iCalendar. The core decides
//! and audits every call.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use steward_core::{AssessmentInput, Incident, NewReport, TaskInput};
use steward_domain::{IncidentKind, IncidentRole, ReportChannel};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking as run;
use crate::extract::{ApiJson, Params, params};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/incidents", post(incident_report).get(incident_list))
        .route("/v1/incidents/due", get(incident_due))
        .route("/v1/incidents/{id}", get(incident_get))
        .route("/v1/incidents/{id}/timeline", get(incident_timeline))
        .route("/v1/incidents/{id}/assessment", post(incident_assess))
        .route("/v1/incidents/{id}/roles", post(incident_role))
        .route("/v1/incidents/{id}/subjects", post(incident_subject))
        .route("/v1/incidents/{id}/tasks", post(incident_task))
        .route("/v1/oncall/{name}/now", get(oncall_now))
        .route("/v1/oncall/{name}/ical", get(oncall_ical))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    incident_report,
    incident_list,
    incident_due,
    incident_get,
    incident_timeline,
    incident_assess,
    incident_role,
    incident_subject,
    incident_task,
    oncall_now,
    oncall_ical
))]
pub(crate) struct Doc;

/// An incident as stored: kind, state, channel, reporter, times, the
/// sealed report's record and subject by opaque id, assessment, deadlines,
/// roles, tasks, pages and events. Never the report's text.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct IncidentOut(serde_json::Value);

fn out(status: StatusCode, i: &Incident) -> Response {
    (
        status,
        axum::Json(IncidentOut(serde_json::to_value(i).unwrap_or_default())),
    )
        .into_response()
}

/// A report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// unauthorised_access, disclosure, loss, alteration, anomaly or other.
    pub kind: String,
    /// What happened (kept sealed as communications Service Data).
    pub text: String,
    /// When the provider became aware (RFC 3339); default now.
    pub aware_at: Option<String>,
}

/// A role to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleIn {
    /// commander, assessor, legal, product or communications.
    pub role: String,
    /// The principal.
    pub member: String,
}

/// A data subject an incident concerns.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectIn {
    /// An identifier (`username:ann`) or a `sub_` id; the incident keeps
    /// the opaque id only.
    pub subject: String,
}

/// Any JSON body passed to the core as is (assessment, task).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct BodyIn(serde_json::Value);

fn body<T: serde::de::DeserializeOwned>(b: BodyIn) -> Result<T, ApiError> {
    serde_json::from_value(b.0).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

/// Report a suspected incident (N8.5): any staff member; the text is sealed.
#[utoipa::path(post, path = "/v1/incidents", tag = "incidents", request_body = ReportIn,
    responses((status = 201, description = "Reported", body = IncidentOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_report(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(r): ApiJson<ReportIn>,
) -> Result<Response, ApiError> {
    let kind: IncidentKind = r
        .kind
        .parse()
        .map_err(|e: steward_domain::DomainError| ApiError::BadRequest(format!("kind: {e}")))?;
    let by = c.name().to_owned();
    let report = NewReport {
        kind,
        channel: ReportChannel::Api,
        text: r.text,
        aware_at: r.aware_at,
    };
    let i = run(&state, move |st| st.report_incident(&by, &report)).await?;
    Ok(out(StatusCode::CREATED, &i))
}

/// Every incident (the incident team).
#[utoipa::path(get, path = "/v1/incidents", tag = "incidents",
    responses((status = 200, description = "Incidents", body = [IncidentOut]),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_list(
    State(state): State<AppState>,
    c: Caller,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let list = run(&state, move |st| st.incidents(&by)).await?;
    Ok(axum::Json(serde_json::to_value(list).unwrap_or_default()).into_response())
}

/// What is due, soonest first (`at`: judge overdue at this instant).
#[utoipa::path(get, path = "/v1/incidents/due", tag = "incidents",
    params(("at" = Option<String>, Query, description = "RFC 3339 instant; default now")),
    responses((status = 200, description = "Due items", body = Object),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_due(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["at"])?;
    let at = q.get("at").cloned();
    let by = c.name().to_owned();
    let due = run(&state, move |st| st.incidents_due(&by, at.as_deref())).await?;
    Ok(axum::Json(serde_json::to_value(due).unwrap_or_default()).into_response())
}

/// One incident.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "inc_…")),
    responses((status = 200, description = "The incident", body = IncidentOut),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_get(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let i = run(&state, move |st| st.incident(&by, &id)).await?;
    Ok(out(StatusCode::OK, &i))
}

/// The timeline: JSON, or a readable HTML page with `format=html`.
#[utoipa::path(get, path = "/v1/incidents/{id}/timeline", tag = "incidents",
    params(("id" = String, Path, description = "inc_…"),
        ("format" = Option<String>, Query, description = "json (default) or html")),
    responses((status = 200, description = "The timeline", body = IncidentOut),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_timeline(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["format"])?;
    let html = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::BadRequest("format: json or html".into())),
    };
    let by = c.name().to_owned();
    let text = run(&state, move |st| {
        if html {
            st.incident_timeline_html(&by, &id)
        } else {
            st.incident_timeline_json(&by, &id)
        }
    })
    .await?;
    let ct = if html {
        "text/html; charset=utf-8"
    } else {
        "application/json"
    };
    Ok(([(header::CONTENT_TYPE, ct)], text).into_response())
}

/// Assess (the incident team): severity, priority, appi_kinds,
/// strongly_encrypted, gdpr, data_items, subjects, audit_principal,
/// audit_since, audit_until, people.
#[utoipa::path(post, path = "/v1/incidents/{id}/assessment", tag = "incidents",
    params(("id" = String, Path, description = "inc_…")), request_body = BodyIn,
    responses((status = 200, description = "Assessed", body = IncidentOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_assess(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BodyIn>,
) -> Result<Response, ApiError> {
    let a: AssessmentInput = body(b)?;
    let by = c.name().to_owned();
    let i = run(&state, move |st| st.assess_incident(&by, &id, &a)).await?;
    Ok(out(StatusCode::OK, &i))
}

/// Give a role (a handoff when someone held it), recorded with its time.
#[utoipa::path(post, path = "/v1/incidents/{id}/roles", tag = "incidents",
    params(("id" = String, Path, description = "inc_…")), request_body = RoleIn,
    responses((status = 200, description = "Recorded", body = IncidentOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_role(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RoleIn>,
) -> Result<Response, ApiError> {
    let role: IncidentRole = r
        .role
        .parse()
        .map_err(|e: steward_domain::DomainError| ApiError::BadRequest(format!("role: {e}")))?;
    let by = c.name().to_owned();
    let i = run(&state, move |st| st.assign_role(&by, &id, role, &r.member)).await?;
    Ok(out(StatusCode::OK, &i))
}

/// Name a data subject the incident concerns (N8.5): while it is open, a
/// security or incident-response read of that subject for `protect` may
/// cite it (`?incident=`; N3.8).
#[utoipa::path(post, path = "/v1/incidents/{id}/subjects", tag = "incidents",
    params(("id" = String, Path, description = "inc_…")), request_body = SubjectIn,
    responses((status = 200, description = "Recorded", body = IncidentOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The incident is closed", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_subject(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SubjectIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let i = run(&state, move |st| st.add_incident_subject(&by, &id, &b.subject)).await?;
    Ok(out(StatusCode::OK, &i))
}

/// Add a task: title, owner, due_at (RFC 3339).
#[utoipa::path(post, path = "/v1/incidents/{id}/tasks", tag = "incidents",
    params(("id" = String, Path, description = "inc_…")), request_body = BodyIn,
    responses((status = 200, description = "Added", body = IncidentOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn incident_task(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BodyIn>,
) -> Result<Response, ApiError> {
    let t: TaskInput = body(b)?;
    let by = c.name().to_owned();
    let i = run(&state, move |st| st.add_task(&by, &id, &t)).await?;
    Ok(out(StatusCode::OK, &i))
}

/// Who is on call at `at` (default now) under schedule `name`.
#[utoipa::path(get, path = "/v1/oncall/{name}/now", tag = "incidents",
    params(("name" = String, Path, description = "schedule"),
        ("at" = Option<String>, Query, description = "RFC 3339 instant; default now")),
    responses((status = 200, description = "The member, or null", body = Object),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn oncall_now(
    State(state): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["at"])?;
    let at = q.get("at").cloned();
    let by = c.name().to_owned();
    let m = run(&state, move |st| st.on_call(&by, &name, at.as_deref())).await?;
    Ok(axum::Json(serde_json::json!({ "on_call": m })).into_response())
}

/// The schedule's shifts as iCalendar (RFC 5545): `from` (YYYY-MM-DD), `days`.
#[utoipa::path(get, path = "/v1/oncall/{name}/ical", tag = "incidents",
    params(("name" = String, Path, description = "schedule"),
        ("from" = String, Query, description = "first local date"),
        ("days" = Option<u32>, Query, description = "how many days (default 30, at most 366)")),
    responses((status = 200, description = "text/calendar", body = String),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn oncall_ical(
    State(state): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["from", "days"])?;
    let from = q
        .get("from")
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("from: give the first local date".into()))?;
    let days: u32 = match q.get("days") {
        None => 30,
        Some(d) => d
            .parse()
            .ok()
            .filter(|n| (1..=366).contains(n))
            .ok_or_else(|| ApiError::BadRequest("days: 1 to 366".into()))?,
    };
    let by = c.name().to_owned();
    let text = run(&state, move |st| {
        let s = st.schedule(&by, &name)?;
        steward_core::oncall::ical(&s, &from, days)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], text).into_response())
}
