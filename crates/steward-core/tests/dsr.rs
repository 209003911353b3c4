//! Data subject requests (issue 6): lifecycle of each type, deadlines
//! checked against dates computed by hand, one-time code expiry and attempt
//! limit, the administrator's restriction (N6.5e), the policy version
//! pinned at receipt, exactly-once execution under concurrent approvals,
//! idempotent retry after a store failure, and resumption after a crash.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};

use steward_core::dsr::{
    CodeMessage, CodeSender, DsrConfig, Jurisdiction, NewRequestDetails, RequestFilter,
    RequestResult, VerificationState, add_months,
};
use steward_core::{AccessRequest, Action, Channel, Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, Purpose,
    RequestState, RequestType, SubjectIdentifier, Team,
};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

// ----------------------------------------------------------------- fixtures

fn profile(user: &str, email: &str, title: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    f.insert("job_title".into(), title.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn open_with(dir: &Path, config: Config, policy_dir: Option<PathBuf>) -> Steward {
    Steward::open(
        dir,
        config,
        OpenOptions {
            policy_dir,
            ..Default::default()
        },
    )
    .unwrap()
}

fn open(dir: &Path) -> Steward {
    open_with(dir, Config::default(), None)
}

/// ann: two account records (the profile and a second one), bob: one.
fn seed(st: &Steward) {
    st.ingest(
        "ingest",
        vec![
            profile("ann", "ann@example.com", "Engineer"),
            profile("ann", "ann@example.com", "Lead"),
            profile("bob", "bob@example.com", "Analyst"),
        ],
        &mut |_| {},
    )
    .unwrap();
}

fn staff(st: &Steward, name: &str, team: Team) {
    let today = OffsetDateTime::now_utc().date();
    st.add_principal(
        st.operator(),
        &Principal {
            name: name.into(),
            kind: PrincipalKind::Employee,
            teams: vec![team],
            confidentiality_signed_on: Some(today),
            training_expires_on: Some(today + time::Duration::days(30)),
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        },
    )
    .unwrap();
}

fn cli(
    st: &Steward,
    who: &str,
    t: RequestType,
    details: NewRequestDetails,
) -> steward_core::Request {
    st.open_request(st.operator(), Some(who), t, Channel::Cli, details)
        .unwrap()
}

/// Count audit entries of `action` in a SQLite store file, straight from
/// the table (independently of Steward's code).
fn count_action(db: &Path, action: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM audit_entries WHERE CAST(entry AS TEXT) LIKE ?1",
        [format!("%\"action\":\"{action}\"%")],
        |r| r.get(0),
    )
    .unwrap()
}

/// A code sender that keeps what it was asked to send.
#[derive(Default)]
struct Captured(Mutex<Vec<(String, String)>>);

impl CodeSender for Captured {
    fn send(&self, m: &CodeMessage<'_>) -> Result<(), CoreError> {
        self.0
            .lock()
            .unwrap()
            .push((m.to.to_owned(), m.code.to_owned()));
        Ok(())
    }
}

impl Captured {
    fn last(&self) -> (String, String) {
        self.0.lock().unwrap().last().cloned().unwrap()
    }
}

fn eu_config() -> Config {
    let mut c = Config::default();
    c.regions[0].name = "eu".into();
    c.regions[0].country = "DE".into();
    c
}

// ---------------------------------------------------------------- deadlines

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
    let st = open_with(dir.path(), eu_config(), None);
    seed(&st);
    let received = datetime!(2026-01-31 09:30 UTC);
    let r = st
        .open_request_at(
            st.operator(),
            Some("ann"),
            RequestType::Access,
            Channel::Cli,
            NewRequestDetails::default(),
            received,
        )
        .unwrap();
    assert_eq!(r.jurisdiction, Jurisdiction::Gdpr);
    assert_eq!(r.due_on, "2026-02-28");
    let overdue = RequestFilter {
        overdue: true,
        state: None,
    };
    let on = |d: Date| d.with_hms(12, 0, 0).unwrap().assume_utc();
    assert!(
        st.requests_at(overdue, on(date!(2026 - 02 - 28)))
            .unwrap()
            .is_empty()
    );
    let late = st.requests_at(overdue, on(date!(2026 - 03 - 01))).unwrap();
    assert_eq!(
        late.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [r.id.as_str()]
    );
    let ext = st
        .extend_at(
            &r.id,
            st.operator(),
            "complex request: many systems",
            on(date!(2026 - 02 - 20)),
        )
        .unwrap();
    assert_eq!(ext.due_on, "2026-04-30");
    let e = ext.extension.as_ref().unwrap();
    assert_eq!(
        (e.until.as_str(), e.reason.as_str()),
        ("2026-04-30", "complex request: many systems")
    );
    assert!(
        st.requests_at(overdue, on(date!(2026 - 03 - 01)))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        st.requests_at(overdue, on(date!(2026 - 05 - 01)))
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
        st.requests_at(overdue, on(date!(2026 - 05 - 01)))
            .unwrap()
            .is_empty()
    );
}

/// Japan: APPI, 14 days, no extension.
#[test]
fn appi_request_has_a_target_and_no_extension() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = st
        .open_request_at(
            st.operator(),
            Some("bob"),
            RequestType::Export,
            Channel::Cli,
            NewRequestDetails::default(),
            datetime!(2026-01-31 23:59 UTC),
        )
        .unwrap();
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

// ---------------------------------------------------------------- lifecycle

/// Access and export: verified at once for the operator, executed through
/// the gate (one `export` decision each), the result of the request's type
/// with the record count ingested for the subject (ann: 2).
#[test]
fn access_and_export_lifecycle_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
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
        assert!(Path::new(&path).exists(), "{path}");
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
    // The answers are Service Data in clear: a directory only the owner
    // enters, and they go with the subject's erasure (N8.8).
    let req_dir = dir.path().join("requests");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&req_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    assert_eq!(std::fs::read_dir(&req_dir).unwrap().count(), 2);
    let e = cli(
        &st,
        "ann",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let done = st.approve(&e.id, st.operator()).unwrap();
    assert_eq!(done.state, RequestState::Completed);
    assert_eq!(std::fs::read_dir(&req_dir).unwrap().count(), 0);
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
    let read = |who: &str, subject: &str, purpose: Purpose| {
        st.read(
            &AccessRequest::new(who, Action::Read, subject)
                .category(Category::Usage)
                .purpose(purpose),
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
                    .id,
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
            ..AccessRequest::new(st.operator(), Action::Read, "bob")
                .category(Category::Account)
                .purpose(Purpose::Comply)
        })
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id.to_string(), new_id);
    assert_eq!(after[0].body["fields"]["job_title"], "Zookeeper");
}

// ------------------------------------------------------------- verification

/// An email request: the code goes to the registered contact, is stored
/// only hashed, expires after 15 minutes, and verifies within them.
#[test]
fn email_code_expiry_then_verification_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let t0 = datetime!(2026-03-02 10:00 UTC);
    let r = st
        .open_request_at(
            "ingest",
            Some("Ann@Example.com"),
            RequestType::Export,
            Channel::Email {
                record: Some("rec_0000000000000001".into()),
            },
            NewRequestDetails::default(),
            t0,
        )
        .unwrap();
    assert_eq!(r.state, RequestState::Received);
    assert_eq!(r.verification.state, VerificationState::Pending);
    let e = st.approve(&r.id, st.operator()).unwrap_err().to_string();
    assert!(e.contains("not verified"), "{e}");
    let sender = Captured::default();
    st.send_verification_with(&r.id, &sender, t0).unwrap();
    let (to, code) = sender.last();
    assert_eq!(to, "ann@example.com");
    assert!(
        code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    // Expired: 15 min 1 s later.
    let e = st
        .verify_at(&r.id, &code, t0 + time::Duration::seconds(901))
        .unwrap_err()
        .to_string();
    assert!(e.contains("expired"), "{e}");
    // A new code; the old one no longer works, the new one does.
    let t1 = t0 + time::Duration::minutes(20);
    st.send_verification_with(&r.id, &sender, t1).unwrap();
    let (_, code2) = sender.last();
    if code2 != code {
        assert!(st.verify_at(&r.id, &code, t1).is_err());
    }
    let v = st
        .verify_at(&r.id, &code2, t1 + time::Duration::minutes(1))
        .unwrap();
    assert_eq!(v.state, RequestState::Verified);
    assert_eq!(v.verification.method.as_deref(), Some("one_time_code"));
    // The code is nowhere in the store in clear.
    let db = std::fs::read(dir.path().join("jp.sqlite3")).unwrap();
    let wal = std::fs::read(dir.path().join("jp.sqlite3-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(code2.len()).any(|w| w == code2.as_bytes()));
    }
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!(done.state, RequestState::Completed);
}

/// Five wrong codes lock verification; the right code no longer helps and
/// the request is never executed.
#[test]
fn email_code_attempt_limit_locks_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let t0 = datetime!(2026-03-02 10:00 UTC);
    let r = st
        .open_request_at(
            "ingest",
            Some("bob@example.com"),
            RequestType::Erasure,
            Channel::Email { record: None },
            NewRequestDetails::default(),
            t0,
        )
        .unwrap();
    let sender = Captured::default();
    st.send_verification_with(&r.id, &sender, t0).unwrap();
    let (_, code) = sender.last();
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for left in (0..5).rev() {
        let e = st.verify_at(&r.id, wrong, t0).unwrap_err().to_string();
        if left > 0 {
            assert!(e.contains(&format!("{left} attempts left")), "{e}");
        } else {
            assert!(e.contains("locked"), "{e}");
        }
    }
    let e = st.verify_at(&r.id, &code, t0).unwrap_err().to_string();
    assert!(e.contains("locked"), "{e}");
    let now = st.request(&r.id).unwrap();
    assert_eq!(now.verification.state, VerificationState::Locked);
    assert!(st.approve(&r.id, st.operator()).is_err());
    assert!(st.send_verification_with(&r.id, &sender, t0).is_err());
    assert!(st.find("username:bob").unwrap().is_some());
    assert_eq!(
        count_action(&dir.path().join("jp.sqlite3"), "dsr_verify_failed"),
        5
    );
}

/// An unknown sender gets a recorded request, unverified, never executed.
#[test]
fn unknown_sender_is_recorded_unverified_never_executed_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = st
        .open_request(
            "ingest",
            Some("stranger@example.org"),
            RequestType::Erasure,
            Channel::Email { record: None },
            NewRequestDetails::default(),
        )
        .unwrap();
    assert_eq!(
        (r.subject.as_deref(), r.verification.state),
        (None, VerificationState::Unverified)
    );
    assert!(r.identifier_ref.is_some());
    assert!(!serde_json::to_string(&r).unwrap().contains("stranger"));
    let e = st.approve(&r.id, st.operator()).unwrap_err().to_string();
    assert!(e.contains("never executed"), "{e}");
    assert!(st.send_verification(&r.id).is_err());
    let rejected = st.reject(&r.id, st.operator(), "sender unknown").unwrap();
    assert_eq!(rejected.state, RequestState::Rejected);
}

/// The default sender writes an RFC 5322 message, 0600, to the outbox.
#[test]
fn outbox_sender_writes_an_rfc5322_message_0600() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = st
        .open_request(
            "ingest",
            Some("ann@example.com"),
            RequestType::Access,
            Channel::Email { record: None },
            NewRequestDetails::default(),
        )
        .unwrap();
    st.send_verification(&r.id).unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("To: <ann@example.com>\r\n"), "{text}");
    assert!(text.contains("From: <privacy@klustr.io>\r\n"));
    assert!(text.contains(&format!(
        "Subject: Your verification code for request {}\r\n",
        r.id
    )));
    assert!(text.contains("\r\n\r\n"));
    let code: String = text
        .split("enter this code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 8);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        st.verify(&r.id, &code).unwrap().state,
        RequestState::Verified
    );
}

// ------------------------------------------------- restriction and policy

/// N6.5e: an administrator restricted deletion, so the user's own erasure
/// request is rejected, naming the restriction; nothing is erased.
#[test]
fn admin_restriction_rejects_self_service_erasure_n6_5e() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let op = st.operator().to_owned();
    st.create_organisation(&op, "acme", "Acme", None, true)
        .unwrap();
    st.add_org_admin(&op, "acme-admin", "acme").unwrap();
    let user = st.create_user(&op, "acme", "ann", None).unwrap();
    st.admin_restrict(
        "acme-admin",
        &user.name,
        steward_core::Restrictions {
            edit: false,
            delete: true,
        },
    )
    .unwrap();
    let r = st
        .open_request(
            &user.name,
            Some(&user.subject),
            RequestType::Erasure,
            Channel::Api,
            NewRequestDetails::default(),
        )
        .unwrap();
    assert_eq!(
        r.verification.method.as_deref(),
        Some("authenticated_subject")
    );
    match st.approve(&r.id, &op) {
        Err(CoreError::Denied(d)) => {
            assert!(
                d.reason.contains("acme-admin") && d.reason.contains("N6.5e"),
                "{}",
                d.reason
            );
            assert_eq!(d.clause_ids, ["N6.5e"]);
        }
        other => panic!("{other:?}"),
    }
    let now = st.request(&r.id).unwrap();
    assert_eq!(now.state, RequestState::Rejected);
    assert!(now.reason.unwrap().contains("restricted"));
    assert!(st.find("username:ann").unwrap().is_some());
    // A data subject cannot open a request about someone else.
    let e = st
        .open_request(
            &user.name,
            Some("bob"),
            RequestType::Access,
            Channel::Api,
            NewRequestDetails::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("own data"), "{e}");
}

/// The policy version in force at receipt is pinned: a Steward running
/// another pack refuses to execute it, naming both versions; the pinned
/// version executes it.
#[test]
fn policy_version_is_pinned_at_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let pinned = st.policy_version().to_owned();
    let r = cli(
        &st,
        "ann",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    assert_eq!(r.policy_version, pinned);
    drop(st);
    // The same pack under another version number.
    let pack = dir.path().join("pack-next");
    std::fs::create_dir_all(&pack).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../steward-policy/pack");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, pack.join(p.file_name().unwrap())).unwrap();
    }
    let toml = std::fs::read_to_string(pack.join("pack.toml")).unwrap();
    let next = toml.replace(
        &format!("version = \"{pinned}\""),
        "version = \"2099-01-01.1\"",
    );
    assert_ne!(toml, next);
    std::fs::write(pack.join("pack.toml"), next).unwrap();
    let st = open_with(dir.path(), Config::default(), Some(pack));
    assert_eq!(st.policy_version(), "2099-01-01.1");
    let e = st.approve(&r.id, st.operator()).unwrap_err().to_string();
    assert!(e.contains(&pinned) && e.contains("2099-01-01.1"), "{e}");
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::Verified);
    drop(st);
    let st = open(dir.path());
    assert_eq!(
        st.approve(&r.id, st.operator()).unwrap().state,
        RequestState::Completed
    );
}

// ------------------------------------------------------------- robustness

/// Two approvals of the same request at once, from two Steward instances
/// (two store connections) on two threads, 100 times: exactly one approval
/// succeeds and exactly one export is executed each time, counted from the
/// audit log.
#[test]
fn concurrent_approvals_execute_exactly_once() {
    const ROUNDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(open(dir.path()));
    seed(&a);
    let b = Arc::new(open(dir.path()));
    let db = dir.path().join("jp.sqlite3");
    let exports_before = count_action(&db, "export");
    for round in 0..ROUNDS {
        let r = cli(&a, "bob", RequestType::Access, NewRequestDetails::default());
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|st| {
                let (barrier, id) = (barrier.clone(), r.id.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    st.approve(&id, st.operator())
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {outcomes:?}");
        for o in &outcomes {
            if let Err(e) = o {
                assert!(matches!(e, CoreError::Conflict(_)), "round {round}: {e}");
            }
        }
        assert_eq!(
            count_action(&db, "export") - exports_before,
            round as i64 + 1,
            "round {round}"
        );
        let done = a.request(&r.id).unwrap();
        assert_eq!(done.state, RequestState::Completed);
        assert_eq!(done.attempts, 1);
    }
}

/// A store that becomes unreachable mid-request: the request ends failed
/// naming the region and store, never completed; a retry once the store is
/// back re-runs it, and the result stays of the request's type.
#[test]
fn failed_request_names_the_store_and_retries_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.regions.push(steward_core::config::RegionConfig {
        name: "eu".into(),
        country: "DE".into(),
        store: Some("eu.sqlite3".into()),
        products: config.regions[0].products.clone(),
    });
    // This node processes in the EU, the subjects' home (no cross-region read, N4.2).
    config.processing_region = Some("eu".into());
    let st = open_with(dir.path(), config, None);
    st.ingest_in(
        "ingest",
        Some("eu"),
        vec![
            profile("eve", "eve@example.com", "A"),
            profile("eve", "eve@example.com", "B"),
            profile("eve", "eve@example.com", "C"),
            profile("ida", "ida@example.com", "A"),
        ],
        &mut |_| {},
    )
    .unwrap();
    let erase = cli(
        &st,
        "eve",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let access = cli(
        &st,
        "ida",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    assert_eq!(erase.jurisdiction, Jurisdiction::Gdpr);
    let eu = dir.path().join("eu.sqlite3");
    let away = dir.path().join("eu.sqlite3.away");
    std::fs::rename(&eu, &away).unwrap();
    for r in [&erase, &access] {
        assert!(st.approve(&r.id, st.operator()).is_err());
        let failed = st.request(&r.id).unwrap();
        assert_eq!(failed.state, RequestState::Failed);
        let reason = failed.reason.unwrap();
        assert!(
            reason.contains("region `eu`") && reason.contains("eu.sqlite3"),
            "{reason}"
        );
        assert_eq!(failed.result, None);
    }
    std::fs::rename(&away, &eu).unwrap();
    let done = st.approve(&erase.id, st.operator()).unwrap();
    assert_eq!(done.attempts, 2);
    match done.result.unwrap() {
        RequestResult::Erasure {
            records_unreadable, ..
        } => assert_eq!(records_unreadable, 3),
        other => panic!("{other:?}"),
    }
    let done = st.approve(&access.id, st.operator()).unwrap();
    match done.result.unwrap() {
        RequestResult::Access { records, .. } => assert_eq!(records, 1),
        other => panic!("an access request must give an access result: {other:?}"),
    }
    drop(st);
    assert_eq!(count_action(&eu, "crypto_shred"), 1);
}

/// A request left in_progress by a process that died (the in_progress row
/// committed, then the Steward dropped) is resumable after reopening: it
/// becomes failed, "interrupted", and a new approval completes it.
#[test]
fn request_left_in_progress_is_resumed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = cli(
        &st,
        "ann",
        RequestType::Export,
        NewRequestDetails::default(),
    );
    drop(st);
    // The crash: the in_progress transition committed, nothing after it.
    let db = dir.path().join("jp.sqlite3");
    let mut v: serde_json::Value = serde_json::to_value(&r).unwrap();
    v["state"] = "in_progress".into();
    v["attempts"] = 1.into();
    let started = "2026-03-02T10:00:00Z";
    v["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"at": started, "state": "in_progress", "by": "operator", "note": "execution 1 started"}));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE dsr_requests SET body = ?1 WHERE id = ?2",
            [v.to_string(), r.id.clone()],
        )
        .unwrap();
    let st = open(dir.path());
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::InProgress);
    let e = st.approve(&r.id, st.operator()).unwrap_err();
    assert!(matches!(e, CoreError::Conflict(_)), "{e}");
    // 10 minutes after it started: another process may still be at it.
    let t = datetime!(2026-03-02 10:10 UTC);
    assert!(st.resume_in_progress_at(t).unwrap().is_empty());
    // 16 minutes after: interrupted.
    let t = datetime!(2026-03-02 10:16 UTC);
    assert_eq!(st.resume_in_progress_at(t).unwrap(), vec![r.id.clone()]);
    let failed = st.request(&r.id).unwrap();
    assert_eq!(failed.state, RequestState::Failed);
    assert!(failed.reason.unwrap().starts_with("interrupted"));
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!((done.state, done.attempts), (RequestState::Completed, 2));
    assert!(matches!(
        done.result,
        Some(RequestResult::Export { records: 2, .. })
    ));
}

/// N7.2, N7.4: who decides requests is the pack's `dsr_handle` action
/// (policy `staff-privacy-handle-requests`: privacy-team staff, for
/// `comply`), each decision audited. Security staff are refused approve,
/// reject and extend (denied, audited, the request unchanged); a privacy
/// employee approves; a security employee cannot open one verified at once.
#[test]
fn only_privacy_staff_decide_requests_by_the_pack_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    staff(&st, "sec", Team::Security);
    staff(&st, "pia", Team::Privacy);
    let db = dir.path().join("jp.sqlite3");
    let r = cli(
        &st,
        "ann",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    let before = count_action(&db, "dsr_handle");
    let refusals = [
        st.approve(&r.id, "sec").unwrap_err(),
        st.reject(&r.id, "sec", "not needed").unwrap_err(),
        st.extend(&r.id, "sec", "complex request").unwrap_err(),
    ];
    for e in refusals {
        match e {
            CoreError::Denied(d) => {
                assert!(d.audit_index.is_some(), "{d:?}");
                assert!(
                    !d.policy_ids
                        .contains(&"staff-privacy-handle-requests".to_owned()),
                    "{d:?}"
                );
            }
            other => panic!("expected an audited denial, got {other}"),
        }
    }
    assert_eq!(count_action(&db, "dsr_handle") - before, 3);
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::Verified);
    // Security staff opening on ann's behalf: recorded, not verified at once.
    let by_sec = st.open_request(
        "sec",
        Some("ann"),
        RequestType::Access,
        Channel::Cli,
        NewRequestDetails::default(),
    );
    assert!(
        by_sec.is_err() || by_sec.as_ref().unwrap().state != RequestState::Verified,
        "{by_sec:?}"
    );
    let done = st.approve(&r.id, "pia").unwrap();
    assert_eq!(done.state, RequestState::Completed);
    assert_eq!(count_action(&db, "dsr_handle") - before, 4);
}

/// Issue 6 item 7, and `steward serve`'s pass every minute: a request this
/// process is executing is never marked interrupted, however old its
/// `in_progress` looks. A second thread runs the resume pass a day ahead
/// of the clock, over and over, while an export of 3,000 records runs;
/// the export completes, and the pass saw the request `in_progress` (so
/// the test exercised the race). A bad `interrupted_after_secs` is refused.
#[test]
fn a_running_execution_is_never_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let st = Arc::new(open(dir.path()));
    let many: Vec<NewRecord> = (0..3000)
        .map(|i| profile("ann", "ann@example.com", &format!("Title {i}")))
        .collect();
    st.ingest("ingest", many, &mut |_| {}).unwrap();
    let r = cli(
        &st,
        "ann",
        RequestType::Export,
        NewRequestDetails::default(),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (st, stop, id) = (st.clone(), stop.clone(), r.id.clone());
        std::thread::spawn(move || {
            let mut seen_running = 0usize;
            let mut marked = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if st.request(&id).unwrap().state == RequestState::InProgress {
                    seen_running += 1;
                }
                let later = OffsetDateTime::now_utc() + time::Duration::days(1);
                marked.extend(st.resume_in_progress_at(later).unwrap());
            }
            (seen_running, marked)
        })
    };
    let done = st.approve(&r.id, st.operator());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen_running, marked) = watcher.join().unwrap();
    let done = done.unwrap();
    assert_eq!(done.state, RequestState::Completed);
    assert!(matches!(
        done.result,
        Some(RequestResult::Export { records: 3000, .. })
    ));
    assert!(marked.is_empty(), "{marked:?}");
    assert!(seen_running > 0, "the pass never saw the request running");

    for bad in ["interrupted_after_secs = 0", "interrupted_after_secs = 59"] {
        let e = Config::parse(&format!("[dsr]\n{bad}\n"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dsr.interrupted_after_secs"), "{e}");
    }
}
