//! Tenancy (N1.2): partners and their resellers, customer organisations,
//! their administrators and users.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::authn::{Caller, needs_scope};
use crate::call::blocking;
use crate::extract::{ApiJson, created};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{PrincipalOut, UserOut};

/// The token scope these routes need (N5.1).
const SCOPE: &str = "manage";

/// These routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
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
        .route_layer(needs_scope(Some(SCOPE)))
}

/// This feature's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    partner_create,
    reseller_add,
    organisation_create,
    organisation_get,
    organisation_update,
    org_admin_add,
    user_create,
    user_list
))]
pub(crate) struct Doc;

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
    ApiJson(p): ApiJson<PartnerIn>,
) -> Result<Response, ApiError> {
    // Decided by the core (manage_tenancy), audited.
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
    ApiJson(n): ApiJson<NameIn>,
) -> Result<Response, ApiError> {
    // Decided by the core (manage_tenancy), audited.
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
    ApiJson(o): ApiJson<OrganisationIn>,
) -> Result<Response, ApiError> {
    // Decided by the core (manage_tenancy), audited.
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
    // Decided by the core (manage_organisation: its administrators and
    // resellers, N6.5a), audited.
    let by = c.name().to_owned();
    let o = blocking(&state, move |st| st.organisation_as(&by, &id))
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
    ApiJson(p): ApiJson<OrganisationPatch>,
) -> Result<axum::Json<OrganisationOut>, ApiError> {
    // Decided by the core (manage_organisation, N7.1), audited.
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
    ApiJson(n): ApiJson<NameIn>,
) -> Result<Response, ApiError> {
    // Decided by the core (manage_tenancy), audited.
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
    ApiJson(u): ApiJson<UserIn>,
) -> Result<Response, ApiError> {
    // Decided by the core (manage_tenancy), audited.
    let by = c.name().to_owned();
    let user = blocking(&state, move |st| {
        st.create_user(&by, &id, &u.subject, u.password.as_deref())
    })
    .await?;
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
    // Decided by the core (manage_organisation, N6.5a), audited.
    let by = c.name().to_owned();
    let users = blocking(&state, move |st| st.users_of_as(&by, &id)).await?;
    Ok(axum::Json(users.into_iter().map(UserOut::from).collect()))
}
