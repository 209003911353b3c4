//! Issue 17 through the API: a person's read of one subject names a
//! justification that exists and concerns that subject (item 1, N3.8,
//! N5.5), and an obligation's kind and categories decide who cites it for
//! what and who records it (items 2 and 3, N3.7). Every decision is checked
//! in the audit log, the allowed reads with the justification they cited.

mod common;

use common::{Server, problem, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// ann: an account profile, a login, and a payment.
async fn ann(s: &Server) {
    let mut recs = common::person("ann");
    recs.push(json!({"subject": "username:ann", "kind": "billing.payment",
        "occurred_at": "2024-05-03T10:00:00Z",
        "fields": {"billing_account_id": "BA-1", "amount": "12.00", "currency": "EUR",
                   "method": "card", "status": "paid", "reference": "INV-1"}}));
    recs.extend(common::person("bob"));
    assert_eq!(s.ingest(json!(recs)).await, 5);
}

/// The audit entries of `principal` with `decision` (allow or deny), as JSON.
fn entries(s: &Server, principal: &str, decision: &str) -> Vec<Value> {
    s.steward
        .audit_search(&steward_core::AuditFilter {
            principal: Some(principal.into()),
            decision: Some(decision.into()),
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

/// The entry at `index` (one of `list`).
fn at(list: &[Value], index: u64) -> &Value {
    list.iter()
        .find(|e| e["index"].as_u64() == Some(index))
        .unwrap_or_else(|| panic!("no entry {index} in {list:?}"))
}

async fn created(r: reqwest::Response) -> Value {
    let st = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// Item 1 (N3.8 "manual review ... when you interact directly with our
/// billing or support teams"; N5.5 need to know): billing staff read one
/// subject's billing only in a billing interaction with them (a billing
/// case), security staff one subject's usage only under a need-to-know
/// grant (or, once incidents exist, an incident or alert). Without one:
/// 403 naming `forbid-manual-review-without-justification` and N3.8,
/// audited. With one: 200, the response and the audit entry name it
/// (`justification:case:<id>`, `justification:grant:<id>`); a closed case
/// and another subject's grant count as none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n3_8_a_persons_read_of_one_subject_names_its_justification_audited() {
    let s = start().await;
    ann(&s).await;
    let bill = s.staff("bill", "billing").await;
    let sam = s.staff("sam", "security").await;
    let billing_read =
        "/v1/subjects/username:ann/records?purpose=provide_services&category=billing";

    // No reason: denied, audited (item 1: 942 records in one read before).
    let p = problem(s.get(&bill, billing_read).await, StatusCode::FORBIDDEN).await;
    assert_eq!(
        p["policy_ids"],
        json!(["forbid-manual-review-without-justification"])
    );
    assert_eq!(p["clause_ids"], json!(["N3.8", "N5.5"]));
    let denied = entries(&s, "bill", "deny");
    let e = at(&denied, p["audit_index"].as_u64().unwrap());
    assert_eq!(e["action"], "read");
    assert_eq!(
        e["policy_ids"],
        json!(["forbid-manual-review-without-justification"])
    );

    // A billing interaction: billing staff open a billing case about ann.
    let case = created(
        s.post(
            &bill,
            "/v1/cases",
            json!({"subject": "username:ann", "kind": "billing"}),
        )
        .await,
    )
    .await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(case["kind"], "billing");
    // ... but not a technical one (support's, N3.5).
    let p = problem(
        s.post(
            &bill,
            "/v1/cases",
            json!({"subject": "username:ann", "kind": "technical"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["audit_index"].is_u64(), "{p}");

    let r = s
        .get(&bill, &format!("{billing_read}&case={case_id}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    assert_eq!(v["policy_ids"], json!(["staff-billing-read"]));
    let justification = format!("case:{case_id}");
    assert_eq!(v["justification"], json!(justification));
    let allowed = entries(&s, "bill", "allow");
    let e = at(&allowed, v["audit_index"].as_u64().unwrap());
    assert_eq!(e["action"], "read");
    let ids = e["resource"]["ids"].as_array().unwrap();
    assert!(
        ids.contains(&json!(format!("justification:{justification}"))),
        "{e}"
    );
    // The case is about ann: it justifies nothing about bob.
    let p = problem(
        s.get(
            &bill,
            &format!(
                "/v1/subjects/username:bob/records?purpose=provide_services&category=billing&case={case_id}"
            ),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["clause_ids"], json!(["N3.8", "N5.5"]));
    // Closed: it justifies nothing any more.
    let r = s
        .post(&bill, &format!("/v1/cases/{case_id}/close"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        s.get(&bill, &format!("{billing_read}&case={case_id}"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Security: no reason, denied; a need-to-know grant (N5.5), allowed.
    let usage_read = "/v1/subjects/username:ann/records?purpose=protect&category=usage";
    let p = problem(s.get(&sam, usage_read).await, StatusCode::FORBIDDEN).await;
    assert_eq!(p["clause_ids"], json!(["N3.8", "N5.5"]));
    let today = time::OffsetDateTime::now_utc().date();
    let grant = created(
        s.post(
            &s.operator,
            "/v1/need-to-know-grants",
            json!({"grantee": "sam", "subject": "username:ann", "purpose": "protect",
                   "categories": ["usage"], "expires_on": (today + time::Duration::days(7)).to_string(),
                   "reference": "SEC-42"}),
        )
        .await,
    )
    .await;
    let grant_id = grant["id"].as_str().unwrap().to_owned();
    let r = s.get(&sam, &format!("{usage_read}&grant={grant_id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    assert_eq!(v["policy_ids"], json!(["staff-security-read"]));
    assert_eq!(v["justification"], json!(format!("grant:{grant_id}")));
    let allowed = entries(&s, "sam", "allow");
    let e = at(&allowed, v["audit_index"].as_u64().unwrap());
    assert!(
        e["resource"]["ids"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("justification:grant:{grant_id}"))),
        "{e}"
    );
    // The grant names usage and ann: not configuration, not bob.
    for path in [
        "/v1/subjects/username:ann/records?purpose=protect&category=configuration",
        "/v1/subjects/username:bob/records?purpose=protect&category=usage",
    ] {
        problem(
            s.get(&sam, &format!("{path}&grant={grant_id}")).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    // Grants are decided (N5.5): billing staff may not make one, audited.
    let p = problem(
        s.post(
            &bill,
            "/v1/need-to-know-grants",
            json!({"grantee": "bill", "subject": "username:ann", "purpose": "provide_services",
                   "categories": ["billing"], "expires_on": today.to_string(), "reference": "X"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["audit_index"].is_u64(), "{p}");
}

/// Items 2 and 3 (N3.7 "legal process or an enforceable governmental
/// request, or ... financial record-keeping obligations"; N7.2 data
/// subject requests): who records an obligation depends on its kind
/// (legal staff legal requests, privacy staff data subject requests), and a
/// `comply` read names a category the obligation covers: a legal request
/// about ann's billing lets legal staff read her billing, not her usage,
/// not every category at once, and does not let privacy staff erase her.
/// Each decision is audited; the allowed read names its obligation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n3_7_an_obligations_kind_and_categories_decide_who_cites_it_for_what_audited() {
    let s = start().await;
    ann(&s).await;
    let lee = s.staff("lee", "legal").await;
    let pia = s.staff("pia", "privacy").await;

    // Item 2: legal staff do not record data subject requests; privacy
    // staff do not record legal requests. Both refusals audited.
    for (tok, who, kind) in [
        (&lee, "lee", "data_subject_request"),
        (&pia, "pia", "legal_request"),
    ] {
        let p = problem(
            s.post(
                tok,
                "/v1/obligations",
                json!({"kind": kind, "reference": "R-1", "subjects": ["username:ann"]}),
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let e = at(
            &entries(&s, who, "deny"),
            p["audit_index"].as_u64().unwrap(),
        )
        .clone();
        assert_eq!(e["action"], "record_obligation", "{e}");
    }
    let ob = created(
        s.post(
            &lee,
            "/v1/obligations",
            json!({"kind": "legal_request", "reference": "Subpoena 9",
                   "subjects": ["username:ann"], "categories": ["billing"]}),
        )
        .await,
    )
    .await;
    let ob_id = ob["id"].as_str().unwrap().to_owned();
    let read = |category: &str| {
        let mut path =
            format!("/v1/subjects/username:ann/records?purpose=comply&obligation={ob_id}");
        if !category.is_empty() {
            path.push_str("&category=");
            path.push_str(category);
        }
        path
    };
    // The category it covers: allowed, the obligation named.
    let r = s.get(&lee, &read("billing")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    assert_eq!(v["policy_ids"], json!(["staff-legal-read"]));
    assert_eq!(v["justification"], json!(format!("obligation:{ob_id}")));
    let e = at(
        &entries(&s, "lee", "allow"),
        v["audit_index"].as_u64().unwrap(),
    )
    .clone();
    assert!(
        e["resource"]["ids"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("justification:obligation:{ob_id}"))),
        "{e}"
    );
    // Item 3: another category, or every category at once: denied, audited.
    for category in ["usage", ""] {
        let p = problem(s.get(&lee, &read(category)).await, StatusCode::FORBIDDEN).await;
        assert_eq!(p["clause_ids"], json!(["N3.7", "N5.5"]), "{category}: {p}");
        let e = at(
            &entries(&s, "lee", "deny"),
            p["audit_index"].as_u64().unwrap(),
        )
        .clone();
        assert_eq!(e["action"], "read");
    }
    // Item 2: a legal request is not a data subject request: privacy
    // staff cannot erase ann citing it.
    let r = s
        .get(
            &pia,
            &format!("/v1/subjects/username:ann/records?purpose=comply&category=billing&obligation={ob_id}"),
        )
        .await;
    let p = problem(r, StatusCode::FORBIDDEN).await;
    assert!(p["audit_index"].is_u64());
    let e = s
        .steward
        .erase_with_holds("pia", "username:ann", Some(&ob_id))
        .unwrap_err();
    assert!(matches!(e, steward_core::CoreError::Denied(_)), "{e}");
    assert_eq!(
        entries(&s, "pia", "deny")
            .iter()
            .filter(|e| e["action"] == "erase")
            .count(),
        1
    );
    // ann is still there: legal reads her billing again.
    assert_eq!(s.get(&lee, &read("billing")).await.status(), StatusCode::OK);
}
