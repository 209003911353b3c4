//! `/v1/requests` over TLS (issue 6): an operator opens and approves a data
//! subject request once (a second approval is 409), lists overdue ones; a
//! data subject opens their own and sees only their own; bodies carry no
//! identifier in clear; the routes are in /openapi.json.

mod common;

use common::{problem, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_core::dsr::NewRequestDetails;
use steward_core::{Channel, RequestFilter};
use steward_domain::RequestType;

const PW: &str = "correct horse battery staple";

async fn body(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

#[tokio::test]
async fn requests_api_lifecycle_overdue_and_own_requests_n7_2() {
    let s = start().await;
    let mut recs = common::person("ann");
    recs.extend(common::person("bob"));
    assert_eq!(s.ingest(json!(recs)).await, 4);
    let op = s.operator.clone();

    // The operator opens an access request for ann: verified at once.
    let r = body(
        s.post(
            &op,
            "/v1/requests",
            json!({"type": "access", "subject": "username:ann"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(r["state"], "verified");
    assert!(r["subject"].as_str().unwrap().starts_with("sub_"));
    let text = r.to_string();
    assert!(
        !text.contains("ann@") && !text.contains("\"ann\""),
        "{text}"
    );
    let id = r["id"].as_str().unwrap().to_owned();

    // Approve: executed through the gate; person() is 2 records.
    let done = body(
        s.post(&op, &format!("/v1/requests/{id}/approve"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["state"], "completed");
    assert_eq!(done["result"]["type"], "access");
    assert_eq!(done["result"]["records"], 2);
    // Exactly once: the second approval is a conflict.
    let p = problem(
        s.post(&op, &format!("/v1/requests/{id}/approve"), json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("completed"), "{p}");

    // Overdue: one received long ago (APPI, 14 days), opened in the core.
    let old = s
        .steward
        .open_request_at(
            "operator",
            Some("username:bob"),
            RequestType::Erasure,
            Channel::Cli,
            NewRequestDetails::default(),
            time::macros::datetime!(2025-01-06 09:00 UTC),
        )
        .unwrap();
    assert_eq!(old.due_on, "2025-01-20");
    let list = body(
        s.get(&op, "/v1/requests?overdue=true").await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [old.id.as_str()]);
    let all = body(s.get(&op, "/v1/requests").await, StatusCode::OK).await;
    assert_eq!(all["requests"].as_array().unwrap().len(), 2);
    let p = problem(
        s.get(&op, "/v1/requests?overdue=maybe").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("overdue"));
    problem(
        s.post(
            &op,
            "/v1/requests",
            json!({"type": "sale", "subject": "username:bob"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // bob as a user of an organisation: opens his own request, sees only his own.
    assert_eq!(
        s.post(
            &op,
            "/v1/organisations",
            json!({"id": "acme", "name": "Acme"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let u = body(
        s.post(
            &op,
            "/v1/organisations/acme/users",
            json!({"subject": "username:bob", "password": PW}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let login = body(
        s.client
            .post(s.url("/v1/auth/token"))
            .json(&json!({"user": u["name"], "password": PW}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let bob = login["token"].as_str().unwrap().to_owned();
    let mine = body(
        s.post(&bob, "/v1/requests", json!({"type": "export"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(mine["verification"]["method"], "authenticated_subject");
    let seen = body(s.get(&bob, "/v1/requests").await, StatusCode::OK).await;
    let seen: Vec<&str> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut want = vec![old.id.as_str(), mine["id"].as_str().unwrap()];
    want.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, want, "bob sees his two requests only");
    problem(
        s.get(&bob, &format!("/v1/requests/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        s.post(
            &bob,
            &format!("/v1/requests/{}/approve", mine["id"].as_str().unwrap()),
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Rejected by staff with a reason.
    let rej = body(
        s.post(
            &op,
            &format!("/v1/requests/{}/reject", old.id),
            json!({"reason": "duplicate of a newer request"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rej["state"], "rejected");
    assert_eq!(
        s.steward.requests(RequestFilter::default()).unwrap().len(),
        3
    );

    // The routes are documented.
    let doc = body(s.get(&op, "/openapi.json").await, StatusCode::OK).await;
    for p in [
        "/v1/requests",
        "/v1/requests/{id}",
        "/v1/requests/{id}/approve",
        "/v1/requests/{id}/reject",
        "/v1/requests/{id}/extend",
    ] {
        assert!(doc["paths"].get(p).is_some(), "missing {p}");
    }
    s.running.shutdown().await;
}
