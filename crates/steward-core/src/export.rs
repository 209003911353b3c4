//! Subject export as a ZIP (N7.1, N7.2), streamed so that memory does not
//! grow with the subject's record count.
//!
//! How: the gate decides and audits the export and hands out the subject's
//! sealer; records are then read from the store one keyset page at a time
//! ([`steward_store::RecordStore::records_page`]), opened one at a time and
//! written at once to per-category JSON and CSV entries. A ZIP's entries are
//! written one after another, so each category's two entries are first
//! compressed into their own one-entry ZIP in a private work directory
//! (`<data-dir>/export-work/`, mode 0700, files 0600), with the SHA-256 of
//! the uncompressed bytes computed while writing; the final ZIP is then the
//! manifest followed by a raw copy of those compressed entries (no second
//! compression, no second pass over the records). The work directory is
//! deleted afterwards, on error too; one left by a crash is deleted by the
//! next export.
//!
//! Crash safety: the ZIP is written to `<out>.zip.partial` (locked while it
//! is written), fsynced and then renamed to `out`, so a crash never leaves a
//! file under `out` that looks complete. A stale `.partial` (its writer is
//! gone: its lock is free) is deleted by the next export to the same path.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_domain::{Category, Purpose, RecordId};
use steward_policy::Action;

use crate::gate::{AccessRequest, Opened, OpenedRecord};
use crate::{CoreError, ExportSummary, Steward};

/// Records read from the store per page: about 0.5 MB of sealed rows.
const PAGE: usize = 1000;

/// The private work area under the data directory.
const WORK_DIR: &str = "export-work";

/// A lock file still under its creation name, older than this, is left over
/// from a crash between its creation and its rename (seconds).
const STALE_NEW_LOCK_SECS: u64 = 60;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CoreError + '_ {
    move |e| CoreError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn zip_err(path: &Path) -> impl Fn(zip::result::ZipError) -> CoreError + '_ {
    move |e| CoreError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Create a new file readable by its owner only (the export is Service Data
/// in clear); refuses an existing file.
fn create_private(path: &Path) -> Result<File, CoreError> {
    let mut oo = std::fs::OpenOptions::new();
    oo.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut oo, 0o600);
    oo.open(path).map_err(io_err(path))
}

/// Create `dir` (and its parents) and make it 0700.
fn private_dir(dir: &Path) -> Result<(), CoreError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err(dir))?;
    }
    Ok(())
}

/// Whether the file at `path` is locked by a live writer. A file that
/// cannot be opened counts as unlocked (it is gone or unusable).
fn locked_by_someone(path: &Path) -> bool {
    match File::open(path) {
        Ok(f) => matches!(f.try_lock(), Err(TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// This export's private work directory: `<root>/<name>/`, held by an
/// exclusive lock on `<root>/<name>.lock` for as long as it lives. Deleted
/// on drop (success or error); after a crash the lock is free and the next
/// export deletes it ([`clean_stale_work`]).
struct WorkDir {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl WorkDir {
    fn create(data_dir: &Path) -> Result<WorkDir, CoreError> {
        let root = data_dir.join(WORK_DIR);
        private_dir(&root)?;
        clean_stale_work(&root);
        let mut r = [0u8; 8];
        rand::rng().fill_bytes(&mut r);
        let name = format!("x-{}", hex::encode(r));
        // The lock is taken under a creation name and only then given the
        // name cleaners look at, so a cleaner never sees it unlocked.
        let new_lock = root.join(format!("{name}.lock-new"));
        let lock = create_private(&new_lock)?;
        lock.lock().map_err(io_err(&new_lock))?;
        let lock_path = root.join(format!("{name}.lock"));
        std::fs::rename(&new_lock, &lock_path).map_err(io_err(&lock_path))?;
        let dir = root.join(&name);
        let work = WorkDir {
            dir,
            lock_path,
            _lock: lock,
        };
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&work.dir).map_err(io_err(&work.dir))?;
        Ok(work)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        // Directory first, lock last: a directory without its lock is stale.
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Delete what crashed exports left in the work area: directories whose
/// lock is free or gone, and creation-named locks older than a minute.
/// Best effort: what cannot be deleted now is tried again next time.
fn clean_stale_work(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".lock") {
            if !locked_by_someone(&path) {
                let _ = std::fs::remove_dir_all(root.join(stem));
                let _ = std::fs::remove_file(&path);
            }
        } else if name.ends_with(".lock-new") {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|d| d.as_secs() > STALE_NEW_LOCK_SECS);
            if old && !locked_by_someone(&path) {
                let _ = std::fs::remove_file(&path);
            }
        } else if path.is_dir() && !root.join(format!("{name}.lock")).exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Delete stale `*.zip.partial` files in `dir` (their writer is gone).
/// Only called for directories inside the data directory (e.g. the HTTP
/// API's `<data-dir>/tmp`): Steward does not sweep the user's directories.
fn clean_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".zip.partial"))
            && !locked_by_someone(&path)
        {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Take `tmp` (`<out>.zip.partial`) for writing: a stale one (left by a
/// crash: nobody holds its lock) is deleted; one being written by another
/// export is refused. The returned file is new, 0600 and exclusively locked.
fn claim_partial(tmp: &Path, out: &Path) -> Result<File, CoreError> {
    if tmp.exists() {
        if locked_by_someone(tmp) {
            return Err(CoreError::Io {
                path: out.display().to_string(),
                reason: format!(
                    "another export is writing {} right now; wait for it to finish or choose another output file",
                    tmp.display()
                ),
            });
        }
        std::fs::remove_file(tmp).map_err(io_err(tmp))?;
    }
    let f = create_private(tmp)?;
    f.lock().map_err(io_err(tmp))?;
    Ok(f)
}

/// Deletes the `.partial` file on drop unless disarmed (an export that
/// failed after creating it leaves nothing behind).
struct PartialGuard<'a> {
    path: &'a Path,
    armed: bool,
}

impl Drop for PartialGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// One compressed entry being written into its own one-entry ZIP, hashing
/// the uncompressed bytes (SHA-256) as they go in.
struct HashedEntry {
    path: PathBuf,
    zip: zip::ZipWriter<BufWriter<File>>,
    hash: Sha256,
}

impl HashedEntry {
    fn create(path: PathBuf, name: &str) -> Result<HashedEntry, CoreError> {
        let f = create_private(&path)?;
        let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, f));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            // Entries may pass 4 GiB for very large subjects (ZIP64).
            .large_file(true);
        zip.start_file(name, opts).map_err(zip_err(&path))?;
        Ok(HashedEntry {
            path,
            zip,
            hash: Sha256::new(),
        })
    }

    /// Finish the one-entry ZIP; returns the entry's SHA-256 (hex).
    fn finish(self) -> Result<(PathBuf, String), CoreError> {
        let hex = hex::encode(self.hash.finalize());
        let w = self.zip.finish().map_err(zip_err(&self.path))?;
        w.into_inner()
            .map_err(|e| io_err(&self.path)(e.into_error()))?;
        Ok((self.path, hex))
    }
}

impl Write for HashedEntry {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.zip.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.zip.flush()
    }
}

/// The sorted, de-duplicated field names of every kind of `category`: the
/// CSV columns after the fixed ones, known from the closed schema (N1.3)
/// without a first pass over the records.
fn category_columns(category: Category) -> Vec<&'static str> {
    let mut cols: Vec<&'static str> = steward_domain::vocab::all_kinds()
        .filter(|k| k.category() == category)
        .flat_map(|k| k.fields().iter().map(|f| f.name))
        .collect();
    cols.sort_unstable();
    cols.dedup();
    cols
}

fn scalar(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::Null => "".into(),
        Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}

/// A category's JSON and CSV entries, written record by record.
struct CategorySink {
    cols: Vec<&'static str>,
    json: HashedEntry,
    csv_path: PathBuf,
    csv: csv::Writer<HashedEntry>,
    count: u64,
    /// One record's pretty JSON, reused.
    buf: Vec<u8>,
    /// The same, indented as an array element, reused.
    line: Vec<u8>,
}

impl CategorySink {
    fn create(dir: &Path, category: Category) -> Result<CategorySink, CoreError> {
        let name = category.as_str();
        let json = HashedEntry::create(
            dir.join(format!("{name}.json.zip")),
            &format!("{name}.json"),
        )?;
        let csv_entry =
            HashedEntry::create(dir.join(format!("{name}.csv.zip")), &format!("{name}.csv"))?;
        let csv_path = csv_entry.path.clone();
        let cols = category_columns(category);
        let mut csv = csv::Writer::from_writer(csv_entry);
        let header = ["record_id", "kind", "product", "occurred_at"]
            .into_iter()
            .chain(cols.iter().copied());
        csv.write_record(header).map_err(|e| CoreError::Io {
            path: csv_path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(CategorySink {
            cols,
            json,
            csv_path,
            csv,
            count: 0,
            buf: Vec::with_capacity(1024),
            line: Vec::with_capacity(1024),
        })
    }

    /// Write one opened record to both entries. The JSON element is exactly
    /// what `serde_json::to_vec_pretty` writes for it inside an array.
    fn push(&mut self, rec: OpenedRecord) -> Result<(), CoreError> {
        let OpenedRecord {
            id,
            kind,
            product,
            region,
            mut body,
            ..
        } = rec;
        let occurred_at = body
            .get_mut("occurred_at")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let fields = body
            .get_mut("fields")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let integrity = |reason: String| CoreError::Integrity {
            record: id.to_string(),
            reason,
        };
        if let Some(obj) = fields.as_object() {
            // N1.3: a stored record holds only its kind's schema fields; one
            // that does not would lose a value in the CSV, so say so instead.
            if let Some(k) = obj
                .keys()
                .find(|k| self.cols.binary_search(&k.as_str()).is_err())
            {
                return Err(integrity(format!(
                    "field `{}` is not in the {} schema; the CSV cannot hold it",
                    k.chars().take(64).collect::<String>(),
                    kind
                )));
            }
        }
        let id_str = id.to_string();
        let mut row: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(4 + self.cols.len());
        row.push(id_str.as_str().into());
        row.push(kind.as_str().into());
        row.push(product.as_str().into());
        row.push(scalar(&occurred_at));
        for c in &self.cols {
            row.push(fields.get(*c).map(scalar).unwrap_or_default());
        }
        self.csv
            .write_record(row.iter().map(|c| c.as_bytes()))
            .map_err(|e| CoreError::Io {
                path: self.csv_path.display().to_string(),
                reason: e.to_string(),
            })?;
        drop(row);
        let v = json!({
            "record_id": id_str,
            "kind": kind,
            "product": product,
            "region": region,
            "occurred_at": occurred_at,
            "fields": fields,
        });
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, &v)
            .map_err(|e| integrity(format!("cannot be written as JSON: {e}")))?;
        self.line.clear();
        self.line
            .extend_from_slice(if self.count == 0 { b"[\n  " } else { b",\n  " });
        // Pretty JSON never holds a raw newline inside a string (it is
        // escaped), so every newline starts a line to indent.
        for &b in &self.buf {
            self.line.push(b);
            if b == b'\n' {
                self.line.extend_from_slice(b"  ");
            }
        }
        self.json
            .write_all(&self.line)
            .map_err(io_err(&self.json.path))?;
        self.count += 1;
        Ok(())
    }

    /// Close both entries: (records, (json file, hash), (csv file, hash)).
    fn finish(mut self) -> Result<FinishedCategory, CoreError> {
        let tail: &[u8] = if self.count == 0 { b"[]" } else { b"\n]" };
        self.json.write_all(tail).map_err(io_err(&self.json.path))?;
        let json = self.json.finish()?;
        let csv_path = self.csv_path;
        let csv_entry = self.csv.into_inner().map_err(|e| CoreError::Io {
            path: csv_path.display().to_string(),
            reason: e.error().to_string(),
        })?;
        let csv = csv_entry.finish()?;
        Ok(FinishedCategory {
            count: self.count,
            json,
            csv,
        })
    }
}

struct FinishedCategory {
    count: u64,
    json: (PathBuf, String),
    csv: (PathBuf, String),
}

impl Steward {
    /// Export a subject's data as a ZIP (N7.1, N7.2) through the gate, as
    /// `principal` for `purpose`. The ZIP holds `manifest.json` (subject,
    /// generated_at, controller (N8.1), contact (N8.10), purposes (N8.2),
    /// record_count, categories, files → SHA-256 of each file's bytes,
    /// retention, region, transfers (N4.4), policy_version, audit_index)
    /// and, per category that holds records, `<category>.json` (an array of
    /// `{record_id, kind, product, region, occurred_at, fields}`) and
    /// `<category>.csv` (`record_id, kind, product, occurred_at`, then every
    /// field of the category's closed schema, sorted). An identifier that
    /// matches no subject gives a valid, empty export.
    ///
    /// Streams: memory does not grow with the subject's record count (see
    /// the module doc). The ZIP is written to `<out>.zip.partial`, fsynced
    /// and renamed into place, so a crash never leaves a partial ZIP under
    /// `out`; a stale `.partial` is deleted by the next export to `out`.
    ///
    /// `obligation` names the recorded legal obligation the export answers
    /// (a data subject request, N3.7): policy requires one for `comply`.
    ///
    /// Errors: [`CoreError::Denied`] (audited); [`CoreError::Integrity`]
    /// naming a record that does not open; [`CoreError::Io`] naming the file
    /// (also when another export is writing the same `out` right now).
    pub fn export(
        &self,
        principal: &str,
        purpose: Purpose,
        subject: &str,
        out: &Path,
        obligation: Option<&str>,
    ) -> Result<ExportSummary, CoreError> {
        self.export_with_progress(principal, purpose, subject, out, obligation, &mut |_, _| {})
    }

    /// Open the subject's records page by page (the store is locked for one
    /// page at a time only) and write each into its category's sink in
    /// `work`, calling `progress(written, total)` after each page. Returns
    /// the sinks and how many records were written.
    #[allow(clippy::type_complexity)]
    fn write_records(
        &self,
        opened: &Opened,
        work: &WorkDir,
        total: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(BTreeMap<&'static str, CategorySink>, u64), CoreError> {
        let mut sinks: BTreeMap<&'static str, CategorySink> = BTreeMap::new();
        let mut written = 0u64;
        if let (Some(s), true) = (opened.subject, opened.opens_records()) {
            let mut after: Option<RecordId> = None;
            loop {
                let rows = self
                    .rstore(opened.region)?
                    .records_page(s, None, after, PAGE)?;
                let n = rows.len();
                for row in rows {
                    after = Some(row.id);
                    let rec = opened.open_record(row)?;
                    let category: Category =
                        rec.category.parse().map_err(|_| CoreError::Integrity {
                            record: rec.id.to_string(),
                            reason: "unknown category in storage".into(),
                        })?;
                    let sink = match sinks.entry(category.as_str()) {
                        std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(CategorySink::create(&work.dir, category)?)
                        }
                    };
                    sink.push(rec)?;
                    written += 1;
                }
                progress(written, total.max(written));
                if n < PAGE {
                    break;
                }
            }
        }
        Ok((sinks, written))
    }

    /// [`Steward::export`], calling `progress(written, total)` after each
    /// page of records (and once with 0 before the first): records written
    /// so far and the subject's record count when the export began (never
    /// less than `written`). Counts only, never identifiers.
    pub fn export_with_progress(
        &self,
        principal: &str,
        purpose: Purpose,
        subject: &str,
        out: &Path,
        obligation: Option<&str>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ExportSummary, CoreError> {
        let mut req = AccessRequest::new(principal, Action::Export, subject)
            .purpose(purpose)
            .obligation(obligation);
        // N7.1, N7.2: the subject's organisation; a user's own export checked.
        req.organisation = self.export_organisation(principal, subject)?;
        let opened = self.gate(&req, None)?;
        let tmp = out.with_extension("zip.partial");
        if let Some(dir) = out.parent()
            && let (Ok(d), Ok(data)) = (dir.canonicalize(), self.data_dir.canonicalize())
            && d.starts_with(&data)
        {
            clean_stale_partials(&d);
        }
        let work = WorkDir::create(&self.data_dir)?;

        let total: u64 = match opened.subject {
            Some(s) => self
                .rstore(opened.region)?
                .record_counts(s)?
                .iter()
                .map(|(_, n)| n)
                .sum(),
            None => 0,
        };
        progress(0, total);
        let (sinks, written) = self.write_records(&opened, &work, total, progress)?;
        let mut finished: Vec<(&'static str, FinishedCategory)> = Vec::with_capacity(sinks.len());
        for (name, sink) in sinks {
            finished.push((name, sink.finish()?));
        }
        let categories: BTreeMap<String, u64> = finished
            .iter()
            .map(|(n, f)| (n.to_string(), f.count))
            .collect();
        let mut hashes: BTreeMap<String, String> = BTreeMap::new();
        for (name, f) in &finished {
            hashes.insert(format!("{name}.json"), f.json.1.clone());
            hashes.insert(format!("{name}.csv"), f.csv.1.clone());
        }
        let c = &self.config.controller;
        // N8.1, N8.2, N8.10: controller, stated purposes and contact on every export.
        let manifest = json!({
            "subject": opened.subject.map(|s| s.to_string()),
            "generated_at": self.clock.rfc3339(),
            "controller": {"entity": c.entity, "address": c.address, "representative": c.representative},
            "contact": c.contact_email,
            "purposes": Purpose::STATED.iter().map(|p| json!({"purpose": p.as_str(), "clause": p.clause(), "description": p.plain_words()})).collect::<Vec<_>>(),
            "record_count": written,
            "categories": categories,
            "files": hashes,
            "retention": self.config.retention,
            "region": self.regions[opened.region].config.name,
            // N4.4: the transfers of this subject's data out of the EEA, UK or Switzerland.
            "transfers": match opened.subject {
                Some(s) => self.transfers_of(opened.region, s)?,
                None => vec![],
            },
            // N6.2, N8.4: every disclosure of this subject's data.
            "disclosures": match opened.subject {
                Some(s) => self.disclosures_of(s)?,
                None => vec![],
            },
            "policy_version": self.policy.version(),
            "audit_index": opened.audit_index,
        });

        let file = claim_partial(&tmp, out)?;
        // Declared before the writer: dropped after it, so a failed export's
        // `.partial` is deleted once the writer has let go of it.
        let mut guard = PartialGuard {
            path: &tmp,
            armed: true,
        };
        let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("manifest.json", opts)
            .map_err(zip_err(&tmp))?;
        let mbytes = serde_json::to_vec_pretty(&manifest).map_err(|e| CoreError::Io {
            path: tmp.display().to_string(),
            reason: format!("manifest: {e}"),
        })?;
        zip.write_all(&mbytes).map_err(io_err(&tmp))?;
        for (name, f) in &finished {
            for (path, entry) in [
                (&f.json.0, format!("{name}.json")),
                (&f.csv.0, format!("{name}.csv")),
            ] {
                let src = File::open(path).map_err(io_err(path))?;
                let mut archive = zip::ZipArchive::new(src).map_err(zip_err(path))?;
                let file = archive.by_index_raw(0).map_err(zip_err(path))?;
                zip.raw_copy_file_rename(file, entry)
                    .map_err(zip_err(&tmp))?;
            }
        }
        let w = zip.finish().map_err(zip_err(&tmp))?;
        let file = w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, out).map_err(io_err(out))?;
        guard.armed = false;
        drop(file);
        // The rename is durable once the directory is synced (best effort:
        // not every platform can open a directory).
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
        drop(work);
        Ok(ExportSummary {
            subject: opened.subject.map(|s| s.to_string()),
            record_count: written,
            categories,
            path: out.display().to_string(),
            audit_index: opened.audit_index,
            held: match opened.subject {
                Some(_) => vec![],
                None => self.held_notice(subject)?,
            },
        })
    }
}
