//! Sections 5 and 6: audit appends through the store vs raw SHA-256 and an
//! fdatasync loop; `audit verify` over a large log, and the incident
//! detectors over the same log.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sha2::{Digest, Sha256};
use steward_audit::EntryDraft;
use steward_core::{Config, OpenOptions, Steward, VerifyOutcome};
use steward_store::{ChangeSet, SqliteStore, Store, StoreOptions};

use crate::data::{gate_like_draft, median, percentile, secs};
use crate::report::{Cmp, Column, RUNS, Row, Runs, Section, meets, rate, thousands, thr_ratio, us};

/// The baseline of section 6: a plain SQLite scan of the log in `db`
/// computing each entry's leaf hash (SHA-256) and comparing it with the
/// stored one. Returns the seconds taken.
fn scan_leaf_hashes(db: &Path) -> Result<f64, String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("sqlite: {e}"))?;
    let t = Instant::now();
    let mut stmt = conn
        .prepare("SELECT idx, entry, leaf_hash FROM audit_entries ORDER BY idx")
        .map_err(|e| format!("sqlite: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| format!("sqlite: {e}"))?;
    let mut bad = 0u64;
    while let Some(r) = rows.next().map_err(|e| format!("sqlite: {e}"))? {
        let entry: Vec<u8> = r.get(1).map_err(|e| format!("sqlite: {e}"))?;
        let leaf: Vec<u8> = r.get(2).map_err(|e| format!("sqlite: {e}"))?;
        let h = Sha256::new()
            .chain_update([0u8])
            .chain_update(&entry)
            .finalize();
        if h.as_slice() != leaf.as_slice() {
            bad += 1;
        }
    }
    if bad > 0 {
        return Err(format!("{bad} rows do not match their leaf hash"));
    }
    Ok(secs(t))
}

/// One detector pass (issue 20, N5.1) over the audit log in `db`, as
/// `Steward::run_detectors` reads it: every row decoded, summarised and
/// observed by a [`Detector`] with the default thresholds. Returns the
/// seconds taken and the number of firings.
fn detect(db: &Path, region: &str) -> Result<(f64, usize), String> {
    use steward_core::incidents::{AuditSummary, Detector, DetectorConfig};
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("sqlite: {e}"))?;
    let t = Instant::now();
    let mut d = Detector::new(&DetectorConfig::default(), &[region.to_owned()]);
    let mut stmt = conn
        .prepare("SELECT entry FROM audit_entries ORDER BY idx")
        .map_err(|e| format!("sqlite: {e}"))?;
    let mut rows = stmt.query([]).map_err(|e| format!("sqlite: {e}"))?;
    while let Some(r) = rows.next().map_err(|e| format!("sqlite: {e}"))? {
        let entry: Vec<u8> = r.get(0).map_err(|e| format!("sqlite: {e}"))?;
        let e = steward_audit::AuditEntry::decode(&entry).map_err(|e| format!("decode: {e}"))?;
        d.observe(&AuditSummary::of(&e));
    }
    Ok((secs(t), d.firings().len()))
}

fn store_err(e: steward_store::StoreError) -> String {
    format!("store: {e}")
}

fn open_store(
    path: &Path,
    data_dir: &Path,
    origin: String,
    key_name: String,
    every: u64,
    secs: u64,
) -> Result<SqliteStore, String> {
    // Steward's own checkpoint signer (the key file outside the data directory).
    let signer = steward_core::checkpoint_signer(data_dir, &Config::default())
        .map_err(|e| format!("signer: {e}"))?;
    SqliteStore::open(
        path,
        StoreOptions {
            region: "jp".into(),
            busy_timeout_ms: 5000,
            checkpoint_every: every,
            checkpoint_every_secs: secs,
            origin,
            key_name,
            signing_key: signer,
            allow_plaintext_store: false,
        },
    )
    .map_err(store_err)
}

fn drafts(from: u64, n: u64) -> Result<Vec<EntryDraft>, String> {
    (from..from + n).map(gate_like_draft).collect()
}

/// The canonical bytes of `drafts` as the store would write them from index
/// `from` on (each `prev` the previous leaf hash).
fn canonical(drafts: &[EntryDraft], from: u64) -> Vec<Vec<u8>> {
    let mut prev = None;
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let b = d
                .clone()
                .into_entry(from + i as u64, prev)
                .to_canonical_json();
            prev = Some(steward_audit::leaf_hash(&b));
            b
        })
        .collect()
}

/// A plain log table with Steward's settings: WAL, synchronous=FULL.
fn open_plain_log(path: &Path) -> Result<Connection, String> {
    let c = Connection::open(path).map_err(|e| format!("sqlite: {e}"))?;
    c.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| format!("sqlite: {e}"))?;
    c.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| format!("sqlite: {e}"))?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS log(idx INTEGER PRIMARY KEY, entry BLOB NOT NULL, leaf_hash BLOB NOT NULL);
         CREATE TABLE IF NOT EXISTS blobs(batch INTEGER PRIMARY KEY, entries BLOB NOT NULL, leaf_hashes BLOB NOT NULL);",
    )
        .map_err(|e| format!("sqlite: {e}"))?;
    Ok(c)
}

/// One transaction: insert `rows` from index `from` on with their leaf hash.
fn plain_log_insert(c: &mut Connection, from: i64, rows: &[Vec<u8>]) -> Result<(), String> {
    let e = |e: rusqlite::Error| format!("sqlite: {e}");
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(e)?;
    {
        let mut st = tx
            .prepare_cached("INSERT INTO log(idx, entry, leaf_hash) VALUES (?1, ?2, ?3)")
            .map_err(e)?;
        for (i, b) in rows.iter().enumerate() {
            let h = Sha256::new().chain_update([0u8]).chain_update(b).finalize();
            st.execute(rusqlite::params![from + i as i64, b, h.as_slice()])
                .map_err(e)?;
        }
    }
    tx.commit().map_err(e)
}

/// One transaction, one row: the batch's entries concatenated (each with a
/// 4-byte length) and their leaf hashes.
fn plain_blob_insert(c: &mut Connection, batch: i64, rows: &[Vec<u8>]) -> Result<(), String> {
    let e = |e: rusqlite::Error| format!("sqlite: {e}");
    let mut blob = Vec::with_capacity(rows.iter().map(|r| r.len() + 4).sum());
    let mut hashes = Vec::with_capacity(rows.len() * 32);
    for r in rows {
        blob.extend_from_slice(&(r.len() as u32).to_be_bytes());
        blob.extend_from_slice(r);
        hashes.extend_from_slice(&Sha256::new().chain_update([0u8]).chain_update(r).finalize());
    }
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(e)?;
    tx.execute(
        "INSERT INTO blobs(batch, entries, leaf_hashes) VALUES (?1, ?2, ?3)",
        rusqlite::params![batch, blob, hashes],
    )
    .map_err(e)?;
    tx.commit().map_err(e)
}

/// Commits `batches` in RUNS consecutive runs, each over an equal share of
/// them: per run, (entries, seconds).
fn commit_in_runs(
    store: &mut SqliteStore,
    batches: Vec<Vec<EntryDraft>>,
) -> Result<Vec<(f64, f64)>, String> {
    let per_run = batches.len().div_ceil(RUNS).max(1);
    let mut store_runs: Vec<(f64, f64)> = Vec::new(); // (entries, seconds)
    let mut batches = batches.into_iter();
    loop {
        let group: Vec<Vec<EntryDraft>> = batches.by_ref().take(per_run).collect();
        if group.is_empty() {
            break;
        }
        let entries = group.iter().map(Vec::len).sum::<usize>() as f64;
        let t = Instant::now();
        for d in group {
            store
                .commit(ChangeSet {
                    audit: d,
                    ..Default::default()
                })
                .map_err(store_err)?;
        }
        store_runs.push((entries, secs(t)));
    }
    Ok(store_runs)
}

/// Seconds of RUNS runs of raw SHA-256 over `bytes`.
fn sha_in_runs(bytes: &[Vec<u8>]) -> Vec<f64> {
    let mut sha_runs = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        for b in bytes {
            std::hint::black_box(Sha256::digest(std::hint::black_box(b)));
        }
        sha_runs.push(secs(t));
    }
    sha_runs
}

/// Section 5.
pub fn append(quick: bool) -> Section {
    let mut s = Section::new(5, "Audit append vs raw SHA-256");
    let (batched, durable) = if quick {
        (10_000u64, 100u64)
    } else {
        // 6,000 durable commits write more WAL pages (two or three each)
        // than Steward's store lets accumulate before it checkpoints
        // (`SqliteStore::WAL_AUTOCHECKPOINT_PAGES`), so the timed window
        // includes at least one of its checkpoints.
        (200_000u64, 6_000u64)
    };
    let per_commit = 1_000u64;
    s.method.push(format!(
        "Gate-like entries (support read: principal, purpose, clauses, policy, subject, blind-index and record refs). \
         Batched: {} entries through `SqliteStore::commit` of change sets holding only audit drafts, {} per commit \
         (each entry: canonical JSON, leaf hash, hash chain, compact-range update, row insert; a signed checkpoint every 1,000), \
         beside raw SHA-256 of the same canonical bytes. Durable: {} commits of one entry each (WAL, synchronous=FULL) \
         beside a loop writing the same bytes to a file in the same directory with `File::sync_data` (fdatasync) after each write, \
         both databases starting from a checkpointed WAL; the sides alternate operation by operation. Reference rows: the same bytes and leaf hashes in a plain \
         SQLite table with the same settings and batching. Building drafts is not timed.",
        thousands(batched as f64),
        thousands(per_commit as f64),
        thousands(durable as f64)
    ));
    let run = |s: &mut Section| -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let mut store = open_store(
            &dir.path().join("audit.sqlite3"),
            dir.path(),
            "steward.bench/audit/jp".into(),
            "steward-audit".into(),
            1000,
            60,
        )?;
        let mut plain = open_plain_log(&dir.path().join("plain-log.sqlite3"))?;
        append_batched(s, dir.path(), &mut store, &mut plain, batched, per_commit)?;
        append_durable(s, dir.path(), &mut store, &mut plain, batched, durable)
    };
    if let Err(e) = run(&mut s) {
        s.error = Some(e);
    }
    s
}

/// Section 5, batched: `batched` entries committed `per_commit` at a time,
/// beside raw SHA-256, plain SQLite rows, one blob per commit, and the
/// disk floor of the same bytes.
fn append_batched(
    s: &mut Section,
    dir: &Path,
    store: &mut SqliteStore,
    plain: &mut Connection,
    batched: u64,
    per_commit: u64,
) -> Result<(), String> {
    let mut batches = Vec::new();
    let mut all = Vec::new();
    for b in 0..batched / per_commit {
        let d = drafts(b * per_commit, per_commit)?;
        all.extend(d.iter().cloned());
        batches.push(d);
    }
    let store_runs = commit_in_runs(store, batches)?;
    let store_secs: f64 = store_runs.iter().map(|r| r.1).sum();
    // The same canonical bytes: time producing them, and hashing them.
    let t = Instant::now();
    let bytes = canonical(&all, 0);
    let canon_secs = secs(t);
    let avg = bytes.iter().map(Vec::len).sum::<usize>() as f64 / bytes.len().max(1) as f64;
    let sha_runs = sha_in_runs(&bytes);
    let sha_secs = Runs::new(sha_runs.clone()).median();
    // Run k's ratio: its appends/s over the hashes/s of hashing run k.
    let batched_ratio = Runs::new(
        store_runs
            .iter()
            .zip(&sha_runs)
            .map(|(&(e, st), &sh)| (e / st) / (bytes.len() as f64 / sh))
            .collect(),
    );
    // Reference: the same rows into a plain SQLite table, same settings and batch.
    let t = Instant::now();
    for (k, chunk) in bytes.chunks(per_commit as usize).enumerate() {
        plain_log_insert(plain, (k * per_commit as usize) as i64, chunk)?;
    }
    let plain_secs = secs(t);
    // Reference: one row per commit holding the batch's bytes and leaf hashes.
    let t = Instant::now();
    for (k, chunk) in bytes.chunks(per_commit as usize).enumerate() {
        plain_blob_insert(plain, k as i64, chunk)?;
    }
    let blob_secs = secs(t);
    // Reference: the disk's own floor for the same bytes, durable per
    // commit: append each commit's bytes to a file and fdatasync.
    let floor_path = dir.join("floor.log");
    let mut floor = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&floor_path)
        .map_err(|e| format!("{}: {e}", floor_path.display()))?;
    let t = Instant::now();
    for chunk in bytes.chunks(per_commit as usize) {
        let mut buf = Vec::with_capacity(chunk.iter().map(Vec::len).sum());
        for b in chunk {
            buf.extend_from_slice(b);
        }
        floor
            .write_all(&buf)
            .and_then(|()| floor.sync_data())
            .map_err(|e| format!("{}: {e}", floor_path.display()))?;
    }
    let floor_secs = secs(t);
    let n = batched as f64;
    let (sr, hr, pr) = (n / store_secs, n / sha_secs, n / plain_secs);
    s.rows.push(
        Row::info(
            format!(
                "batched appends ({} per commit) vs raw SHA-256",
                thousands(per_commit as f64)
            ),
            rate(sr, "entries"),
            rate(hr, "hashes"),
            batched_ratio.cell(|r| thr_ratio(r, 1.0)),
        )
        .judged("≥ 0.5× (issue 12)", Column::Ratio, Cmp::AtLeast, 0.5),
    );
    // Issue 21 item 2: batched appends judged against the disk floor of
    // the same bytes (measured below, in this run); raw SHA-256 is context.
    let fr = n / floor_secs;
    s.rows.push(floor_row(per_commit, sr, fr));
    s.rows.push(Row::info(
        "reference: vs plain SQLite INSERT + SHA-256 of the same rows, same batch",
        rate(sr, "entries"),
        rate(pr, "rows"),
        thr_ratio(sr, pr),
    ));
    let br = n / blob_secs;
    s.rows.push(Row::info(
        "reference: raw SHA-256 vs the same bytes as one SQLite blob per commit + SHA-256",
        rate(br, "entries"),
        rate(hr, "hashes"),
        thr_ratio(br, hr),
    ));
    s.rows.push(Row::info(
        "reference: raw SHA-256 vs the disk floor (the same bytes appended to a file, fdatasync per commit, no hashing)",
        rate(fr, "entries"),
        rate(hr, "hashes"),
        thr_ratio(fr, hr),
    ));
    s.notes.push(format!(
        "Entries average {avg:.0} bytes. Per entry: the store {} in all; of that, building the canonical JSON (RFC 8785) \
         {} and SHA-256 {} (measured apart on the same entries); the rest, {}, is SQLite (row insert, B-tree, WAL) and \
         the commit's head-row update, checkpoint signing and fsync, shared by {} entries. A plain SQLite table \
         `(idx INTEGER PRIMARY KEY, entry BLOB, leaf_hash BLOB)` takes {} per row for the same bytes and hash.",
        us(store_secs * 1e6 / n),
        us(canon_secs * 1e6 / n),
        us(sha_secs * 1e6 / n),
        us(((store_secs - canon_secs - sha_secs) * 1e6 / n).max(0.0)),
        thousands(per_commit as f64),
        us(plain_secs * 1e6 / n)
    ));
    if sr < 0.5 * fr {
        s.notes.push(floor_note(
            PerEntry {
                n,
                floor_secs,
                canon_secs,
                plain_secs,
                sha_secs,
            },
            br / fr,
        ));
    }
    if !meets(&thr_ratio(batched_ratio.median(), 1.0), Cmp::AtLeast, 0.5) {
        s.notes.push(format!(
            "Why the batched target is missed: raw SHA-256 of an entry takes {}, so 0.5× leaves {} per appended \
             entry for everything. A plain SQLite row per entry alone costs {} (reference row), and building the \
             canonical JSON {} (the hand-made writer, `AuditEntry::write_canonical_json`, with the draft's copy and the \
             leaf hash): with one SQLite row per entry, no change reaches it. Steward's store runs at {:.2}× of that \
             plain row-per-entry floor. Even the same bytes stored as one blob per commit take {} per entry ({:.2}× \
             of raw SHA-256, reference row). What would reach 0.5×: entries written as one blob (or an append-only \
             segment file) per commit, with the index kept per batch; in steward-store. The disk floor row bounds any durable design: writing the same bytes to a file with one \
             fdatasync per commit, and nothing else, runs at {:.2}× of raw SHA-256 here{}.",
            us(sha_secs * 1e6 / n),
            us(2.0 * sha_secs * 1e6 / n),
            us(plain_secs * 1e6 / n),
            us(canon_secs * 1e6 / n),
            sr / pr,
            us(blob_secs * 1e6 / n),
            br / hr,
            fr / hr,
            if fr / hr < 0.5 {
                ": below 0.5× with no database, no JSON and no hashing at all, so on this disk the target can only \
                 be met by an append that is not durable at commit (e.g. group commit across requests)"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// Section 5, durable: `durable` commits of one entry each, beside write +
/// fdatasync and a plain SQLite one-row commit, interleaved.
fn append_durable(
    s: &mut Section,
    dir: &Path,
    store: &mut SqliteStore,
    plain: &mut Connection,
    batched: u64,
    durable: u64,
) -> Result<(), String> {
    // Durable appends: one entry per commit, vs write + fdatasync. Start
    // both databases from a checkpointed WAL (reused from its start, as in
    // a long-running process) so that the batched phase's pages are not
    // checkpointed on this phase's clock.
    for c in [store.connection(), &*plain] {
        c.execute_batch("PRAGMA wal_checkpoint(RESTART);")
            .map_err(|e| format!("sqlite: {e}"))?;
    }
    let d = drafts(1_000_000, durable)?;
    let file_bytes = canonical(&d, 0);
    let fpath = dir.join("fdatasync.log");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&fpath)
        .map_err(|e| format!("{}: {e}", fpath.display()))?;
    // Interleave one operation of each side at a time: the shared disk's
    // latency drifts with other work, and this spreads it evenly.
    let (mut st_t, mut fs_t, mut pl_t) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (draft, b)) in d.into_iter().zip(&file_bytes).enumerate() {
        let t = Instant::now();
        store
            .commit(ChangeSet {
                audit: vec![draft],
                ..Default::default()
            })
            .map_err(store_err)?;
        st_t.push(secs(t));
        let t = Instant::now();
        f.write_all(b)
            .map_err(|e| format!("{}: {e}", fpath.display()))?;
        f.sync_data()
            .map_err(|e| format!("{}: {e}", fpath.display()))?;
        fs_t.push(secs(t));
        let t = Instant::now();
        plain_log_insert(plain, batched as i64 + i as i64, std::slice::from_ref(b))?;
        pl_t.push(secs(t));
    }
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let (sr, fr, pr) = (
        st_t.len() as f64 / sum(&st_t),
        fs_t.len() as f64 / sum(&fs_t),
        pl_t.len() as f64 / sum(&pl_t),
    );
    // RUNS consecutive runs of equal length: run k's ratio is its
    // fdatasync time over its commit time (the same count on each side).
    let per_run = st_t.len().div_ceil(RUNS).max(1);
    let durable_ratio = Runs::new(
        st_t.chunks(per_run)
            .zip(fs_t.chunks(per_run))
            .map(|(st, fs)| sum(fs) / sum(st))
            .collect(),
    );
    s.rows.push(
        Row::info(
            "durable appends (1 per commit) vs write + fdatasync",
            rate(sr, "entries"),
            rate(fr, "fdatasyncs"),
            durable_ratio.cell(|r| thr_ratio(r, 1.0)),
        )
        .judged("≥ 0.9×", Column::Ratio, Cmp::AtLeast, 0.9),
    );
    s.rows.push(Row::info(
        "reference: vs plain SQLite one-row commit of the same bytes",
        rate(sr, "entries"),
        rate(pr, "commits"),
        thr_ratio(sr, pr),
    ));
    let p99 = |v: &mut Vec<f64>| percentile(v, 99.0) * 1e6;
    let (s99, f99, p99v) = (p99(&mut st_t), p99(&mut fs_t), p99(&mut pl_t));
    let (sm, fm, pm) = (
        median(&mut st_t) * 1e6,
        median(&mut fs_t) * 1e6,
        median(&mut pl_t) * 1e6,
    );
    s.notes.push(format!(
        "Durable, median (p99): one-entry commit {} ({}), write + fdatasync {} ({}), plain SQLite one-row commit {} ({}).",
        us(sm),
        us(s99),
        us(fm),
        us(f99),
        us(pm),
        us(p99v)
    ));
    if !meets(&thr_ratio(durable_ratio.median(), 1.0), Cmp::AtLeast, 0.9) {
        s.notes.push(format!(
            "Why the durable target is missed: a plain SQLite one-row commit of the same bytes already runs at \
             {:.2}× of the fdatasync loop (its WAL frames are whole 4 KiB pages, one for the entry's table page and \
             one for the head row, plus a frame header each, then the WAL fsync), and Steward's commit adds {} at the \
             median (file-identity check, head-row read and update, canonical JSON, leaf hash, compact range, a \
             signed checkpoint every 1,000 entries). Reaching 0.9× with one writer needs fewer bytes per fsync: the \
             log in an append-only file fsynced per commit, with the head row in SQLite, in steward-store (group \
             commit, section 10, shares one fsync among concurrent decisions; it cannot help a single writer). At the median the ratio is {:.2}× ({} vs {}); the \
             throughput ratio counts every commit, so the slow tail (SQLite's WAL auto-checkpoint copying pages \
             back into the database file and fsyncing it: every few thousand commits in Steward's store, whose WAL \
             holds 10,000 pages between checkpoints; every few hundred in the reference table; and the shared disk's own \
             stalls, which the fdatasync side also shows) moves it between runs (the range beside the median).",
            pr / fr,
            us((sm - pm).max(0.0)),
            fm / sm.max(f64::MIN_POSITIVE),
            us(sm),
            us(fm)
        ));
    }
    Ok(())
}

/// Section 6: `Steward::audit_verify` over a large log.
pub fn verify(quick: bool) -> Section {
    let mut s = Section::new(6, "audit verify");
    let n: u64 = if quick { 10_000 } else { 1_000_000 };
    let per_commit = 10_000u64.min(n);
    s.method.push(format!(
        "A Steward data dir whose log gets {} gate-like entries through `SqliteStore::commit` of {} drafts each \
         (the store Steward opens, with its keyring's signing key and its checkpoint settings: a commit cuts a signed \
         checkpoint when 1,000 entries have accumulated, so here one per commit). Steward: `Steward::audit_verify` (reads every row, re-hashes every entry, checks the hash \
         chain, every checkpoint's Ed25519 signature and Merkle root, and the head row). Baseline: a plain SQLite scan of the \
         same rows computing each entry's leaf hash (SHA-256) and comparing it with the stored one. {RUNS} alternating runs of each; the target is decided on the median, whose range is printed.",
        thousands(n as f64),
        thousands(per_commit as f64)
    ));
    let run = |s: &mut Section| -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let config = Config::default();
        let st = Steward::open(dir.path(), config.clone(), OpenOptions::default())
            .map_err(|e| format!("steward: {e}"))?;
        drop(st);
        let region = config.home_region();
        let db = dir.path().join(
            region
                .store
                .clone()
                .unwrap_or_else(|| format!("{}.sqlite3", region.name)),
        );
        let mut store = open_store(
            &db,
            dir.path(),
            format!("{}/{}", config.audit.origin, region.name),
            config.audit.key_name.clone(),
            config.audit.checkpoint_every,
            config.audit.checkpoint_every_secs,
        )?;
        let mut build_secs = 0.0;
        let mut done = 0;
        while done < n {
            let k = per_commit.min(n - done);
            let d = drafts(done, k)?;
            let t = Instant::now();
            store
                .commit(ChangeSet {
                    audit: d,
                    ..Default::default()
                })
                .map_err(store_err)?;
            build_secs += secs(t);
            done += k;
        }
        drop(store);
        let region_name = region.name.clone();
        let st = Steward::open(dir.path(), config, OpenOptions::default())
            .map_err(|e| format!("steward: {e}"))?;
        let scan = || scan_leaf_hashes(&db);
        let mut entries = 0;
        let mut checkpoints = 0;
        let verify = || -> Result<(f64, u64, u64), String> {
            let t = Instant::now();
            let out = st.audit_verify().map_err(|e| format!("steward: {e}"))?;
            let el = secs(t);
            match out {
                VerifyOutcome::Ok(r) => Ok((el, r.entries, r.checkpoints_verified)),
                VerifyOutcome::Failed(f) => Err(format!("audit verify failed: {f:?}")),
                #[allow(unreachable_patterns)]
                _ => Err("audit verify: unknown outcome".into()),
            }
        };
        let (mut v_runs, mut s_runs, mut d_runs) = (Vec::new(), Vec::new(), Vec::new());
        let mut fired = 0;
        for _ in 0..RUNS {
            let (el, e, c) = verify()?;
            v_runs.push(el);
            entries = e;
            checkpoints = c;
            s_runs.push(scan()?);
            let (el, f) = detect(&db, &region_name)?;
            d_runs.push(el);
            fired = f;
        }
        let total = entries as f64;
        let (v_runs, s_runs) = (Runs::new(v_runs), Runs::new(s_runs));
        let (vs, ss) = (v_runs.median(), s_runs.median());
        let vr_runs = Runs::new(vec![total / v_runs.min(), total / vs, total / v_runs.max()]);
        let (vr, sr) = (total / vs, total / ss);
        s.rows.push(
            Row::info(
                format!("verify {} entries", thousands(total)),
                format!(
                    "{} (median of {} runs, {} – {})",
                    rate(vr, "entries"),
                    v_runs.len(),
                    rate(vr_runs.min(), "entries"),
                    rate(vr_runs.max(), "entries")
                ),
                rate(sr, "entries"),
                thr_ratio(vr, sr),
            )
            .judged(
                "≥ 500,000 entries/s",
                Column::Steward,
                Cmp::AtLeast,
                500_000.0,
            ),
        );
        // Issue 20: the detectors (N5.1) over the same entries, beside
        // `audit verify`: read, decode, summarise and observe each entry.
        let d_runs = Runs::new(d_runs);
        let dr = total / d_runs.median();
        s.rows.push(Row::info(
            format!(
                "detectors over the same {} entries vs `audit verify`",
                thousands(total)
            ),
            format!(
                "{} (median of {} runs; {} firings)",
                rate(dr, "entries"),
                d_runs.len(),
                fired
            ),
            rate(vr, "entries"),
            thr_ratio(dr, vr),
        ));
        s.notes.push(format!(
            "Verified {} entries and {} checkpoints in {:.2} s (scan + SHA-256: {:.2} s). Building the log ran at {} \
             ({} drafts per commit). A log written by one-entry gate commits has a checkpoint every 1,000 entries, \
             1,000 per million: each adds one Ed25519 signature check (tens of µs), tens of ms per million entries.",
            thousands(total),
            thousands(checkpoints as f64),
            vs,
            ss,
            rate(n as f64 / build_secs, "entries"),
            thousands(per_commit as f64)
        ));
        Ok(())
    };
    if let Err(e) = run(&mut s) {
        s.error = Some(e);
        if s.rows.is_empty() {
            s.rows.push(
                Row::info("verify", "error".into(), "—".into(), "n/a".into())
                    .target("≥ 500,000 entries/s", false),
            );
        }
    }
    s
}

/// Section 5's timings of one batched run: `n` entries; seconds for the
/// disk floor, the canonical JSON, the plain SQLite table and raw SHA-256.
struct PerEntry {
    n: f64,
    floor_secs: f64,
    canon_secs: f64,
    plain_secs: f64,
    sha_secs: f64,
}

/// Why issue 21's batched target (≥ 0.5× the disk floor) is missed, and
/// what would reach it; `blob_vs_floor` is the one-blob-per-commit
/// reference over the floor.
fn floor_note(e: PerEntry, blob_vs_floor: f64) -> String {
    format!(
        "Why issue 21's batched target is missed: the disk floor takes {} per entry, so 0.5× of it leaves {} \
             per appended entry. Building the canonical JSON alone takes {} and a SQLite row {} (plain reference \
             row); even the same bytes as one SQLite blob per commit run at {:.2}× of the floor. What would reach \
             it: the entries of a commit appended to a segment file of the log (the head and the index per batch in \
             SQLite, the file fdatasynced with the commit) and the canonical JSON written for under about {} per \
             entry; neither is built: the log is one SQLite row per entry on both backends.",
        us(e.floor_secs * 1e6 / e.n),
        us(2.0 * e.floor_secs * 1e6 / e.n),
        us(e.canon_secs * 1e6 / e.n),
        us(e.plain_secs * 1e6 / e.n),
        blob_vs_floor,
        us(((2.0 * e.floor_secs - e.sha_secs) * 1e6 / e.n).max(0.0))
    )
}

/// Issue 21's row: batched appends (`sr` entries/s, `per_commit` per
/// commit) against the disk floor of the same bytes (`fr` entries/s).
fn floor_row(per_commit: u64, sr: f64, fr: f64) -> Row {
    Row::info(
        format!(
            "batched appends ({} per commit) vs the disk floor (same bytes to a file, one fdatasync per commit)",
            thousands(per_commit as f64)
        ),
        rate(sr, "entries"),
        rate(fr, "entries"),
        thr_ratio(sr, fr),
    )
    .judged("≥ 0.5× (issue 21)", Column::Ratio, Cmp::AtLeast, 0.5)
}
