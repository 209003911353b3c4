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
    /// The organisation whose subjects it concerns (N1.2). An
    /// administrator or reseller records only for an organisation they
    /// manage; one managing exactly one organisation may leave it out.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Identifiers of the subjects it concerns (`username:ann`, `sub_…`).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// The principals who may cite it; default: you only if you are an
    /// administrator or reseller, else whoever the pack lets act for comply.
    #[serde(default)]
    pub cited_by: Vec<String>,
    /// The categories (N2) it covers; default: every category, one named
    /// per read (N3.7).
    #[serde(default)]
    pub categories: Vec<String>,
}

/// A recorded legal obligation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationOut {
    /// Id to cite as `obligation=`.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// The organisation it concerns, if limited to one.
    pub organisation: Option<String>,
    /// The subjects (opaque ids) it concerns; empty: not limited to named subjects.
    pub subjects: Vec<String>,
    /// Who may cite it.
    pub cited_by: Vec<String>,
}

/// Record a legal obligation (N3.7, N6.5d) that `comply` reads may cite,
/// naming the organisation or subjects it concerns and who may cite it:
/// decided by the core (legal and privacy staff; administrators and
/// resellers for an organisation they manage), audited. It unlocks `comply`
/// decisions only for its citers about the subjects it concerns.
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
    let by = c.name().to_owned();
    let mut categories = Vec::with_capacity(o.categories.len());
    for c in &o.categories {
        if let Some(c) = crate::extract::parse_category(Some(c))? {
            categories.push(c);
        }
    }
    let scope = steward_core::ObligationScope {
        organisation: o.organisation,
        subjects: o.subjects,
        cited_by: o.cited_by,
        categories,
    };
    let ob = blocking(&state, move |st| {
        st.record_obligation_for(&by, &o.kind, &o.reference, &scope)
    })
    .await?;
    Ok(created(&ObligationOut {
        id: ob.id.into(),
        kind: ob.kind,
        organisation: ob.organisation,
        subjects: ob.subjects,
        cited_by: ob.cited_by,
    }))
}
