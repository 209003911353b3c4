//! `/docs` (issue 4 item 5): the API reference page, rendered on the server
//! from the document `/openapi.json` serves, over TLS from a real server.

mod common;

use common::{problem, start};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_page_lists_every_operation_of_openapi_json_without_scripts_n5_1() {
    let s = start().await;
    // Like /openapi.json, it needs a credential (N5.1).
    let r = s.client.get(s.url("/docs")).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;

    let r = s.get(&s.operator, "/docs").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let page = r.text().await.unwrap();

    let doc: Value = s
        .get(&s.operator, "/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            ops.push((m.to_ascii_uppercase(), path.clone()));
        }
    }
    // 35 operations, counted by hand in openapi.rs's `paths(...)` list
    // (/docs itself included); at least that many, as the API grows.
    assert!(ops.len() >= 35, "{}", ops.len());
    assert_eq!(page.matches("<section class=\"op\"").count(), ops.len());
    for (m, path) in &ops {
        let shown = format!("{m}</span> <code>{}</code>", path.replace('&', "&amp;"));
        assert!(page.contains(&shown), "{m} {path} missing");
    }
    // Parameters, bodies, responses and security of one operation, as the
    // handler's annotation gives them.
    assert!(page.contains("<td><code>purpose</code></td><td>query</td><td>no</td>"));
    assert!(page.contains("<td><code>identifier</code></td><td>path</td><td>yes</td>"));
    assert!(page.contains("<a href=\"#schema-RecordsOut\">RecordsOut</a>"));
    assert!(page.contains("id=\"schema-Problem\""));
    assert!(page.contains("<code>Authorization: Bearer &lt;token&gt;</code>"));
    assert!(
        page.contains("none: no credential needed"),
        "/healthz is open"
    );
    for loads in ["<script", "src=", "<link", "@import", "url("] {
        assert!(!page.contains(loads), "{loads}");
    }
}
