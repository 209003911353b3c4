//! The controller's identity and the rights contact come from configuration
//! and appear, exactly as configured, on every export Steward writes: the
//! operator's export for a data subject request and a user's own export
//! (N8.1, N8.10). No real data: a few synthetic records.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use steward_core::config::Controller;
use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Product, Purpose, SubjectIdentifier,
};

/// A controller unlike the default one, so a test can tell them apart.
fn configured() -> Controller {
    Controller {
        entity: "Testbed Holdings GK".into(),
        address: "9-9-9 Nowhere, Sapporo 060-0000, Japan".into(),
        representative: "Hana Example, Representative Partner".into(),
        contact_email: "rights@testbed.example".into(),
    }
}

fn record(user: &str, i: u64) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "accepted_password".into());
    f.insert("outcome".into(), "success".into());
    f.insert("account".into(), user.into());
    f.insert("source_port".into(), (2000 + i).into());
    NewRecord::new(
        "usage.authentication".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::CloudPlatform,
        None,
        f,
    )
    .unwrap()
}

fn manifest(zip_path: &Path) -> Value {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut m = String::new();
    z.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    serde_json::from_str(&m).unwrap()
}

fn assert_controller(m: &Value, c: &Controller, which: &str) {
    assert_eq!(m["controller"]["entity"], c.entity.as_str(), "{which}");
    assert_eq!(m["controller"]["address"], c.address.as_str(), "{which}");
    assert_eq!(
        m["controller"]["representative"],
        c.representative.as_str(),
        "{which}"
    );
    assert_eq!(m["contact"], c.contact_email.as_str(), "{which}");
}

/// Every export carries the configured controller entity, address,
/// representative (N8.1) and rights contact (N8.10), not the defaults.
#[test]
fn every_export_carries_the_configured_controller_and_contact_n8_1_n8_10() {
    let c = configured();
    assert_ne!(c, Controller::default());
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        controller: c.clone(),
        ..Config::default()
    };
    let st = Steward::open(dir.path(), config, OpenOptions::default()).unwrap();
    let recs = (0..3).map(|i| record("ann", i)).collect();
    assert_eq!(st.ingest("ingest", recs, &mut |_| {}).unwrap().stored, 3);
    let out = tempfile::tempdir().unwrap();

    // The operator's export for a recorded data subject request.
    let op = st.operator().to_owned();
    let ob = st
        .record_obligation(&op, "data_subject_request", "dsr-ann")
        .unwrap()
        .id;
    let a = out.path().join("operator.zip");
    let sum = st
        .export(&op, Purpose::Comply, "username:ann", &a, Some(&ob))
        .unwrap();
    assert_eq!(sum.record_count, 3);
    assert_controller(&manifest(&a), &c, "operator export");

    // A user's own export, through the tenancy tree (N7.1).
    st.create_organisation(&op, "org-t", "Testbed", None, true)
        .unwrap();
    let user = st.create_user(&op, "org-t", "username:ann", None).unwrap();
    let b = out.path().join("self.zip");
    let sum = st.self_export(&user.name, &b).unwrap();
    assert_eq!(sum.record_count, 3);
    assert_controller(&manifest(&b), &c, "self export");

    // The progress variant writes the same manifest.
    let d = out.path().join("progress.zip");
    let mut calls = 0;
    st.export_with_progress(
        &op,
        Purpose::Comply,
        "username:ann",
        &d,
        Some(&ob),
        &mut |_, _| calls += 1,
    )
    .unwrap();
    assert!(calls > 0);
    assert_controller(&manifest(&d), &c, "export with progress");
}
