//! Legal holds (N3.7), erasure with holds and retention (N8.8),
//! rectification (N7.2, N1.3), retention configuration.
//!
//! Fixtures set each record's stored time (`records.stored_at`, which
//! retention counts from) to a known instant, so every expiry below is a
//! date worked out by hand.

use std::path::Path;

use steward_core::{
    AccessRequest, Action, Config, CoreError, OpenOptions, RetainedRecords, Steward,
};
use steward_domain::{
    Category, Fields, NewRecord, Principal, PrincipalKind, Purpose, RecordId, Team,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod common;

fn at(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

fn ms(s: &str) -> i64 {
    (at(s).unix_timestamp_nanos() / 1_000_000) as i64
}

/// The instant each test's story starts at: the operator (and its
/// confidentiality and training dates, N5.5) exists from then on.
const START: &str = "2025-06-01T00:00:00Z";

/// Move the test's clock to `t` (RFC 3339; it stays there) and run `f`: the
/// erasure or sweep happens "at" `t`, and the story goes on from there.
fn at_time<T>(t: &str, f: impl FnOnce() -> T) -> T {
    CLOCK.with(|c| c.set(at(t)));
    f()
}

fn record(kind: &str, user: &str, fields: &[(&str, &str)]) -> NewRecord {
    common::username_record(kind, user, fields)
}

fn login(user: &str) -> NewRecord {
    record(
        "usage.authentication",
        user,
        &[
            ("event", "login"),
            ("outcome", "success"),
            ("account", user),
        ],
    )
}

fn payment(user: &str, amount: &str) -> NewRecord {
    record(
        "billing.payment",
        user,
        &[("amount", amount), ("currency", "EUR")],
    )
}

fn profile(user: &str, title: &str) -> NewRecord {
    record(
        "account.profile",
        user,
        &[("username", user), ("job_title", title)],
    )
}

fn support(user: &str) -> NewRecord {
    record(
        "communications.support",
        user,
        &[("channel", "email"), ("case_id", "c-1")],
    )
}

/// Ingest one record and set its stored time; returns its id.
fn put(st: &Steward, db: &Path, rec: NewRecord, stored: &str) -> i64 {
    // The new record is the id that was not there before (ids increase within
    // one ingest, not across ingests in the same millisecond: each ingest
    // draws its own writer bits).
    let ids = |c: &rusqlite::Connection| -> std::collections::BTreeSet<i64> {
        let mut q = c.prepare("SELECT id FROM records").unwrap();
        q.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = ids(&rusqlite::Connection::open(db).unwrap());
    // The stored time is sealed into the record (issue 13 item 6): it is
    // stamped by the clock at ingest, not changed in the file afterwards.
    let story = CLOCK.with(|c| c.now());
    CLOCK.with(|c| c.set_ms(ms(stored)));
    st.ingest("ingest", vec![rec], &mut |_| {}).unwrap();
    CLOCK.with(|c| c.set(story));
    let c = rusqlite::Connection::open(db).unwrap();
    let new: Vec<i64> = ids(&c).difference(&before).copied().collect();
    assert_eq!(new.len(), 1, "one record stored");
    let id = new[0];
    let at: i64 = c
        .query_row("SELECT stored_at FROM records WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(at, ms(stored));
    id
}

thread_local! {
    /// Each test's Steward reads "now" (stored times, erasure and sweep
    /// times, decision dates) from its thread's clock.
    static CLOCK: steward_core::Clock = steward_core::Clock::system();
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn audit_size(db: &Path) -> i64 {
    count(db, "SELECT size FROM audit_head")
}

fn last_entry(db: &Path, action: &str) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c
        .prepare("SELECT entry FROM audit_entries ORDER BY idx DESC")
        .unwrap();
    let rows: Vec<Vec<u8>> = s
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .find(|e| e.contains(&format!("\"action\":\"{action}\"")))
        .unwrap_or_else(|| panic!("no {action} entry"))
}

fn staff(st: &Steward, name: &str, team: Team) {
    let today = CLOCK.with(|c| c.today());
    st.add_principal(
        st.operator(),
        &Principal {
            name: name.into(),
            kind: PrincipalKind::Employee,
            teams: vec![team],
            confidentiality_signed_on: Some(today - time::Duration::days(30)),
            training_expires_on: Some(today + time::Duration::days(30)),
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        },
    )
    .unwrap();
}

fn read_req(
    principal: &str,
    subject: &str,
    category: Option<Category>,
    purpose: Purpose,
    obligation: Option<&str>,
) -> AccessRequest {
    AccessRequest {
        category,
        ..AccessRequest::new(principal, Action::Read, subject)
            .purpose(purpose)
            .obligation(obligation)
    }
}

fn open(dir: &Path) -> Steward {
    CLOCK.with(|c| c.set(at(START)));
    let opts = OpenOptions {
        clock: CLOCK.with(|c| c.clone()),
        ..Default::default()
    };
    Steward::open(dir, Config::default(), opts).unwrap()
}

#[test]
fn erasure_keeps_billing_under_a_legal_hold_n3_7_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    put(&st, &db, profile("ann", "Engineer"), "2025-11-01T09:00:00Z");
    put(&st, &db, login("ann"), "2025-12-01T09:00:00Z");
    put(&st, &db, login("ann"), "2025-12-02T09:00:00Z");
    // Billing is kept 7 years under a hold: stored 2024-03-15 12:00, it goes
    // on 2031-03-15. The 2018-01-10 one went on 2025-01-10: not held.
    let held = put(&st, &db, payment("ann", "42.50"), "2024-03-15T12:00:00Z");
    put(&st, &db, payment("ann", "9.00"), "2018-01-10T00:00:00Z");
    put(&st, &db, login("bob"), "2025-12-01T09:00:00Z");
    let ann = st.find("ann").unwrap().unwrap();
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "DSR-ann")
        .unwrap();

    let receipt = at_time("2026-01-10T00:00:00Z", || {
        st.erase_with_holds(st.operator(), "ann", Some(&ob.id))
    })
    .unwrap();
    assert_eq!(receipt.subject, ann.to_string());
    // 5 records of ann: profile, 2 logins, 2 payments; 1 held.
    assert_eq!(receipt.records_unreadable, 4);
    assert_eq!(
        receipt.retained,
        vec![RetainedRecords {
            category: "billing".into(),
            kind: "billing.payment".into(),
            count: 1,
            reason: "financial record-keeping (N3.7)".into(),
            rule: "billing".into(),
            period: "7y".into(),
            first_until: "2031-03-15".into(),
            until: "2031-03-15".into(),
        }]
    );
    // The stored receipt lists it too.
    let stored = count(
        &db,
        "SELECT count(*) FROM erasure_receipts WHERE body LIKE '%2031-03-15%' AND body LIKE '%financial record-keeping%'",
    );
    assert_eq!(stored, 1);
    // The subject's DEK and identifiers are gone; the hold key and the held row are apart.
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM subject_keys WHERE subject_id = {}",
                ann.0
            )
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM hold_keys WHERE subject_id = {}",
                ann.0
            )
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM held_records WHERE id = {held}")
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM records WHERE id = {held}")
        ),
        0
    );
    assert_eq!(st.find("ann").unwrap(), None);

    // The usage and account records no longer open: 4 rows of an erased subject stay unreadable;
    // bob's one login still opens.
    assert_eq!(st.verify_records(st.operator()).unwrap(), (1, 4));
    let (_, none) = st
        .read(&read_req(
            st.operator(),
            &ann.to_string(),
            Some(Category::Usage),
            Purpose::Comply,
            Some(&ob.id),
        ))
        .unwrap();
    assert!(none.is_empty());

    // The held record opens for comply, against a recorded obligation of
    // legal staff (the financial record-keeping duty, N3.7), for the
    // category it covers (issue 17 items 2, 3: a data subject request is
    // the privacy team's, and a comply read names its category).
    staff(&st, "lee", Team::Legal);
    let rk = st
        .record_obligation("lee", "record_keeping", "Books-7y")
        .unwrap();
    let (opened, recs) = st
        .read_held(&read_req(
            "lee",
            &ann.to_string(),
            Some(Category::Billing),
            Purpose::Comply,
            Some(&rk.id),
        ))
        .unwrap();
    assert_eq!(opened.subject, Some(ann));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].id, RecordId(held));
    assert_eq!(recs[0].kind, "billing.payment");
    assert_eq!(recs[0].body["fields"]["amount"], "42.50");

    // Not for any other purpose: an internal service may read billing to
    // provide services (automated, no justification needed, N3.8), but not
    // records under a hold.
    let before = audit_size(&db);
    let err = st
        .read_held(&read_req(
            "ingest",
            &ann.to_string(),
            Some(Category::Billing),
            Purpose::ProvideServices,
            None,
        ))
        .unwrap_err();
    match err {
        CoreError::Denied(d) => {
            assert_eq!(d.policy_ids, vec!["legal-hold-comply-only".to_owned()]);
            assert!(d.clause_ids.contains(&"N3.7".to_owned()));
            assert_eq!(d.audit_index, Some(before as u64));
        }
        other => panic!("expected a denial, got {other}"),
    }
    assert_eq!(audit_size(&db), before + 1);
    // comply without a recorded obligation is denied by policy (N3.7).
    assert!(matches!(
        st.read_held(&read_req(
            "lee",
            &ann.to_string(),
            None,
            Purpose::Comply,
            None
        )),
        Err(CoreError::Denied(_))
    ));
    // The erasure's audit entries name the held record by id, and no value.
    let e = last_entry(&db, "legal_hold");
    assert!(e.contains(&RecordId(held).to_string()), "{e}");
    assert!(!e.contains("42.50") && !e.contains("ann"), "{e}");
    // Erasing again: nothing matches.
    assert!(matches!(
        at_time("2026-01-10T00:00:00Z", || st.erase_with_holds(
            st.operator(),
            "ann",
            Some(&ob.id)
        )),
        Err(CoreError::Input(_))
    ));
}

#[test]
fn erasure_denied_changes_nothing_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    put(&st, &db, payment("ann", "1.00"), "2025-01-01T00:00:00Z");
    staff(&st, "sec", Team::Security);
    let before = audit_size(&db);
    assert!(matches!(
        at_time("2026-01-10T00:00:00Z", || st
            .erase_with_holds("sec", "ann", None)),
        Err(CoreError::Denied(_))
    ));
    // One audited denial; the key, the record and no hold key.
    assert_eq!(audit_size(&db), before + 1);
    assert_eq!(count(&db, "SELECT count(*) FROM subject_keys"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM hold_keys"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 1);
}

#[test]
fn retention_sweep_deletes_exactly_the_expired_records_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    // Sweep at 2026-01-10T00:00Z. Usage 180 days: stored at or before
    // 2025-07-14T00:00Z has expired (2026-01-10 minus 180 days, by hand).
    put(&st, &db, login("bob"), "2025-07-13T23:59:59Z"); // expired
    put(&st, &db, login("bob"), "2025-07-14T00:00:00Z"); // expires exactly now: deleted
    put(&st, &db, login("bob"), "2025-07-14T00:00:01Z"); // kept
    put(&st, &db, login("bob"), "2024-01-01T00:00:00Z"); // expired
    // Communications 3 years.
    put(&st, &db, support("bob"), "2022-01-09T00:00:00Z"); // went 2025-01-09
    put(&st, &db, support("bob"), "2023-06-01T00:00:00Z"); // goes 2026-06-01
    // Billing 7 years.
    put(&st, &db, payment("bob", "5.00"), "2018-01-01T00:00:00Z"); // went 2025-01-01
    put(&st, &db, payment("bob", "6.00"), "2020-01-01T00:00:00Z"); // goes 2027-01-01
    // Account: no age-based expiry.
    put(&st, &db, profile("bob", "Engineer"), "2000-01-01T00:00:00Z");
    // carol, erased on 2025-06-01 with a payment stored 2019-01-05: held until
    // 2026-01-05, so the sweep of 2026-01-10 deletes it; her profile row
    // (unreadable since the erasure) has no age-based expiry.
    put(&st, &db, payment("carol", "7.00"), "2019-01-05T00:00:00Z");
    put(&st, &db, profile("carol", "Chef"), "2024-01-01T00:00:00Z");
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "DSR-carol")
        .unwrap();
    let r = at_time("2025-06-01T00:00:00Z", || {
        st.erase_with_holds(st.operator(), "carol", Some(&ob.id))
    })
    .unwrap();
    assert_eq!(r.retained.len(), 1);
    assert_eq!(r.retained[0].until, "2026-01-05");
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 10);
    assert_eq!(count(&db, "SELECT count(*) FROM held_records"), 1);

    // Expected by hand: usage 3, communications 1, billing 2 (one held).
    const NOW: &str = "2026-01-10T00:00:00Z";
    let before = audit_size(&db);
    let dry = at_time(NOW, || st.retention_sweep(st.operator(), true)).unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.deleted, 6);
    assert_eq!(dry.held_deleted, 1);
    let want_cat: Vec<(String, u64)> = vec![
        ("billing".into(), 2),
        ("communications".into(), 1),
        ("usage".into(), 3),
    ];
    assert_eq!(
        dry.by_category.clone().into_iter().collect::<Vec<_>>(),
        want_cat
    );
    let want_kind: Vec<(String, u64)> = vec![
        ("billing.payment".into(), 2),
        ("communications.support".into(), 1),
        ("usage.authentication".into(), 3),
    ];
    assert_eq!(
        dry.by_kind.clone().into_iter().collect::<Vec<_>>(),
        want_kind
    );
    // The dry run changed nothing, not even the audit log.
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 10);
    assert_eq!(count(&db, "SELECT count(*) FROM held_records"), 1);
    assert_eq!(audit_size(&db), before);
    assert_eq!(dry.regions[0].audit_index, None);

    let done = at_time(NOW, || st.retention_sweep(st.operator(), false)).unwrap();
    assert!(!done.dry_run);
    assert_eq!(done.deleted, 6);
    assert_eq!(done.by_category, dry.by_category);
    assert_eq!(done.by_kind, dry.by_kind);
    // Left: bob's login of 07-14 00:00:01, support of 2023, payment of 2020,
    // profile; carol's profile row.
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM held_records"), 0);
    // The hold key went with the last held record.
    assert_eq!(count(&db, "SELECT count(*) FROM hold_keys"), 0);
    // One system entry for the region, with the counts.
    assert_eq!(audit_size(&db), before + 1);
    assert_eq!(done.regions[0].audit_index, Some(before as u64));
    let e = last_entry(&db, "retention_sweep");
    assert!(e.contains("\"count\":6"), "{e}");
    assert!(e.contains("usage.authentication:3"), "{e}");
    assert!(e.contains("held:1"), "{e}");
    assert!(e.contains("N8.8"), "{e}");
    // The survivors still open.
    assert_eq!(st.verify_records(st.operator()).unwrap(), (4, 1));
    // Nothing more has expired.
    assert_eq!(
        at_time(NOW, || st.retention_sweep(st.operator(), false))
            .unwrap()
            .deleted,
        0
    );
}

#[test]
fn rectification_replaces_the_record_and_audits_ids_not_values_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    let old = put(
        &st,
        &db,
        profile("dana", "Engineer"),
        "2025-03-01T00:00:00Z",
    );
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "DSR-dana")
        .unwrap();
    let mut fix = Fields::new();
    fix.insert("job_title".into(), "Staff Engineer".into());
    fix.insert("email".into(), "dana@example.org".into());
    let new = st
        .rectify(st.operator(), "dana", RecordId(old), fix, Some(&ob.id))
        .unwrap();
    assert_ne!(new, RecordId(old));
    // The old record is gone; the corrected one keeps the original stored time.
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM records WHERE id = {old}")
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            &format!("SELECT stored_at FROM records WHERE id = {}", new.0)
        ),
        ms("2025-03-01T00:00:00Z")
    );
    let (_, recs) = st
        .read(&read_req(
            st.operator(),
            "dana",
            Some(Category::Account),
            Purpose::Comply,
            Some(&ob.id),
        ))
        .unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].id, new);
    assert_eq!(recs[0].body["fields"]["job_title"], "Staff Engineer");
    assert_eq!(recs[0].body["fields"]["username"], "dana");
    assert_eq!(recs[0].body["fields"]["email"], "dana@example.org");
    // The corrected email now finds the subject (N7.2).
    assert_eq!(
        st.find("email:dana@example.org").unwrap(),
        st.find("dana").unwrap()
    );
    // The audit entry names both ids and the changed fields, never a value.
    let e = last_entry(&db, "rectification");
    assert!(e.contains(&RecordId(old).to_string()), "{e}");
    assert!(e.contains(&new.to_string()), "{e}");
    assert!(
        e.contains("field:job_title") && e.contains("field:email"),
        "{e}"
    );
    for v in ["Engineer", "dana@example.org", "\"dana\""] {
        assert!(!e.contains(v), "{v} in {e}");
    }
    // The old id is no longer a record of the subject.
    let mut again = Fields::new();
    again.insert("job_title".into(), "CTO".into());
    assert!(matches!(
        st.rectify(st.operator(), "dana", RecordId(old), again, Some(&ob.id)),
        Err(CoreError::Input(_))
    ));

    // N1.3: a field outside the closed schema is refused, named, and nothing changes.
    let size = audit_size(&db);
    let mut bad = Fields::new();
    bad.insert("salary".into(), "1".into());
    let err = st
        .rectify(st.operator(), "dana", new, bad, Some(&ob.id))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("salary") && err.contains("account.profile"),
        "{err}"
    );
    assert_eq!(audit_size(&db), size);
    assert_eq!(count(&db, "SELECT count(*) FROM records"), 1);

    // Values equal to the stored ones: refused, nothing written, but the
    // record was opened to compare, so the allowed decision is recorded.
    let size = audit_size(&db);
    let mut same = Fields::new();
    same.insert("job_title".into(), "Staff Engineer".into());
    let err = st
        .rectify(st.operator(), "dana", new, same, Some(&ob.id))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing to rectify"), "{err}");
    assert_eq!(audit_size(&db), size + 1);
    let e = last_entry(&db, "rectify");
    assert!(e.contains("\"decision\":\"allow\""), "{e}");
    assert!(!e.contains("Staff Engineer"), "{e}");
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM records WHERE id = {}", new.0)
        ),
        1
    );

    // Security staff may not rectify: denied and audited, nothing changes.
    staff(&st, "sec", Team::Security);
    let size = audit_size(&db);
    let mut fix = Fields::new();
    fix.insert("job_title".into(), "Intern".into());
    assert!(matches!(
        st.rectify("sec", "dana", new, fix, None),
        Err(CoreError::Denied(_))
    ));
    assert_eq!(audit_size(&db), size + 1);
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM records WHERE id = {}", new.0)
        ),
        1
    );
}

#[test]
fn retention_configuration_is_parsed_strictly_n8_8() {
    // Defaults: billing 7 years under a hold, usage 180 days; account none.
    let c = Config::parse("", "s.toml").unwrap();
    let billing = c
        .retention_periods
        .rule_for("billing.charge".parse().unwrap())
        .unwrap();
    assert_eq!(billing.0, "billing");
    assert!(billing.1.legal_hold);
    assert_eq!(billing.1.period.unwrap().to_string(), "7y");
    assert!(
        c.retention_periods
            .rule_for("account.profile".parse().unwrap())
            .is_none()
    );
    // An override keeps the other defaults; a kind overrides its category.
    let c = Config::parse(
        "[retention_periods]\nusage = \"90d\"\n\"usage.metric\" = \"2w\"\n",
        "s.toml",
    )
    .unwrap();
    let r = &c.retention_periods;
    assert_eq!(
        r.rule_for("usage.access".parse().unwrap())
            .unwrap()
            .1
            .period
            .unwrap()
            .to_string(),
        "90d"
    );
    assert_eq!(
        r.rule_for("usage.metric".parse().unwrap())
            .unwrap()
            .1
            .period
            .unwrap()
            .to_string(),
        "2w"
    );
    assert!(
        r.rule_for("billing.payment".parse().unwrap())
            .unwrap()
            .1
            .legal_hold
    );
    // The descriptive strings on exports are unchanged.
    assert_eq!(c.retention["usage"], "180 days");

    for (toml, want) in [
        ("usage = \"180x\"", ["retention_periods.usage", "d (days)"]),
        ("usage = \"0d\"", ["retention_periods.usage", "zero"]),
        ("usage = \"-3d\"", ["retention_periods.usage", "negative"]),
        ("telemetry = \"1y\"", ["telemetry", "neither a category"]),
        (
            "billing = { period = \"7y\", legal_hold = true }",
            ["retention_periods.billing", "reason"],
        ),
        (
            "billing = { period = \"none\", legal_hold = true, reason = \"x\" }",
            ["retention_periods.billing", "needs a period"],
        ),
        (
            "billing = { period = \"7y\", hold = true }",
            ["retention_periods.billing", "unknown key `hold`"],
        ),
        ("usage = 180", ["retention_periods.usage", "period string"]),
    ] {
        let e = Config::parse(&format!("[retention_periods]\n{toml}\n"), "s.toml")
            .unwrap_err()
            .to_string();
        for w in want {
            assert!(e.contains(w), "{toml}: {e} lacks {w}");
        }
        assert!(e.contains("s.toml"), "{e}");
    }
}

#[test]
fn key_rotation_keeps_held_records_open_n3_7_n5_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    let held = put(&st, &db, payment("eve", "3.00"), "2025-05-05T00:00:00Z");
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "DSR-eve")
        .unwrap();
    let eve = st.find("eve").unwrap().unwrap();
    at_time("2026-01-10T00:00:00Z", || {
        st.erase_with_holds(st.operator(), "eve", Some(&ob.id))
    })
    .unwrap();
    let (version, _) = st.rotate_keys(st.operator()).unwrap();
    assert_eq!(
        count(&db, "SELECT kek_version FROM hold_keys"),
        i64::from(version)
    );
    // The old KEK wraps nothing any more, so it can be retired.
    st.retire_kek(st.operator(), version - 1).unwrap();
    let (_, recs) = st
        .read_held(&read_req(
            st.operator(),
            &eve.to_string(),
            Some(Category::Billing),
            Purpose::Comply,
            Some(&ob.id),
        ))
        .unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].id, RecordId(held));
}

/// A data subject's objection applies to their held records too (N7.2):
/// `read_held` runs the same checks as every gate entry point, so an
/// objection to `comply` recorded after the erasure refuses the held read
/// (an audited denial under `dsr-objection`). Before the one pipeline,
/// `read_held` skipped this check and opened the record.
#[test]
fn held_records_honour_an_objection_n7_2_n3_7() {
    use steward_core::Channel;
    use steward_core::dsr::{NewRequestDetails, RequestResult};
    use steward_domain::RequestType;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jp.sqlite3");
    let st = open(dir.path());
    let held = put(&st, &db, payment("ann", "42.50"), "2024-03-15T12:00:00Z");
    put(&st, &db, login("ann"), "2025-12-01T09:00:00Z");
    let ann = st.find("ann").unwrap().unwrap();
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "DSR-ann")
        .unwrap();
    // The objection is opened while ann is still known, approved after the erasure.
    let objection = st
        .open_request(
            st.operator(),
            Some("ann"),
            RequestType::Objection,
            Channel::Cli,
            NewRequestDetails {
                purpose: Some(Purpose::Comply),
                ..Default::default()
            },
        )
        .unwrap();
    at_time("2026-01-10T00:00:00Z", || {
        st.erase_with_holds(st.operator(), "ann", Some(&ob.id))
    })
    .unwrap();
    staff(&st, "lee", Team::Legal);
    // Legal staff's record-keeping duty, for billing (issue 17 items 2, 3).
    let rk = st
        .record_obligation("lee", "record_keeping", "Books-7y")
        .unwrap();
    let req = read_req(
        "lee",
        &ann.to_string(),
        Some(Category::Billing),
        Purpose::Comply,
        Some(&rk.id),
    );
    let (_, recs) = st.read_held(&req).unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].id, RecordId(held));

    let done = st.approve(&objection.id, st.operator()).unwrap();
    assert_eq!(
        done.result,
        Some(RequestResult::Objection {
            purpose: Purpose::Comply
        })
    );
    let before = audit_size(&db);
    match st.read_held(&req) {
        Err(CoreError::Denied(d)) => {
            assert_eq!(d.policy_ids, ["dsr-objection"]);
            assert_eq!(d.clause_ids, ["N7.2"]);
            assert_eq!(d.audit_index, Some(before as u64));
        }
        other => panic!("expected the objection to refuse the held read, got {other:?}"),
    }
    assert_eq!(audit_size(&db), before + 1);
    let e = last_entry(&db, "read");
    assert!(
        e.contains("\"decision\":\"deny\"") && e.contains("legal_hold"),
        "{e}"
    );
}
