//! `steward notice coverage` run on this repository, checked against a hand
//! count: for five clauses across sections, the exact enforcing and test
//! locations (file and item) were read off the source by hand and are listed
//! here. Update them with the code they describe.

use std::path::Path;

use steward_notice::{Status, coverage};

fn locs(v: &[steward_notice::Location]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|l| (l.path.clone(), l.item.clone().unwrap_or_default()))
        .collect();
    out.sort();
    out
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn repository_coverage_matches_the_hand_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = coverage(&root).expect("coverage runs on the repository");
    let operative = report.clauses.iter().filter(|c| c.operative).count();
    assert_eq!(operative, 45);
    let get = |id: &str| {
        report
            .clauses
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} in register"))
    };

    // Regions (section 4): the region list in configuration, the region tag on subjects and records.
    let c = get("N4.1");
    assert_eq!(c.status, Status::Proven);
    assert_eq!(
        locs(&c.enforcing),
        pairs(&[
            ("crates/steward-core/src/config.rs", "struct RegionConfig"),
            ("crates/steward-core/src/config.rs", "struct RegionConfig"),
            ("crates/steward-core/src/config.rs", "struct Config"),
            ("crates/steward-store/src/sqlite.rs", "struct StoreOptions"),
            ("crates/steward-store/src/sqlite.rs", "fn record_row"),
            ("crates/steward-store/src/types.rs", "struct SubjectRow"),
            ("crates/steward-store/src/types.rs", "struct RecordRow"),
        ])
    );
    assert_eq!(
        locs(&c.tests),
        pairs(&[(
            "crates/steward-core/src/config.rs",
            "fn empty_file_is_the_default_with_a_japan_region_n4_1"
        )])
    );

    // Centralised operations (section 4): not built yet.
    let c = get("N4.2");
    assert_eq!(c.status, Status::Open);
    assert!(c.enforcing.is_empty() && c.tests.is_empty());

    // Controller identity (section 8) and the rights contact.
    for id in ["N8.1", "N8.10"] {
        let c = get(id);
        assert_eq!(c.status, Status::Proven, "{id}");
        assert_eq!(
            locs(&c.tests),
            pairs(&[(
                "crates/steward-cli/tests/real_data.rs",
                "fn openssh_2k_ingest_export_root_erase_n2_4_n5_2_n8_8"
            )]),
            "{id}"
        );
    }
    assert_eq!(
        locs(&get("N8.1").enforcing),
        pairs(&[
            ("crates/steward-core/src/config.rs", "struct Controller"),
            ("crates/steward-core/src/config.rs", "struct Config"),
            ("crates/steward-core/src/vault.rs", "module doc"),
            ("crates/steward-core/src/vault.rs", "fn export"),
        ])
    );

    // Configuration category (section 2): named by the closed vocabulary only.
    let c = get("N2.3");
    assert_eq!(
        locs(&c.enforcing),
        pairs(&[("crates/steward-domain/src/vocab.rs", "enum Category")])
    );
}
