//! RFC 9457 problem details: every error response is
//! `application/problem+json` and none carries Service Data. Internal
//! errors are a bare 500; their detail goes to the log under the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_core::CoreError;
use utoipa::ToSchema;

tokio::task_local! {
    /// The request id of the request being served.
    pub(crate) static REQUEST_ID: String;
}

/// The current request id, if inside a request.
pub(crate) fn request_id() -> Option<String> {
    REQUEST_ID.try_with(|r| r.clone()).ok()
}

/// A fresh request id, `req-` and 16 hex digits.
pub(crate) fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    format!("req-{}", hex::encode(b))
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong for this request, and how to fix it. Never Service Data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (`urn:steward:request:req-…`), also in `x-request-id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Gate denials: the deciding policy ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_ids: Option<Vec<String>>,
    /// Gate denials: the clause ids of the notice those policies enforce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause_ids: Option<Vec<String>>,
    /// Gate denials: the audit log entry that records the denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_index: Option<u64>,
    /// Input errors: one message per rejected item (`request:3: $.fields.x: …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// An error of the HTTP API.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 401: no valid credential.
    Unauthenticated(&'static str),
    /// 403: the gate (or a check before it) denied; audited.
    Denied(Box<steward_core::Denied>),
    /// 403 for reasons that are not a gate decision.
    Forbidden(String),
    /// 400.
    BadRequest(String),
    /// 404.
    NotFound(String),
    /// 413.
    TooLarge(usize),
    /// 413 for a request without a valid credential, whose bodies are
    /// limited further (issue 14 item 4).
    TooLargeWithoutCredential(usize),
    /// 408: the body did not arrive within the slow-body timeout.
    SlowBody(std::time::Duration),
    /// 415.
    UnsupportedMediaType(String),
    /// 422 with per-item errors.
    Unprocessable(String, Vec<String>),
    /// 429 with Retry-After (seconds).
    TooManyRequests(String, u64),
    /// 503 with Retry-After: the audit log cannot be written (fail closed), or a timeout.
    Unavailable(String),
    /// 409: the resource's state does not allow it, or it changed concurrently.
    Conflict(String),
    /// 500: the detail is logged, never sent.
    Internal(String),
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Denied(d) => ApiError::Denied(d),
            CoreError::Input(m) => ApiError::BadRequest(m),
            CoreError::AuditUnavailable(m) => unavailable(
                "audit log unavailable",
                &m,
                "the audit log cannot be written, so nothing was read or changed (fail closed); retry shortly",
            ),
            CoreError::Conflict(m) => ApiError::Conflict(m),
            CoreError::NotFound(m) => ApiError::NotFound(m),
            // Issue 21 item 6: the store is unreachable or read-only for now
            // (a PostgreSQL failover or restart): 503 with Retry-After, not
            // 500. The reason names the database host, so it is logged only.
            e if e.is_store_unavailable() => unavailable(
                "store unavailable",
                &e.to_string(),
                "the store cannot be reached or written just now; retry after the Retry-After delay",
            ),
            // Issue 21: a concurrent writer won (another node on the same
            // store); nothing was written and the same call can be retried.
            e if e.is_transient() => {
                ApiError::Unavailable(format!("{e}; retry after the Retry-After delay"))
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// A 503 whose reason stays in the log (redacted: it may name a host or
/// quote a value) while the client gets the fixed `public` text.
fn unavailable(what: &str, reason: &str, public: &str) -> ApiError {
    crate::log::event(
        "error",
        what,
        serde_json::json!({"request_id": request_id(), "detail": crate::log::redact_quoted(reason)}),
    );
    ApiError::Unavailable(public.into())
}

fn problem(status: StatusCode, title: &str, detail: Option<String>) -> Problem {
    Problem {
        type_: "about:blank".into(),
        title: title.into(),
        status: status.as_u16(),
        detail,
        instance: request_id().map(|r| format!("urn:steward:request:{r}")),
        policy_ids: None,
        clause_ids: None,
        audit_index: None,
        errors: None,
    }
}

/// A problem response.
pub(crate) fn respond(status: StatusCode, p: Problem) -> Response {
    let mut r = (status, serde_json::to_vec(&p).unwrap_or_default()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// A bare problem for a status (404 and 405 fallbacks).
pub(crate) fn status_only(status: StatusCode, detail: &str) -> Response {
    respond(
        status,
        problem(
            status,
            status.canonical_reason().unwrap_or("Error"),
            Some(detail.into()),
        ),
    )
}

/// Middleware: an error response that is not `application/problem+json`
/// (axum's own rejections, e.g. a path parameter that is not
/// percent-encoded UTF-8, answer `text/plain`) is replaced by a problem
/// document with the same status. Its text is dropped, not copied: it may
/// quote the input. Found by schemathesis (`content_type_conformance`,
/// docs/reliability.md).
pub(crate) async fn problem_for_plain_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let detail = match status {
        StatusCode::BAD_REQUEST => {
            "the request's path or parameters are not valid: path parameters are percent-encoded UTF-8; see /openapi.json"
        }
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large: send smaller batches",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "unsupported media type: see /openapi.json for the body's media type"
        }
        _ if status.is_server_error() => {
            crate::log::event(
                "error",
                "internal error",
                serde_json::json!({"request_id": request_id(), "detail": format!("a {status} response that is not problem+json")}),
            );
            return respond(
                status,
                problem(status, status.canonical_reason().unwrap_or("Error"), None),
            );
        }
        _ => "see /openapi.json",
    };
    let mut out = status_only(status, detail);
    // Keep headers such as Retry-After or WWW-Authenticate.
    for (k, v) in resp.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated(why) => {
                let mut r = respond(
                    StatusCode::UNAUTHORIZED,
                    problem(StatusCode::UNAUTHORIZED, "Unauthorized", Some(why.into())),
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"steward\""),
                );
                r
            }
            ApiError::Denied(d) => {
                let mut p = problem(
                    StatusCode::FORBIDDEN,
                    "Denied by policy",
                    Some(d.reason.clone()),
                );
                p.type_ = "https://steward.klustr.io/problems/denied".into();
                p.policy_ids = Some(d.policy_ids.clone());
                p.clause_ids = Some(d.clause_ids.clone());
                p.audit_index = d.audit_index;
                respond(StatusCode::FORBIDDEN, p)
            }
            ApiError::Forbidden(m) => respond(
                StatusCode::FORBIDDEN,
                problem(StatusCode::FORBIDDEN, "Forbidden", Some(m)),
            ),
            ApiError::BadRequest(m) => respond(
                StatusCode::BAD_REQUEST,
                problem(StatusCode::BAD_REQUEST, "Bad request", Some(m)),
            ),
            ApiError::NotFound(m) => respond(
                StatusCode::NOT_FOUND,
                problem(StatusCode::NOT_FOUND, "Not found", Some(m)),
            ),
            ApiError::TooLarge(limit) => respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body too large",
                    Some(format!(
                        "the request body is larger than {limit} bytes: send smaller batches"
                    )),
                ),
            ),
            ApiError::TooLargeWithoutCredential(limit) => respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request body too large",
                    Some(format!(
                        "a request without a valid credential may carry at most {limit} bytes: send `Authorization: Bearer <token>` with a valid token"
                    )),
                ),
            ),
            ApiError::SlowBody(after) => respond(
                StatusCode::REQUEST_TIMEOUT,
                problem(
                    StatusCode::REQUEST_TIMEOUT,
                    "Request timeout",
                    Some(format!(
                        "the request body did not arrive within {} s of its headers: send the body at once",
                        after.as_secs().max(1)
                    )),
                ),
            ),
            ApiError::UnsupportedMediaType(m) => respond(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                problem(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported media type",
                    Some(m),
                ),
            ),
            ApiError::Unprocessable(m, errors) => {
                let mut p = problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Not Service Data of the closed schema",
                    Some(m),
                );
                p.errors = Some(errors);
                respond(StatusCode::UNPROCESSABLE_ENTITY, p)
            }
            ApiError::TooManyRequests(m, secs) => {
                let mut r = respond(
                    StatusCode::TOO_MANY_REQUESTS,
                    problem(StatusCode::TOO_MANY_REQUESTS, "Too many requests", Some(m)),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                r
            }
            ApiError::Unavailable(m) => {
                let mut r = respond(
                    StatusCode::SERVICE_UNAVAILABLE,
                    problem(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Service unavailable",
                        Some(m),
                    ),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
                r
            }
            ApiError::Conflict(m) => respond(
                StatusCode::CONFLICT,
                problem(StatusCode::CONFLICT, "Conflict", Some(m)),
            ),
            ApiError::Internal(detail) => {
                crate::log::event(
                    "error",
                    "internal error",
                    serde_json::json!({"request_id": request_id(), "detail": crate::log::redact_quoted(&detail)}),
                );
                respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error",
                        None,
                    ),
                )
            }
        }
    }
}
