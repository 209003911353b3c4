//! Issue 12: a registry row that does not parse is an error naming its
//! table and key, never skipped. Each test writes a corrupt row straight
//! into the SQLite store (independently of Steward's code) and checks that
//! the operation reading it fails with that name, where before the row was
//! dropped (or read as nothing) and the operation went on without it.

use std::path::Path;

use steward_core::{AccessRequest, Action, Config, OpenOptions, Steward};
use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, Purpose,
    RequestType, SubjectIdentifier, Team,
};

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

fn profile(user: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    let kind: Kind = "account.profile".parse().unwrap();
    NewRecord::new(
        kind,
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn support(name: &str) -> Principal {
    let today = time::OffsetDateTime::now_utc().date();
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![Team::Support],
        organisations: vec![],
        confidentiality_signed_on: Some(today - time::Duration::days(30)),
        training_expires_on: Some(today + time::Duration::days(300)),
        engagement_ends_on: None,
        subject: None,
        revoked: false,
    }
}

/// Write `body` as row `id` of registry table `table` in the primary
/// region's SQLite file (`jp.sqlite3`, the default region).
fn put_row(dir: &Path, table: &str, id: &str, body: &str) {
    let c = rusqlite::Connection::open(dir.join("jp.sqlite3")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let n = c
        .execute(
            &format!("INSERT OR REPLACE INTO {table}(id, body) VALUES (?1, ?2)"),
            [id, body],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// The error of `r`, which must be one, as text.
fn err_text<T: std::fmt::Debug>(r: Result<T, steward_core::CoreError>) -> String {
    r.expect_err("a corrupt row must fail the operation")
        .to_string()
}

fn assert_names(msg: &str, table: &str, key: &str) {
    assert!(
        msg.contains(&format!("registry {table}, row `{key}` does not parse")),
        "{msg}"
    );
    assert!(msg.contains("repair or remove it"), "{msg}");
}

/// The gate: a support case row that does not parse makes the read citing
/// it fail with an error naming `support_cases` and the case id (before, it
/// was read as "no open case" and the read was denied for want of one).
#[test]
fn a_corrupt_support_case_row_fails_the_read_citing_it_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    st.ingest(
        "ingest",
        vec![profile("ann", "ann@example.com")],
        &mut |_| {},
    )
    .unwrap();
    st.add_principal(&op, &support("sam")).unwrap();
    let case = st.open_case(&op, "username:ann").unwrap();
    let mut req = AccessRequest::new("sam", Action::Read, "username:ann");
    req.category = Some(Category::Account);
    req.purpose = Some(Purpose::Assist);
    req.case_id = Some(case.id.to_string());
    st.read(&req).expect("the open case lets support read");

    put_row(dir.path(), "support_cases", &case.id, "{\"subject\": 7");
    assert_names(&err_text(st.read(&req)), "support_cases", &case.id);
}

/// Transfers: a corrupt row of the transfer register or of the mechanisms
/// on record fails the listing (before, it was left out of the list).
#[test]
fn corrupt_transfer_rows_fail_their_listings_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    assert_eq!(st.transfers().unwrap().len(), 0);
    assert_eq!(st.transfer_mechanisms().unwrap().len(), 0);

    put_row(dir.path(), "transfers", "transfer-bad", "[1, 2");
    assert_names(&err_text(st.transfers()), "transfers", "transfer-bad");

    put_row(dir.path(), "transfer_mechanisms", "tm-bad", "not json");
    assert_names(
        &err_text(st.transfer_mechanisms()),
        "transfer_mechanisms",
        "tm-bad",
    );
}

/// Erasure receipts: a corrupt receipt row fails the list of receipts
/// (before, the list silently lacked it).
#[test]
fn a_corrupt_erasure_receipt_row_fails_the_receipts_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    assert_eq!(st.receipts().unwrap().len(), 0);
    put_row(dir.path(), "erasure_receipts", "rcpt-bad", "{\"subject\":");
    assert_names(&err_text(st.receipts()), "erasure_receipts", "rcpt-bad");
}

/// Data subject requests: a corrupt one-time-code row fails sending a new
/// code (before, its attempt count was read as 0, resetting the attempt
/// limit of N7.4), naming `dsr_verifications` and the request id.
#[test]
fn a_corrupt_verification_row_fails_sending_a_code_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.ingest(
        "ingest",
        vec![profile("ann", "ann@example.com")],
        &mut |_| {},
    )
    .unwrap();
    let r = st
        .open_request(
            "ingest",
            Some("ann@example.com"),
            RequestType::Access,
            steward_core::Channel::Email { record: None },
            steward_core::NewRequestDetails::default(),
        )
        .unwrap();
    st.send_verification(&r.id).unwrap();
    put_row(
        dir.path(),
        "dsr_verifications",
        &r.id,
        "{\"attempts\": \"x\"}",
    );
    assert_names(
        &err_text(st.send_verification(&r.id)),
        "dsr_verifications",
        &r.id,
    );
}

/// Data subject requests: a corrupt request row fails the erasure's clean-up
/// of request files (before, the row was skipped and files of requests
/// about the subject could stay behind), naming `dsr_requests` and the key.
#[test]
fn a_corrupt_request_row_fails_the_erasure_clean_up_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.ingest(
        "ingest",
        vec![profile("ann", "ann@example.com")],
        &mut |_| {},
    )
    .unwrap();
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap()
        .id;
    put_row(dir.path(), "dsr_requests", "dsr_bad", "{\"state\"");
    assert_names(
        &err_text(st.erase(st.operator(), Purpose::Comply, "ann", Some(&ob))),
        "dsr_requests",
        "dsr_bad",
    );
}

/// The audit log: an entry that does not decode fails `audit search` with
/// an integrity error naming the entry and region (before, the search
/// skipped it and answered from the rest, hiding the damage).
#[test]
fn an_undecodable_audit_entry_fails_the_audit_search_issue12() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.ingest(
        "ingest",
        vec![profile("corruptzq", "corruptzq@example.com")],
        &mut |_| {},
    )
    .unwrap();
    let filter = steward_core::AuditFilter::default();
    let before = st.audit_search(&filter).unwrap().len();
    assert!(before >= 1, "the ingest is in the log");
    let c = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let n = c
        .execute(
            "UPDATE audit_entries SET entry = x'7b2262726f6b656e' WHERE idx = 0",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    let msg = err_text(st.audit_search(&filter));
    assert!(msg.contains("audit entry 0 of region jp"), "{msg}");
    assert!(msg.contains("does not decode"), "{msg}");
}
