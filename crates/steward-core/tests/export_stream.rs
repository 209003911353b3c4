//! The streaming export (N7.2; issue 6 item 8): every record of a large
//! subject lands exactly once in its category's JSON and CSV, the manifest's
//! counts and SHA-256 hashes match the entries, nothing is left in the work
//! area, and a crash's leftovers (`.partial`, work directories) never count
//! as an export and are cleaned by the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use steward_core::{Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Product, Purpose, SubjectIdentifier,
};

const N: u64 = 25_000;

/// Record `i` of the fixture's subject `bulk-user`: by `i % 5`, usage
/// (0, 1), account (2) or billing (3, 4). Each carries `i` in a field, so
/// the export's contents can be checked against the fixture.
fn record(i: u64, user: &str) -> (&'static str, NewRecord) {
    let mut f = Fields::new();
    let (cat, kind) = match i % 5 {
        0 | 1 => {
            f.insert("event".into(), "failed_password".into());
            f.insert("outcome".into(), "failure".into());
            f.insert("account".into(), user.into());
            f.insert("source_port".into(), (1024 + i).into());
            f.insert("message".into(), format!("line {i}, with a comma").into());
            ("usage", "usage.authentication")
        }
        2 => {
            f.insert("setting".into(), format!("s{i}").into());
            f.insert("value".into(), "on".into());
            ("account", "account.settings")
        }
        _ => {
            f.insert("billed_cost".into(), (i as f64 / 100.0).into());
            f.insert("billing_currency".into(), "EUR".into());
            f.insert(
                "charge_description".into(),
                format!("charge \"{i}\"").into(),
            );
            ("billing", "billing.charge")
        }
    };
    let kind: Kind = kind.parse().unwrap();
    let r = NewRecord::new(
        kind,
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::CloudPlatform,
        Some(format!("2024-05-01T10:{:02}:{:02}Z", (i / 60) % 60, i % 60)),
        f,
    )
    .unwrap();
    (cat, r)
}

/// A Steward with `N` records of `bulk-user` and 300 of `other-user`;
/// returns the per-category counts the fixture made for `bulk-user`.
fn fixture(dir: &Path) -> (Steward, BTreeMap<String, u64>) {
    let config = Config {
        ingest_batch: 10_000,
        ..Config::default()
    };
    let st = Steward::open(dir, config, OpenOptions::default()).unwrap();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut recs = Vec::new();
    for i in 0..N {
        let (cat, r) = record(i, "bulk-user");
        *counts.entry(cat.to_owned()).or_default() += 1;
        recs.push(r);
        if i % 80 == 0 {
            recs.push(record(i, "other-user").1);
        }
    }
    st.ingest("ingest", recs, &mut |_| {}).unwrap();
    (st, counts)
}

fn entries(zip_path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().to_owned(), b)
        })
        .collect()
}

fn work_area_entries(data: &Path) -> Vec<String> {
    match std::fs::read_dir(data.join("export-work")) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

#[test]
fn streamed_export_of_25000_records_has_every_row_and_matching_hashes_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let (st, counts) = fixture(dir.path());
    // By the fixture's construction: 2 of every 5 usage, 1 account, 2 billing.
    assert_eq!(counts["usage"], 10_000);
    assert_eq!(counts["account"], 5_000);
    assert_eq!(counts["billing"], 10_000);
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("bulk.zip");
    let mut calls: Vec<(u64, u64)> = Vec::new();
    let sum = st
        .export_with_progress(
            st.operator(),
            Purpose::Comply,
            "username:bulk-user",
            &out,
            Some(&ob.id),
            &mut |w, t| calls.push((w, t)),
        )
        .unwrap();
    assert_eq!(sum.record_count, N);
    assert_eq!(sum.categories, counts);
    // Progress: starts at 0 of N, grows a page (1,000) at a time, ends at N of N.
    assert_eq!(calls.first(), Some(&(0, N)));
    assert_eq!(calls.last(), Some(&(N, N)));
    assert!(
        calls
            .windows(2)
            .all(|w| w[1].0 >= w[0].0 && w[1].0 - w[0].0 <= 1000)
    );
    assert!(calls.len() >= 26, "{} progress calls", calls.len());

    let files = entries(&out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "account.json",
            "account.csv",
            "billing.json",
            "billing.csv",
            "usage.json",
            "usage.csv"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(manifest["record_count"], N);
    assert_eq!(manifest["categories"]["usage"], 10_000);
    assert_eq!(manifest["categories"]["account"], 5_000);
    assert_eq!(manifest["categories"]["billing"], 10_000);
    assert_eq!(manifest["files"].as_object().unwrap().len(), 6);

    let mut all_ids: BTreeSet<String> = BTreeSet::new();
    for (name, bytes) in &files[1..] {
        // The manifest's hash is the SHA-256 of the file's bytes.
        assert_eq!(
            manifest["files"][name].as_str().unwrap(),
            hex::encode(Sha256::digest(bytes)),
            "{name}"
        );
        let cat = name.split('.').next().unwrap();
        let want = counts[cat] as usize;
        if name.ends_with(".json") {
            let rows: Vec<serde_json::Value> = serde_json::from_slice(bytes).unwrap();
            assert_eq!(rows.len(), want, "{name}");
            // Byte for byte what serde_json's pretty printer makes of the array.
            assert_eq!(&serde_json::to_vec_pretty(&rows).unwrap(), bytes, "{name}");
            for r in &rows {
                assert!(all_ids.insert(r["record_id"].as_str().unwrap().to_owned()));
                assert_eq!(r["region"], "jp");
                assert_eq!(r["product"], "cloud_platform");
            }
            if cat == "account" {
                // i = 2, 7, 12, ...: settings s2, s7, ..., each exactly once.
                let got: BTreeSet<String> = rows
                    .iter()
                    .map(|r| r["fields"]["setting"].as_str().unwrap().to_owned())
                    .collect();
                let expect: BTreeSet<String> = (0..N)
                    .filter(|i| i % 5 == 2)
                    .map(|i| format!("s{i}"))
                    .collect();
                assert_eq!(got, expect);
            }
        } else {
            let mut rd = csv::Reader::from_reader(bytes.as_slice());
            let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
            let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
            assert_eq!(rows.len(), want, "{name}");
            if cat == "account" {
                // The account kinds' closed schemas (profile, settings), sorted, by hand.
                assert_eq!(
                    header,
                    [
                        "record_id",
                        "kind",
                        "product",
                        "occurred_at",
                        "city",
                        "country",
                        "email",
                        "family_name",
                        "given_name",
                        "job_title",
                        "organisation",
                        "phone",
                        "postal_code",
                        "setting",
                        "state",
                        "street",
                        "username",
                        "value"
                    ]
                );
                let setting = header.iter().position(|h| h == "setting").unwrap();
                let got: BTreeSet<&str> = rows.iter().map(|r| &r[setting]).collect();
                assert_eq!(got.len(), want);
                assert!(got.contains("s24997"));
            }
            if cat == "billing" {
                let d = header
                    .iter()
                    .position(|h| h == "charge_description")
                    .unwrap();
                // i = 3 is the first billing record; its quote survives CSV quoting.
                assert_eq!(&rows[0][d], "charge \"3\"");
            }
        }
    }
    assert_eq!(all_ids.len() as u64, N);
    // Nothing left behind: no work files, no .partial.
    assert_eq!(work_area_entries(dir.path()), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["bulk.zip"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_leftover_partial_is_not_an_export_and_the_next_export_cleans_it_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let recs: Vec<NewRecord> = (0..40).map(|i| record(i, "ann").1).collect();
    st.ingest("ingest", recs, &mut |_| {}).unwrap();
    let ob = st
        .record_obligation(st.operator(), "data_subject_request", "t")
        .unwrap();
    let export = |out: &Path| {
        st.export(
            st.operator(),
            Purpose::Comply,
            "username:ann",
            out,
            Some(&ob.id),
        )
    };
    let out_dir = tempfile::tempdir().unwrap();
    let good = out_dir.path().join("good.zip");
    export(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    // What a crash while writing leaves: the first part of the ZIP under
    // `.partial` (no central directory yet), and a work directory whose
    // writer is gone (its lock file is there but nobody holds it).
    let out = out_dir.path().join("ann.zip");
    let partial = out_dir.path().join("ann.zip.partial");
    std::fs::write(&partial, &bytes[..bytes.len() / 2]).unwrap();
    let stale = dir.path().join("export-work").join("x-0123456789abcdef");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("usage.json.zip"), b"half").unwrap();
    std::fs::write(dir.path().join("export-work/x-0123456789abcdef.lock"), b"").unwrap();

    // It does not count as an export: nothing under `out`, and it is no ZIP.
    assert!(!out.exists());
    assert!(zip::ZipArchive::new(std::fs::File::open(&partial).unwrap()).is_err());

    // The next export to the same path replaces it and cleans the work area.
    let sum = export(&out).unwrap();
    assert_eq!(sum.record_count, 40);
    assert!(!partial.exists());
    assert!(!stale.exists());
    assert_eq!(work_area_entries(dir.path()), Vec::<String>::new());
    let files = entries(&out);
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(manifest["record_count"], 40);

    // A `.partial` another export is writing right now (its lock is held)
    // is left alone and the second export is refused, naming the file.
    let busy = out_dir.path().join("busy.zip.partial");
    let held = std::fs::File::create(&busy).unwrap();
    held.lock().unwrap();
    let e = export(&out_dir.path().join("busy.zip")).unwrap_err();
    assert!(matches!(e, CoreError::Io { .. }), "{e}");
    assert!(e.to_string().contains("another export is writing"), "{e}");
    assert!(busy.exists());
    assert!(!out_dir.path().join("busy.zip").exists());
    drop(held);

    // An export that fails after streaming (its directory is missing)
    // leaves no work files and no output.
    let nowhere = out_dir.path().join("missing-dir").join("x.zip");
    assert!(matches!(export(&nowhere), Err(CoreError::Io { .. })));
    assert_eq!(work_area_entries(dir.path()), Vec::<String>::new());
}
