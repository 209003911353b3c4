//! Ingest (N1.3, N3.1): platform services deliver Service Data as one
//! record, a batch (JSON array or JSON Lines) or CloudEvents; all or
//! nothing, every misfit named.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::Serialize;
use steward_domain::Product;
use steward_ingest::body::{BodyShape, parse_body};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::gated;
use crate::extract::{Params, body_bytes, created, media_type, params};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "ingest";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/records", post(ingest_one))
        .route("/v1/records:batch", post(ingest_batch))
        .route("/v1/cloudevents", post(ingest_cloudevents))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(ingest_one, ingest_batch, ingest_cloudevents))]
pub(crate) struct Doc;

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
    let organisation = q.get("organisation").cloned();
    let summary = gated(state, move |st| {
        st.ingest_for(
            &name,
            region.as_deref(),
            organisation.as_deref(),
            records,
            &mut |_| {},
        )
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
           ("region" = Option<String>, Query, description = "Home region of a new subject (N4.1)"),
           ("organisation" = Option<String>, Query, description = "The organisation the record is of (N1.2): usernames and device ids are found in its namespace; default the calling principal's one organisation")),
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
    let q = params(q, &["product", "region", "organisation"])?;
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
           ("region" = Option<String>, Query, description = "Home region of new subjects (N4.1)"),
           ("organisation" = Option<String>, Query, description = "The organisation the records are of (N1.2): usernames and device ids are found in its namespace; default the calling principal's one organisation")),
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
    let q = params(q, &["product", "region", "organisation"])?;
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
           ("region" = Option<String>, Query, description = "Home region of new subjects (N4.1)"),
           ("organisation" = Option<String>, Query, description = "The organisation the records are of (N1.2): usernames and device ids are found in its namespace; default the calling principal's one organisation")),
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
    let q = params(q, &["product", "region", "organisation"])?;
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
