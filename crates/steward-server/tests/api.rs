//! The HTTP API over TLS, end to end: a real server on 127.0.0.1:0, a
//! reqwest client pinning the server's development certificate.

mod common;

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use common::{problem, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_gpc_need_no_credential_over_tls_and_http2_n5_3() {
    let s = start().await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let r = s
        .client
        .get(s.url("/.well-known/gpc.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"gpc": true, "lastUpdate": "2024-01-18"})
    );
    // The bootstrap token is printed on the first start only.
    let fp = s.running.fingerprint.clone().unwrap();
    assert_eq!(fp.len(), 95);
    let again = steward_server::start(
        s.steward.clone(),
        steward_server::ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(again.bootstrap_token, None);
    assert_eq!(
        again.fingerprint.as_deref(),
        Some(fp.as_str()),
        "the dev certificate is reused"
    );
    again.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_or_bad_credential_is_401_problem_json_n5_1() {
    let s = start().await;
    let r = s
        .client
        .get(s.url("/v1/subjects/username:ann/records?purpose=protect"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers().get("www-authenticate").unwrap(),
        "Bearer realm=\"steward\""
    );
    let p = problem(r, StatusCode::UNAUTHORIZED).await;
    assert!(
        p["instance"]
            .as_str()
            .unwrap()
            .starts_with("urn:steward:request:req-")
    );
    let bad = format!("stw_0123456789abcdef_{}", "A".repeat(43));
    let r = s.get(&bad, "/v1/me").await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    let r = s.get("garbage", "/openapi.json").await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    // Unknown routes are problem+json too.
    let r = s.get(&s.operator, "/v2/nothing").await;
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_then_read_for_a_purpose_allowed_and_denied_with_reason_and_clauses() {
    let s = start().await;
    let (ingest, _) = s.token_for("ingest").await;
    // One record.
    let one = common::person("ann").remove(0);
    let r = s.post(&ingest, "/v1/records", one).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stored"], 1);
    assert_eq!(v["new_subjects"], 1);
    // A batch.
    let r = s
        .post(&ingest, "/v1/records:batch", json!(common::person("ann")))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], 2);
    // CloudEvents, structured and batch mode.
    let ev = json!({"specversion": "1.0", "id": "e1", "source": "/login", "type": "io.steward.usage.authentication",
                    "subject": "username:ann", "time": "2024-05-02T10:00:00Z",
                    "data": {"event": "login", "outcome": "failure", "account": "ann"}});
    let r = s
        .client
        .post(s.url("/v1/cloudevents"))
        .bearer_auth(&ingest)
        .header("content-type", "application/cloudevents+json")
        .body(ev.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .client
        .post(s.url("/v1/cloudevents"))
        .bearer_auth(&ingest)
        .header("content-type", "application/cloudevents-batch+json")
        .body(json!([ev, ev]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], 2);
    // A misfit anywhere in a batch stores nothing (N1.3).
    let mut bad = common::person("ann");
    bad[1]["fields"]["document_body"] = json!("customer content");
    let r = s.post(&ingest, "/v1/records:batch", json!(bad)).await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = p["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    let e = errors[0].as_str().unwrap();
    assert!(e.starts_with("records:2: $.fields.document_body"), "{e}");
    assert!(!p.to_string().contains("customer content"));

    // Security staff read usage for `protect` under a need-to-know grant:
    // allowed (N3.6; issue 17: a person's read of one subject names its
    // justification, N3.8).
    let sam = s.staff("sam", "security").await;
    let today = time::OffsetDateTime::now_utc().date();
    let r = s
        .post(
            &s.operator,
            "/v1/need-to-know-grants",
            json!({"grantee": "sam", "subject": "username:ann", "purpose": "protect",
                   "categories": ["usage"], "expires_on": today.to_string(), "reference": "SEC-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let grant = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .get(
            &sam,
            &format!(
                "/v1/subjects/username:ann/records?purpose=protect&category=usage&grant={grant}"
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    // usage records: 1 in the batch + 3 CloudEvents = 4.
    assert_eq!(v["records"].as_array().unwrap().len(), 4);
    assert!(v["subject"].as_str().unwrap().starts_with("sub_"));
    assert_eq!(v["policy_ids"], json!(["staff-security-read"]));
    assert!(
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["category"] == "usage")
    );
    // ... and denied for internal_reporting on one subject (N3.9), with
    // the reason, the policy and the clause, recorded in the audit log.
    let r = s
        .get(
            &sam,
            "/v1/subjects/username:ann/records?purpose=internal_reporting&category=usage",
        )
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    // N3.9, and N3.8: no justification is cited for this one subject.
    assert_eq!(
        p["policy_ids"],
        json!([
            "forbid-internal-reporting-on-single-subject",
            "forbid-manual-review-without-justification"
        ])
    );
    assert_eq!(p["clause_ids"], json!(["N3.9", "N3.8", "N5.5"]));
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("aggregated or anonymised")
    );
    let idx = p["audit_index"].as_u64().unwrap();
    let denials = s
        .steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some("sam".into()),
            decision: Some("deny".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(denials.len(), 1);
    let entry: Value = serde_json::from_str(&denials[0]).unwrap();
    assert_eq!(entry["index"].as_u64(), Some(idx));
    // No purpose at all: denied (N3).
    let r = s
        .get(&sam, "/v1/subjects/username:ann/records?category=usage")
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["clause_ids"], json!(["N3"]));
    // A purpose outside the closed set is a 400 naming the set.
    let r = s
        .get(&sam, "/v1/subjects/username:ann/records?purpose=sale")
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("provide_services"));
    // The ingest service may not read communications for protect.
    let r = s
        .get(
            &ingest,
            "/v1/subjects/username:ann/records?purpose=protect&category=communications",
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Metrics count what happened.
    let m = s.get(&sam, "/metrics").await.text().await.unwrap();
    assert!(m.contains("steward_records_ingested_total 6\n"), "{m}");
    assert!(
        m.contains("steward_gate_decisions_total{decision=\"deny\"} 3\n"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_is_a_zip_with_manifest_n7_2() {
    let s = start().await;
    assert_eq!(s.ingest(json!(common::person("ann"))).await, 2);
    // The operator (privacy team) exports for `comply` against a recorded
    // data subject request (N3.7, N7.2).
    let r = s
        .post(
            &s.operator,
            "/v1/obligations",
            json!({"kind": "data_subject_request", "reference": "DSR-1"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let ob = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .get(
            &s.operator,
            "/v1/subjects/username:ann/export?purpose=comply",
        )
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    // N3.7, and N3.8: a person's export of one subject cites a justification.
    assert_eq!(p["clause_ids"], json!(["N3.7", "N3.8", "N5.5"]));
    let r = s
        .get(
            &s.operator,
            &format!("/v1/subjects/username:ann/export?purpose=comply&obligation={ob}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/zip");
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "account.csv",
            "account.json",
            "manifest.json",
            "usage.csv",
            "usage.json"
        ]
    );
    let mut m = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    let m: Value = serde_json::from_str(&m).unwrap();
    assert_eq!(m["record_count"], 2);
    assert_eq!(m["categories"], json!({"account": 1, "usage": 1}));
    assert_eq!(m["contact"], "privacy@klustr.io");
    // The ZIP in clear is removed once sent.
    let left = std::fs::read_dir(s.dir.path().join("tmp")).unwrap().count();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_refused_on_the_next_request_n5_5() {
    let s = start().await;
    let (t, id) = s.token_for("ingest").await;
    let r = s.get(&t, "/v1/tokens").await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        list.to_string().find("stw_").is_none(),
        "tokens are never listed"
    );
    let r = s
        .client
        .delete(s.url(&format!("/v1/tokens/{id}")))
        .bearer_auth(&s.operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s.get(&t, "/v1/tokens").await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    // Only the token's hash is stored.
    let db = std::fs::read(s.dir.path().join("jp.sqlite3")).unwrap();
    let needle = t.as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));
    // A principal without manage_principals may not issue tokens (audited denial).
    let sam = s.staff("sam", "support").await;
    let r = s
        .post(&sam, "/v1/tokens", json!({"principal": "ingest"}))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_generated_and_served() {
    let s = start().await;
    let r = s.get(&s.operator, "/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    assert!(v["paths"]["/v1/subjects/{identifier}/records"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limit_is_413_problem_json() {
    let s = common::start_with(steward_server::ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        body_limit: 1024,
        ..Default::default()
    })
    .await;
    let (t, _) = s.token_for("ingest").await;
    let big: Vec<Value> = (0..50).flat_map(|_| common::person("ann")).collect();
    let r = s.post(&t, "/v1/records:batch", json!(big)).await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
}

/// A refusal that needs no body (here 415: not JSON) is still sent only
/// after the body has arrived, so the HTTP/1.1 connection stays usable for
/// the client's next request. Before, the 415 left before the body, hyper
/// closed the connection when the body came, and the client's next request
/// on it failed ("EOF occurred in violation of protocol", schemathesis).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refusal_keeps_the_connection_alive() {
    use tokio::io::AsyncWriteExt as _;
    let s = common::start().await;
    let cfg = common::pinned_tls(s.running.cert_der.as_deref().unwrap(), &[b"http/1.1"]);
    let tcp = tokio::net::TcpStream::connect(s.running.addr)
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut io = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    let body = br#"{"type":"access"}"#;
    let head = format!(
        "POST /v1/requests HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        s.operator,
        body.len()
    );
    io.write_all(head.as_bytes()).await.unwrap();
    io.flush().await.unwrap();
    // The body follows later, as a slow client's second segment would.
    tokio::time::sleep(Duration::from_millis(200)).await;
    io.write_all(body).await.unwrap();
    io.flush().await.unwrap();
    let (status, head) = common::read_response(&mut io).await;
    assert_eq!(status, 415, "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    io.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    io.flush().await.unwrap();
    let (status, head) = common::read_response(&mut io).await;
    assert_eq!(
        status, 200,
        "the same connection answers the next request: {head}"
    );
}

/// N5.1: every route needs the scope its feature declares, the same as
/// the path prefixes decided before the routes were split per feature:
/// a token without that scope is refused with 403 naming it, before
/// anything else is looked at; the documents and metrics need `operate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_needs_its_features_scope_n5_1() {
    let s = start().await;
    let scoped = |scope: &'static str| {
        let s = &s;
        async move {
            let r = s
                .post(
                    &s.operator,
                    "/v1/tokens",
                    json!({"principal": "ingest", "ttl_secs": 600, "scopes": [scope]}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let v: Value = r.json().await.unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let ingest_only = scoped("ingest").await;
    let read_only = scoped("read").await;
    use reqwest::Method as M;
    let routes: &[(M, &str, &str)] = &[
        (M::POST, "/v1/records", "ingest"),
        (M::POST, "/v1/records:batch", "ingest"),
        (M::POST, "/v1/cloudevents", "ingest"),
        (M::GET, "/v1/subjects/username:ann/records", "read"),
        (M::GET, "/v1/subjects/username:ann/export", "export"),
        (M::POST, "/v1/tokens", "manage"),
        (M::GET, "/v1/tokens", "manage"),
        (M::DELETE, "/v1/tokens/tok_1", "manage"),
        (M::POST, "/v1/principals", "manage"),
        (M::DELETE, "/v1/principals/ann", "manage"),
        (M::POST, "/v1/obligations", "manage"),
        (M::POST, "/v1/partners", "manage"),
        (M::POST, "/v1/partners/p/resellers", "manage"),
        (M::POST, "/v1/organisations", "manage"),
        (M::GET, "/v1/organisations/org-a", "manage"),
        (M::PATCH, "/v1/organisations/org-a", "manage"),
        (M::POST, "/v1/organisations/org-a/admins", "manage"),
        (M::POST, "/v1/organisations/org-a/users", "manage"),
        (M::GET, "/v1/organisations/org-a/users", "manage"),
        (M::GET, "/v1/users/u-1/records", "admin"),
        (M::PUT, "/v1/users/u-1/password", "admin"),
        (M::PUT, "/v1/users/u-1/suspension", "admin"),
        (M::GET, "/v1/users/u-1/legal-access", "admin"),
        (M::PUT, "/v1/users/u-1/restrictions", "admin"),
        (M::GET, "/v1/me", "self"),
        (M::GET, "/v1/me/records", "self"),
        (M::GET, "/v1/me/export", "self"),
        (M::PATCH, "/v1/me/account", "self"),
        (M::DELETE, "/v1/me/account", "self"),
        (M::POST, "/v1/requests", "requests"),
        (M::GET, "/v1/requests", "requests"),
        (M::GET, "/v1/requests/dsr_1", "requests"),
        (M::POST, "/v1/requests/dsr_1/approve", "requests"),
        (M::GET, "/v1/requests/dsr_1/result", "requests"),
        (M::POST, "/v1/requests/dsr_1/reject", "requests"),
        (M::POST, "/v1/requests/dsr_1/extend", "requests"),
        (M::POST, "/v1/requests/dsr_1/verification", "requests"),
        (M::POST, "/v1/requests/dsr_1/verify", "requests"),
        (M::POST, "/v1/subjects:merge", "requests"),
        (M::GET, "/v1/identity/confusables", "requests"),
        (M::GET, "/v1/identity/orphans", "requests"),
        // Issue 17 item 4 (N6.6): processors' instruments.
        (M::POST, "/v1/cases/case-1/assign", "manage"),
        (M::POST, "/v1/engagements", "manage"),
        (M::POST, "/v1/engagements/eng_1/end", "manage"),
    ];
    for (method, path, scope) in routes {
        assert!(steward_core::TOKEN_SCOPES.contains(scope));
        let token = if *scope == "ingest" {
            &read_only
        } else {
            &ingest_only
        };
        let r = s.send(method.clone(), token, path, json!({})).await;
        let p = problem(r, StatusCode::FORBIDDEN).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("do not include `{scope}`")),
            "{method} {path}: {p}"
        );
    }
    // Issue 14 item 7: the documents and the metrics need `operate` too.
    for path in ["/openapi.json", "/docs", "/metrics"] {
        let p = problem(s.get(&ingest_only, path).await, StatusCode::FORBIDDEN).await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("do not include `operate`"),
            "{path}: {p}"
        );
    }
}

/// N5.1: a scoped token reaches only its scopes' endpoints (403 naming the
/// missing scope); a scope outside the closed set is refused at issue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_tokens_reach_only_their_endpoints_n5_1() {
    let s = start().await;
    let r = s
        .post(
            &s.operator,
            "/v1/tokens",
            json!({"principal": "ingest", "ttl_secs": 600, "scopes": ["ingest"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let t = v["token"].as_str().unwrap().to_owned();
    assert_eq!(v["info"]["scopes"], json!(["ingest"]));
    // Its own endpoint works.
    let r = s
        .post(&t, "/v1/records:batch", json!(common::person("scoped")))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Any other is refused, naming the scope it lacks.
    let p = problem(s.get(&t, "/v1/tokens").await, StatusCode::FORBIDDEN).await;
    assert!(p["detail"].as_str().unwrap().contains("`manage`"), "{p}");
    let p = problem(
        s.get(
            &t,
            "/v1/subjects/username:scoped/records?category=account&purpose=provide_services",
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("`read`"), "{p}");
    // A scope outside the closed set is refused at issue, naming the valid ones.
    let r = s
        .post(
            &s.operator,
            "/v1/tokens",
            json!({"principal": "ingest", "ttl_secs": 600, "scopes": ["everything"]}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("ingest, read, export"),
        "{p}"
    );
}
