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

/// Organisation `acme` (made by the first call), a user of it for
/// `subject` with password [`PW`], logged in: the user's token.
async fn user_token(s: &common::Server, subject: &str) -> String {
    let r = s
        .post(
            &s.operator,
            "/v1/organisations",
            json!({"id": "acme", "name": "Acme"}),
        )
        .await;
    assert!(
        r.status() == StatusCode::CREATED || r.status() == StatusCode::CONFLICT,
        "{}",
        r.status()
    );
    let u = body(
        s.post(
            &s.operator,
            "/v1/organisations/acme/users",
            json!({"subject": subject, "password": PW}),
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
    login["token"].as_str().unwrap().to_owned()
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
    // Privacy staff under confidentiality and trained on that day (N5.5),
    // so the request is opened as it would have been then.
    s.steward
        .add_principal(
            "operator",
            &steward_domain::Principal {
                name: "pia".into(),
                kind: steward_domain::PrincipalKind::Employee,
                teams: vec![steward_domain::Team::Privacy],
                organisations: vec![],
                confidentiality_signed_on: Some(time::macros::date!(2024 - 12 - 01)),
                training_expires_on: Some(time::macros::date!(2025 - 12 - 01)),
                engagement_ends_on: None,
                subject: None,
                revoked: false,
            },
        )
        .unwrap();
    s.clock.set(time::macros::datetime!(2025-01-06 09:00 UTC));
    let old = s
        .steward
        .open_request(
            "pia",
            Some("username:bob"),
            RequestType::Erasure,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap();
    s.clock.clear();
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
    let bob = user_token(&s, "username:bob").await;
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

/// Issue 6 item 7: a request left `in_progress` by a server that stopped
/// (here: its registry row is put back as a crash after the `in_progress`
/// transition would leave it) is marked failed, `interrupted`, when
/// `steward serve` starts again, and a second approval then runs it.
#[tokio::test]
async fn serve_start_marks_a_request_left_in_progress_failed() {
    let s = start().await;
    assert_eq!(s.ingest(json!(common::person("ann"))).await, 2);
    let r = body(
        s.post(
            &s.operator,
            "/v1/requests",
            json!({"type": "export", "subject": "username:ann"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    let common::Server {
        dir,
        steward,
        running,
        ..
    } = s;
    running.shutdown().await;
    let operator = steward.operator().to_owned();
    let mut v = serde_json::to_value(steward.request(&id).unwrap()).unwrap();
    drop(steward);
    // The crash: `in_progress` committed an hour ago, nothing after it.
    let started = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let started = started
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    v["state"] = "in_progress".into();
    v["attempts"] = 1.into();
    v["history"].as_array_mut().unwrap().push(json!({
        "at": started, "state": "in_progress", "by": operator, "note": "execution 1 started"
    }));
    let db = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sqlite3"))
        .expect("the region's SQLite store");
    let changed = rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE dsr_requests SET body = ?1 WHERE id = ?2",
            [v.to_string(), id.clone()],
        )
        .unwrap();
    assert_eq!(changed, 1);

    let st = std::sync::Arc::new(
        steward_core::Steward::open(
            dir.path(),
            steward_core::Config::default(),
            steward_core::OpenOptions::default(),
        )
        .unwrap(),
    );
    assert_eq!(
        st.request(&id).unwrap().state,
        steward_domain::RequestState::InProgress
    );
    let running = steward_server::start(
        st.clone(),
        steward_server::ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(running.bootstrap_token.is_none(), "bootstrap is once only");
    let failed = st.request(&id).unwrap();
    assert_eq!(failed.state, steward_domain::RequestState::Failed);
    assert!(
        failed
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("interrupted"),
        "{:?}",
        failed.reason
    );
    let done = st.approve(&id, &operator).unwrap();
    assert_eq!(done.state, steward_domain::RequestState::Completed);
    assert_eq!(done.attempts, 2);
    running.shutdown().await;
}

/// N7.4 over the API: for a request that came by email, privacy staff send
/// the one-time code to the registered contact (the default sender writes
/// it to `<data-dir>/outbox`; the response never carries it), a wrong code
/// uses one attempt (400 naming those left), the right one verifies, and
/// only then does approval run it. A data subject cannot send codes (403).
#[tokio::test]
async fn email_request_code_sent_and_verified_over_the_api_n7_4() {
    let s = start().await;
    assert_eq!(s.ingest(json!(common::person("ann"))).await, 2);
    let r = s
        .steward
        .open_request(
            "ingest",
            Some("ann@example.com"),
            RequestType::Access,
            Channel::Email { record: None },
            NewRequestDetails::default(),
        )
        .unwrap();
    let op = s.operator.clone();
    let base = format!("/v1/requests/{}", r.id);
    let p = problem(
        s.post(&op, &format!("{base}/approve"), json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("not verified"),
        "{p}"
    );

    let sent = body(
        s.post(&op, &format!("{base}/verification"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sent["state"], "received");
    let files: Vec<_> = std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("To: <ann@example.com>\r\n"), "{text}");
    let code: String = text
        .split("enter this code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 8);
    assert!(!sent.to_string().contains(&code), "{sent}");

    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let p = problem(
        s.post(&op, &format!("{base}/verify"), json!({"code": wrong}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("does not match; 4 attempts left"),
        "{p}"
    );
    let v = body(
        s.post(&op, &format!("{base}/verify"), json!({"code": code}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["state"], "verified");
    let done = body(
        s.post(&op, &format!("{base}/approve"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["state"], "completed");
    assert_eq!(done["result"]["records"], 2);

    // A data subject (ann as a user of an organisation) may not send codes.
    let ann = user_token(&s, "username:ann").await;
    problem(
        s.post(&ann, &format!("{base}/verification"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

/// Issue 21 item 5: an export approved through one server is downloaded
/// through a second server (its own Steward, connection and keyring opened
/// on the same store and data directory, as a second node) byte for byte,
/// since the result is kept sealed in the store rather than on the first
/// node's disk.
#[tokio::test]
async fn a_result_is_downloaded_through_a_second_server() {
    let s = start().await;
    assert_eq!(s.ingest(json!(common::person("ann"))).await, 2);
    let op = s.operator.clone();
    let r = body(
        s.post(
            &op,
            "/v1/requests",
            json!({"type": "export", "subject": "username:ann"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    let done = body(
        s.post(&op, &format!("/v1/requests/{id}/approve"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["state"], "completed");
    let path = format!("/v1/requests/{id}/result");
    let one = s.get(&op, &path).await;
    assert_eq!(one.status(), StatusCode::OK);
    let via_one = one.bytes().await.unwrap();
    let two = std::sync::Arc::new(
        steward_core::Steward::open(
            s.dir.path(),
            steward_core::Config::default(),
            steward_core::OpenOptions::default(),
        )
        .unwrap(),
    );
    let running = steward_server::start(
        two,
        steward_server::ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let client = common::pinned_client(running.cert_der.as_deref().unwrap());
    let got = client
        .get(format!("https://localhost:{}{path}", running.addr.port()))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "application/zip");
    let via_two = got.bytes().await.unwrap();
    assert_eq!(&via_two[..4], b"PK\x03\x04");
    assert_eq!(via_one, via_two);
    // An erasure request has no result to download.
    let e = body(
        s.post(
            &op,
            "/v1/requests",
            json!({"type": "erasure", "subject": "username:ann"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let eid = e["id"].as_str().unwrap();
    problem(
        s.get(&op, &format!("/v1/requests/{eid}/result")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    running.shutdown().await;
    s.running.shutdown().await;
}
