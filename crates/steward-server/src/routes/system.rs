//! The public and operational endpoints: liveness, the GPC resource, the
//! OpenAPI document and its HTML rendering, and the Prometheus metrics.
//! `/healthz` and `/.well-known/gpc.json` take no credential; the others
//! take a token without scopes or with scope `operate` (N5.1; issue 14
//! item 7: a scope limits every endpoint but the two public ones).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope the operational routes need (N5.1): the API documents
/// and the metrics are not public, and a scoped token reaches them only
/// with `operate`.
const SCOPE: &str = "operate";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    let public = Router::new()
        .route("/healthz", get(healthz))
        .route("/.well-known/gpc.json", get(gpc))
        .route_layer(needs_scope(None));
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/metrics", get(metrics))
        .route_layer(needs_scope(Some(SCOPE)))
        .merge(public)
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(healthz, gpc, openapi_json, docs, metrics))]
pub(crate) struct Doc;

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
pub(crate) async fn gpc(State(state): State<AppState>) -> Result<axum::Json<Gpc>, ApiError> {
    // Steward records `Sec-GPC: 1` of data subjects (authn.rs, issue 19);
    // the date is the notice version in force (the policy pack's).
    let last_update = crate::call::blocking(&state, |st| Ok(st.notice_version())).await?;
    Ok(axum::Json(Gpc {
        gpc: true,
        last_update,
    }))
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "public",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A scoped token without scope `operate`", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn openapi_json(State(state): State<AppState>, _c: Caller) -> Response {
    let mut r = state.docs.json.into_response();
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
        (status = 403, description = "Data subjects may not, nor a scoped token without scope `operate`", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    c: Caller,
) -> Result<Response, ApiError> {
    // The core decides (data subjects reach only their own data, N7).
    let by = c.name().to_owned();
    crate::call::blocking(&state, move |st| st.authorize_metrics(&by)).await?;
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(r)
}

/// The API reference as an HTML page rendered from `/openapi.json`'s
/// document: every operation with its parameters, request body, responses
/// and security, then the schemas. No JavaScript and nothing loaded from
/// elsewhere. Needs a credential, like `/openapi.json` (N5.1: only
/// `/healthz` and `/.well-known/gpc.json` are open), and a scoped token
/// needs scope `operate`.
#[utoipa::path(get, path = "/docs", tag = "public",
    responses((status = 200, description = "The API reference (HTML)", content_type = "text/html", body = String),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A scoped token without scope `operate`", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn docs(State(state): State<AppState>, _c: Caller) -> Response {
    let mut r = state.docs.html.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::docs_page::CSP),
    );
    r
}
