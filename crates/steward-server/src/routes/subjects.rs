//! A subject's records read through the gate for a purpose (N3), and a
//! subject's export as a ZIP (N7.1, N7.2). Identifiers are resolved through
//! the blind index and never logged.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use steward_core::{AccessRequest, Action};
use utoipa::OpenApi;

use crate::authn::{Caller, needs_scope};
use crate::call::gated;
use crate::extract::{Params, params, parse_category, parse_purpose};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{RecordsOut, records_out};
use crate::zip_stream::export_zip;

/// The token scope reading records needs (N5.1).
const READ_SCOPE: &str = "read";
/// The token scope exporting needs (N5.1).
const EXPORT_SCOPE: &str = "export";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    let read = Router::new()
        .route("/v1/subjects/{identifier}/records", get(read_records))
        .route_layer(needs_scope(Some(READ_SCOPE)));
    let export = Router::new()
        .route("/v1/subjects/{identifier}/export", get(export_subject))
        .route_layer(needs_scope(Some(EXPORT_SCOPE)));
    read.merge(export)
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(read_records, export_subject))]
pub(crate) struct Doc;

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
        ("kind" = Option<String>, Query, description = "One record kind, e.g. communications.feedback (N2; implies its category): the recommendations service reads feedback only, processors ticket content or contact details only (N3.2, N6.6)"),
        ("case" = Option<String>, Query, description = "Open support case id (N3.5)"),
        ("obligation" = Option<String>, Query, description = "Recorded legal obligation id (N3.7)"),
        ("grant" = Option<String>, Query, description = "Need-to-know grant id (N5.5, N3.8)"),
        ("incident" = Option<String>, Query, description = "Open incident naming the subject (N8.5, N3.8)")),
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
    let q = params(
        q,
        &[
            "purpose",
            "category",
            "kind",
            "case",
            "obligation",
            "grant",
            "incident",
        ],
    )?;
    let purpose = parse_purpose(q.get("purpose"))?;
    let kind = q
        .get("kind")
        .map(|k| k.parse::<steward_domain::Kind>())
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("kind: {e}")))?;
    // A kind names its category (N2).
    let category = parse_category(q.get("category"))?.or(kind.map(|k| k.category()));
    let name = c.name().to_owned();
    let (case, obligation) = (q.get("case").cloned(), q.get("obligation").cloned());
    let (grant, incident) = (q.get("grant").cloned(), q.get("incident").cloned());
    let out = gated(&state, move |st| {
        let organisation = st.organisation_of_identifier(&identifier)?;
        let (opened, records) = st.read(&AccessRequest {
            principal: name,
            action: Action::Read,
            subject: identifier,
            category,
            kind,
            purpose,
            case_id: case,
            obligation_id: obligation,
            grant_id: grant,
            incident_id: incident,
            organisation,
        })?;
        Ok(records_out(&opened, records))
    })
    .await?;
    Ok(axum::Json(out))
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
