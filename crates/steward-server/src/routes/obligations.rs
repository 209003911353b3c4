//! Legal obligations (N3.7, N6.5d) that `comply` reads and exports cite.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, created};
use crate::guard::{manage, may_record_obligation};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/obligations", post(obligation_record))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(obligation_record))]
pub(crate) struct Doc;

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
    ApiJson(o): ApiJson<ObligationIn>,
) -> Result<Response, ApiError> {
    if o.reference.is_empty() || o.reference.len() > 200 {
        return Err(ApiError::BadRequest(
            "reference: 1 to 200 characters".into(),
        ));
    }
    if !may_record_obligation(&c) {
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
