//! Sharing through the HTTP API (issue 19): a third-party app reaches only
//! what an organisation's administrator granted it and loses it on
//! revocation (N6.3); the subject's export lists each disclosure (N6.2);
//! `Sec-GPC: 1` on a data subject's request is recorded and refuses a
//! consent-based disclosure (N6.4); `/.well-known/gpc.json` dates from the
//! notice in force.

mod common;

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_core::sharing::NewRecipient;
use steward_domain::{Principal, PrincipalKind, RecipientKind, RecipientRole};

use common::*;

fn app_principal(name: &str) -> Principal {
    Principal {
        name: name.into(),
        kind: PrincipalKind::ThirdPartyApp,
        teams: vec![],
        confidentiality_signed_on: None,
        training_expires_on: None,
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

fn recipient(kind: RecipientKind, principal: Option<&str>) -> NewRecipient {
    NewRecipient {
        kind,
        legal_name: "CRM App Inc.".into(),
        address: "1 Market St, San Francisco".into(),
        representative: "DPO".into(),
        country: "JP".into(),
        role: RecipientRole::Controller,
        contract: "MSA-9".into(),
        principal: principal.map(str::to_owned),
        categories: vec![],
        service: None,
        locations: vec![],
        owner: "priv".into(),
        review_interval_days: 365,
    }
}

async fn records(s: &Server, token: &str, category: &str) -> reqwest::Response {
    s.get(
        token,
        &format!("/v1/subjects/username:ann/records?purpose=provide_services&category={category}"),
    )
    .await
}

/// N6.3, N6.2 end to end: the app granted `usage` for `provide_services`
/// reads ann's 2 usage records; `account` is refused; after the
/// administrator revokes the grant its next request is refused; ann's
/// export lists each disclosure made (2 reads before revocation).
#[tokio::test]
async fn an_app_reads_its_grant_loses_it_on_revocation_and_the_export_lists_it_n6_3() {
    let s = start().await;
    let mut recs = person("ann");
    recs.push(
        json!({"subject": "username:ann", "kind": "usage.authentication",
        "occurred_at": "2024-05-02T10:00:00Z",
        "fields": {"event": "login", "outcome": "failure", "account": "ann"}}),
    );
    assert_eq!(s.ingest(Value::Array(recs)).await, 3);
    let st = s.steward.clone();
    let op = st.operator().to_owned();
    st.create_organisation(&op, "acme", "Acme", None, true)
        .unwrap();
    st.add_org_admin(&op, "acme-admin", "acme").unwrap();
    let ann = st.create_user(&op, "acme", "username:ann", None).unwrap();
    let _priv = s.staff("priv", "privacy").await;
    st.add_principal(&op, &app_principal("app-crm")).unwrap();
    let app = st
        .add_recipient(
            "priv",
            recipient(RecipientKind::ThirdPartyApp, Some("app-crm")),
        )
        .unwrap();
    let (admin, _) = s.token_for("acme-admin").await;
    let (app_token, _) = s.token_for("app-crm").await;

    // No grant yet.
    problem(
        records(&s, &app_token, "usage").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = s
        .post(
            &admin,
            "/v1/app-grants",
            json!({"recipient": app.id, "organisation": "acme",
                   "scopes": [{"category": "usage", "purpose": "provide_services"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let grant: Value = r.json().await.unwrap();
    for _ in 0..2 {
        let r = records(&s, &app_token, "usage").await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["records"].as_array().unwrap().len(), 2);
    }
    let denied = problem(
        records(&s, &app_token, "account").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(denied.to_string().contains("N6.3"), "{denied}");
    let r = s
        .post(
            &admin,
            &format!("/v1/app-grants/{}/revoke", grant["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(
        records(&s, &app_token, "usage").await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // ann's export lists the two disclosures, each of 2 records.
    let (ann_token, _) = s.token_for(&ann.name).await;
    let r = s.get(&ann_token, "/v1/me/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut m = String::new();
    z.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    let m: Value = serde_json::from_str(&m).unwrap();
    let d = m["disclosures"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    assert!(
        d.iter()
            .all(|x| x["recipient"] == app.id.as_str() && x["record_count"] == 2)
    );
}

/// GPC (N6.4): `Sec-GPC: 1` on ann's authenticated request is recorded
/// once; a consent-based disclosure to another controller, with a consent
/// ann gave before, is then refused naming GPC; `/.well-known/gpc.json`
/// dates from the notice in force.
#[tokio::test]
async fn sec_gpc_on_a_subjects_request_is_recorded_and_refuses_consent_disclosure_n6_4() {
    let s = start().await;
    s.ingest(Value::Array(person("ann"))).await;
    let st = s.steward.clone();
    let op = st.operator().to_owned();
    st.create_organisation(&op, "acme", "Acme", None, true)
        .unwrap();
    let ann = st.create_user(&op, "acme", "username:ann", None).unwrap();
    let _priv = s.staff("priv", "privacy").await;
    let other = st
        .add_recipient("priv", recipient(RecipientKind::OtherController, None))
        .unwrap();
    let (ann_token, _) = s.token_for(&ann.name).await;
    let r = s
        .post(
            &ann_token,
            "/v1/consents",
            json!({"subject": ann.subject, "recipient": other.id, "method": "console"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(st.gpc_signal(&ann.subject).unwrap().is_none());
    let r = s
        .client
        .get(s.url("/v1/me"))
        .bearer_auth(&ann_token)
        .header("Sec-GPC", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(st.gpc_signal(&ann.subject).unwrap().is_some());
    let (svc, _) = s.token_for("ingest").await;
    let r = s
        .post(
            &svc,
            "/v1/disclosures",
            json!({"subject": "username:ann", "recipient": other.id, "basis": "consent",
                   "purpose": "other_services"}),
        )
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(p.to_string().contains("Global Privacy Control"), "{p}");

    let r = s
        .client
        .get(s.url("/.well-known/gpc.json"))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["gpc"], true);
    assert_eq!(v["lastUpdate"], "2024-01-18");
    assert_eq!(v["lastUpdate"], st.notice_version().as_str());
}
