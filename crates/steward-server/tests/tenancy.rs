//! Tenancy (N1.2), administrator and reseller powers (N6.5a-e) and users'
//! self-service (N7.1-N7.3) over TLS, each power positive and negative, and
//! the tenant-isolation matrix.

mod common;

use common::{Server, problem, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PW_A: &str = "correct horse battery staple";
const PW_B: &str = "another long enough password";

/// Partner p1 -> org-a (users may export); org-b directly (users may not).
/// ann is a user of org-a, bob of org-b. admin-a / admin-b administer one
/// organisation each; `resell` is p1's reseller.
struct Tenants {
    s: Server,
    admin_a: String,
    admin_b: String,
    resell: String,
    ua: String,
    ub: String,
}

async fn created(r: reqwest::Response) -> Value {
    let st = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

async fn login(s: &Server, user: &str, password: &str) -> reqwest::Response {
    s.client
        .post(s.url("/v1/auth/token"))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn tenants() -> Tenants {
    let s = start().await;
    let mut recs = common::person("ann");
    recs.extend(common::person("bob"));
    assert_eq!(s.ingest(json!(recs)).await, 4);
    let op = s.operator.clone();
    created(
        s.post(
            &op,
            "/v1/partners",
            json!({"id": "p1", "name": "Partner One"}),
        )
        .await,
    )
    .await;
    // The reseller exists before the organisation: it is authorised for it when it is made.
    let r = created(
        s.post(&op, "/v1/partners/p1/resellers", json!({"name": "resell"}))
            .await,
    )
    .await;
    assert_eq!(r["organisations"], json!([]));
    created(
        s.post(
            &op,
            "/v1/organisations",
            json!({"id": "org-a", "name": "A", "partner": "p1"}),
        )
        .await,
    )
    .await;
    created(
        s.post(
            &op,
            "/v1/organisations",
            json!({"id": "org-b", "name": "B", "users_may_export": false}),
        )
        .await,
    )
    .await;
    created(
        s.post(
            &op,
            "/v1/organisations/org-a/admins",
            json!({"name": "admin-a"}),
        )
        .await,
    )
    .await;
    created(
        s.post(
            &op,
            "/v1/organisations/org-b/admins",
            json!({"name": "admin-b"}),
        )
        .await,
    )
    .await;
    let ua = created(
        s.post(
            &op,
            "/v1/organisations/org-a/users",
            json!({"subject": "username:ann", "password": PW_A}),
        )
        .await,
    )
    .await;
    let ub = created(
        s.post(
            &op,
            "/v1/organisations/org-b/users",
            json!({"subject": "username:bob", "password": PW_B}),
        )
        .await,
    )
    .await;
    assert!(ua["name"].as_str().unwrap().starts_with("u-"));
    assert_eq!(ua["has_password"], true);
    let admin_a = s.token_for("admin-a").await.0;
    let admin_b = s.token_for("admin-b").await.0;
    let resell = s.token_for("resell").await.0;
    let me: Value = s.get(&resell, "/v1/me").await.json().await.unwrap();
    assert_eq!(me["principal"]["organisations"], json!(["org-a"]));
    Tenants {
        admin_a,
        admin_b,
        resell,
        ua: ua["name"].as_str().unwrap().to_owned(),
        ub: ub["name"].as_str().unwrap().to_owned(),
        s,
    }
}

async fn user_token(s: &Server, user: &str, pw: &str) -> String {
    let v = created(login(s, user, pw).await).await;
    v["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n6_5a_admin_and_reseller_view_their_organisations_users_only() {
    let t = tenants().await;
    let s = &t.s;
    for tok in [&t.admin_a, &t.resell] {
        let r = s
            .get(tok, &format!("/v1/users/{}/records?category=account", t.ua))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        let recs = v["records"].as_array().unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0]["fields"]["username"], "ann");
        assert_eq!(v["clause_ids"], json!(["N6.5a", "N7.3"]));
        let r = s
            .get(tok, &format!("/v1/users/{}/records?category=account", t.ub))
            .await;
        let p = problem(r, StatusCode::FORBIDDEN).await;
        assert!(!p.to_string().contains("bob"));
    }
    // Communications are not among what N6.5a lets administrators view.
    let r = s
        .get(
            &t.admin_a,
            &format!("/v1/users/{}/records?category=communications", t.ua),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // admin-b views its own user.
    let r = s
        .get(
            &t.admin_b,
            &format!("/v1/users/{}/records?category=usage", t.ub),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n6_5b_admin_changes_a_password_of_its_organisation_only() {
    let t = tenants().await;
    let s = &t.s;
    let new_pw = "a brand new password 123";
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/password", t.ua),
            json!({"password": new_pw}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(login(s, &t.ua, PW_A).await, StatusCode::UNAUTHORIZED).await;
    created(login(s, &t.ua, new_pw).await).await;
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/password", t.ub),
            json!({"password": new_pw}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    created(login(s, &t.ub, PW_B).await).await;
    let r = s
        .put(
            &t.resell,
            &format!("/v1/users/{}/password", t.ub),
            json!({"password": new_pw}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Too short: 400, nothing changed.
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/password", t.ua),
            json!({"password": "short"}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n6_5c_suspended_users_token_is_refused_on_the_very_next_request() {
    let t = tenants().await;
    let s = &t.s;
    let ua_tok = user_token(s, &t.ua, PW_A).await;
    let r = s.get(&ua_tok, "/v1/me/records?category=account").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Another organisation's administrator and reseller may not.
    let r = s
        .put(
            &t.admin_b,
            &format!("/v1/users/{}/suspension", t.ua),
            json!({"suspended": true}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = s.get(&ua_tok, "/v1/me").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .put(
            &t.resell,
            &format!("/v1/users/{}/suspension", t.ub),
            json!({"suspended": true}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // The reseller of org-a suspends ann: her token stops at once.
    let r = s
        .put(
            &t.resell,
            &format!("/v1/users/{}/suspension", t.ua),
            json!({"suspended": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(s.get(&ua_tok, "/v1/me").await, StatusCode::UNAUTHORIZED).await;
    problem(login(s, &t.ua, PW_A).await, StatusCode::UNAUTHORIZED).await;
    // Restored: she may log in again (her old token stays revoked).
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/suspension", t.ua),
            json!({"suspended": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(s.get(&ua_tok, "/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let fresh = user_token(s, &t.ua, PW_A).await;
    assert_eq!(s.get(&fresh, "/v1/me").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n6_5d_legal_access_needs_a_recorded_obligation_and_the_organisation() {
    let t = tenants().await;
    let s = &t.s;
    let r = s
        .get(&t.admin_a, &format!("/v1/users/{}/legal-access", t.ua))
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        p["clause_ids"].as_array().unwrap().contains(&json!("N3.7")),
        "{p}"
    );
    let ob = created(
        s.post(
            &t.admin_a,
            "/v1/obligations",
            json!({"kind": "legal_request", "reference": "Docket 42"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .get(
            &t.admin_a,
            &format!("/v1/users/{}/legal-access?obligation={ob}", t.ua),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    assert_eq!(v["clause_ids"], json!(["N6.5d", "N3.7"]));
    let r = s
        .get(
            &t.admin_a,
            &format!("/v1/users/{}/legal-access?obligation={ob}", t.ub),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n6_5e_restricted_users_edit_and_delete_are_refused_naming_the_restriction() {
    let t = tenants().await;
    let s = &t.s;
    let ua_tok = user_token(s, &t.ua, PW_A).await;
    let edit = |tok: String| {
        let s = &t.s;
        async move {
            s.send(
                Method::PATCH,
                &tok,
                "/v1/me/account",
                json!({"job_title": "Engineer"}),
            )
            .await
        }
    };
    assert_eq!(edit(ua_tok.clone()).await.status(), StatusCode::ACCEPTED);
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/restrictions", t.ua),
            json!({"edit": true, "delete": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = problem(edit(ua_tok.clone()).await, StatusCode::FORBIDDEN).await;
    assert_eq!(p["clause_ids"], json!(["N6.5e"]));
    assert_eq!(p["policy_ids"], json!(["admin-restriction"]));
    let d = p["detail"].as_str().unwrap();
    assert!(
        d.contains("restricted your ability to edit") && d.contains("admin-a"),
        "{d}"
    );
    let r = s
        .send(Method::DELETE, &ua_tok, "/v1/me/account", json!({}))
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("restricted your ability to delete")
    );
    // Both refusals are in the audit log.
    let denials = s
        .steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some(t.ua.clone()),
            decision: Some("deny".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(denials.len(), 2);
    assert!(denials.iter().all(|e| e.contains("\"N6.5e\"")));
    // Lifted: the edit is accepted again. Another organisation's admin may not restrict.
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/restrictions", t.ua),
            json!({"edit": false, "delete": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(edit(ua_tok).await.status(), StatusCode::ACCEPTED);
    let r = s
        .put(
            &t.admin_a,
            &format!("/v1/users/{}/restrictions", t.ub),
            json!({"edit": true, "delete": true}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

/// N7.1: a user's own export follows the organisation's setting; N7.3: the
/// user reads their own account information, and not another user's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n7_1_self_export_follows_the_organisation_setting() {
    let t = tenants().await;
    let s = &t.s;
    let ua_tok = user_token(s, &t.ua, PW_A).await;
    let ub_tok = user_token(s, &t.ub, PW_B).await;
    let r = s.get(&ua_tok, "/v1/me/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/zip");
    let r = s.get(&ub_tok, "/v1/me/export").await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(p["clause_ids"], json!(["N7.1"]));
    assert!(p["detail"].as_str().unwrap().contains("org-b"));
    // Its administrator allows it (N7.1): then the export is served.
    let r = s
        .send(
            Method::PATCH,
            &t.admin_b,
            "/v1/organisations/org-b",
            json!({"users_may_export": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.get(&ub_tok, "/v1/me/export").await.status(),
        StatusCode::OK
    );
    // N7.3: a user reads their own account, not another's.
    let r = s.get(&ua_tok, "/v1/me/records?category=account").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"][0]["fields"]["username"], "ann");
    let r = s
        .get(
            &ua_tok,
            "/v1/subjects/username:bob/records?purpose=provide_services&category=account",
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

/// Issue 14 item 2 (N7.1, N7.2): org-b does not let its users export.
/// Its user's login token is refused on the subject export route too,
/// whichever identifier names him, audited and naming the setting; org-b's
/// administrator exports him (the organisation goes to the gate), org-a's
/// does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n7_1_the_export_setting_holds_on_the_subject_route_and_admins_export_their_users() {
    let t = tenants().await;
    let s = &t.s;
    let ub_tok = user_token(s, &t.ub, PW_B).await;
    let me: Value = s.get(&ub_tok, "/v1/me").await.json().await.unwrap();
    let sub_b = me["user"]["subject"].as_str().unwrap().to_owned();
    for who in [sub_b.as_str(), "username:bob"] {
        let r = s
            .get(
                &ub_tok,
                &format!("/v1/subjects/{who}/export?purpose=provide_services"),
            )
            .await;
        let p = problem(r, StatusCode::FORBIDDEN).await;
        assert_eq!(
            p["policy_ids"],
            json!(["organisation-disallows-export"]),
            "{p}"
        );
        assert_eq!(p["clause_ids"], json!(["N7.1"]));
        assert!(p["audit_index"].is_u64(), "{p}");
    }
    let r = s
        .get(
            &t.admin_b,
            "/v1/subjects/username:bob/export?purpose=provide_services",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/zip");
    let r = s
        .get(
            &t.admin_a,
            "/v1/subjects/username:bob/export?purpose=provide_services",
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_isolation_matrix_every_cell_denied_and_audited() {
    let t = tenants().await;
    let s = &t.s;
    let ua_tok = user_token(s, &t.ua, PW_A).await;
    let ob = created(
        s.post(
            &t.admin_a,
            "/v1/obligations",
            json!({"kind": "legal_request", "reference": "Docket 7"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ub = &t.ub;
    let rb = s
        .steward
        .open_request(
            s.steward.operator(),
            Some("username:bob"),
            steward_domain::RequestType::Access,
            steward_core::Channel::Cli,
            steward_core::dsr::NewRequestDetails::default(),
        )
        .unwrap()
        .id;
    let cells: Vec<(Method, String, Value)> = vec![
        (
            Method::GET,
            "/v1/subjects/username:bob/records?purpose=provide_services&category=account".into(),
            json!(null),
        ),
        (
            Method::GET,
            "/v1/subjects/username:bob/records?purpose=comply&obligation=".to_owned() + &ob,
            json!(null),
        ),
        (
            Method::GET,
            "/v1/subjects/username:bob/export?purpose=provide_services".into(),
            json!(null),
        ),
        (
            Method::GET,
            format!("/v1/users/{ub}/records?category=account"),
            json!(null),
        ),
        (
            Method::GET,
            format!("/v1/users/{ub}/records?category=billing"),
            json!(null),
        ),
        (
            Method::PUT,
            format!("/v1/users/{ub}/password"),
            json!({"password": "hijacked password 1"}),
        ),
        (
            Method::PUT,
            format!("/v1/users/{ub}/suspension"),
            json!({"suspended": true}),
        ),
        (
            Method::GET,
            format!("/v1/users/{ub}/legal-access?obligation={ob}"),
            json!(null),
        ),
        (
            Method::PUT,
            format!("/v1/users/{ub}/restrictions"),
            json!({"edit": true, "delete": true}),
        ),
        (Method::GET, "/v1/organisations/org-b".into(), json!(null)),
        (
            Method::PATCH,
            "/v1/organisations/org-b".into(),
            json!({"users_may_export": true}),
        ),
        (
            Method::GET,
            "/v1/organisations/org-b/users".into(),
            json!(null),
        ),
        // Ingest into org-b's subject, tokens and principals of org-b's
        // user, users and admins added to org-b.
        (
            Method::POST,
            "/v1/records".into(),
            json!({"subject": "username:bob", "kind": "account.profile",
                   "fields": {"username": "bob", "job_title": "Planted"}}),
        ),
        (
            Method::POST,
            "/v1/tokens".into(),
            json!({"principal": ub, "ttl_secs": 600}),
        ),
        (Method::DELETE, format!("/v1/principals/{ub}"), json!(null)),
        (
            Method::POST,
            "/v1/organisations/org-b/users".into(),
            json!({"subject": "username:planted", "password": "planted password 123"}),
        ),
        (
            Method::POST,
            "/v1/organisations/org-b/admins".into(),
            json!({"name": "planted-admin"}),
        ),
        // A data subject request about org-b's user, and one already
        // open about him: read, decided, verified.
        (
            Method::POST,
            "/v1/requests".into(),
            json!({"type": "erasure", "subject": "username:bob"}),
        ),
        (Method::GET, format!("/v1/requests/{rb}"), json!(null)),
        (
            Method::POST,
            format!("/v1/requests/{rb}/approve"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/v1/requests/{rb}/reject"),
            json!({"reason": "not needed"}),
        ),
        (
            Method::POST,
            format!("/v1/requests/{rb}/extend"),
            json!({"reason": "complex request"}),
        ),
        (
            Method::POST,
            format!("/v1/requests/{rb}/verification"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/v1/requests/{rb}/verify"),
            json!({"code": "12345678"}),
        ),
    ];
    let actors = [
        ("admin-a", t.admin_a.clone()),
        ("resell", t.resell.clone()),
        (t.ua.as_str(), ua_tok),
    ];
    for (who, tok) in &actors {
        let before = deny_count(s, who);
        for (m, path, body) in &cells {
            let r = if body.is_null() {
                s.client
                    .request(m.clone(), s.url(path))
                    .bearer_auth(tok)
                    .send()
                    .await
                    .unwrap()
            } else {
                s.send(m.clone(), tok, path, body.clone()).await
            };
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
                "{who} {m} {path}: {status} {text}"
            );
            assert!(
                !text.contains("bob") && !text.contains(ub.as_str()),
                "{who} {path}: {text}"
            );
        }
        assert_eq!(
            deny_count(s, who) - before,
            cells.len(),
            "{who}: every denial is audited"
        );
    }
    // The request list is for privacy staff: administrators and resellers
    // are refused (audited); a user sees only their own requests (none).
    for (who, tok) in &actors[..2] {
        let before = deny_count(s, who);
        problem(s.get(tok, "/v1/requests").await, StatusCode::FORBIDDEN).await;
        assert_eq!(deny_count(s, who) - before, 1, "{who}: audited");
    }
    let mine: Value = s
        .get(&actors[2].1, "/v1/requests")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["requests"], json!([]));
    // Nothing of org-b changed.
    created(login(s, &t.ub, PW_B).await).await;
    let org: Value = s
        .get(&t.admin_b, "/v1/organisations/org-b")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org["users_may_export"], false);
}

fn deny_count(s: &Server, principal: &str) -> usize {
    s.steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some(principal.into()),
            decision: Some("deny".into()),
            ..Default::default()
        })
        .unwrap()
        .len()
}

/// Issue 17 item 6 (N7.2 "tools to access, control, and export your data";
/// N6.5e): a user deletes their own data through `DELETE /v1/me/account`
/// unless an administrator restricted it. Allowed: 202, decided by policy
/// `subject-own-erase` and done as every erasure (crypto-shredded, legal
/// holds applying, N3.7, N8.8): the decision's audit entry is an allowed
/// `erase` for provide_services, the erasure receipt follows, and the
/// user's data no longer opens for their administrator. Bob, restricted by
/// his administrator, is refused naming the restriction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n7_2_a_user_erases_their_own_data_unless_restricted_audited() {
    let t = tenants().await;
    let s = &t.s;
    let ua_tok = user_token(s, &t.ua, PW_A).await;
    let me: Value = s.get(&ua_tok, "/v1/me").await.json().await.unwrap();
    let sub_a = me["user"]["subject"].as_str().unwrap().to_owned();
    let r = s
        .send(Method::DELETE, &ua_tok, "/v1/me/account", json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let v: Value = r.json().await.unwrap();
    let idx = v["audit_index"].as_u64().unwrap();
    let allowed = s
        .steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some(t.ua.clone()),
            decision: Some("allow".into()),
            action: Some("erase".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    let e: Value = serde_json::from_str(&allowed[0]).unwrap();
    assert_eq!(e["index"].as_u64(), Some(idx));
    assert_eq!(e["policy_ids"], json!(["subject-own-erase"]));
    assert_eq!(e["purpose"], "provide_services");
    assert!(
        e["clause_ids"].as_array().unwrap().contains(&json!("N7.2")),
        "{e}"
    );
    // Done as every erasure: a receipt for ann's subject, nothing left to open.
    let receipts = s.steward.receipts().unwrap();
    assert!(receipts.iter().any(|r| r.subject == sub_a), "{receipts:?}");
    assert!(s.steward.find(&sub_a).unwrap().is_none());
    // Bob's administrator restricts deletion (N6.5e): refused, audited.
    let r = s
        .put(
            &t.admin_b,
            &format!("/v1/users/{}/restrictions", t.ub),
            json!({"edit": false, "delete": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ub_tok = user_token(s, &t.ub, PW_B).await;
    let p = problem(
        s.send(Method::DELETE, &ub_tok, "/v1/me/account", json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["clause_ids"], json!(["N6.5e"]));
    assert!(s.steward.find("username:bob").unwrap().is_some());
}

/// Issue 17 item 7 (N7.1, N7.2 "you or your organization may use various
/// tools to access, control, and export your data"): an organisation's
/// administrator exports a user of their organisation through the API,
/// decided by policy `admin-export-for-organisation` with the organisation
/// passed by the core, and the allowed `export` is in the audit log; the
/// other organisation's administrator is refused, audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n7_2_an_administrator_exports_a_user_of_their_organisation_audited() {
    let t = tenants().await;
    let s = &t.s;
    let r = s
        .get(
            &t.admin_a,
            "/v1/subjects/username:ann/export?purpose=provide_services",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/zip");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a ZIP");
    let allowed = s
        .steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some("admin-a".into()),
            decision: Some("allow".into()),
            action: Some("export".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    let e: Value = serde_json::from_str(&allowed[0]).unwrap();
    assert_eq!(e["policy_ids"], json!(["admin-export-for-organisation"]));
    assert_eq!(e["purpose"], "provide_services");
    assert_eq!(e["clause_ids"], json!(["N7.2", "N7.1"]));
    assert_eq!(e["resource"]["subjects"].as_array().unwrap().len(), 1);
    let p = problem(
        s.get(
            &t.admin_b,
            "/v1/subjects/username:ann/export?purpose=provide_services",
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["audit_index"].is_u64(), "{p}");
}
