//! Section 8: peak memory of exporting one subject with 1,000,000 records
//! (issue 6: "a subject with 1,000,000 records exports with peak memory
//! under 200 MB").
//!
//! Each export runs in a child process of this program (`steward-bench
//! __export-child …`), which opens Steward on the data directory, exports,
//! prints one result line and then waits for its stdin to close. While it
//! waits, the parent reads the child's `VmHWM` (peak resident set size) from
//! `/proc/<pid>/status`: the whole process's high-water mark, measured from
//! outside, startup and SQLite's page cache included. Beside it: the same
//! export done the way Steward did it before it streamed (every record
//! opened into memory, each file built in memory, then the ZIP), run the
//! same way, and the size of the data.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_core::{AccessRequest, Action, Config, OpenOptions, OpenedRecord, Steward};
use steward_domain::{Category, NewRecord, Purpose};

use crate::data::{RecordMaker, secs, username};
use crate::report::{Cmp, Column, RUNS, Row, Runs, Section, thousands, time_ratio};

/// Records handed to one `Steward::ingest` call.
const CALL_RECORDS: u64 = 100_000;
/// The target (issue 6: "under 200 MB"), in bytes.
const TARGET_BYTES: u64 = 200_000_000;
/// The child-process argument that selects [`child_main`].
pub const CHILD_ARG: &str = "__export-child";

fn core(e: steward_core::CoreError) -> String {
    format!("steward: {e}")
}

fn config() -> Config {
    Config {
        ingest_batch: 10_000,
        ..Config::default()
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `VmHWM` of a live process, in bytes (Linux).
fn vm_hwm(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| format!("{path}: no VmHWM line"))
}

/// What one export child reported and what the parent measured.
struct ChildRun {
    records: u64,
    secs: f64,
    peak_bytes: u64,
}

/// Run one export in a child process and measure its peak RSS.
fn run_child(
    mode: &str,
    dir: &Path,
    out: &Path,
    subject: &str,
    ob: &str,
) -> Result<ChildRun, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .arg(CHILD_ARG)
        .arg(mode)
        .arg(dir)
        .arg(out)
        .arg(subject)
        .arg(ob)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn export child: {e}"))?;
    let pid = child.id();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| format!("child stdout: {e}"))?;
    }
    // The child is alive and idle now: its high-water mark is final.
    let peak = vm_hwm(pid);
    drop(child.stdin.take());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    if !status.success() || line.trim().is_empty() {
        return Err(format!(
            "export child ({mode}) failed ({status}): {}",
            err.trim()
        ));
    }
    let v: Value =
        serde_json::from_str(line.trim()).map_err(|e| format!("child said {line:?}: {e}"))?;
    Ok(ChildRun {
        records: v["records"].as_u64().unwrap_or(0),
        secs: v["secs"].as_f64().unwrap_or(0.0),
        peak_bytes: peak?,
    })
}

/// The child process: `__export-child MODE DATA_DIR OUT SUBJECT OBLIGATION`.
/// MODE `stream` calls `Steward::export`; `in-memory` the pre-streaming
/// export. Prints `{"records":N,"secs":S}`, then waits for stdin to close.
pub fn child_main(args: &[String]) -> ! {
    let run = || -> Result<(u64, f64), String> {
        let [mode, dir, out, subject, ob] = args else {
            return Err(format!("{CHILD_ARG} MODE DATA_DIR OUT SUBJECT OBLIGATION"));
        };
        let st = Steward::open(Path::new(dir), config(), OpenOptions::default()).map_err(core)?;
        let t = Instant::now();
        let n = match mode.as_str() {
            "stream" => {
                st.export(
                    st.operator(),
                    Purpose::Comply,
                    subject,
                    Path::new(out),
                    Some(ob),
                )
                .map_err(core)?
                .record_count
            }
            "in-memory" => in_memory_export(&st, subject, ob, Path::new(out))?,
            m => return Err(format!("unknown mode {m}")),
        };
        Ok((n, secs(t)))
    };
    match run() {
        Ok((n, s)) => {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", json!({"records": n, "secs": s}));
            let _ = o.flush();
            drop(o);
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The export as Steward did it before it streamed (steward-core
/// `vault.rs` at commit 2872671): every record read and opened through the
/// gate into memory, each category's JSON and CSV built in memory, then the
/// manifest and the files written into the ZIP. The bench subject's records
/// are all `usage`, so one gated read of that category opens them all.
fn in_memory_export(st: &Steward, subject: &str, ob: &str, out: &Path) -> Result<u64, String> {
    let req = AccessRequest::new(st.operator(), Action::Read, subject)
        .category(Category::Usage)
        .purpose(Purpose::Comply)
        .obligation(Some(ob));
    let (_, records) = st.read(&req).map_err(core)?;
    let mut by_cat: BTreeMap<String, Vec<&OpenedRecord>> = BTreeMap::new();
    for r in &records {
        by_cat.entry(r.category.clone()).or_default().push(r);
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (cat, recs) in &by_cat {
        let json_rows: Vec<Value> = recs
            .iter()
            .map(|r| {
                json!({
                    "record_id": r.id.to_string(),
                    "kind": r.kind,
                    "product": r.product,
                    "region": r.region,
                    "occurred_at": r.body["occurred_at"],
                    "fields": r.body["fields"],
                })
            })
            .collect();
        files.push((
            format!("{cat}.json"),
            serde_json::to_vec_pretty(&json_rows).unwrap_or_default(),
        ));
        let mut cols: std::collections::BTreeSet<String> = Default::default();
        for r in recs {
            if let Some(f) = r.body["fields"].as_object() {
                cols.extend(f.keys().cloned());
            }
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "record_id".to_string(),
            "kind".into(),
            "product".into(),
            "occurred_at".into(),
        ];
        header.extend(cols.iter().cloned());
        w.write_record(&header).map_err(|e| e.to_string())?;
        for r in recs {
            let mut row = vec![
                r.id.to_string(),
                r.kind.clone(),
                r.product.clone(),
                scalar(&r.body["occurred_at"]),
            ];
            for c in &cols {
                row.push(scalar(&r.body["fields"][c]));
            }
            w.write_record(&row).map_err(|e| e.to_string())?;
        }
        files.push((format!("{cat}.csv"), w.into_inner().unwrap_or_default()));
    }
    let hashes: BTreeMap<String, String> = files
        .iter()
        .map(|(n, b)| (n.clone(), hex_digest(b)))
        .collect();
    let manifest = json!({"record_count": records.len(), "files": hashes});
    let f = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut zip = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("manifest.json", opts)
        .map_err(|e| e.to_string())?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    for (name, bytes) in &files {
        zip.start_file(name.as_str(), opts)
            .map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())?;
    }
    let f = zip.finish().map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    Ok(records.len() as u64)
}

fn hex_digest(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                total += if m.is_dir() {
                    dir_bytes(&e.path())
                } else {
                    m.len()
                };
            }
        }
    }
    total
}

/// Uncompressed bytes of the record files (JSON, CSV) in an export ZIP.
fn unzipped_bytes(zip_path: &Path) -> Result<u64, String> {
    let f = std::fs::File::open(zip_path).map_err(|e| format!("{}: {e}", zip_path.display()))?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
    let mut n = 0;
    for i in 0..z.len() {
        let e = z.by_index_raw(i).map_err(|e| e.to_string())?;
        if e.name() != "manifest.json" {
            n += e.size();
        }
    }
    Ok(n)
}

/// The streaming export RUNS times, each in a fresh child (the target is
/// decided on the median peak): the peaks, the last run, and the last ZIP's
/// size and uncompressed size.
fn stream_runs(
    dir: &Path,
    out: &Path,
    subject: &str,
    ob: &str,
    n: u64,
) -> Result<(Vec<f64>, ChildRun, u64, u64), String> {
    let mut peaks = Vec::new();
    let mut stream = None;
    let (mut zip_bytes, mut unzipped) = (0, 0);
    for _ in 0..RUNS {
        let r = run_child("stream", dir, out, subject, ob)?;
        if r.records != n {
            return Err(format!(
                "streaming export held {} records, expected {n}",
                r.records
            ));
        }
        zip_bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
        unzipped = unzipped_bytes(out)?;
        let _ = std::fs::remove_file(out);
        peaks.push(r.peak_bytes as f64);
        stream = Some(r);
    }
    let stream = stream.ok_or("no streaming export ran")?;
    Ok((peaks, stream, zip_bytes, unzipped))
}

/// Section 8.
pub fn export_memory(quick: bool) -> Section {
    let mut s = Section::new(8, "Export of one subject's 1,000,000 records: peak memory");
    let n: u64 = if quick { 20_000 } else { 1_000_000 };
    s.method.push(format!(
        "One subject (`username:{}`) with {} `usage.authentication` records (as in section 1), ingested with \
         `Steward::ingest` (`ingest_batch` 10,000, {} records per call). Each export runs in its own child process \
         of this program, which opens Steward on the data directory and exports as the operator for `comply` against \
         a recorded obligation; the streaming export runs {RUNS} times, each in a fresh child, and the target is decided on the median; when a child is done and idle, the parent reads its `VmHWM` (peak resident set \
         size of the whole process, startup and SQLite's page cache included) from `/proc/<pid>/status`. \
         Steward: `Steward::export`, which streams (keyset pages of 1,000 records, one record open at a time, \
         per-category entries compressed into private temp files, then one ZIP). Baseline: the export as Steward \
         did it before it streamed (commit 2872671: all records opened into memory, each file built in memory, \
         then the ZIP), reproduced in this program and run the same way.",
        username(Some(0)),
        thousands(n as f64),
        thousands(CALL_RECORDS as f64)
    ));
    let mut run = || -> Result<Vec<Row>, String> {
        if !Path::new("/proc/self/status").exists() {
            return Err("needs /proc (Linux) to read a child's VmHWM".into());
        }
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let out_dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let subject = format!("username:{}", username(Some(0)));
        let ob = {
            let st = Steward::open(dir.path(), config(), OpenOptions::default()).map_err(core)?;
            let maker = RecordMaker::new()?;
            let t = Instant::now();
            let mut start = 0;
            while start < n {
                let end = (start + CALL_RECORDS).min(n);
                let recs: Vec<NewRecord> = (start..end)
                    .map(|i| maker.record(i, Some(0)))
                    .collect::<Result<_, _>>()?;
                let sum = st.ingest("ingest", recs, &mut |_| {}).map_err(core)?;
                if sum.stored != end - start {
                    return Err(format!("stored {} of {}", sum.stored, end - start));
                }
                start = end;
            }
            s.notes.push(format!(
                "Building the store: {} records ingested in {:.1} s.",
                thousands(n as f64),
                secs(t)
            ));
            st.record_obligation(st.operator(), "data_subject_request", "bench-export-memory")
                .map_err(core)?
                .id
        };
        let stored = dir_bytes(dir.path());
        let out = out_dir.path().join("stream.zip");
        let (peaks, stream, zip_bytes, unzipped) = stream_runs(dir.path(), &out, &subject, &ob, n)?;
        let peaks = Runs::new(peaks);
        let stream_peak = peaks.median() as u64;
        let old_out = out_dir.path().join("in-memory.zip");
        let old = run_child("in-memory", dir.path(), &old_out, &subject, &ob)?;
        if old.records != n {
            return Err(format!(
                "in-memory export held {} records, expected {n}",
                old.records
            ));
        }
        let _ = std::fs::remove_file(&old_out);
        let mut rows = vec![
            Row::info(
                format!(
                    "peak RSS of the export process, {} records",
                    thousands(n as f64)
                ),
                peaks.cell(|b| mb(b as u64)),
                mb(old.peak_bytes),
                format!(
                    "{:.3}× the memory",
                    stream_peak as f64 / old.peak_bytes.max(1) as f64
                ),
            )
            .judged(
                "< 200 MB at 1,000,000 records",
                Column::Steward,
                Cmp::Below,
                TARGET_BYTES as f64 / 1e6,
            ),
            Row::info(
                "export time (wall, inside the child)",
                format!("{:.1} s", stream.secs),
                format!("{:.1} s", old.secs),
                time_ratio(stream.secs, old.secs),
            ),
            Row::info(
                "size of the data: the store on disk; the export's JSON + CSV uncompressed; the ZIP",
                mb(stored),
                mb(unzipped),
                format!("ZIP {}", mb(zip_bytes)),
            ),
        ];
        if quick {
            rows[0].target = "< 200 MB at 1,000,000 records (not run: quick)".into();
            rows[0].met = None;
        }
        s.notes.push(format!(
            "Streaming export: {} records at {} records/s; its peak RSS is {:.1}% of the export's uncompressed size \
             ({}) and {:.1}% of the store's ({}).",
            thousands(n as f64),
            thousands(n as f64 / stream.secs.max(1e-9)),
            100.0 * stream_peak as f64 / unzipped.max(1) as f64,
            mb(unzipped),
            100.0 * stream_peak as f64 / stored.max(1) as f64,
            mb(stored)
        ));
        Ok(rows)
    };
    match run() {
        Ok(rows) => s.rows = rows,
        Err(e) => {
            s.error = Some(e);
            s.rows.push(
                Row::info(
                    "peak RSS of the export process",
                    "error".into(),
                    "—".into(),
                    "n/a".into(),
                )
                .target("< 200 MB at 1,000,000 records", false),
            );
        }
    }
    if quick {
        s.notes.push(format!(
            "Quick run: {} records, not 1,000,000; the target is judged on the full run only.",
            thousands(n as f64)
        ));
    }
    s
}
