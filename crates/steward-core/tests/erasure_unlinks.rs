//! Issue 13, item 3: after an erasure nothing links the person's identifier
//! to the audit log or to their requests. Audit entries name subjects by
//! opaque id only (no blind-index prefix a guessed identifier could be
//! checked against), request rows drop the identifier's HMAC at erasure, and
//! searching the audit log is itself decided by the pack and recorded.

use std::path::Path;

use steward_core::{AuditFilter, Channel, Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, RequestType,
    SubjectIdentifier, Team,
};

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

fn profile(user: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn by_subject(subject: &str) -> AuditFilter {
    AuditFilter {
        subject: Some(subject.into()),
        ..Default::default()
    }
}

/// Every entry of the log, as JSON.
fn entries(st: &Steward) -> Vec<serde_json::Value> {
    st.audit_search(&AuditFilter::default())
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

#[test]
fn an_erased_identifier_links_to_no_audit_entry_or_request_issue13_3_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    st.ingest(
        "ingest",
        vec![profile("ann", "ann@example.com")],
        &mut |_| {},
    )
    .unwrap();
    // An access request made under the email, and one for an address that
    // matches nobody (a probe).
    let req = st
        .open_request(
            &op,
            Some("email:ann@example.com"),
            RequestType::Access,
            Channel::Cli,
            Default::default(),
        )
        .unwrap();
    assert!(req.identifier_ref.is_some(), "kept while the subject lives");
    let before = st
        .audit_search(&by_subject("email:ann@example.com"))
        .unwrap();
    assert!(!before.is_empty(), "the live subject's entries are found");

    let ob = st
        .record_obligation(&op, "data_subject_request", "erase-ann")
        .unwrap();
    st.erase_with_holds(&op, "username:ann", Some(&ob.id))
        .unwrap();

    // The identifier resolves to nothing, and nothing else links it.
    assert!(
        st.audit_search(&by_subject("email:ann@example.com"))
            .unwrap()
            .is_empty()
    );
    assert!(
        st.audit_search(&by_subject("username:ann"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(st.request(&req.id).unwrap().identifier_ref, None);
    for e in entries(&st) {
        let blinds = e["resource"]["blind_indexes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            blinds.is_empty(),
            "an entry carries a blind-index prefix: {e}"
        );
    }
    // The forgetting itself is on the record.
    assert!(
        entries(&st)
            .iter()
            .any(|e| e["action"] == "dsr_identifier_forget" && e["resource"]["count"] == 1)
    );
    assert!(matches!(
        st.audit_verify().unwrap(),
        steward_core::VerifyOutcome::Ok(_)
    ));
}

#[test]
fn searching_the_audit_log_is_decided_and_recorded_issue13_3_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let today = time::OffsetDateTime::now_utc().date();
    st.add_principal(
        &op,
        &Principal {
            name: "eng".into(),
            kind: PrincipalKind::Employee,
            teams: vec![Team::Engineering],
            confidentiality_signed_on: Some(today),
            training_expires_on: Some(today + time::Duration::days(30)),
            engagement_ends_on: None,
            subject: None,
            organisations: vec![],
            revoked: false,
        },
    )
    .unwrap();
    // Engineering staff have no need to know what the audit log holds (N5.5): denied, recorded.
    match st.audit_search_as("eng", &AuditFilter::default()) {
        Err(CoreError::Denied(d)) => assert!(d.audit_index.is_some()),
        other => panic!("expected a recorded denial, got {other:?}"),
    }
    let search = |principal: &str, decision: &str| {
        st.audit_search(&AuditFilter {
            principal: Some(principal.into()),
            action: Some("audit_read".into()),
            decision: Some(decision.into()),
            ..Default::default()
        })
        .unwrap()
    };
    assert_eq!(search("eng", "deny").len(), 1);
    // The operator (privacy staff) may; each search is itself an entry.
    let allowed = search(&op, "allow").len();
    assert!(
        allowed >= 2,
        "the operator's searches are recorded: {allowed}"
    );
}
