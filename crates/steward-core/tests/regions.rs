//! Data residency (N4.1), centralised operations across regions (N4.2), one
//! code path for every region (N4.3), and transfers out of the EEA (N4.4).

use std::path::Path;

use steward_core::{AccessRequest, Action, Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Product, Purpose, SubjectIdentifier, Team,
};

const EU_ACCOUNT: &str = "BA-EU-0001";
const JP_ACCOUNT: &str = "BA-JP-0002";

mod common;

fn config(processing: &str) -> Config {
    let text = format!(
        r#"
processing_region = "{processing}"
[[regions]]
name = "jp"
country = "JP"
[[regions]]
name = "eu"
country = "DE"
store = "eu.sqlite3"
"#
    );
    Config::parse(&text, "regions.toml").unwrap()
}

fn payment(account: &str, amount: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("billing_account_id".into(), account.into());
    f.insert("amount".into(), amount.into());
    f.insert("currency".into(), "EUR".into());
    let kind: Kind = "billing.payment".parse().unwrap();
    NewRecord::new(
        kind,
        Some(SubjectIdentifier::new(IdentifierKind::BillingAccount, account).unwrap()),
        Product::CloudPlatform,
        None,
        f,
    )
    .unwrap()
}

fn staff(st: &Steward, name: &str, team: Team) {
    st.add_principal(st.operator(), &common::trained_staff(name, vec![team]))
        .unwrap();
}

fn read(principal: &str, subject: &str, category: Category, purpose: Purpose) -> AccessRequest {
    AccessRequest::new(principal, Action::Read, subject)
        .category(category)
        .purpose(purpose)
}

fn count(db: &Path, sql: &str, id: i64) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [id], |r| r.get(0)).unwrap()
}

fn subject_id(db: &Path) -> Vec<i64> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c.prepare("SELECT id FROM subjects").unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn subjects_stay_in_their_region_and_cross_region_reads_are_recorded_n4_1_n4_2_n4_4() {
    let dir = tempfile::tempdir().unwrap();
    let jp = Steward::open(dir.path(), config("jp"), OpenOptions::default()).unwrap();
    jp.ingest_in(
        "ingest",
        Some("eu"),
        vec![payment(EU_ACCOUNT, "10.00"), payment(EU_ACCOUNT, "12.50")],
        &mut |_| {},
    )
    .unwrap();
    jp.ingest_in(
        "ingest",
        Some("jp"),
        vec![payment(JP_ACCOUNT, "99.00")],
        &mut |_| {},
    )
    .unwrap();
    // A known subject's new records go to their home region, whatever region is asked for.
    jp.ingest_in(
        "ingest",
        Some("jp"),
        vec![payment(EU_ACCOUNT, "1.00")],
        &mut |_| {},
    )
    .unwrap();

    // N4.1: queried directly, each region's database holds only its own subject.
    let (jp_db, eu_db) = (dir.path().join("jp.sqlite3"), dir.path().join("eu.sqlite3"));
    let (jp_ids, eu_ids) = (subject_id(&jp_db), subject_id(&eu_db));
    assert_eq!((jp_ids.len(), eu_ids.len()), (1, 1));
    let (jp_sub, eu_sub) = (jp_ids[0], eu_ids[0]);
    assert_eq!(
        count(
            &eu_db,
            "SELECT COUNT(*) FROM records r JOIN subjects s ON s.key = r.subject_key WHERE s.id = ?1",
            eu_sub
        ),
        3
    );
    for (db, other) in [(&jp_db, eu_sub), (&eu_db, jp_sub)] {
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM subjects WHERE id = ?1", other),
            0
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM subject_keys WHERE subject_id = ?1",
                other
            ),
            0
        );
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM identifiers WHERE subject_id = ?1",
                other
            ),
            0
        );
        let hex = format!("sub_{other:016x}");
        let c = rusqlite::Connection::open(db).unwrap();
        let n: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM audit_entries WHERE CAST(entry AS TEXT) LIKE ?1",
                [format!("%{hex}%")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "an audit entry about the other region's subject");
    }

    staff(&jp, "bill", Team::Billing);
    staff(&jp, "eng", Team::Engineering);
    // N4.2: engineering may not process EU data from Japan.
    match jp.read(&read(
        "eng",
        &format!("billing_account:{EU_ACCOUNT}"),
        Category::Billing,
        Purpose::MaintainImprove,
    )) {
        Err(CoreError::Denied(d)) => assert!(d.clause_ids.iter().any(|c| c == "N4.2"), "{d}"),
        other => panic!("expected a denial, got {other:?}"),
    }
    // N4.4: billing may, in a billing interaction with the subject (a
    // billing case, N3.8), but the data would leave the EEA with no
    // mechanism on record.
    let case = jp
        .open_case_of_kind(
            jp.operator(),
            &format!("billing_account:{EU_ACCOUNT}"),
            steward_domain::CaseKind::Billing,
        )
        .unwrap();
    let billing_read = read(
        "bill",
        &format!("billing_account:{EU_ACCOUNT}"),
        Category::Billing,
        Purpose::ProvideServices,
    )
    .case(Some(&case.id));
    match jp.read(&billing_read) {
        Err(CoreError::Denied(d)) => {
            assert_eq!(d.clause_ids, vec!["N4.4".to_string()]);
            assert!(d.reason.contains("no transfer mechanism"), "{}", d.reason);
        }
        other => panic!("expected a refusal without a transfer mechanism, got {other:?}"),
    }
    assert!(jp.transfers().unwrap().is_empty());
    jp.add_transfer_mechanism(
        jp.operator(),
        "eu",
        "JP",
        "standard_contractual_clauses",
        "SCC-2021-914-M2",
    )
    .unwrap();
    let (opened, records) = jp.read(&billing_read).unwrap();
    assert_eq!(records.len(), 3);
    // The cross-region read is recorded in the EU log with where it was processed.
    let c = rusqlite::Connection::open(&eu_db).unwrap();
    let entry: String = c
        .query_row(
            "SELECT CAST(entry AS TEXT) FROM audit_entries WHERE idx = ?1",
            [opened.audit_index as i64],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        entry.contains("\"processed_in:jp\"")
            && entry.contains("\"decision\":\"allow\"")
            && entry.contains("\"principal\":\"bill\""),
        "{entry}"
    );
    assert!(entry.contains("transfer_mechanism:"), "{entry}");
    // The transfer register lists it.
    let transfers = jp.transfers().unwrap();
    assert_eq!(transfers.len(), 1);
    let t = &transfers[0];
    assert_eq!(
        (
            t.from_region.as_str(),
            t.to_country.as_str(),
            t.mechanism.as_str(),
            t.subject_count
        ),
        ("eu", "JP", "standard_contractual_clauses", 1)
    );
    assert_eq!(t.categories, vec!["billing".to_string()]);
    // A read within Japan is no transfer and needs none (in a billing
    // interaction with that subject, N3.8).
    let jp_case = jp
        .open_case_of_kind(
            jp.operator(),
            &format!("billing_account:{JP_ACCOUNT}"),
            steward_domain::CaseKind::Billing,
        )
        .unwrap();
    jp.read(
        &read(
            "bill",
            &format!("billing_account:{JP_ACCOUNT}"),
            Category::Billing,
            Purpose::ProvideServices,
        )
        .case(Some(&jp_case.id)),
    )
    .unwrap();
    assert_eq!(jp.transfers().unwrap().len(), 1);

    // The subject's export (processed in the EU: no transfer) lists the transfers of their data.
    drop(jp);
    let eu = Steward::open(dir.path(), config("eu"), OpenOptions::default()).unwrap();
    let ob = eu
        .record_obligation(eu.operator(), "data_subject_request", "test")
        .unwrap();
    let out = dir.path().join("eu.zip");
    let summary = eu
        .export(
            eu.operator(),
            Purpose::Comply,
            &format!("billing_account:{EU_ACCOUNT}"),
            &out,
            Some(&ob.id),
        )
        .unwrap();
    assert_eq!(summary.record_count, 3);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut z.by_name("manifest.json").unwrap(), &mut text).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["region"], "eu");
    assert_eq!(manifest["transfers"].as_array().unwrap().len(), 1);
    assert_eq!(
        manifest["transfers"][0]["mechanism"],
        "standard_contractual_clauses"
    );
    // N4.3: both logs verify with the same code.
    assert!(matches!(
        eu.audit_verify().unwrap(),
        steward_core::VerifyOutcome::Ok(_)
    ));
}

#[test]
fn unknown_region_and_bad_mechanism_are_named_n4_4() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), config("jp"), OpenOptions::default()).unwrap();
    let e = st
        .ingest_in(
            "ingest",
            Some("us"),
            vec![payment("BA-1", "1")],
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown region `us`") && e.contains("jp, eu"),
        "{e}"
    );
    let e = st
        .add_transfer_mechanism(
            st.operator(),
            "jp",
            "US",
            "standard_contractual_clauses",
            "x",
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the EEA"), "{e}");
    let e = st
        .add_transfer_mechanism(st.operator(), "eu", "US", "handshake", "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected one of adequacy_decision"), "{e}");
    let e = Config::parse(
        "[[regions]]\nname = \"jp\"\ncountry = \"Japan\"\n",
        "r.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("ISO 3166-1"), "{e}");
}
