//! The products a deployment serves are configuration (N1.1): every record
//! is tagged with its product, and a record of a product that no configured
//! region serves is refused with a clear error, nothing of the call stored.

use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

fn record(user: &str, product: Product) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "accepted_password".into());
    f.insert("outcome".into(), "success".into());
    f.insert("account".into(), user.into());
    NewRecord::new(
        "usage.authentication".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        product,
        None,
        f,
    )
    .unwrap()
}

/// A deployment configured to serve Workspace only stores Workspace
/// records and refuses a Cloud Platform one, naming the product and the
/// setting; the refused call stores nothing, not even its served records.
#[test]
fn products_served_are_configuration_n1_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    for r in &mut config.regions {
        r.products = vec!["workspace".into()];
    }
    let st = Steward::open(dir.path(), config, OpenOptions::default()).unwrap();
    let e = st
        .ingest(
            "ingest",
            vec![
                record("ann", Product::Workspace),
                record("bob", Product::CloudPlatform),
            ],
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`cloud_platform`") && e.contains("products") && e.contains("N1.1"),
        "{e}"
    );
    assert_eq!(st.find("username:ann").unwrap(), None, "nothing stored");
    let s = st
        .ingest(
            "ingest",
            vec![record("ann", Product::Workspace)],
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(s.stored, 1);
    assert!(st.find("username:ann").unwrap().is_some());

    // The default configuration serves every product of the notice.
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let recs = Product::ALL
        .iter()
        .enumerate()
        .map(|(i, &p)| record(&format!("u{i}"), p))
        .collect();
    assert_eq!(st.ingest("ingest", recs, &mut |_| {}).unwrap().stored, 5);
}
