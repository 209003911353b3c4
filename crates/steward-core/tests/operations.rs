//! Operational safety: secondary identifiers reach the subject (N7.2), revoked
//! principals cannot act or be re-added (N5.5), a lost keyring is not replaced
//! over existing data (N5.2).

use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, SubjectIdentifier,
    Team,
};

fn profile(user: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    f.insert("job_title".into(), "Engineer".into());
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

#[test]
fn a_secondary_identifier_finds_the_same_subject_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    st.ingest(
        "ingest",
        vec![profile("mhamanova", "Marie.H@example.com")],
        &mut |_| {},
    )
    .unwrap();
    let by_user = st.find("username:mhamanova").unwrap().unwrap();
    // E-mail addresses compare case-insensitively.
    assert_eq!(st.find("email:marie.h@EXAMPLE.com").unwrap(), Some(by_user));
    // Nothing else was made a subject.
    assert_eq!(st.subjects(st.operator(), false).unwrap().len(), 1);
    // Erasing by the secondary identifier erases the subject: the username no longer resolves.
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap();
    let r = st
        .erase(
            st.operator(),
            steward_domain::Purpose::Comply,
            "email:marie.h@example.com",
            Some(&ob.id),
        )
        .unwrap();
    assert_eq!(r.records_unreadable, 1);
    assert_eq!(st.find("username:mhamanova").unwrap(), None);
}

#[test]
fn revoked_principals_cannot_act_or_return_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let p = Principal {
        name: "sam".into(),
        kind: PrincipalKind::Employee,
        teams: vec![Team::Privacy],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    st.add_principal(st.operator(), &p).unwrap();
    st.revoke_principal(st.operator(), "sam").unwrap();
    let e = st.add_principal(st.operator(), &p).unwrap_err().to_string();
    assert!(e.contains("revocation is final"), "{e}");
    let e = st
        .record_obligation("sam", "legal_request", "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("revoked"), "{e}");
    let e = st.rotate_keys("sam").unwrap_err().to_string();
    assert!(e.contains("revoked"), "{e}");
}

#[test]
fn a_missing_keyring_is_not_replaced_over_existing_data_n5_2() {
    let dir = tempfile::tempdir().unwrap();
    {
        let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
        st.ingest(
            "ingest",
            vec![profile("ann", "ann@example.com")],
            &mut |_| {},
        )
        .unwrap();
    }
    let kr = dir.path().join("keys/keyring.json");
    std::fs::rename(&kr, dir.path().join("keyring.bak")).unwrap();
    let e = Steward::open(dir.path(), Config::default(), OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("keyring") && e.contains("restore"), "{e}");
    assert!(!kr.exists(), "no new keyring was left behind");
    std::fs::rename(dir.path().join("keyring.bak"), &kr).unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    assert!(st.find("username:ann").unwrap().is_some());
}

/// N5.5, N5.2: managing principals and rotating keys are decided by the
/// policy pack and audited: a privacy-team employee who is not the configured
/// operator is denied (default deny, recorded), security staff are allowed.
#[test]
fn management_is_decided_by_policy_and_audited_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let staff = |name: &str, team: Team| Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    st.add_principal(st.operator(), &staff("pia", Team::Privacy))
        .unwrap();
    st.add_principal(st.operator(), &staff("sec", Team::Security))
        .unwrap();
    let filter = |principal: &str, decision: &str, action: &str| steward_core::AuditFilter {
        principal: Some(principal.into()),
        decision: Some(decision.into()),
        action: Some(action.into()),
        ..Default::default()
    };
    // pia is privacy staff but not the configured operator: denied, audited.
    let e = st
        .add_principal("pia", &staff("eve", Team::Security))
        .unwrap_err();
    assert!(matches!(e, steward_core::CoreError::Denied(_)), "{e}");
    assert!(st.principal("eve").is_err(), "nothing was added");
    let e = st.rotate_keys("pia").unwrap_err();
    assert!(matches!(e, steward_core::CoreError::Denied(_)), "{e}");
    assert_eq!(
        st.audit_search(&filter("pia", "deny", "manage_principals"))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        st.audit_search(&filter("pia", "deny", "keys_rotate"))
            .unwrap()
            .len(),
        1
    );
    // Security staff may (policy staff-security-manage-principals).
    st.add_principal("sec", &staff("eve", Team::Support))
        .unwrap();
    st.revoke_principal("sec", "eve").unwrap();
    let allows = st
        .audit_search(&filter("sec", "allow", "manage_principals"))
        .unwrap();
    assert_eq!(allows.len(), 2);
    assert!(
        allows[0].contains("staff-security-manage-principals"),
        "{}",
        allows[0]
    );
    // The configured operator through the pack's bootstrap-operator policy.
    let ops = st
        .audit_search(&filter(st.operator(), "allow", "manage_principals"))
        .unwrap();
    assert_eq!(ops.len(), 2);
    assert!(
        ops.iter().all(|e| e.contains("bootstrap-operator")),
        "{ops:?}"
    );
}
