//! The application: the feature routers (`routes`) under the middleware
//! every request passes (request id, timeout, the credential checked and
//! then the body read whole, within its budget and a slow-body timeout,
//! security headers, metrics, one access-log line, problem+json for every
//! error).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::log::PRINCIPAL;
use crate::problem::{ApiError, REQUEST_ID, new_request_id};
use crate::state::AppState;

/// Build the router: every feature's routes, the fallbacks, the middleware.
pub(crate) fn build(state: AppState, opts: &crate::options::ServeOptions) -> Router {
    let timeout = opts.request_timeout;
    crate::routes::router()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            crate::problem::problem_for_plain_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), timeout),
            around,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    crate::problem::status_only(StatusCode::NOT_FOUND, "no such endpoint: see /openapi.json")
}

async fn method_not_allowed() -> Response {
    crate::problem::status_only(
        StatusCode::METHOD_NOT_ALLOWED,
        "this endpoint does not take that method: see /openapi.json",
    )
}

/// Around every request: request id, timeout, security headers, metrics
/// and one access-log line (route template, never the raw path).
async fn around(
    State((state, timeout)): State<(AppState, Duration)>,
    req: Request,
    next: Next,
) -> Response {
    let rid = new_request_id();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let principal = Arc::new(Mutex::new(None::<String>));
    let metrics = state.metrics.clone();
    let st = state.clone();
    let mut resp = REQUEST_ID
        .scope(
            rid.clone(),
            PRINCIPAL.scope(principal.clone(), async move {
                let handle = async move {
                    let mut req = req;
                    // The credential is checked before the body is read: a
                    // request without a valid one draws on a small budget
                    // of its own, so it cannot starve authenticated clients
                    // (issue 14 item 4).
                    let authenticated = crate::authn::check_token_early(&st, &mut req).await;
                    let (limit, budget) = if authenticated {
                        (st.body_limit, st.body_budget.clone())
                    } else {
                        (st.anon_body_limit, st.anon_budget.clone())
                    };
                    if let Some(refusal) = declared_too_large(&req, limit, authenticated) {
                        return refusal;
                    }
                    // The body's share of the budget (its declared length, or
                    // the limit when undeclared), held until the answer: a
                    // request waits for it within the request timeout.
                    use axum::body::HttpBody as _;
                    let want = req
                        .body()
                        .size_hint()
                        .upper()
                        .map_or(limit, |n| usize::try_from(n).unwrap_or(usize::MAX))
                        .min(limit)
                        .div_ceil(1024);
                    let _held = match u32::try_from(want) {
                        Ok(n) if n > 0 => budget.acquire_many_owned(n).await.ok(),
                        _ => None,
                    };
                    // A slow body is cut off: it holds its share at most this long.
                    let read = read_whole_body(req, limit, authenticated);
                    match tokio::time::timeout(st.body_read_timeout, read).await {
                        Ok(Ok(req)) => next.run(req).await,
                        Ok(Err(refusal)) => refusal,
                        Err(_) => close(ApiError::SlowBody(st.body_read_timeout).into_response()),
                    }
                };
                match tokio::time::timeout(timeout, handle).await {
                    Ok(r) => r,
                    Err(_) => {
                        metrics.timeouts.fetch_add(1, Relaxed);
                        ApiError::Unavailable(format!(
                            "the request took longer than {} s",
                            timeout.as_secs()
                        ))
                        .into_response()
                    }
                }
            }),
        )
        .await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-request-id", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    state.metrics.response(resp.status().as_u16());
    let who = principal.lock().ok().and_then(|g| g.clone());
    crate::log::event(
        "info",
        "request",
        serde_json::json!({
            "request_id": rid,
            "method": method,
            "route": route,
            "status": resp.status().as_u16(),
            "ms": start.elapsed().as_secs_f64() * 1000.0,
            "principal": who,
        }),
    );
    resp
}

/// The refusal of a body too large for the request: 413, with
/// `Connection: close` since the body is left unread.
fn too_large(limit: usize, authenticated: bool) -> Response {
    close(if authenticated {
        ApiError::TooLarge(limit).into_response()
    } else {
        ApiError::TooLargeWithoutCredential(limit).into_response()
    })
}

/// `Connection: close` on a response sent before the request's body was
/// read to its end.
fn close(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// 413 when the request's `Content-Length` passes `limit`, before any of
/// the body budget is taken.
fn declared_too_large(req: &Request, limit: usize, authenticated: bool) -> Option<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    declared
        .is_some_and(|n| n > limit as u64)
        .then(|| too_large(limit, authenticated))
}

/// Read the whole request body (at most `limit` bytes) before any handler
/// runs, so that every response, early refusals included, is sent after
/// the body was consumed. A response sent while body bytes are still on the
/// way makes hyper close the HTTP/1.1 connection under a client that
/// believes it kept alive: its next request on that connection fails
/// ("EOF occurred in violation of protocol"; seen in schemathesis runs).
///
/// Errors, as responses: 413 when `Content-Length` or the bytes read pass
/// `limit`, 400 when the body cannot be read (the client stopped sending);
/// both with `Connection: close`, since the rest of the body is unread.
async fn read_whole_body(
    req: Request,
    limit: usize,
    authenticated: bool,
) -> Result<Request, Response> {
    use http_body_util::{BodyExt as _, LengthLimitError, Limited};
    if let Some(refusal) = declared_too_large(&req, limit, authenticated) {
        return Err(refusal);
    }
    let (parts, body) = req.into_parts();
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large(limit, authenticated)),
        Err(_) => Err(close(
            ApiError::BadRequest(
                "the request body could not be read to its end: send it whole, with a correct Content-Length or chunked encoding"
                    .into(),
            )
            .into_response(),
        )),
    }
}
