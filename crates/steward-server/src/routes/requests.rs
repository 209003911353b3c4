//! `/v1/requests`: data subject requests over the API (N7.2; the lifecycle
//! is steward-core's `dsr` module). A data subject opens requests about
//! their own data and sees their own; privacy-team staff open them on a
//! subject's behalf, list them (`?overdue=true`), approve (execute, exactly
//! once), reject and extend. Bodies name subjects by opaque id only.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use steward_core::Channel;
use steward_core::dsr::{NewRequestDetails, Request, RequestFilter, parse_record_id};
use steward_domain::{Fields, Purpose, RequestState, RequestType};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking as run;
use crate::extract::{ApiJson, Params, params};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "requests";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/requests", post(request_open).get(request_list))
        .route("/v1/requests/{id}", get(request_get))
        .route("/v1/requests/{id}/approve", post(request_approve))
        .route("/v1/requests/{id}/result", get(request_result))
        .route("/v1/requests/{id}/reject", post(request_reject))
        .route("/v1/requests/{id}/extend", post(request_extend))
        .route("/v1/requests/{id}/verification", post(request_send_code))
        .route("/v1/requests/{id}/verify", post(request_verify))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    request_open,
    request_list,
    request_get,
    request_approve,
    request_result,
    request_reject,
    request_extend,
    request_send_code,
    request_verify
))]
pub(crate) struct Doc;

/// A data subject request as stored (`dsr_requests`): id, type, state,
/// subject (`sub_…`, or null when the sender matched nobody), deadline
/// (`due_on`), extension, pinned policy version, verification, result,
/// reason and history. Never an identifier in clear.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct RequestOut(serde_json::Value);

impl From<&Request> for RequestOut {
    fn from(r: &Request) -> Self {
        RequestOut(serde_json::to_value(r).unwrap_or_default())
    }
}

/// A list of requests, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestList {
    /// The requests.
    pub requests: Vec<RequestOut>,
}

/// A request to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIn {
    /// access, export, rectification, erasure, restriction or objection.
    #[serde(rename = "type")]
    pub type_: String,
    /// The subject (`username:ann`, an email, `sub_…`): required for staff;
    /// a data subject omits it (their own data).
    pub subject: Option<String>,
    /// Objection: the purpose objected to (N3).
    pub purpose: Option<String>,
    /// Rectification: the record to correct (`rec_…`).
    pub record: Option<String>,
    /// Rectification: the corrected fields (kept sealed).
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A reason (reject, extend).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    /// Why, without names, addresses or other identifiers (1 to 500 characters).
    pub reason: String,
}

/// A one-time verification code, as the data subject received it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeIn {
    /// The code from the message sent to the registered contact (8 digits).
    pub code: String,
}

fn ok(status: StatusCode, r: &Request) -> Response {
    (status, axum::Json(RequestOut::from(r))).into_response()
}

/// Open a data subject request (N7.2): a data subject for their own data
/// (verified at once: an authenticated subject), or privacy staff or an
/// administrator of the subject's organisation on their behalf (`subject`
/// required). Audited.
#[utoipa::path(post, path = "/v1/requests", tag = "requests", request_body = RequestIn,
    responses((status = 201, description = "Opened", body = RequestOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to open it", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_open(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(i): ApiJson<RequestIn>,
) -> Result<Response, ApiError> {
    let t: RequestType = i
        .type_
        .parse()
        .map_err(|e: steward_domain::DomainError| ApiError::BadRequest(format!("type: {e}")))?;
    let purpose = i
        .purpose
        .map(|p| {
            p.parse::<Purpose>()
                .map_err(|e: steward_domain::DomainError| {
                    ApiError::BadRequest(format!("purpose: {e}"))
                })
        })
        .transpose()?;
    let record = i
        .record
        .map(|r| parse_record_id(&r))
        .transpose()
        .map_err(ApiError::from)?;
    let corrections: Option<Fields> = i.fields.map(|m| m.into_iter().collect());
    // The caller's own subject, if the caller is one (the core decides
    // whether they may open a request for the subject named).
    let own = c.0.principal.subject.map(|s| s.to_string());
    let subject = match (own, i.subject) {
        (Some(own), None) => own,
        // A data subject naming a subject: the core refuses (audited, 403)
        // unless it is their own.
        (Some(_), Some(s)) if !s.trim().is_empty() => s,
        (Some(own), Some(_)) => own,
        (None, Some(s)) if !s.trim().is_empty() => s,
        (None, _) => {
            return Err(ApiError::BadRequest(
                "subject: name the data subject (an identifier or sub_ id)".into(),
            ));
        }
    };
    let by = c.name().to_owned();
    let r = run(&state, move |st| {
        st.open_request(
            &by,
            Some(&subject),
            t,
            Channel::Api,
            NewRequestDetails {
                purpose,
                record,
                corrections,
            },
        )
    })
    .await?;
    Ok(ok(StatusCode::CREATED, &r))
}

/// List requests, oldest first: privacy staff see all, a data subject their
/// own. `overdue=true`: past the deadline and not completed or rejected.
#[utoipa::path(get, path = "/v1/requests", tag = "requests",
    params(("overdue" = Option<bool>, Query, description = "Only overdue requests"),
        ("state" = Option<String>, Query, description = "Only this state: received, verified, in_progress, completed, rejected, failed")),
    responses((status = 200, description = "Requests", body = RequestList),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither privacy staff nor a data subject", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_list(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["overdue", "state"])?;
    let overdue = match q.get("overdue").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "overdue: expected true or false".into(),
            ));
        }
    };
    let state_f = q
        .get("state")
        .map(|s| {
            s.parse::<RequestState>()
                .map_err(|e: steward_domain::DomainError| {
                    ApiError::BadRequest(format!("state: {e}"))
                })
        })
        .transpose()?;
    // The core decides: a data subject sees their own; anyone else the
    // register when the pack lets them handle requests (audited).
    let by = c.name().to_owned();
    let list = run(&state, move |st| {
        st.requests_as(
            &by,
            RequestFilter {
                overdue,
                state: state_f,
            },
        )
    })
    .await?;
    let requests = list.iter().map(RequestOut::from).collect();
    Ok(axum::Json(RequestList { requests }).into_response())
}

/// Load a request the caller may see (its subject, or privacy staff);
/// otherwise 404, so ids of others' requests are not confirmed. Anyone else is decided as request handling (`dsr_handle`, audited); a
/// refusal is answered 404 all the same, as is a missing id.
async fn visible(state: &AppState, c: &Caller, id: String) -> Result<Request, ApiError> {
    let by = c.name().to_owned();
    match run(state, move |st| st.request_as(&by, &id)).await {
        Err(ApiError::Denied(_) | ApiError::BadRequest(_)) => Err(not_yours()),
        // Otherwise the request, or (the decision could not be recorded,
        // fail closed) 503.
        r => r,
    }
}

fn not_yours() -> ApiError {
    ApiError::NotFound("no such data subject request for you".into())
}

/// One request: privacy staff, or the data subject it is about.
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "requests",
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "The request", body = RequestOut),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request for you", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_get(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = visible(&state, &c, id).await?;
    Ok(ok(StatusCode::OK, &r))
}

/// Approve and execute a verified (or failed) request, exactly once:
/// privacy staff. 409 when it is executing, final, or was approved at the
/// same moment by someone else.
#[utoipa::path(post, path = "/v1/requests/{id}/approve", tag = "requests",
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "Completed, with its result", body = RequestOut),
        (status = 400, description = "Not verified, or another policy version", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff, or denied (an administrator's restriction, N6.5e; audited)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Executing, final, or changed concurrently", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_approve(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // The core decides who may (`dsr_handle`, audited) before anything else.
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.approve(&id, &by)).await?;
    Ok(ok(StatusCode::OK, &r))
}

/// The result of a completed access or export request: the ZIP, read from
/// the store (sealed under the subject's data key there), so any node
/// serves it (issue 21 item 5). Privacy staff; the core decides and audits
/// (`dsr_handle`) before it opens anything.
#[utoipa::path(get, path = "/v1/requests/{id}/result", tag = "requests",
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "The ZIP", content_type = "application/zip", body = Vec<u8>),
        (status = 400, description = "Not a completed access or export request, or its result went with the subject's erasure (N8.8)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_result(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let zip = run(&state, move |st| st.request_result(&id, &by)).await?;
    let mut r = (StatusCode::OK, zip).into_response();
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/zip"),
    );
    h.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"steward-request-result.zip\""),
    );
    Ok(r)
}

/// Reject a request with a reason: privacy staff.
#[utoipa::path(post, path = "/v1/requests/{id}/reject", tag = "requests", request_body = ReasonIn,
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "Rejected", body = RequestOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Executing or final", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_reject(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<ReasonIn>,
) -> Result<Response, ApiError> {
    // The core decides who may (`dsr_handle`, audited) before anything else.
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.reject(&id, &by, &i.reason)).await?;
    Ok(ok(StatusCode::OK, &r))
}

/// Extend a GDPR request's deadline once by two months, with a reason:
/// privacy staff (400 for an APPI request or a second extension).
#[utoipa::path(post, path = "/v1/requests/{id}/extend", tag = "requests", request_body = ReasonIn,
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "Extended", body = RequestOut),
        (status = 400, description = "No extension possible", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Final", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_extend(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<ReasonIn>,
) -> Result<Response, ApiError> {
    // The core decides who may (`dsr_handle`, audited) before anything else.
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.extend(&id, &by, &i.reason)).await?;
    Ok(ok(StatusCode::OK, &r))
}

/// Send a one-time code for an unverified request (email intake, N7.4) to
/// the subject's registered contact through the configured sender (the
/// default writes it to `<data-dir>/outbox`); the code is stored only as a
/// keyed hash, with an expiry and an attempt limit. Privacy staff. Sending
/// again replaces the code and keeps the attempts used.
#[utoipa::path(post, path = "/v1/requests/{id}/verification", tag = "requests",
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "Code sent; the request waits for it", body = RequestOut),
        (status = 400, description = "Not waiting for a code (verified, unknown sender, locked, final) or no email contact", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_send_code(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // The core decides (dsr_handle, audited), then 404 for a missing id.
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.send_verification_as(&by, &id)).await?;
    Ok(ok(StatusCode::OK, &r))
}

/// Enter the one-time code the data subject received (for example, quoted
/// in their reply): a match within its lifetime verifies the request; a
/// wrong code uses one attempt (audited) and the last allowed one locks
/// verification. Privacy staff.
#[utoipa::path(post, path = "/v1/requests/{id}/verify", tag = "requests", request_body = CodeIn,
    params(("id" = String, Path, description = "Request id (dsr_…)")),
    responses((status = 200, description = "Verified", body = RequestOut),
        (status = 400, description = "No code sent, expired, wrong (attempts left named) or locked", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not privacy staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn request_verify(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let i: CodeIn = ApiJson::read(&state, &headers, body).await?;
    // The core decides (dsr_handle, audited), then 404 for a missing id.
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.verify_as(&by, &id, &i.code)).await?;
    Ok(ok(StatusCode::OK, &r))
}
