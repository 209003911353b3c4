//! Email intake of data subject requests (N7.4): every message ends as a
//! request or a recorded rejection, exactly once; the message is stored
//! encrypted; an unknown sender's request is unverified.

use std::path::Path;

use steward_core::{Config, IntakeState, OpenOptions, RequestFilter, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Product, RequestState, RequestType, SubjectIdentifier,
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

fn mail(from: &str, id: Option<&str>, subject: &str, body: &str) -> Vec<u8> {
    let mut s = String::new();
    if !from.is_empty() {
        s.push_str(&format!("From: {from}\r\n"));
    }
    if let Some(id) = id {
        s.push_str(&format!("Message-ID: <{id}>\r\n"));
    }
    s.push_str(&format!(
        "To: privacy@provider.example\r\nSubject: {subject}\r\nDate: Mon, 4 Mar 2024 09:15:00 +0100\r\n\r\n{body}\r\n"
    ));
    s.into_bytes()
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("jp.sqlite3")).unwrap()
}

#[test]
fn matched_sender_opens_a_received_request_awaiting_verification_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.ingest(
        "ingest",
        vec![profile("ann", "Ann@Example.com")],
        &mut |_| {},
    )
    .unwrap();
    let ann = st.find("username:ann").unwrap().unwrap();
    let out = st
        .intake_email(
            "ingest",
            &mail(
                "Ann <ann@example.com>",
                Some("m1@example.com"),
                "Please delete my account",
                "Secret body text 4711",
            ),
        )
        .unwrap();
    assert!(out.taken);
    let e = &out.entry;
    assert_eq!(e.state, IntakeState::Request);
    assert_eq!(e.request_type, Some(RequestType::Erasure));
    assert!(e.sender_matched && !e.unverified);
    assert_eq!(e.subject.as_deref(), Some(ann.to_string().as_str()));
    let req = st.request(e.request.as_deref().unwrap()).unwrap();
    assert_eq!(req.state, RequestState::Received);
    assert_eq!(req.request_type, RequestType::Erasure);
    assert_eq!(req.subject.as_deref(), Some(ann.to_string().as_str()));
    // The message is stored under Ann's subject as communications (N2.5):
    // 1 account + 1 communications record.
    let summary = st.subjects(st.operator(), false).unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].records.get("communications"), Some(&1));
    // Encrypted: neither the body nor the address is in the database file in clear.
    drop(st);
    let mut bytes = std::fs::read(dir.path().join("jp.sqlite3")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("jp.sqlite3-wal")) {
        bytes.extend(wal);
    }
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains("Secret body text 4711"));
    assert!(!hay.contains("ann@example.com"));
    assert!(!hay.contains("m1@example.com"));
}

#[test]
fn unknown_sender_gets_an_unverified_request_and_a_subject_of_their_own_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let raw = mail(
        "stranger@example.org",
        Some("m2@example.org"),
        "Auskunft nach Artikel 15",
        "Bitte senden Sie mir eine Kopie meiner Daten.",
    );
    let out = st.intake_email("ingest", &raw).unwrap();
    let e = &out.entry;
    assert_eq!(e.state, IntakeState::Request);
    assert_eq!(e.request_type, Some(RequestType::Access));
    assert!(!e.sender_matched && e.unverified);
    let req = st.request(e.request.as_deref().unwrap()).unwrap();
    assert_eq!(req.subject, None);
    assert_eq!(req.state, RequestState::Received);
    // The message is kept encrypted under a new subject for the sender.
    let sub = st.find("email:stranger@example.org").unwrap().unwrap();
    assert_eq!(e.subject.as_deref(), Some(sub.to_string().as_str()));
    // A second message from the same sender: still unmatched (a subject
    // known only by mail they sent is no identity to verify against).
    let out2 = st
        .intake_email(
            "ingest",
            &mail(
                "stranger@example.org",
                Some("m3@example.org"),
                "Erasure request",
                "",
            ),
        )
        .unwrap();
    assert!(out2.entry.unverified && !out2.entry.sender_matched);
    assert_eq!(out2.entry.subject, e.subject);
    assert_eq!(st.requests(RequestFilter::default()).unwrap().len(), 2);
}

#[test]
fn every_message_is_taken_exactly_once_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let with_id = mail(
        "a@example.com",
        Some("x1@example.com"),
        "Data portability",
        "",
    );
    // The same Message-ID with different bytes (a re-delivery) is the same message.
    let resent = mail(
        "a@example.com",
        Some("x1@example.com"),
        "Data portability",
        "resent",
    );
    let no_id = mail("b@example.com", None, "Right to be forgotten", "");
    let first = st.intake_email("ingest", &with_id).unwrap();
    assert!(first.taken);
    let again = st.intake_email("ingest", &resent).unwrap();
    assert!(!again.taken);
    assert_eq!(again.entry, first.entry);
    let n1 = st.intake_email("ingest", &no_id).unwrap();
    assert!(n1.taken);
    assert_eq!(n1.entry.identity, "sha256");
    assert!(!st.intake_email("ingest", &no_id).unwrap().taken);
    // A different message without Message-ID is a different message.
    let other = mail("b@example.com", None, "Right to be forgotten", "2");
    assert!(st.intake_email("ingest", &other).unwrap().taken);
    assert_eq!(st.requests(RequestFilter::default()).unwrap().len(), 3);
    assert_eq!(st.intake_entries().unwrap().len(), 3);
    // The ledger holds keyed hashes, never the Message-ID.
    drop(st);
    let conn = db(dir.path());
    let ids: Vec<String> = conn
        .prepare("SELECT id || body FROM email_intake")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids.len(), 3);
    for row in ids {
        assert!(row.starts_with("eml_"), "{row}");
        assert!(
            !row.contains("x1@example.com") && !row.contains("@"),
            "{row}"
        );
    }
}

#[test]
fn rejections_are_recorded_with_reasons_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let cases: [(Vec<u8>, &str); 5] = [
        (b"".to_vec(), "empty"),
        (b"\x00\x01 not mail".to_vec(), "not_a_message"),
        (
            mail("", Some("n1@x.example"), "Delete my data", ""),
            "no_sender",
        ),
        (
            mail(
                "c@example.com",
                Some("n2@x.example"),
                "Hello",
                "Lovely weather.",
            ),
            "unclassified",
        ),
        (
            mail(
                "c@example.com",
                Some("n3@x.example"),
                "My data",
                "Send me a copy of my data, then delete it.",
            ),
            "unclassified",
        ),
    ];
    for (raw, code) in &cases {
        let out = st.intake_email("ingest", raw).unwrap();
        assert!(out.taken, "{code}");
        assert_eq!(out.entry.state, IntakeState::Rejected, "{code}");
        assert_eq!(out.entry.reason_code.as_deref(), Some(*code));
        assert!(!out.entry.reason.as_deref().unwrap_or("").is_empty());
    }
    // Nothing was opened; the two unclassified messages from a sender are
    // kept (encrypted) for the operator; the unreadable and sender-less are not.
    assert!(st.requests(RequestFilter::default()).unwrap().is_empty());
    let subs = st.subjects(st.operator(), false).unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].records.get("communications"), Some(&2));
    // An objection naming no purpose is rejected saying so; one naming
    // marketing opens a request for that purpose.
    let out = st
        .intake_email(
            "ingest",
            &mail(
                "d@example.com",
                Some("o1@x.example"),
                "Objection",
                "I object.",
            ),
        )
        .unwrap();
    assert_eq!(out.entry.reason_code.as_deref(), Some("objection_purpose"));
    let out = st
        .intake_email(
            "ingest",
            &mail(
                "d@example.com",
                Some("o2@x.example"),
                "Objection to marketing",
                "",
            ),
        )
        .unwrap();
    assert_eq!(out.entry.state, IntakeState::Request);
    let req = st.request(out.entry.request.as_deref().unwrap()).unwrap();
    assert_eq!(req.request_type, RequestType::Objection);
    assert_eq!(
        req.details.purpose,
        Some(steward_domain::Purpose::Recommendations)
    );
}

#[test]
fn an_interrupted_intake_is_resumed_without_a_second_request_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let raw = mail(
        "e@example.com",
        Some("r1@x.example"),
        "Data portability",
        "",
    );
    let key = {
        let st = open(dir.path());
        let out = st.intake_email("ingest", &raw).unwrap();
        assert_eq!(out.entry.state, IntakeState::Request);
        out.entry.key
    };
    // Simulate a run killed after the request was opened but before the
    // ledger row was finished: put the row back to `taking`, long ago.
    {
        let conn = db(dir.path());
        let body: String = conn
            .query_row("SELECT body FROM email_intake WHERE id = ?1", [&key], |r| {
                r.get(0)
            })
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["state"] = "taking".into();
        v["request"] = serde_json::Value::Null;
        v["attempt_at"] = "2020-01-01T00:00:00Z".into();
        conn.execute(
            "UPDATE email_intake SET body = ?1 WHERE id = ?2",
            rusqlite::params![v.to_string(), key],
        )
        .unwrap();
    }
    let st = open(dir.path());
    let out = st.intake_email("ingest", &raw).unwrap();
    assert!(out.taken);
    assert_eq!(out.entry.state, IntakeState::Request);
    // The request the first run opened was found by its stored message.
    assert_eq!(st.requests(RequestFilter::default()).unwrap().len(), 1);
    assert!(!st.intake_email("ingest", &raw).unwrap().taken);
}
