//! Lifecycle of each request type and its deadlines (issue 6), checked
//! against dates computed by hand.

use super::*;

/// Deadlines computed by hand: GDPR one calendar month clamped to the end
/// of a shorter month, extended by two further months from receipt; APPI 14
/// days.
#[test]
fn deadlines_match_dates_computed_by_hand() {
    let c = DsrConfig::default();
    let g = Jurisdiction::Gdpr;
    // 31 January 2026 + 1 month: February 2026 has 28 days.
    assert_eq!(
        c.due_on(g, date!(2026 - 01 - 31), false),
        date!(2026 - 02 - 28)
    );
    // Extended: + 3 months from receipt, April has 30 days.
    assert_eq!(
        c.due_on(g, date!(2026 - 01 - 31), true),
        date!(2026 - 04 - 30)
    );
    // 2028 is a leap year.
    assert_eq!(
        c.due_on(g, date!(2028 - 01 - 31), false),
        date!(2028 - 02 - 29)
    );
    assert_eq!(
        c.due_on(g, date!(2026 - 03 - 15), false),
        date!(2026 - 04 - 15)
    );
    // Across the year end.
    assert_eq!(
        c.due_on(g, date!(2026 - 12 - 31), false),
        date!(2027 - 01 - 31)
    );
    assert_eq!(
        c.due_on(g, date!(2026 - 11 - 30), true),
        date!(2027 - 02 - 28)
    );
    // APPI: 14 days, no month arithmetic.
    assert_eq!(
        c.due_on(Jurisdiction::Appi, date!(2026 - 01 - 31), false),
        date!(2026 - 02 - 14)
    );
    assert_eq!(add_months(date!(2024 - 05 - 31), 1), date!(2024 - 06 - 30));
    // A zero period is refused, naming the key.
    let e = Config::parse("[dsr]\nappi_target_days = 0\n", "s.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("dsr.appi_target_days"), "{e}");
}

/// A subject homed in an EEA region gets the GDPR deadline; the extension
/// is recorded with its reason, only once; overdue listing follows it.
#[test]
fn gdpr_request_deadline_extension_and_overdue_listing() {
    let dir = tempfile::tempdir().unwrap();
    // The whole story starts on the day the request is received: the
    // operator exists (and is trained) from then on.
    let received = datetime!(2026-01-31 09:30 UTC);
    clock().set(received);
    let st = open_with(dir.path(), eu_config(), None);
    seed(&st);
    let r = st
        .open_request(
            st.operator(),
            Some("ann"),
            RequestType::Access,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap();
    clock().clear();
    assert_eq!(r.jurisdiction, Jurisdiction::Gdpr);
    assert_eq!(r.due_on, "2026-02-28");
    let overdue = RequestFilter {
        overdue: true,
        state: None,
    };
    let on = |d: Date| d.with_hms(12, 0, 0).unwrap().assume_utc();
    assert!(
        at_time(on(date!(2026 - 02 - 28)), || st.requests(overdue))
            .unwrap()
            .is_empty()
    );
    let late = at_time(on(date!(2026 - 03 - 01)), || st.requests(overdue)).unwrap();
    assert_eq!(
        late.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [r.id.as_str()]
    );
    let ext = at_time(on(date!(2026 - 02 - 20)), || {
        st.extend(&r.id, st.operator(), "complex request: many systems")
    })
    .unwrap();
    assert_eq!(ext.due_on, "2026-04-30");
    let e = ext.extension.as_ref().unwrap();
    assert_eq!(
        (e.until.as_str(), e.reason.as_str()),
        ("2026-04-30", "complex request: many systems")
    );
    assert!(
        at_time(on(date!(2026 - 03 - 01)), || st.requests(overdue))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        at_time(on(date!(2026 - 05 - 01)), || st.requests(overdue))
            .unwrap()
            .len(),
        1
    );
    let again = st
        .extend(&r.id, st.operator(), "more")
        .unwrap_err()
        .to_string();
    assert!(again.contains("already extended"), "{again}");
    // A completed request is never overdue.
    st.approve(&r.id, st.operator()).unwrap();
    assert!(
        at_time(on(date!(2026 - 05 - 01)), || st.requests(overdue))
            .unwrap()
            .is_empty()
    );
}

/// Japan: APPI, 14 days, no extension.
#[test]
fn appi_request_has_a_target_and_no_extension() {
    let dir = tempfile::tempdir().unwrap();
    clock().set(datetime!(2026-01-31 23:59 UTC));
    let st = open(dir.path());
    seed(&st);
    let r = st
        .open_request(
            st.operator(),
            Some("bob"),
            RequestType::Export,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap();
    clock().clear();
    assert_eq!(
        (r.jurisdiction, r.due_on.as_str()),
        (Jurisdiction::Appi, "2026-02-14")
    );
    let e = st
        .extend(&r.id, st.operator(), "busy")
        .unwrap_err()
        .to_string();
    assert!(e.contains("appi") && e.contains("no extension"), "{e}");
}

/// Access and export: verified at once for the operator, executed through
/// the gate (one `export` decision each), the result of the request's type
/// with the record count ingested for the subject (ann: 2).
#[test]
fn access_and_export_lifecycle_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let mut ids = Vec::new();
    for t in [RequestType::Access, RequestType::Export] {
        let r = cli(&st, "ann", t, NewRequestDetails::default());
        assert_eq!(r.state, RequestState::Verified);
        assert_eq!(r.verification.method.as_deref(), Some("operator"));
        // Nothing in clear: neither the username nor the address.
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains("\"ann\"") && !json.contains("ann@") && !json.contains("example.com"),
            "{json}"
        );
        let done = st.approve(&r.id, st.operator()).unwrap();
        assert_eq!(done.state, RequestState::Completed);
        let (path, records) = match (t, done.result.clone().unwrap()) {
            (RequestType::Access, RequestResult::Access { path, records }) => (path, records),
            (RequestType::Export, RequestResult::Export { path, records }) => (path, records),
            (t, other) => panic!("{t:?}: {other:?}"),
        };
        assert_eq!(records, 2);
        // Kept sealed in the store (issue 21 item 5), served from there.
        assert_eq!(path, format!("store:dsr_results/{}", r.id));
        let zip = st.request_result(&r.id, st.operator()).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        ids.push(r.id.to_string());
        assert!(done.obligation.is_some());
        let states: Vec<_> = done.history.iter().map(|h| h.state).collect();
        assert_eq!(
            states,
            [
                RequestState::Received,
                RequestState::Verified,
                RequestState::InProgress,
                RequestState::Completed
            ]
        );
        // Completed is final.
        let e = st.approve(&r.id, st.operator()).unwrap_err();
        assert!(matches!(e, CoreError::Conflict(_)), "{e}");
    }
    assert_eq!(count_action(&dir.path().join("jp.sqlite3"), "export"), 2);
    assert_eq!(
        count_action(&dir.path().join("jp.sqlite3"), "dsr_complete"),
        2
    );
    // The answers pass through a directory only the owner enters and do
    // not stay there; the sealed results go with the subject's erasure
    // (N8.8).
    let req_dir = dir.path().join("requests");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&req_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    assert_eq!(std::fs::read_dir(&req_dir).unwrap().count(), 0);
    let e = cli(
        &st,
        "ann",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let done = st.approve(&e.id, st.operator()).unwrap();
    assert_eq!(done.state, RequestState::Completed);
    for id in &ids {
        let gone = st.request_result(id, st.operator()).unwrap_err();
        assert!(gone.to_string().contains("no longer stored"), "{gone}");
    }
}

/// Erasure: crypto-shredded through the gate (N8.8), the receipt in the
/// result; an erasure already done is found again, not repeated.
#[test]
fn erasure_lifecycle_and_idempotent_receipt_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = cli(
        &st,
        "ann",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let done = st.approve(&r.id, st.operator()).unwrap();
    match done.result.unwrap() {
        RequestResult::Erasure {
            records_unreadable, ..
        } => assert_eq!(records_unreadable, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(st.find("username:ann").unwrap(), None);
    // bob erased outside the request (e.g. the shredding committed before a
    // crash): the request completes with that receipt, no second shredding.
    let bob = st.find("username:bob").unwrap().unwrap().to_string();
    let r = cli(
        &st,
        "bob",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap();
    let first = st
        .erase(st.operator(), Purpose::Comply, &bob, Some(&ob.id))
        .unwrap();
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!(
        done.result.unwrap(),
        RequestResult::Erasure {
            receipt_id: first.receipt_id,
            records_unreadable: 1,
            records_retained: 0
        }
    );
    assert_eq!(
        count_action(&dir.path().join("jp.sqlite3"), "crypto_shred"),
        2
    );
}

/// Erasure honours legal holds (N3.7): billing records of the subject are
/// kept under the hold (default: 7 years, financial record-keeping) and
/// counted apart from the records made unreadable.
#[test]
fn erasure_request_keeps_billing_under_legal_hold_n3_7() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let payment = |amount: &str| {
        let mut f = Fields::new();
        f.insert("billing_account_id".into(), "ba-1".into());
        f.insert("amount".into(), amount.into());
        f.insert("currency".into(), "EUR".into());
        NewRecord::new(
            "billing.payment".parse::<Kind>().unwrap(),
            Some(SubjectIdentifier::new(IdentifierKind::BillingAccount, "ba-1").unwrap()),
            Product::CloudPlatform,
            None,
            f,
        )
        .unwrap()
    };
    st.ingest(
        "ingest",
        vec![payment("10.00"), payment("12.50")],
        &mut |_| {},
    )
    .unwrap();
    let r = cli(
        &st,
        "billing_account:ba-1",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let done = st.approve(&r.id, st.operator()).unwrap();
    match done.result.unwrap() {
        RequestResult::Erasure {
            records_unreadable,
            records_retained,
            ..
        } => assert_eq!((records_unreadable, records_retained), (0, 2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(st.find("billing_account:ba-1").unwrap(), None);
}

/// Restriction and objection are recorded and honoured by the gate: a
/// restricted subject is read only for comply and protect; an objected
/// purpose is refused (audited denials naming the policy).
#[test]
fn restriction_and_objection_are_honoured_by_the_gate_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    staff(&st, "eng", Team::Engineering);
    staff(&st, "sec", Team::Security);
    // Each person's read of one subject cites a need-to-know grant (issue
    // 17, N3.8, N5.5), so only the restriction or objection decides.
    let read = |who: &str, subject: &str, purpose: Purpose| {
        let g = st
            .grant_need_to_know(
                st.operator(),
                &steward_core::GrantRequest {
                    grantee: who.into(),
                    subject: subject.into(),
                    purpose,
                    categories: vec![Category::Usage],
                    expires_on: clock().today(),
                    reference: "T-1".into(),
                },
            )
            .unwrap();
        st.read(
            &AccessRequest::new(who, Action::Read, subject)
                .category(Category::Usage)
                .purpose(purpose)
                .grant(Some(&g.id)),
        )
    };
    assert!(read("eng", "ann", Purpose::MaintainImprove).is_ok());
    assert!(read("eng", "bob", Purpose::MaintainImprove).is_ok());
    let r = cli(
        &st,
        "ann",
        RequestType::Restriction,
        NewRequestDetails::default(),
    );
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!(
        done.result,
        Some(RequestResult::Restriction { recorded: true })
    );
    match read("eng", "ann", Purpose::MaintainImprove) {
        Err(CoreError::Denied(d)) => {
            assert_eq!(d.policy_ids, ["dsr-restriction"]);
            assert!(d.audit_index.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(read("sec", "ann", Purpose::Protect).is_ok());
    // An objection needs a purpose.
    let e = st
        .open_request(
            st.operator(),
            Some("bob"),
            RequestType::Objection,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("purpose"), "{e}");
    let r = cli(
        &st,
        "bob",
        RequestType::Objection,
        NewRequestDetails {
            purpose: Some(Purpose::MaintainImprove),
            ..Default::default()
        },
    );
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!(
        done.result,
        Some(RequestResult::Objection {
            purpose: Purpose::MaintainImprove
        })
    );
    match read("eng", "bob", Purpose::MaintainImprove) {
        Err(CoreError::Denied(d)) => assert_eq!(d.policy_ids, ["dsr-objection"]),
        other => panic!("{other:?}"),
    }
    assert!(read("sec", "bob", Purpose::Protect).is_ok());
}

/// Rectification: the corrected fields are kept sealed (never in clear in
/// the request), and executing it writes the corrected record (N7.2).
#[test]
fn rectification_lifecycle_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let (_, before) = st
        .read(&AccessRequest {
            obligation_id: Some(
                st.record_obligation(st.operator(), "data_subject_request", "t")
                    .unwrap()
                    .id
                    .into(),
            ),
            ..AccessRequest::new(st.operator(), Action::Read, "bob")
                .category(Category::Account)
                .purpose(Purpose::Comply)
        })
        .unwrap();
    assert_eq!(before.len(), 1);
    let mut fields = Fields::new();
    fields.insert("username".into(), "bob".into());
    fields.insert("email".into(), "bob@example.com".into());
    fields.insert("job_title".into(), "Zookeeper".into());
    let r = cli(
        &st,
        "bob",
        RequestType::Rectification,
        NewRequestDetails {
            record: Some(before[0].id),
            corrections: Some(fields),
            ..Default::default()
        },
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("Zookeeper") && r.details.corrections_sealed.is_some());
    let done = st.approve(&r.id, st.operator()).unwrap();
    let new_id = match done.result.clone() {
        Some(RequestResult::Rectification { record_id }) => record_id,
        other => panic!("{other:?} {:?}", done.reason),
    };
    assert_ne!(new_id, before[0].id.to_string());
    let (_, after) = st
        .read(&AccessRequest {
            obligation_id: done.obligation.clone(),
            grant_id: None,
            ..AccessRequest::new(st.operator(), Action::Read, "bob")
                .category(Category::Account)
                .purpose(Purpose::Comply)
        })
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id.to_string(), new_id);
    assert_eq!(after[0].body["fields"]["job_title"], "Zookeeper");
}
