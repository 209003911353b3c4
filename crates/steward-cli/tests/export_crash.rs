//! `steward export` killed with SIGKILL mid-export leaves nothing under
//! `--out` that looks like an export, and the next export cleans up after it
//! and succeeds; `--progress` prints counts, never identifiers (N7.2; issue
//! 6 item 8).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use steward_core::{Config, OpenOptions, Steward};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

const N: u64 = 30_000;

/// A data directory holding `N` sshd-like records of `bulk-user`.
fn fixture(dir: &Path) {
    let st = Steward::open(dir, Config::default(), OpenOptions::default()).unwrap();
    let kind: Kind = "usage.authentication".parse().unwrap();
    let subject = SubjectIdentifier::new(IdentifierKind::Username, "bulk-user").unwrap();
    let recs: Vec<NewRecord> = (0..N)
        .map(|i| {
            let mut f = Fields::new();
            f.insert("event".into(), "failed_password".into());
            f.insert("account".into(), "bulk-user".into());
            f.insert(
                "message".into(),
                format!("Failed password for bulk-user port {i} ssh2").into(),
            );
            NewRecord::new(kind, Some(subject.clone()), Product::CloudPlatform, None, f).unwrap()
        })
        .collect();
    let s = st.ingest("ingest", recs, &mut |_| {}).unwrap();
    assert_eq!(s.stored, N);
}

fn steward(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
    cmd.arg("--data-dir").arg(dir);
    cmd
}

fn work_area(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("export-work")) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

/// `(written, total)` from a line `export: W / T records`.
fn parse_progress(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("export: ")?.strip_suffix(" records")?;
    let (w, t) = rest.split_once(" / ")?;
    Some((w.parse().ok()?, t.parse().ok()?))
}

#[test]
fn sigkill_mid_export_leaves_no_zip_and_the_next_export_cleans_up_n7_2() {
    let data = tempfile::tempdir().unwrap();
    fixture(data.path());
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("bulk.zip");
    let out_s = out.to_str().unwrap();

    let mut child = steward(data.path())
        .args(["export", "--subject", "username:bulk-user", "--out", out_s])
        .arg("--progress")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = None;
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 {
        if let Some(p) = parse_progress(line.trim_end()) {
            first = Some(p);
            break;
        }
        line.clear();
    }
    // The first progress line comes after the first page (1,000 records):
    // kill it there, mid-stream.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let (written, total) = first.expect("a progress line before the kill");
    assert_eq!(total, N);
    assert!(written > 0 && written < N, "killed at {written} / {total}");
    assert!(!status.success());

    // Nothing under --out; what the crash left is in the work area.
    assert!(!out.exists());
    assert!(!work_area(data.path()).is_empty());

    // The next export succeeds, cleans the work area, and is complete.
    let o = steward(data.path())
        .args(["export", "--subject", "username:bulk-user", "--out", out_s])
        .arg("--progress")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let last = stderr
        .lines()
        .filter_map(parse_progress)
        .next_back()
        .expect("progress lines");
    assert_eq!(last, (N, N));
    // Progress and the rest of stderr name no identifier.
    assert!(!stderr.contains("bulk-user"), "{stderr}");
    assert_eq!(work_area(data.path()), Vec::<String>::new());
    assert!(!out_dir.path().join("bulk.zip.partial").exists());
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut m = String::new();
    z.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut m)
        .unwrap();
    let m: serde_json::Value = serde_json::from_str(&m).unwrap();
    assert_eq!(m["record_count"], N);
    let mut rows = String::new();
    z.by_name("usage.json")
        .unwrap()
        .read_to_string(&mut rows)
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&rows).unwrap();
    assert_eq!(rows.len() as u64, N);
}
