//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Steward's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward",
        description = "Service Data stored encrypted per data subject, read only for a purpose that policy allows, every access in a tamper-evident audit log. Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Bearer),
    security(("bearer" = [])),
    paths(
        api::healthz, api::gpc, api::openapi_json, api::metrics,
        api::ingest_one, api::ingest_batch, api::ingest_cloudevents,
        api::read_records, api::export_subject,
        api::token_issue, api::token_list, api::token_revoke,
        api::principal_add, api::principal_revoke, api::obligation_record,
        api::partner_create, api::reseller_add, api::organisation_create,
        api::organisation_get, api::organisation_update, api::org_admin_add,
        api::user_create, api::user_list,
        api::admin_view, api::admin_change_password, api::admin_suspend,
        api::admin_legal_access, api::admin_restrict,
        api::login, api::me, api::me_records, api::me_export, api::me_edit, api::me_delete,
    ),
    tags(
        (name = "public", description = "No Service Data"),
        (name = "ingest", description = "Platform services deliver Service Data (N1.3, N3.1)"),
        (name = "read", description = "Reads and exports through the gate (N3, N7)"),
        (name = "tokens", description = "API tokens (N5.1, N5.5)"),
        (name = "principals", description = "Principals and legal obligations (N5.5, N3.7)"),
        (name = "tenancy", description = "Partners, organisations, users (N1.2)"),
        (name = "administrators", description = "Administrator and reseller powers (N6.5a-e)"),
        (name = "self-service", description = "Users' own data (N7)")
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_1_with_every_route() {
        let v: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        assert!(
            v["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            v["openapi"]
        );
        let paths = v["paths"].as_object().unwrap();
        for p in [
            "/healthz",
            "/.well-known/gpc.json",
            "/v1/records",
            "/v1/records:batch",
            "/v1/cloudevents",
            "/v1/subjects/{identifier}/records",
            "/v1/subjects/{identifier}/export",
            "/v1/users/{user}/restrictions",
            "/v1/me/export",
        ] {
            assert!(paths.contains_key(p), "missing {p}");
        }
        assert_eq!(
            v["paths"]["/healthz"]["get"]["security"],
            serde_json::json!([{}])
        );
    }
}
