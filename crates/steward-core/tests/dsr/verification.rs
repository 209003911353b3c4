//! One-time codes (expiry, attempt limit), unverified senders, the outbox
//! sender and the administrator's restriction.

use super::*;

/// An email request: the code goes to the registered contact, is stored
/// only hashed, expires after 15 minutes, and verifies within them.
#[test]
fn email_code_expiry_then_verification_n7_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let t0 = datetime!(2026-03-02 10:00 UTC);
    let r = at_time(t0, || {
        st.open_request(
            "ingest",
            Some("Ann@Example.com"),
            RequestType::Export,
            Channel::Email {
                record: Some("rec_0000000000000001".into()),
            },
            NewRequestDetails::default(),
        )
    })
    .unwrap();
    assert_eq!(r.state, RequestState::Received);
    assert_eq!(r.verification.state, VerificationState::Pending);
    let e = st.approve(&r.id, st.operator()).unwrap_err().to_string();
    assert!(e.contains("not verified"), "{e}");
    let sender = Captured::default();
    at_time(t0, || st.send_verification_with(&r.id, &sender)).unwrap();
    let (to, code) = sender.last();
    assert_eq!(to, "ann@example.com");
    assert!(
        code.len() >= 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    // Expired: 15 min 1 s later.
    let e = at_time(t0 + time::Duration::seconds(901), || {
        st.verify(&r.id, &code)
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("expired"), "{e}");
    // A new code; the old one no longer works, the new one does.
    let t1 = t0 + time::Duration::minutes(20);
    at_time(t1, || st.send_verification_with(&r.id, &sender)).unwrap();
    let (_, code2) = sender.last();
    if code2 != code {
        assert!(at_time(t1, || st.verify(&r.id, &code)).is_err());
    }
    let v = at_time(t1 + time::Duration::minutes(1), || st.verify(&r.id, &code2)).unwrap();
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
    let r = at_time(t0, || {
        st.open_request(
            "ingest",
            Some("bob@example.com"),
            RequestType::Erasure,
            Channel::Email { record: None },
            NewRequestDetails::default(),
        )
    })
    .unwrap();
    let sender = Captured::default();
    at_time(t0, || st.send_verification_with(&r.id, &sender)).unwrap();
    let (_, code) = sender.last();
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for left in (0..5).rev() {
        let e = at_time(t0, || st.verify(&r.id, wrong))
            .unwrap_err()
            .to_string();
        if left > 0 {
            assert!(e.contains(&format!("{left} attempts left")), "{e}");
        } else {
            assert!(e.contains("locked"), "{e}");
        }
    }
    let e = at_time(t0, || st.verify(&r.id, &code))
        .unwrap_err()
        .to_string();
    assert!(e.contains("locked"), "{e}");
    let now = st.request(&r.id).unwrap();
    assert_eq!(now.verification.state, VerificationState::Locked);
    assert!(st.approve(&r.id, st.operator()).is_err());
    assert!(at_time(t0, || st.send_verification_with(&r.id, &sender)).is_err());
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
