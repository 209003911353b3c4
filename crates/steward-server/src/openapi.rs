//! The OpenAPI 3.1 document, generated from the handlers' annotations
//! (utoipa): the document's frame here (info, bearer security, tags, the
//! responses every operation of a kind can give), the paths and schemas
//! from each feature file under `routes` (its `Doc`).

use std::sync::OnceLock;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use utoipa::{Modify, OpenApi};

use crate::state::ApiDocs;

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

/// Responses every operation of a kind can give, added where its handler's
/// annotation does not list them (found by schemathesis's
/// `status_code_conformance`, docs/reliability.md): all are
/// `application/problem+json`.
///
/// - a request body: 400 (not the expected JSON), 413 (over the body
///   limit), 415 (not the media type the body needs);
/// - query or path parameters: 400 (unknown or invalid parameter);
/// - a bearer token: 401, and 429 with `Retry-After` (over the principal's
///   rate, or the address locked out after failed authentications, N5.1);
/// - every operation: 503 with `Retry-After` (the audit log cannot be
///   written, so nothing was read or changed; or the request timed out).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |desc: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(desc)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        let global_bearer = doc.security.as_ref().is_some_and(|s| !s.is_empty());
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let open = match &op.security {
                    // `security(())`: one empty requirement.
                    Some(reqs) => reqs
                        .iter()
                        .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({}))),
                    None => !global_bearer,
                };
                let params = op.parameters.as_deref().unwrap_or_default();
                let has_params = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Path));
                let mut add: Vec<(&str, &str)> = Vec::new();
                if op.request_body.is_some() {
                    add.push(("400", "Bad request: the body is not the expected JSON, or a parameter is invalid (named in `detail`)"));
                    add.push(("413", "Body too large"));
                    add.push((
                        "415",
                        "Unsupported media type: send the body with the media type shown",
                    ));
                } else if has_params {
                    add.push((
                        "400",
                        "Bad request: an unknown or invalid parameter (named in `detail`)",
                    ));
                }
                if !open {
                    add.push(("401", "No valid credential"));
                    add.push(("429", "Over the principal's request rate, or this address is locked out after failed authentications (N5.1); see Retry-After"));
                }
                add.push(("503", "The audit log cannot be written, so nothing was read or changed (fail closed), or the request timed out; see Retry-After"));
                for (status, desc) in add {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(desc));
                }
            }
        }
    }
}

/// Steward's HTTP API: the frame of the document, without paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward",
        description = "Service Data stored encrypted per data subject, read only for a purpose that policy allows, every access in a tamper-evident audit log. Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    security(("bearer" = [])),
    tags(
        (name = "public", description = "No Service Data"),
        (name = "ingest", description = "Platform services deliver Service Data (N1.3, N3.1)"),
        (name = "read", description = "Reads and exports through the gate (N3, N7)"),
        (name = "tokens", description = "API tokens (N5.1, N5.5)"),
        (name = "principals", description = "Principals and legal obligations (N5.5, N3.7)"),
        (name = "tenancy", description = "Partners, organisations, users (N1.2)"),
        (name = "administrators", description = "Administrator and reseller powers (N6.5a-e)"),
        (name = "self-service", description = "Users' own data (N7)"),
        (name = "requests", description = "Data subject requests: open, list (overdue), send and check a one-time code, approve once, reject, extend (N7.2, N7.4)")
    )
)]
pub struct ApiDoc;

/// The whole document: the frame, every feature's paths and schemas, and
/// the common responses added to every operation that can give them.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in crate::routes::docs() {
        doc.merge(part);
    }
    Bearer.modify(&mut doc);
    CommonResponses.modify(&mut doc);
    doc
}

/// The document as JSON.
pub fn document_json() -> String {
    document().to_pretty_json().unwrap_or_default()
}

/// The document as served (`/openapi.json`) and as HTML (`/docs`), made
/// once per process.
pub(crate) fn published() -> ApiDocs {
    static JSON: OnceLock<String> = OnceLock::new();
    static HTML: OnceLock<String> = OnceLock::new();
    ApiDocs {
        json: JSON.get_or_init(document_json),
        html: HTML.get_or_init(|| {
            let doc = serde_json::to_value(document()).unwrap_or(serde_json::Value::Null);
            crate::docs_page::render(&doc)
        }),
    }
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

    #[test]
    fn common_responses_are_documented_where_they_can_happen() {
        let v: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        let codes = |path: &str, m: &str| -> Vec<String> {
            v["paths"][path][m]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        // A JSON body, bearer: 400 413 415 401 429 503 besides its own.
        let t = codes("/v1/tokens", "post");
        for c in ["201", "400", "401", "403", "413", "415", "429", "503"] {
            assert!(
                t.contains(&c.to_owned()),
                "POST /v1/tokens lacks {c}: {t:?}"
            );
        }
        // Open and without parameters: only 200 and 503.
        assert_eq!(codes("/healthz", "get"), ["200", "503"]);
        // The login is open: no 401 added, its own 429 kept.
        let l = codes("/v1/auth/token", "post");
        assert_eq!(l, ["201", "400", "401", "413", "415", "429", "503"]);
        // Query parameters: 400.
        assert!(codes("/v1/tokens", "get").contains(&"400".to_owned()));
        let p = &v["paths"]["/v1/tokens"]["get"]["responses"]["429"]["content"];
        assert_eq!(
            p["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }

    #[test]
    fn every_operation_of_the_document_is_on_the_page() {
        let doc = serde_json::to_value(document()).unwrap();
        let page = crate::docs_page::render(&doc);
        let mut n = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in crate::docs_page::METHODS {
                if item.get(m).is_some() {
                    n += 1;
                    let id = crate::docs_page::anchor(&format!("op-{m}-{path}"));
                    assert!(page.contains(&format!("id=\"{id}\"")), "{m} {path}");
                }
            }
        }
        assert_eq!(page.matches("<section class=\"op\"").count(), n);
        // No script and nothing loaded from elsewhere.
        assert!(!page.contains("<script"));
        for loads in ["src=", "<link", "@import", "url("] {
            assert!(!page.contains(loads), "{loads}");
        }
    }
}
