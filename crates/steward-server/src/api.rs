//! Routes, handlers, the middleware around every request, and the accept loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use steward_core::{AccessRequest, Action, CoreError, OpenedRecord, Steward};
use steward_domain::{Category, Principal, PrincipalKind, Product, Purpose, Team};
use steward_ingest::body::{BodyShape, parse_body};
use tower::ServiceExt as _;
use utoipa::ToSchema;

use crate::authn::{Caller, Limits};
use crate::metrics::Metrics;
use crate::problem::{ApiError, Problem, REQUEST_ID};

/// Shared state of the handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub steward: Arc<Steward>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<Limits>,
    pub body_limit: usize,
    /// Request bodies held in memory at once, in KiB, across all requests
    /// (bodies are read whole before authentication: this bounds what
    /// unauthenticated clients can make the server hold).
    pub body_budget: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(steward: Arc<Steward>, opts: &crate::ServeOptions) -> Self {
        AppState {
            steward,
            metrics: Arc::new(Metrics::default()),
            limits: Arc::new(Limits::from_options(opts)),
            body_limit: opts.body_limit,
            body_budget: Arc::new(tokio::sync::Semaphore::new(body_budget_kib(
                opts.body_limit,
            ))),
        }
    }
}

/// The budget for request bodies held at once, in KiB: 64 MiB, or four
/// bodies of the largest size allowed when that is more.
fn body_budget_kib(body_limit: usize) -> usize {
    (64 * 1024)
        .max(body_limit.div_ceil(1024).saturating_mul(4))
        .min(u32::MAX as usize)
}

tokio::task_local! {
    static PRINCIPAL: Arc<Mutex<Option<String>>>;
}

/// Remember the authenticated principal for the access log.
pub(crate) fn note_principal(name: &str) {
    let _ = PRINCIPAL.try_with(|p| {
        if let Ok(mut g) = p.lock() {
            *g = Some(name.to_owned());
        }
    });
}

/// Build the router.
pub(crate) fn router(state: AppState, opts: &crate::ServeOptions) -> Router {
    let timeout = opts.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/.well-known/gpc.json", get(gpc))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(crate::docs_page::docs))
        .route("/metrics", get(metrics))
        .route("/v1/records", post(ingest_one))
        .route("/v1/records:batch", post(ingest_batch))
        .route("/v1/cloudevents", post(ingest_cloudevents))
        .route("/v1/subjects/{identifier}/records", get(read_records))
        .route("/v1/subjects/{identifier}/export", get(export_subject))
        .route("/v1/tokens", post(token_issue).get(token_list))
        .route("/v1/tokens/{id}", axum::routing::delete(token_revoke))
        .route("/v1/principals", post(principal_add))
        .route(
            "/v1/principals/{name}",
            axum::routing::delete(principal_revoke),
        )
        .route("/v1/obligations", post(obligation_record))
        .route("/v1/partners", post(partner_create))
        .route("/v1/partners/{id}/resellers", post(reseller_add))
        .route("/v1/organisations", post(organisation_create))
        .route(
            "/v1/organisations/{id}",
            get(organisation_get).patch(organisation_update),
        )
        .route("/v1/organisations/{id}/admins", post(org_admin_add))
        .route(
            "/v1/organisations/{id}/users",
            post(user_create).get(user_list),
        )
        .route("/v1/users/{user}/records", get(admin_view))
        .route("/v1/users/{user}/password", put(admin_change_password))
        .route("/v1/users/{user}/suspension", put(admin_suspend))
        .route("/v1/users/{user}/legal-access", get(admin_legal_access))
        .route("/v1/users/{user}/restrictions", put(admin_restrict))
        .route("/v1/auth/token", post(login))
        .route("/v1/me", get(me))
        .route("/v1/me/records", get(me_records))
        .route("/v1/me/export", get(me_export))
        .route(
            "/v1/me/account",
            axum::routing::patch(me_edit).delete(me_delete),
        )
        .merge(crate::requests_api::routes())
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

fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    format!("req-{}", hex::encode(b))
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
    let body_limit = state.body_limit;
    let body_budget = state.body_budget.clone();
    let mut resp = REQUEST_ID
        .scope(
            rid.clone(),
            PRINCIPAL.scope(principal.clone(), async move {
                let handle = async move {
                    // The body's share of the budget (its declared length, or
                    // the limit when undeclared), held until the answer: a
                    // request waits for it within the request timeout.
                    use axum::body::HttpBody as _;
                    let want = req
                        .body()
                        .size_hint()
                        .upper()
                        .map_or(body_limit, |n| usize::try_from(n).unwrap_or(usize::MAX))
                        .min(body_limit)
                        .div_ceil(1024);
                    let _held = match u32::try_from(want) {
                        Ok(n) if n > 0 => body_budget.acquire_many_owned(n).await.ok(),
                        _ => None,
                    };
                    match read_whole_body(req, body_limit).await {
                        Ok(req) => next.run(req).await,
                        Err(refusal) => refusal,
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
async fn read_whole_body(req: Request, limit: usize) -> Result<Request, Response> {
    use http_body_util::{BodyExt as _, LengthLimitError, Limited};
    let close = |mut r: Response| {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(close(ApiError::TooLarge(limit).into_response()));
    }
    let (parts, body) = req.into_parts();
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(e) if e.is::<LengthLimitError>() => {
            Err(close(ApiError::TooLarge(limit).into_response()))
        }
        Err(_) => Err(close(
            ApiError::BadRequest(
                "the request body could not be read to its end: send it whole, with a correct Content-Length or chunked encoding"
                    .into(),
            )
            .into_response(),
        )),
    }
}

/// Accept connections until `shutdown`: TLS (when `acceptor`) with ALPN,
/// then HTTP/1.1 or HTTP/2 on each.
pub(crate) async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    crate::log::event("warn", "accept failed", serde_json::json!({"error": e.to_string()}));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    app.clone().oneshot(req)
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(128);
            match acceptor {
                Some(a) => {
                    match tokio::time::timeout(Duration::from_secs(10), a.accept(tcp)).await {
                        Ok(Ok(s)) => {
                            let r = builder.serve_connection(TokioIo::new(s), svc).await;
                            log_connection_end(r);
                        }
                        Ok(Err(e)) => crate::log::event(
                            "debug",
                            "TLS handshake failed",
                            serde_json::json!({ "error": e.to_string() }),
                        ),
                        Err(_) => crate::log::event(
                            "debug",
                            "TLS handshake timed out",
                            serde_json::json!({ "after_s": 10 }),
                        ),
                    }
                }
                None => {
                    let r = builder.serve_connection(TokioIo::new(tcp), svc).await;
                    log_connection_end(r);
                }
            }
        });
    }
}

/// Log a connection that ended with an error (the error's text from hyper,
/// which names the protocol fault, never request content).
fn log_connection_end(r: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(e) = r {
        let mut chain = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        crate::log::event(
            "debug",
            "connection ended with an error",
            serde_json::json!({ "error": crate::log::redact_quoted(&chain) }),
        );
    }
}

// ---------------------------------------------------------------- helpers

/// Run `f` on the blocking pool with Steward.
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Steward) -> Result<T, CoreError> + Send + 'static,
{
    let st = state.steward.clone();
    tokio::task::spawn_blocking(move || f(&st))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task: {e}")))?
        .map_err(ApiError::from)
}

/// [`blocking`] for a call that asks the gate: counts the decision.
async fn gated<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Steward) -> Result<T, CoreError> + Send + 'static,
{
    let r = blocking(state, f).await;
    match &r {
        Ok(_) => state.metrics.gate_allow.fetch_add(1, Relaxed),
        Err(ApiError::Denied(_)) => state.metrics.gate_deny.fetch_add(1, Relaxed),
        Err(_) => 0,
    };
    r
}

/// Read the whole body, refusing more than the limit (413).
pub(crate) async fn body_bytes(state: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, state.body_limit)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| ApiError::TooLarge(state.body_limit))
}

/// The media type of a request, lower case, without parameters.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Query parameters, refusing any not in `allowed` (400 naming it).
type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

fn params(q: Params, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let Query(map) = q.map_err(|_| {
        ApiError::BadRequest(
            "the query string is not valid application/x-www-form-urlencoded".into(),
        )
    })?;
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = k.chars().take(40).collect();
        return Err(ApiError::BadRequest(format!(
            "unknown query parameter `{shown}`: this endpoint takes {}",
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        )));
    }
    Ok(map)
}

fn parse_purpose(v: Option<&String>) -> Result<Option<Purpose>, ApiError> {
    v.map(|p| {
        p.parse::<Purpose>().map_err(|_| {
            ApiError::BadRequest(format!(
                "purpose: not a purpose of the notice; expected one of {} (N3)",
                Purpose::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    })
    .transpose()
}

fn parse_category(v: Option<&String>) -> Result<Option<Category>, ApiError> {
    v.map(|c| {
        c.parse::<Category>().map_err(|_| {
            ApiError::BadRequest(
                "category: expected one of account, billing, configuration, usage, communications (N2)".into(),
            )
        })
    })
    .transpose()
}

/// A JSON request body: 415 unless `Content-Type: application/json`, 400
/// naming the error's category and position (never the input) when it does
/// not decode to `T`.
pub(crate) fn json_body<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<T, ApiError> {
    let mt = media_type(headers);
    if mt != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as Content-Type: application/json".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message may quote input; give its position and category only.
        ApiError::BadRequest(format!(
            "the body is not the expected JSON ({:?} error at line {} column {}): see /openapi.json for the shape",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

fn created<T: Serialize>(v: &T) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

fn forbid_data_subject(c: &Caller) -> Result<(), ApiError> {
    if c.0.principal.kind == PrincipalKind::DataSubject {
        return Err(ApiError::Forbidden(
            "data subjects use the /v1/me endpoints for their own data (N7)".into(),
        ));
    }
    Ok(())
}

/// Decide `manage_principals` for `protect` (audited): principals, tokens, tenancy.
async fn manage(state: &AppState, c: &Caller, what: &str) -> Result<(), ApiError> {
    let p = c.0.principal.clone();
    let what = what.to_owned();
    gated(state, move |st| {
        st.authorize_system(&p, Action::ManagePrincipals, Purpose::Protect, &what)
    })
    .await
}

// ------------------------------------------------------------- public

/// Health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Liveness: no authentication, no Service Data.
#[utoipa::path(get, path = "/healthz", tag = "public", security(()),
    responses((status = 200, description = "Serving", body = Health)))]
pub(crate) async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// Global Privacy Control support resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct Gpc {
    /// Steward honours GPC signals.
    pub gpc: bool,
    /// The date of the notice in force.
    #[serde(rename = "lastUpdate")]
    pub last_update: String,
}

/// The GPC support resource (`/.well-known/gpc.json`): no authentication.
#[utoipa::path(get, path = "/.well-known/gpc.json", tag = "public", security(()),
    responses((status = 200, description = "GPC support", body = Gpc)))]
pub(crate) async fn gpc() -> axum::Json<Gpc> {
    axum::Json(Gpc {
        gpc: true,
        last_update: "2024-01-18".into(),
    })
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "public",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn openapi_json(_c: Caller) -> Response {
    let mut r = crate::openapi::document_json().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Prometheus metrics (text exposition format 0.0.4). Not for data subjects.
#[utoipa::path(get, path = "/metrics", tag = "public",
    responses((status = 200, description = "Counters", content_type = "text/plain", body = String),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Data subjects may not", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    c: Caller,
) -> Result<Response, ApiError> {
    forbid_data_subject(&c)?;
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

// ------------------------------------------------------------- ingest

/// What an ingest stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestResult {
    /// Records stored.
    pub stored: u64,
    /// Records stored per category.
    pub by_category: std::collections::BTreeMap<String, u64>,
    /// New data subjects created.
    pub new_subjects: u64,
}

async fn ingest_parsed(
    state: &AppState,
    c: &Caller,
    q: &HashMap<String, String>,
    parsed: steward_ingest::Parsed,
) -> Result<Response, ApiError> {
    let mut errors: Vec<String> = parsed.rejected.iter().map(|r| r.error.clone()).collect();
    errors.extend(
        parsed
            .skipped
            .iter()
            .filter(|s| s.reason != steward_ingest::SkipReason::BlankLine)
            .map(|s| format!("item {}: {}", s.line, s.reason.description())),
    );
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable(
            format!(
                "{} of the request's items do not fit the closed schema (N1.3); nothing was stored",
                errors.len()
            ),
            errors,
        ));
    }
    if parsed.records.is_empty() {
        return Err(ApiError::BadRequest("the request holds no record".into()));
    }
    let records: Vec<_> = parsed.records.into_iter().map(|(_, r)| r).collect();
    let name = c.name().to_owned();
    let region = q.get("region").cloned();
    let summary = gated(state, move |st| {
        st.ingest_in(&name, region.as_deref(), records, &mut |_| {})
    })
    .await?;
    state
        .metrics
        .records_ingested
        .fetch_add(summary.stored, Relaxed);
    Ok(created(&IngestResult {
        stored: summary.stored,
        by_category: summary.by_category,
        new_subjects: summary.new_subjects,
    }))
}

fn parse_opts(q: &HashMap<String, String>) -> Result<steward_ingest::ParseOptions, ApiError> {
    let product = match q.get("product") {
        Some(p) => p.parse::<Product>().map_err(|_| {
            ApiError::BadRequest(format!(
                "product: expected one of {} (N1.1)",
                Product::ALL
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => Product::CloudPlatform,
    };
    Ok(steward_ingest::ParseOptions {
        year: time::OffsetDateTime::now_utc().year(),
        product,
    })
}

/// Turn JSON objects into JSON Lines for the `jsonl` adapter.
impl From<steward_ingest::body::BodyError> for ApiError {
    fn from(e: steward_ingest::body::BodyError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

/// Store one record (the JSON Lines shape of `steward ingest --format
/// jsonl`: subject, category, kind, occurred_at, product, fields), as the
/// calling service (policy: `service-ingest`, N3.1). Unknown keys, kinds or
/// fields are refused naming the JSON path (N1.3); nothing is stored then.
#[utoipa::path(post, path = "/v1/records", tag = "ingest",
    params(("product" = Option<String>, Query, description = "Product the record comes from (N1.1) when it names none; default cloud_platform"),
           ("region" = Option<String>, Query, description = "Home region of a new subject (N4.1)")),
    request_body(content = Object, content_type = "application/json", description = "One record: {\"subject\": \"username:ann\", \"kind\": \"account.profile\", \"fields\": {…}}"),
    responses((status = 201, description = "Stored", body = IngestResult),
        (status = 400, description = "Not JSON, or no record", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not of the closed schema (N1.3)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn ingest_one(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = params(q, &["product", "region"])?;
    let opts = parse_opts(&q)?;
    if media_type(&headers) != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "send one record as Content-Type: application/json".into(),
        ));
    }
    let bytes = body_bytes(&state, body).await?;
    let parsed = parse_body(BodyShape::Record, "record", &bytes, &opts)?;
    ingest_parsed(&state, &c, &q, parsed).await
}

/// Store a batch of records in one transaction: a JSON array
/// (`application/json`) or JSON Lines (`application/x-ndjson`). If any
/// item does not fit the closed schema, nothing is stored and every
/// misfit is named (`records:N: $.path: reason`, N the 1-based item).
#[utoipa::path(post, path = "/v1/records:batch", tag = "ingest",
    params(("product" = Option<String>, Query, description = "Default product (N1.1)"),
           ("region" = Option<String>, Query, description = "Home region of new subjects (N4.1)")),
    request_body(content = Vec<Object>, content_type = "application/json", description = "An array of records"),
    responses((status = 201, description = "Stored", body = IngestResult),
        (status = 400, description = "Not JSON, or no record", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported media type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not of the closed schema (N1.3)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn ingest_batch(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = params(q, &["product", "region"])?;
    let opts = parse_opts(&q)?;
    let mt = media_type(&headers);
    let shape = match mt.as_str() {
        "application/json" => BodyShape::RecordArray,
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => {
            BodyShape::JsonLines
        }
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send a JSON array (application/json) or JSON Lines (application/x-ndjson)".into(),
            ));
        }
    };
    let bytes = body_bytes(&state, body).await?;
    let parsed = parse_body(shape, "records", &bytes, &opts)?;
    ingest_parsed(&state, &c, &q, parsed).await
}

/// Store CloudEvents 1.0 whose `type` names a Steward kind: structured mode
/// (`application/cloudevents+json`, one event) or batch mode
/// (`application/cloudevents-batch+json`, an array). All or nothing (N1.3).
#[utoipa::path(post, path = "/v1/cloudevents", tag = "ingest",
    params(("product" = Option<String>, Query, description = "Product the events come from (N1.1)"),
           ("region" = Option<String>, Query, description = "Home region of new subjects (N4.1)")),
    request_body(content = Object, content_type = "application/cloudevents+json", description = "One CloudEvent, or an array with application/cloudevents-batch+json"),
    responses((status = 201, description = "Stored", body = IngestResult),
        (status = 400, description = "Not JSON, or no event", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported media type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not of the closed schema (N1.3)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn ingest_cloudevents(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = params(q, &["product", "region"])?;
    let opts = parse_opts(&q)?;
    let mt = media_type(&headers);
    let shape = match mt.as_str() {
        "application/cloudevents+json" => BodyShape::CloudEvent,
        "application/cloudevents-batch+json" => BodyShape::CloudEventBatch,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send application/cloudevents+json (structured mode) or application/cloudevents-batch+json (batch mode)".into(),
            ));
        }
    };
    let bytes = body_bytes(&state, body).await?;
    let parsed = parse_body(shape, "events", &bytes, &opts)?;
    ingest_parsed(&state, &c, &q, parsed).await
}

// --------------------------------------------------------------- read

/// A record opened by the gate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordOut {
    /// Record id.
    pub record_id: String,
    /// Category (N2).
    pub category: String,
    /// Kind.
    pub kind: String,
    /// Product (N1.1).
    pub product: String,
    /// Storage region (N4.1).
    pub region: String,
    /// When it happened (RFC 3339), if known.
    pub occurred_at: Option<String>,
    /// The fields of the kind's closed schema.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
}

/// Records read through the gate, and the decision that allowed it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordsOut {
    /// The opaque subject id, when the identifier names a subject.
    pub subject: Option<String>,
    /// The audit entry that records the allowed access.
    pub audit_index: u64,
    /// The gate's request id.
    pub gate_request_id: String,
    /// The deciding policy ids.
    pub policy_ids: Vec<String>,
    /// Their clause ids.
    pub clause_ids: Vec<String>,
    /// The records.
    pub records: Vec<RecordOut>,
}

fn records_out(opened: &steward_core::Opened, records: Vec<OpenedRecord>) -> RecordsOut {
    RecordsOut {
        subject: opened.subject.map(|s| s.to_string()),
        audit_index: opened.audit_index,
        gate_request_id: opened.request_id.clone(),
        policy_ids: opened.decision.policy_ids.clone(),
        clause_ids: opened.decision.clause_ids.clone(),
        records: records
            .into_iter()
            .map(|r| RecordOut {
                record_id: r.id.to_string(),
                category: r.category,
                kind: r.kind,
                product: r.product,
                region: r.region,
                occurred_at: r.body["occurred_at"].as_str().map(str::to_owned),
                fields: r.body["fields"].clone(),
            })
            .collect(),
    }
}

/// Read a subject's records, for a purpose (N3), through the gate: policy
/// decides on (principal, category, purpose, case, obligation, the
/// subject's organisation), the decision is audited, then records open.
/// The identifier is `kind:value` (`ip:10.0.0.1`, `username:ann`), a bare
/// IP or e-mail address, or an opaque `sub_` id; it is resolved through the
/// blind index and never logged.
#[utoipa::path(get, path = "/v1/subjects/{identifier}/records", tag = "read",
    params(("identifier" = String, Path, description = "Subject identifier"),
        ("purpose" = Option<String>, Query, description = "Purpose (N3); without one the read is denied"),
        ("category" = Option<String>, Query, description = "One category (N2)"),
        ("case" = Option<String>, Query, description = "Open support case id (N3.5)"),
        ("obligation" = Option<String>, Query, description = "Recorded legal obligation id (N3.7)")),
    responses((status = 200, description = "Allowed", body = RecordsOut),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy, with reason, policy and clause ids (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn read_records(
    State(state): State<AppState>,
    c: Caller,
    Path(identifier): Path<String>,
    q: Params,
) -> Result<axum::Json<RecordsOut>, ApiError> {
    let q = params(q, &["purpose", "category", "case", "obligation"])?;
    let purpose = parse_purpose(q.get("purpose"))?;
    let category = parse_category(q.get("category"))?;
    let name = c.name().to_owned();
    let (case, obligation) = (q.get("case").cloned(), q.get("obligation").cloned());
    let out = gated(&state, move |st| {
        let organisation = st.organisation_of_identifier(&identifier)?;
        let (opened, records) = st.read(&AccessRequest {
            category,
            purpose,
            case_id: case,
            obligation_id: obligation,
            organisation,
            ..AccessRequest::new(name, Action::Read, identifier)
        })?;
        Ok(records_out(&opened, records))
    })
    .await?;
    Ok(axum::Json(out))
}

/// A fresh path for an export ZIP in `<data-dir>/tmp` (mode 0700): the ZIP
/// holds Service Data in clear until it is sent, then it is removed.
fn temp_zip(data_dir: &std::path::Path) -> Result<std::path::PathBuf, CoreError> {
    let dir = data_dir.join("tmp");
    let io = |e: std::io::Error| CoreError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(dir.join(format!("export-{}.zip", new_request_id())))
}

fn zip_response(body: Body, len: u64, audit_index: u64) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"steward-export.zip\""),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert("x-audit-index", HeaderValue::from(audit_index));
    r
}

/// Bytes read per chunk when a ZIP is streamed to the client.
const EXPORT_CHUNK: usize = 64 * 1024;

/// Run an export into a temporary file and stream it (issue 6: memory does
/// not grow with the export's size). The file is opened and then unlinked
/// before the first byte is sent, so the ZIP (Service Data in clear) has no
/// name on disk while it is sent and is gone when the response ends, even if
/// the server dies mid-send.
async fn export_zip<F>(state: &AppState, f: F) -> Result<Response, ApiError>
where
    F: FnOnce(&Steward, &std::path::Path) -> Result<steward_core::ExportSummary, CoreError>
        + Send
        + 'static,
{
    let (file, len, idx) = gated(state, move |st| {
        let out = temp_zip(st.data_dir())?;
        let io = |e: std::io::Error| CoreError::Io {
            path: out.display().to_string(),
            reason: e.to_string(),
        };
        let res = f(st, &out).and_then(|s| {
            let file = std::fs::File::open(&out).map_err(io)?;
            let len = file.metadata().map_err(io)?.len();
            Ok((file, len, s.audit_index))
        });
        let _ = std::fs::remove_file(&out);
        res
    })
    .await?;
    state.metrics.exports.fetch_add(1, Relaxed);
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; EXPORT_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok(zip_response(Body::from_stream(stream), len, idx))
}

/// Export a subject's data as a ZIP (N7.1, N7.2): the manifest
/// (controller, contact, purposes, categories and counts, transfers, file
/// hashes) and per category JSON and CSV. Through the gate, audited.
#[utoipa::path(get, path = "/v1/subjects/{identifier}/export", tag = "read",
    params(("identifier" = String, Path, description = "Subject identifier"),
        ("purpose" = Option<String>, Query, description = "Purpose (N3); `comply` needs an obligation"),
        ("obligation" = Option<String>, Query, description = "Recorded legal obligation id, e.g. the data subject request (N3.7)")),
    responses((status = 200, description = "The ZIP", content_type = "application/zip", body = Vec<u8>),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn export_subject(
    State(state): State<AppState>,
    c: Caller,
    Path(identifier): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["purpose", "obligation"])?;
    let purpose = parse_purpose(q.get("purpose"))?.ok_or_else(|| {
        ApiError::BadRequest(
            "purpose: an export names its purpose (N3), e.g. purpose=comply".into(),
        )
    })?;
    let name = c.name().to_owned();
    let obligation = q.get("obligation").cloned();
    export_zip(&state, move |st, out| {
        st.export(&name, purpose, &identifier, out, obligation.as_deref())
    })
    .await
}

// ------------------------------------------------------------- tokens

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

/// A token's description (never the token itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Token id.
    pub id: String,
    /// Principal.
    pub principal: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Issued (Unix seconds).
    pub created_at: i64,
    /// Expires (Unix seconds).
    pub expires_at: i64,
    /// Revoked.
    pub revoked: bool,
    /// Who issued it.
    pub issued_by: String,
}

impl From<steward_core::TokenInfo> for TokenOut {
    fn from(t: steward_core::TokenInfo) -> Self {
        TokenOut {
            id: t.id,
            principal: t.principal,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
            issued_by: t.issued_by,
        }
    }
}

/// A newly issued token: `token` is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedOut {
    /// The bearer token. Only its SHA-256 is stored.
    pub token: String,
    /// Its description.
    pub info: TokenOut,
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
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let req: TokenRequest = json_body(&headers, &bytes)?;
    manage(&state, &c, "tokens").await?;
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
    if who != c.name() {
        manage(&state, &c, "tokens").await?;
    }
    let list = blocking(&state, move |st| st.tokens(Some(&who))).await?;
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
    let id2 = id.clone();
    let owner = blocking(&state, move |st| {
        Ok(st
            .tokens(None)?
            .into_iter()
            .find(|t| t.id == id2)
            .map(|t| t.principal))
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("no token with that id".into()))?;
    if owner != c.name() {
        manage(&state, &c, "tokens").await?;
    }
    let by = c.name().to_owned();
    blocking(&state, move |st| st.revoke_token(&by, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------- principals

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

/// A principal as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrincipalOut {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Teams.
    pub teams: Vec<String>,
    /// Organisations managed (administrators, resellers).
    pub organisations: Vec<String>,
    /// The subject (data subjects).
    pub subject: Option<String>,
    /// Revoked or suspended.
    pub revoked: bool,
}

impl From<&Principal> for PrincipalOut {
    fn from(p: &Principal) -> Self {
        PrincipalOut {
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            teams: p.teams.iter().map(|t| t.as_str().to_owned()).collect(),
            organisations: p.organisations.clone(),
            subject: p.subject.map(|s| s.to_string()),
            revoked: p.revoked,
        }
    }
}

fn date(field: &str, v: &Option<String>) -> Result<Option<time::Date>, ApiError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    v.as_ref()
        .map(|s| {
            time::Date::parse(s, &fmt)
                .map_err(|_| ApiError::BadRequest(format!("{field}: expected a date YYYY-MM-DD")))
        })
        .transpose()
}

/// Add (or replace) a principal (N5.5): needs `manage_principals`.
#[utoipa::path(post, path = "/v1/principals", tag = "principals", request_body = PrincipalIn,
    responses((status = 201, description = "Added", body = PrincipalOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn principal_add(
    State(state): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let p: PrincipalIn = json_body(&headers, &bytes)?;
    let kind: PrincipalKind = p
        .kind
        .parse()
        .map_err(|_| ApiError::BadRequest("kind: not a principal kind".into()))?;
    if matches!(
        kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller | PrincipalKind::DataSubject
    ) {
        return Err(ApiError::BadRequest(
            "kind: administrators, resellers and users are added through /v1/organisations and /v1/partners (N1.2)".into(),
        ));
    }
    let teams = p
        .teams
        .iter()
        .map(|t| t.parse::<Team>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::BadRequest("teams: not a team".into()))?;
    let principal = Principal {
        name: p.name.clone(),
        kind,
        teams,
        confidentiality_signed_on: date("confidentiality_signed_on", &p.confidentiality_signed_on)?,
        training_expires_on: date("training_expires_on", &p.training_expires_on)?,
        engagement_ends_on: date("engagement_ends_on", &p.engagement_ends_on)?,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    // Decided by policy inside `add_principal` (manage_principals, protect).
    let by = c.name().to_owned();
    let out = PrincipalOut::from(&principal);
    blocking(&state, move |st| st.add_principal(&by, &principal)).await?;
    Ok(created(&out))
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

/// A legal obligation to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationIn {
    /// legal_request, government_request, record_keeping or data_subject_request.
    pub kind: String,
    /// External reference (docket number, statute).
    pub reference: String,
}

/// A recorded legal obligation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationOut {
    /// Id to cite as `obligation=`.
    pub id: String,
    /// Kind.
    pub kind: String,
}

/// Record a legal obligation (N3.7, N6.5d) that `comply` reads may cite:
/// legal and privacy staff, administrators and resellers, or with
/// `manage_principals`. Audited.
#[utoipa::path(post, path = "/v1/obligations", tag = "principals", request_body = ObligationIn,
    responses((status = 201, description = "Recorded", body = ObligationOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn obligation_record(
    State(state): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let o: ObligationIn = json_body(&headers, &bytes)?;
    if o.reference.is_empty() || o.reference.len() > 200 {
        return Err(ApiError::BadRequest(
            "reference: 1 to 200 characters".into(),
        ));
    }
    let p = &c.0.principal;
    let may = matches!(
        p.kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller
    ) || (p.kind.is_staff()
        && p.teams
            .iter()
            .any(|t| matches!(t, Team::Legal | Team::Privacy)));
    if !may {
        manage(&state, &c, "obligations").await?;
    }
    let by = c.name().to_owned();
    let ob = blocking(&state, move |st| {
        st.record_obligation(&by, &o.kind, &o.reference)
    })
    .await?;
    Ok(created(&ObligationOut {
        id: ob.id,
        kind: ob.kind,
    }))
}

// ------------------------------------------------------------- tenancy

/// A partner to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerIn {
    /// Id (1 to 64 of `A-Z a-z 0-9 . _ -`).
    pub id: String,
    /// Name.
    pub name: String,
}

/// A partner (authorised reseller, N1.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Reseller principals.
    pub resellers: Vec<String>,
}

/// Create a partner (N1.2): needs `manage_principals`.
#[utoipa::path(post, path = "/v1/partners", tag = "tenancy", request_body = PartnerIn,
    responses((status = 201, description = "Created", body = PartnerOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn partner_create(
    State(state): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let p: PartnerIn = json_body(&headers, &bytes)?;
    manage(&state, &c, "tenancy").await?;
    let by = c.name().to_owned();
    let part = blocking(&state, move |st| st.create_partner(&by, &p.id, &p.name)).await?;
    Ok(created(&PartnerOut {
        id: part.id,
        name: part.name,
        resellers: part.resellers,
    }))
}

/// A principal name to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameIn {
    /// Principal name (1 to 64 of `A-Z a-z 0-9 . _ -`).
    pub name: String,
}

/// Add a reseller principal for a partner: authorised for exactly the
/// partner's organisations (N1.2, N6.5). Needs `manage_principals`.
#[utoipa::path(post, path = "/v1/partners/{id}/resellers", tag = "tenancy", request_body = NameIn,
    params(("id" = String, Path, description = "Partner id")),
    responses((status = 201, description = "Added", body = PrincipalOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn reseller_add(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let n: NameIn = json_body(&headers, &bytes)?;
    manage(&state, &c, "tenancy").await?;
    let by = c.name().to_owned();
    let p = blocking(&state, move |st| st.add_reseller(&by, &n.name, &id)).await?;
    Ok(created(&PrincipalOut::from(&p)))
}

/// An organisation to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationIn {
    /// Id (1 to 64 of `A-Z a-z 0-9 . _ -`).
    pub id: String,
    /// Name.
    pub name: String,
    /// The authorised partner it buys through.
    #[serde(default)]
    pub partner: Option<String>,
    /// Whether its users may export their own data (N7.1); default true.
    #[serde(default)]
    pub users_may_export: Option<bool>,
}

/// An organisation (N1.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationOut {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Partner.
    pub partner: Option<String>,
    /// Whether its users may export their own data (N7.1).
    pub users_may_export: bool,
}

impl From<steward_core::Organisation> for OrganisationOut {
    fn from(o: steward_core::Organisation) -> Self {
        OrganisationOut {
            id: o.id,
            name: o.name,
            partner: o.partner,
            users_may_export: o.users_may_export,
        }
    }
}

/// Create a customer organisation (N1.2): needs `manage_principals`.
#[utoipa::path(post, path = "/v1/organisations", tag = "tenancy", request_body = OrganisationIn,
    responses((status = 201, description = "Created", body = OrganisationOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn organisation_create(
    State(state): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let o: OrganisationIn = json_body(&headers, &bytes)?;
    manage(&state, &c, "tenancy").await?;
    let by = c.name().to_owned();
    let org = blocking(&state, move |st| {
        st.create_organisation(
            &by,
            &o.id,
            &o.name,
            o.partner.as_deref(),
            o.users_may_export.unwrap_or(true),
        )
    })
    .await?;
    Ok(created(&OrganisationOut::from(org)))
}

/// Whether the caller administers `org` (its administrator or an authorised reseller).
fn administers(c: &Caller, org: &str) -> bool {
    matches!(
        c.0.principal.kind,
        PrincipalKind::CustomerAdmin | PrincipalKind::Reseller
    ) && c.0.principal.organisations.iter().any(|o| o == org)
}

/// Allow an organisation's administrators and resellers, or `manage_principals`.
async fn administers_or_manage(state: &AppState, c: &Caller, org: &str) -> Result<(), ApiError> {
    if administers(c, org) {
        return Ok(());
    }
    manage(state, c, "tenancy").await
}

/// An organisation: its administrators and resellers, or `manage_principals`.
#[utoipa::path(get, path = "/v1/organisations/{id}", tag = "tenancy",
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = OrganisationOut),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn organisation_get(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<OrganisationOut>, ApiError> {
    administers_or_manage(&state, &c, &id).await?;
    let o = blocking(&state, move |st| st.organisation(&id))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organisation".into()))?;
    Ok(axum::Json(o.into()))
}

/// Organisation settings to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    /// Whether its users may export their own data (N7.1).
    pub users_may_export: bool,
}

/// Change whether an organisation's users may export their own data (N7.1):
/// its administrators and resellers, or `manage_principals`. Audited.
#[utoipa::path(patch, path = "/v1/organisations/{id}", tag = "tenancy", request_body = OrganisationPatch,
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, description = "Changed", body = OrganisationOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn organisation_update(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<OrganisationOut>, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let p: OrganisationPatch = json_body(&headers, &bytes)?;
    administers_or_manage(&state, &c, &id).await?;
    let by = c.name().to_owned();
    let o = blocking(&state, move |st| {
        st.set_users_may_export(&by, &id, p.users_may_export)
    })
    .await?;
    Ok(axum::Json(o.into()))
}

/// Add an administrator (`customer_admin`) of an organisation (N6.5):
/// needs `manage_principals`.
#[utoipa::path(post, path = "/v1/organisations/{id}/admins", tag = "tenancy", request_body = NameIn,
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 201, description = "Added", body = PrincipalOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn org_admin_add(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let n: NameIn = json_body(&headers, &bytes)?;
    manage(&state, &c, "tenancy").await?;
    let by = c.name().to_owned();
    let p = blocking(&state, move |st| st.add_org_admin(&by, &n.name, &id)).await?;
    Ok(created(&PrincipalOut::from(&p)))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    /// The data subject's identifier (`username:ann`); the subject must exist.
    pub subject: String,
    /// An initial password (12 to 1024 characters), hashed with argon2id.
    #[serde(default)]
    pub password: Option<String>,
}

/// A user (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// The user's principal name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
    /// Opaque subject id.
    pub subject: String,
    /// Suspended (N6.5c).
    pub suspended: bool,
    /// May not edit their information (N6.5e).
    pub restricted_edit: bool,
    /// May not delete their information (N6.5e).
    pub restricted_delete: bool,
    /// Whether a password is set.
    pub has_password: bool,
}

impl From<steward_core::UserAccount> for UserOut {
    fn from(u: steward_core::UserAccount) -> Self {
        UserOut {
            name: u.name,
            organisation: u.organisation,
            subject: u.subject,
            suspended: u.suspended,
            restricted_edit: u.restrictions.edit,
            restricted_delete: u.restrictions.delete,
            has_password: u.password_hash.is_some(),
        }
    }
}

/// Hash a password with argon2id (on the blocking pool: it is slow on purpose).
async fn hash_password(password: String) -> Result<String, ApiError> {
    let n = password.chars().count();
    if !(12..=1024).contains(&n) {
        return Err(ApiError::BadRequest(
            "password: 12 to 1024 characters".into(),
        ));
    }
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordHasher as _;
        let salt = argon2::password_hash::SaltString::generate(
            &mut argon2::password_hash::rand_core::OsRng,
        );
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Create a user of an organisation for an existing data subject (N1.2):
/// needs `manage_principals`. The user's principal name is generated.
#[utoipa::path(post, path = "/v1/organisations/{id}/users", tag = "tenancy", request_body = UserIn,
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 201, description = "Created", body = UserOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn user_create(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let u: UserIn = json_body(&headers, &bytes)?;
    manage(&state, &c, "tenancy").await?;
    let hash = match u.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let by = c.name().to_owned();
    let user = blocking(&state, move |st| st.create_user(&by, &id, &u.subject, hash)).await?;
    Ok(created(&UserOut::from(user)))
}

/// The users of an organisation: its administrators and resellers, or `manage_principals`.
#[utoipa::path(get, path = "/v1/organisations/{id}/users", tag = "tenancy",
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, description = "Users", body = Vec<UserOut>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn user_list(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<UserOut>>, ApiError> {
    administers_or_manage(&state, &c, &id).await?;
    let users = blocking(&state, move |st| st.users_of(&id)).await?;
    Ok(axum::Json(users.into_iter().map(UserOut::from).collect()))
}

// -------------------------------------------------------- admin powers

async fn known_user(state: &AppState, user: &str) -> Result<(), ApiError> {
    let u = user.to_owned();
    blocking(state, move |st| st.user(&u))
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound("no such user".into()))
}

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
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")))]
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
    known_user(&state, &user).await?;
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
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_change_password(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Done>, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let p: PasswordIn = json_body(&headers, &bytes)?;
    known_user(&state, &user).await?;
    let hash = hash_password(p.password).await?;
    let by = c.name().to_owned();
    let idx = gated(&state, move |st| st.admin_change_password(&by, &user, hash)).await?;
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
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_suspend(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Done>, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let s: SuspensionIn = json_body(&headers, &bytes)?;
    known_user(&state, &user).await?;
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
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_legal_access(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    q: Params,
) -> Result<axum::Json<RecordsOut>, ApiError> {
    let q = params(q, &["obligation"])?;
    known_user(&state, &user).await?;
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
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn admin_restrict(
    State(state): State<AppState>,
    c: Caller,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Done>, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let r: RestrictionsIn = json_body(&headers, &bytes)?;
    known_user(&state, &user).await?;
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

// -------------------------------------------------------- self-service

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
/// attempts count towards the address's lockout (N5.1).
#[utoipa::path(post, path = "/v1/auth/token", tag = "self-service", security(()), request_body = LoginIn,
    responses((status = 201, description = "Issued", body = IssuedOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong user or password, or suspended", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Locked out after failed attempts", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let ip = Some(peer.ip());
    crate::authn::check_lockout(&state, ip)?;
    let bytes = body_bytes(&state, body).await?;
    let l: LoginIn = json_body(&headers, &bytes)?;
    let user = l.user.clone();
    let account = blocking(&state, move |st| st.user(&user)).await?;
    let ok = match account.as_ref().and_then(|a| a.password_hash.clone()) {
        Some(hash) if !account.as_ref().is_some_and(|a| a.suspended) => {
            let pw = l.password.clone();
            tokio::task::spawn_blocking(move || {
                use argon2::PasswordVerifier as _;
                argon2::password_hash::PasswordHash::new(&hash)
                    .map(|h| {
                        argon2::Argon2::default()
                            .verify_password(pw.as_bytes(), &h)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await
            .unwrap_or(false)
        }
        _ => false,
    };
    if !ok {
        crate::authn::failed(&state, ip, "bad_password");
        return Err(ApiError::Unauthenticated(
            "wrong user or password, or the user is suspended",
        ));
    }
    let name = l.user;
    let t = blocking(&state, move |st| {
        st.issue_token(&name, &name, 12 * 3600, vec![])
    })
    .await?;
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

fn own_user(c: &Caller) -> Result<String, ApiError> {
    if c.0.principal.kind != PrincipalKind::DataSubject || c.0.principal.subject.is_none() {
        return Err(ApiError::Forbidden(
            "the /v1/me data endpoints are for users (data subjects) reading their own data (N7)"
                .into(),
        ));
    }
    Ok(c.name().to_owned())
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
    let name = own_user(&c)?;
    let subject =
        c.0.principal
            .subject
            .map(|s| s.to_string())
            .unwrap_or_default();
    let out = gated(&state, move |st| {
        let organisation = st.user(&name)?.map(|u| u.organisation);
        let (o, r) = st.read(&AccessRequest {
            category,
            organisation,
            ..AccessRequest::new(name, Action::Read, subject).purpose(Purpose::ProvideServices)
        })?;
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
    let name = own_user(&c)?;
    export_zip(&state, move |st, out| st.self_export(&name, out)).await
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
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body).await?;
    let _fields: serde_json::Map<String, serde_json::Value> = json_body(&headers, &bytes)?;
    let name = own_user(&c)?;
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
    let name = own_user(&c)?;
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
