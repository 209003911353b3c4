//! Fixtures shared by steward-core's integration tests (each test crate
//! that declares `mod common;` compiles the ones it uses).
#![allow(dead_code)]

use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, SubjectIdentifier,
    Team,
};

/// A staff member of `teams` who signed the confidentiality undertaking 30
/// days ago and whose training runs 30 more days (N5.5): the policy's staff
/// conditions hold for them today.
pub fn trained_staff(name: &str, teams: Vec<Team>) -> Principal {
    let today = time::OffsetDateTime::now_utc().date();
    Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams,
        confidentiality_signed_on: Some(today - time::Duration::days(30)),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    }
}

/// A record of `kind` about the data subject with username `user`, with
/// `fields`, on the cloud platform.
pub fn username_record(kind: &str, user: &str, fields: &[(&str, &str)]) -> NewRecord {
    let mut f = Fields::new();
    for (k, v) in fields {
        f.insert((*k).into(), (*v).into());
    }
    let kind: Kind = kind.parse().unwrap();
    NewRecord::new(
        kind,
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::CloudPlatform,
        None,
        f,
    )
    .unwrap()
}
