//! An incident as the justification of a person's read of one subject
//! (N3.8 "manual review", N8.5 incident handling; issue 17 item 1 with
//! issue 20): a security or incident-response read for `protect` cites an
//! open incident that names the subject. Synthetic records only.

use steward_core::{AccessRequest, Action, Config, CoreError, NewReport, OpenOptions, Steward};
use steward_domain::{
    Category, Fields, IdentifierKind, IncidentKind, Kind, NewRecord, Principal, PrincipalKind,
    Product, Purpose, ReportChannel, SubjectIdentifier, Team,
};

fn staff(name: &str, team: Team) -> Principal {
    let today = time::OffsetDateTime::now_utc().date();
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today - time::Duration::days(1)),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

/// `n` authentication events of `username`.
fn logins(username: &str, n: usize) -> Vec<NewRecord> {
    (0..n)
        .map(|i| {
            let mut f = Fields::new();
            f.insert("event".into(), "login".into());
            f.insert("outcome".into(), "failure".into());
            NewRecord::new(
                "usage.authentication".parse::<Kind>().unwrap(),
                Some(SubjectIdentifier::new(IdentifierKind::Username, username).unwrap()),
                Product::CloudPlatform,
                Some(format!("2026-05-01T10:00:{i:02}Z")),
                f,
            )
            .unwrap()
        })
        .collect()
}

/// `who`'s read of `subject`'s usage for protect, citing `incident`.
fn read(
    st: &Steward,
    who: &str,
    subject: &str,
    incident: Option<&str>,
) -> Result<(String, Option<String>, usize), CoreError> {
    let req = AccessRequest::new(who, Action::Read, subject)
        .purpose(Purpose::Protect)
        .category(Category::Usage)
        .incident(incident);
    let (opened, records) = st.read(&req)?;
    Ok((
        opened.request_id.clone(),
        opened.decision.justification.clone(),
        records.len(),
    ))
}

/// N3.8, N8.5: the incident-response team reads one subject's usage for
/// protect only citing an open incident that names that subject: without
/// it the read is refused (`forbid-manual-review-without-justification`);
/// with it the read returns the subject's 3 records and the decision and
/// its audit entry name `incident:<id>`; an incident that names another
/// subject justifies nothing; naming is itself decided (engineering staff
/// are refused); a closed incident justifies nothing.
#[test]
fn an_open_incident_naming_the_subject_justifies_a_protect_read_n3_8_n8_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let op = st.operator().to_owned();
    st.add_principal(&op, &staff("ir1", Team::IncidentResponse))
        .unwrap();
    st.add_principal(&op, &staff("eng", Team::Engineering))
        .unwrap();
    let mut batch = logins("annzq", 3);
    batch.extend(logins("bobzq", 2));
    st.ingest("ingest", batch, &mut |_| {}).unwrap();

    // No justification: refused, and the refusal is audited.
    match read(&st, "ir1", "username:annzq", None) {
        Err(CoreError::Denied(d)) => {
            assert!(
                d.policy_ids
                    .iter()
                    .any(|p| p == "forbid-manual-review-without-justification"),
                "{d:?}"
            );
            assert!(d.audit_index.is_some());
        }
        other => panic!("expected a denial, got {other:?}"),
    }

    let inc = st
        .report_incident(
            "ir1",
            &NewReport {
                kind: IncidentKind::UnauthorisedAccess,
                channel: ReportChannel::Api,
                text: "Repeated failed logins on one account".into(),
                aware_at: None,
            },
        )
        .unwrap();
    // Engineering may not name subjects of an incident (decided, audited).
    assert!(matches!(
        st.add_incident_subject("eng", &inc.id, "username:annzq"),
        Err(CoreError::Denied(_))
    ));
    let named = st
        .add_incident_subject("ir1", &inc.id, "username:annzq")
        .unwrap();
    let ann = st.find("username:annzq").unwrap().unwrap().to_string();
    assert_eq!(named.subjects, vec![ann.clone()]);
    // The incident keeps the opaque id, never the identifier.
    let row = serde_json::to_string(&named).unwrap();
    assert!(!row.contains("annzq"), "{row}");

    // Citing it: allowed, the subject's 3 records, the justification named
    // in the decision and in its audit entry.
    let (request_id, justification, n) = read(&st, "ir1", "username:annzq", Some(&inc.id)).unwrap();
    assert_eq!(n, 3);
    let want = format!("incident:{}", inc.id);
    assert_eq!(justification.as_deref(), Some(want.as_str()));
    let log = st
        .audit_search_as("ir1", &steward_core::AuditFilter::default())
        .unwrap();
    let entry = log
        .iter()
        .find(|e| e.contains(request_id.as_str()))
        .unwrap_or_else(|| panic!("no audit entry for {request_id}"));
    assert!(entry.contains(&format!("justification:{want}")), "{entry}");

    // The same incident does not justify reading bob, whom it does not name.
    assert!(matches!(
        read(&st, "ir1", "username:bobzq", Some(&inc.id)),
        Err(CoreError::Denied(_))
    ));

    // Closed, it justifies nothing.
    st.close_incident("ir1", &inc.id).unwrap();
    assert!(matches!(
        read(&st, "ir1", "username:annzq", Some(&inc.id)),
        Err(CoreError::Denied(_))
    ));
}
