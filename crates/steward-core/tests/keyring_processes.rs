//! Issue 13, item 2: a running server and the CLI on one data directory. A
//! rotation by one is seen by the other before its next wrap or unwrap, and
//! a retirement waits until every process has seen the rotation, so no data
//! key is ever wrapped under a retired key-encryption key.

use std::path::Path;

use steward_core::{AccessRequest, Action, Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Product, Purpose, SubjectIdentifier,
};

fn open(dir: &Path, grace: &str) -> Steward {
    let config = Config {
        kek_generation_grace: grace.into(),
        ..Config::default()
    };
    Steward::open(dir, config, OpenOptions::default()).unwrap()
}

fn profile(user: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

/// Read `user`'s account records as the operator (privacy staff) for
/// `comply`, under a data subject request (the privacy team's kind,
/// issue 17 item 2).
fn read(st: &Steward, user: &str) -> Result<usize, CoreError> {
    let op = st.operator().to_owned();
    let ob = st.record_obligation(&op, "data_subject_request", "keys-test")?;
    let req = AccessRequest::new(&op, Action::Read, format!("username:{user}"))
        .purpose(Purpose::Comply)
        .category(Category::Account)
        .obligation(Some(&ob.id));
    Ok(st.read(&req)?.1.len())
}

#[test]
fn a_rotation_reaches_the_running_server_and_retire_waits_for_it_issue13_item2_n5_2() {
    let dir = tempfile::tempdir().unwrap();
    // The server keeps no grace, so the test need not wait a minute.
    let server = open(dir.path(), "0s");
    server
        .ingest("ingest", vec![profile("alice")], &mut |_| {})
        .unwrap();
    let cli = open(dir.path(), "60s");
    let op = cli.operator().to_owned();
    let (v, rewrapped) = cli.rotate_keys(&op).unwrap();
    assert_eq!((v, rewrapped), (2, 1));
    // The server has not used the keyring since the rotation: refused.
    let e = cli.retire_kek(&op, 1).unwrap_err().to_string();
    assert!(e.contains("has not seen the rotation"), "{e}");
    // The server's next operations see version 2: a new subject's key is
    // wrapped under it, and alice's re-wrapped key opens (was: "version 2 is
    // not in the keyring").
    server
        .ingest("ingest", vec![profile("bob")], &mut |_| {})
        .unwrap();
    assert_eq!(read(&server, "alice").unwrap(), 1);
    cli.retire_kek(&op, 1).unwrap();
    assert_eq!(read(&server, "bob").unwrap(), 1);
    assert_eq!(read(&server, "alice").unwrap(), 1);
    drop((server, cli));
    // After a restart every key opens: none was wrapped under the retired one.
    let again = open(dir.path(), "60s");
    assert_eq!(read(&again, "alice").unwrap(), 1);
    assert_eq!(read(&again, "bob").unwrap(), 1);
    let (opened, _) = again.verify_records(again.operator()).unwrap();
    assert_eq!(opened, 2);
}
