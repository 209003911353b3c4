//! Issue 15 item 2 over the API (N1.2): a username means something only
//! inside its organisation. Two organisations' users of one username are
//! two subjects and never see each other's records, whichever way a
//! record arrives (for an organisation, or with none).

mod common;

use common::{Server, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PW_A: &str = "correct horse battery staple";
const PW_B: &str = "another long enough password";

async fn created(r: reqwest::Response) -> Value {
    let st = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

async fn user_token(s: &Server, user: &str, pw: &str) -> String {
    let r = s
        .client
        .post(s.url("/v1/auth/token"))
        .json(&json!({"user": user, "password": pw}))
        .send()
        .await
        .unwrap();
    created(r).await["token"].as_str().unwrap().to_owned()
}

fn profile(given: &str) -> Value {
    json!([{"subject": "username:admin2zq", "kind": "account.profile",
            "fields": {"username": "admin2zq", "given_name": given}}])
}

/// The `given_name`s of the account records `token`'s user reads.
async fn my_names(s: &Server, token: &str) -> Vec<String> {
    let r = s.get(token, "/v1/me/records?category=account").await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let mut n: Vec<String> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fields"]["given_name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue15_item2_same_username_in_two_organisations_never_crosses_n1_2() {
    let s = start().await;
    let op = s.operator.clone();
    // Organisation A's account, ingested before anyone named a tenant.
    let (ingest, _) = s.token_for("ingest").await;
    created(s.post(&ingest, "/v1/records:batch", profile("A-own")).await).await;
    for (id, name) in [("org-a", "A"), ("org-b", "B")] {
        created(
            s.post(&op, "/v1/organisations", json!({"id": id, "name": name}))
                .await,
        )
        .await;
    }
    let ua = created(
        s.post(
            &op,
            "/v1/organisations/org-a/users",
            json!({"subject": "username:admin2zq", "password": PW_A}),
        )
        .await,
    )
    .await;
    // Organisation B's confidential record for its own admin2zq, and one
    // that names no organisation.
    created(
        s.post(
            &ingest,
            "/v1/records:batch?organisation=org-b",
            profile("B-confidential"),
        )
        .await,
    )
    .await;
    created(
        s.post(&ingest, "/v1/records:batch", profile("no-tenant"))
            .await,
    )
    .await;
    let ub = created(
        s.post(
            &op,
            "/v1/organisations/org-b/users",
            json!({"subject": "username:admin2zq", "password": PW_B}),
        )
        .await,
    )
    .await;
    assert_ne!(ua["subject"], ub["subject"]);
    let ta = user_token(&s, ua["name"].as_str().unwrap(), PW_A).await;
    let tb = user_token(&s, ub["name"].as_str().unwrap(), PW_B).await;
    assert_eq!(my_names(&s, &ta).await, ["A-own"]);
    assert_eq!(my_names(&s, &tb).await, ["B-confidential"]);
    // An organisation that does not exist is refused; nothing stored.
    let r = s
        .post(
            &ingest,
            "/v1/records:batch?organisation=org-x",
            profile("x"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(my_names(&s, &ta).await, ["A-own"]);
}
