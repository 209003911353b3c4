//! Sharing (issue 19; N6.2-N6.7, N8.4, N8.9): disclosures through the
//! gate, the APPI provision record, recipients, consents, third-party app
//! grants. Every route calls a core operation with the authenticated
//! principal; the core decides and records.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use steward_core::DisclosureRequest;
use steward_core::sharing::{
    Consent, DisclosureRow, GrantReview, NewConsent, NewGrant, NewRecipient, ProvisionRecord,
    Recipient,
};
use steward_domain::{AppAdminPolicy, DisclosureBasis};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, Params, created, params, parse_category, parse_purpose};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{RecordsOut, records_out};

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/disclosures", post(disclose))
        .route("/v1/disclosures/report", get(report))
        .route("/v1/recipients", post(recipient_add).get(recipient_list))
        .route("/v1/consents", post(consent_give))
        .route("/v1/consents/{id}/withdraw", post(consent_withdraw))
        .route("/v1/app-grants", post(grant))
        .route("/v1/app-grants/{id}/revoke", post(grant_revoke))
        .route("/v1/organisations/{id}/grants", get(grant_review))
        .route("/v1/organisations/{id}/app-policy", post(app_policy))
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    disclose,
    report,
    recipient_add,
    recipient_list,
    consent_give,
    consent_withdraw,
    grant,
    grant_revoke,
    grant_review,
    app_policy
))]
pub(crate) struct Doc;

/// A disclosure to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscloseIn {
    /// The subject (`username:ann`, `sub_…`).
    pub subject: String,
    /// The registered recipient (`rcp_…`).
    pub recipient: String,
    /// third_party_service, consent, administrator, external_processing or legal (N6.2).
    #[schema(value_type = String)]
    pub basis: DisclosureBasis,
    /// The purpose (N3).
    pub purpose: String,
    /// One category (N2), or all.
    #[serde(default)]
    pub category: Option<String>,
    /// A recorded legal obligation (legal basis).
    #[serde(default)]
    pub obligation: Option<String>,
}

/// An allowed disclosure: the ledger row and the records disclosed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosedOut {
    /// The ledger row (N8.4).
    #[schema(value_type = Object)]
    pub disclosure: Option<DisclosureRow>,
    /// The records.
    pub records: RecordsOut,
}

type Answer<T> = Result<axum::Json<T>, ApiError>;

/// Disclose a subject's data to a registered recipient through the gate
/// (N6.2-N6.7): decided and audited by the core; an allowed disclosure's
/// ledger row is committed with its audit entry.
#[utoipa::path(post, path = "/v1/disclosures", tag = "sharing", request_body = DiscloseIn,
    responses((status = 200, description = "Disclosed", body = DisclosedOut),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn disclose(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(d): ApiJson<DiscloseIn>,
) -> Answer<DisclosedOut> {
    let purpose = parse_purpose(Some(&d.purpose))?
        .ok_or_else(|| ApiError::BadRequest("purpose: required (N3)".into()))?;
    let category = parse_category(d.category.as_ref())?;
    let req = DisclosureRequest {
        principal: c.name().to_owned(),
        subject: d.subject,
        recipient: d.recipient,
        basis: d.basis,
        purpose,
        category,
        obligation_id: d.obligation,
    };
    let out = blocking(&state, move |st| st.disclose(&req)).await?;
    Ok(axum::Json(DisclosedOut {
        records: records_out(&out.opened, out.records),
        disclosure: out.disclosure,
    }))
}

/// The APPI provision record of a recipient over `[from, to)` (N8.4), as
/// JSON or, with `format=csv`, CSV. `from`/`to`: `YYYY-MM-DD` (UTC days).
#[utoipa::path(get, path = "/v1/disclosures/report", tag = "sharing",
    params(("recipient" = String, Query, description = "Recipient id"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD"),
        ("to" = String, Query, description = "Day after the last, YYYY-MM-DD"),
        ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, description = "The provision record", body = Object),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn report(
    State(state): State<AppState>,
    c: Caller,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q, &["recipient", "from", "to", "format"])?;
    let day = |f: &str| -> Result<i64, ApiError> {
        let d = crate::extract::date(f, &q.get(f).cloned())?
            .ok_or_else(|| ApiError::BadRequest(format!("{f}: required, YYYY-MM-DD")))?;
        Ok(d.midnight().assume_utc().unix_timestamp() * 1000)
    };
    let (from, to) = (day("from")?, day("to")?);
    let recipient = q
        .get("recipient")
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("recipient: required".into()))?;
    let csv = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::BadRequest("format: json or csv".into())),
    };
    let by = c.name().to_owned();
    let rec: ProvisionRecord =
        blocking(&state, move |st| st.provision_record(&by, &recipient, from, to)).await?;
    if csv {
        let body = rec.to_csv().map_err(ApiError::from)?;
        let mut r = body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(r);
    }
    Ok(axum::Json(rec).into_response())
}

/// Register a recipient (N8.9): legal and privacy staff, audited.
#[utoipa::path(post, path = "/v1/recipients", tag = "sharing", request_body = Object,
    responses((status = 201, description = "Registered", body = Object),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn recipient_add(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(n): ApiJson<NewRecipient>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let r: Recipient = blocking(&state, move |st| st.add_recipient(&by, n)).await?;
    Ok(created(&r))
}

/// One registry row as stored (a recipient, an app grant with its review
/// figures): a JSON object.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct RowOut(serde_json::Value);

/// The registered recipients.
#[utoipa::path(get, path = "/v1/recipients", tag = "sharing",
    responses((status = 200, description = "Recipients", body = [RowOut])))]
pub(crate) async fn recipient_list(
    State(state): State<AppState>,
    _c: Caller,
) -> Answer<Vec<Recipient>> {
    Ok(axum::Json(blocking(&state, |st| st.recipients()).await?))
}

/// Record a consent (N6.4): the data subject themselves or the service that collected it.
#[utoipa::path(post, path = "/v1/consents", tag = "sharing", request_body = Object,
    responses((status = 201, description = "Recorded", body = Object),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn consent_give(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(n): ApiJson<NewConsent>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let r: Consent = blocking(&state, move |st| st.give_consent(&by, n)).await?;
    Ok(created(&r))
}

/// Withdraw a consent (N6.4): the next disclosure on it is refused.
#[utoipa::path(post, path = "/v1/consents/{id}/withdraw", tag = "sharing",
    params(("id" = String, Path, description = "Consent id")),
    responses((status = 200, description = "Withdrawn", body = Object),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn consent_withdraw(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Answer<Consent> {
    let by = c.name().to_owned();
    Ok(axum::Json(
        blocking(&state, move |st| st.withdraw_consent(&by, &id)).await?,
    ))
}

/// Grant a third-party app scopes in an organisation (N6.3).
#[utoipa::path(post, path = "/v1/app-grants", tag = "sharing", request_body = Object,
    responses((status = 201, description = "Granted", body = Object),
        (status = 400, description = "Bad request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn grant(
    State(state): State<AppState>,
    c: Caller,
    ApiJson(n): ApiJson<NewGrant>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let g = blocking(&state, move |st| st.grant_app(&by, n)).await?;
    Ok(created(&g))
}

/// Revoke a grant (N6.3): the app's next request fails.
#[utoipa::path(post, path = "/v1/app-grants/{id}/revoke", tag = "sharing",
    params(("id" = String, Path, description = "Grant id")),
    responses((status = 200, description = "Revoked", body = Object),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn grant_revoke(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    let g = blocking(&state, move |st| st.revoke_grant(&by, &id)).await?;
    Ok(axum::Json(g).into_response())
}

/// The grant review of an organisation (N6.3): every grant, its last use
/// and what it disclosed.
#[utoipa::path(get, path = "/v1/organisations/{id}/grants", tag = "sharing",
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, description = "Grants", body = [RowOut]),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn grant_review(
    State(state): State<AppState>,
    c: Caller,
    Path(org): Path<String>,
) -> Answer<Vec<GrantReview>> {
    let by = c.name().to_owned();
    Ok(axum::Json(
        blocking(&state, move |st| st.grant_review(&by, &org)).await?,
    ))
}

/// An app admin policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPolicyIn {
    /// trusted, limited or blocked.
    #[schema(value_type = String)]
    pub policy: AppAdminPolicy,
}

/// Set an organisation's app admin policy (N6.3).
#[utoipa::path(post, path = "/v1/organisations/{id}/app-policy", tag = "sharing",
    params(("id" = String, Path, description = "Organisation id")), request_body = AppPolicyIn,
    responses((status = 204, description = "Set"),
        (status = 403, description = "Denied (audited)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn app_policy(
    State(state): State<AppState>,
    c: Caller,
    Path(org): Path<String>,
    ApiJson(p): ApiJson<AppPolicyIn>,
) -> Result<Response, ApiError> {
    let by = c.name().to_owned();
    blocking(&state, move |st| st.set_app_policy(&by, &org, p.policy)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
