//! Privacy staff's identity tools (issue 15; N7.2): merge two subjects
//! that are one person, list subjects whose identifiers are confusable
//! with each other, and subjects without an identifier. The core decides
//! (`dsr_handle`, audited) and does the work; bodies name subjects by
//! opaque id only (an identifier given to name a subject is resolved
//! through the blind index and never logged).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking as run;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1): the data subject request tooling.
const SCOPE: &str = "requests";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/subjects:merge", post(merge))
        .route("/v1/identity/confusables", get(confusables))
        .route("/v1/identity/orphans", get(orphans))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(merge, confusables, orphans))]
pub(crate) struct Doc;

/// Two subjects to merge: each a `sub_` id or an identifier naming one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    /// The subject that stays (a user, if one of the two is).
    pub keep: String,
    /// The subject merged into it and crypto-shredded.
    pub other: String,
}

/// What a merge did (opaque ids and counts only).
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct MergeOut(steward_core::MergeReceipt);

/// Merge `other` into `keep` (issue 15 item 4): records re-sealed under
/// `keep`'s data key, identifiers moved, `other` crypto-shredded, its
/// requests moved; one audited transaction. Privacy staff.
#[utoipa::path(post, path = "/v1/subjects:merge", tag = "requests", request_body = MergeIn,
    responses((status = 200, description = "Merged", body = MergeOut),
        (status = 400, description = "Not two live subjects of one region and organisation", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn merge(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(i): ApiJson<MergeIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let r = run(&state, move |st| st.merge_subjects(&by, &i.keep, &i.other)).await?;
    Ok((StatusCode::OK, axum::Json(MergeOut(r))).into_response())
}

/// Groups of subjects with look-alike identifiers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfusablesOut {
    /// Each group: the identifier kind and the subjects (opaque ids).
    #[schema(value_type = Vec<Object>)]
    pub groups: Vec<steward_core::ConfusableGroup>,
}

/// Subjects whose identifiers of one kind are confusable with each other
/// (Unicode UTS #39 skeletons; issue 15 item 1), for a request to review.
/// Privacy staff; audited.
#[utoipa::path(get, path = "/v1/identity/confusables", tag = "requests",
    responses((status = 200, description = "The groups", body = ConfusablesOut),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn confusables(
    State(state): State<AppState>,
    c: Caller,
) -> Result<axum::Json<ConfusablesOut>, ApiError> {
    let by = c.name().to_owned();
    let groups = run(&state, move |st| st.confusable_identifiers(&by)).await?;
    Ok(axum::Json(ConfusablesOut { groups }))
}

/// Subjects without an identifier row.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrphansOut {
    /// Opaque subject ids.
    pub subjects: Vec<String>,
}

/// Live subjects that have no identifier row: no request finds them
/// (issue 15 item 3); repair by merging each into the person's subject.
/// Privacy staff; audited.
#[utoipa::path(get, path = "/v1/identity/orphans", tag = "requests",
    responses((status = 200, description = "The subjects", body = OrphansOut),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied by policy (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn orphans(
    State(state): State<AppState>,
    c: Caller,
) -> Result<axum::Json<OrphansOut>, ApiError> {
    let by = c.name().to_owned();
    let subjects = run(&state, move |st| st.subjects_without_identifier(&by)).await?;
    Ok(axum::Json(OrphansOut { subjects }))
}
