//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL`
//! (a commit is durable when it returns), migrations applied on open
//! (rendered from the one description, [`crate::schema`]). A commit's
//! writes are in `write`; the role traits' reads in `subjects`, `records`,
//! `audit` and `registry`.

mod audit;
mod counters;
mod records;
mod registry;
mod rows;
mod subjects;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::options::StoreOptions;
use crate::schema::{Backend, MIGRATIONS};
use crate::types::*;
use write::write_change;

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    identity: Option<(u64, u64)>,
    opts: StoreOptions,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn map_err(e: rusqlite::Error, busy_ms: u64) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, ref msg) = e {
        return match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Locked { waited_ms: busy_ms }
            }
            ErrorCode::ReadOnly
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied => StoreError::Unwritable {
                reason: msg.clone().unwrap_or_else(|| f.to_string()),
            },
            // Issue 21: a record id drawn by another writer in the same
            // millisecond (rowid primary key) is retried by the core.
            ErrorCode::ConstraintViolation
                if msg.as_deref() == Some("UNIQUE constraint failed: records.id") =>
            {
                StoreError::RecordIdClash
            }
            ErrorCode::ConstraintViolation => {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| f.to_string()))
            }
            _ => StoreError::Database(msg.clone().unwrap_or_else(|| f.to_string())),
        };
    }
    StoreError::Database(e.to_string())
}

#[cfg(unix)]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (0, m.len()))
}

/// The store's files readable by their owner only (issue 13 item 7),
/// whatever the umask: the folder is made 0700 when Steward creates it, the
/// database file is created 0600 before SQLite opens it (SQLite gives its
/// `-wal` and `-shm` files the database file's mode), and a database,
/// `-wal` or `-shm` file left readable by others is made 0600.
fn private_files(path: &Path) -> Result<(), StoreError> {
    let unwritable = |p: &Path, e: std::io::Error| StoreError::Unwritable {
        reason: format!("{}: {e}", p.display()),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(|e| unwritable(dir, e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unwritable(path, e)),
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let p = PathBuf::from(name);
        if let Ok(m) = std::fs::metadata(&p)
            && m.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| unwritable(&p, e))?;
        }
    }
    Ok(())
}

/// Prepared statements kept per connection: more than the store's distinct
/// statements (about 60, registry tables included), so none is re-prepared.
const STATEMENT_CACHE: usize = 128;

impl SqliteStore {
    /// SQLite's page cache, in KiB (`PRAGMA cache_size = -N`). SQLite's default
    /// of 2 MiB is smaller than one ingest transaction of 10,000 records
    /// (about 4 MiB of new table pages plus the `records_subject` index
    /// pages the batch's subjects touch): the pager spilled dirty pages to the
    /// WAL in the middle of the transaction and read them back. 32 MiB holds
    /// a batch; the cache only grows to what is used. Measured in
    /// `steward-bench ingest` (docs/benchmarks.md, section 1).
    pub const PAGE_CACHE_KIB: i64 = 32 * 1024;

    /// The page cache of a connection of [`Self::open_reader`], in KiB:
    /// SQLite's default.
    pub const READER_CACHE_KIB: i64 = 2 * 1024;

    /// WAL pages after which a commit checkpoints the WAL into the database
    /// (`PRAGMA wal_autocheckpoint`; SQLite's default is 1,000 pages, 4 MiB).
    /// One ingest batch of 10,000 records writes more than 1,000 pages, so the
    /// default checkpointed after every batch, and each checkpoint cost a
    /// re-read of the pages the next batch touches. 10,000 pages (about
    /// 40 MiB of WAL between checkpoints: the commit that crosses the mark
    /// checkpoints after it, and a reader holding a snapshot can delay the
    /// reset) checkpoints every few batches. A change that deletes or
    /// replaces stored rows still truncates the WAL at once (issue 13 item
    /// 1: no copy of erased data is left in it).
    pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

    /// Open (or create) the store at `path` and apply pending migrations.
    ///
    /// Errors: [`StoreError::Database`] / [`StoreError::Unwritable`] when the
    /// file cannot be opened or migrated.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Self, StoreError> {
        let busy = opts.busy_timeout_ms;
        private_files(path)?;
        let conn = connect(path, busy, Self::PAGE_CACHE_KIB)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| map_err(e, busy))?;
        // Issue 13 item 1: what a commit deletes (an erased subject's wrapped
        // data key, swept records) is overwritten with zeros in the file,
        // not left in a free page.
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "wal_autocheckpoint", Self::WAL_AUTOCHECKPOINT_PAGES)
            .map_err(|e| map_err(e, busy))?;
        let mut store = SqliteStore {
            identity: file_identity(path),
            conn,
            path: path.to_owned(),
            opts,
        };
        store.migrate()?;
        Ok(store)
    }

    /// A connection to the same file for reads only (`PRAGMA query_only`),
    /// with a page cache of [`Self::READER_CACHE_KIB`] (every commit of the
    /// writing connection invalidates it, so a larger one buys little); no
    /// migration (the store
    /// it reads was opened, and migrated, first). See [`Store::reader`].
    ///
    /// Errors: [`StoreError`] opening the file.
    pub fn open_reader(&self) -> Result<Self, StoreError> {
        let busy = self.opts.busy_timeout_ms;
        let conn = connect(&self.path, busy, Self::READER_CACHE_KIB)?;
        conn.pragma_update(None, "query_only", "ON")
            .map_err(|e| map_err(e, busy))?;
        Ok(SqliteStore {
            identity: file_identity(&self.path),
            conn,
            path: self.path.clone(),
            opts: self.opts.clone(),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let busy = self.opts.busy_timeout_ms;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(e, busy))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| map_err(e, busy))?;
        // The DDL is rendered from the one description (crate::schema).
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(&Backend::Sqlite.render(m))
                .map_err(|e| map_err(e, busy))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| map_err(e, busy))?;
        }
        tx.commit().map_err(|e| map_err(e, busy))
    }

    /// Direct access to the connection, for tests and benchmarks that need
    /// to inspect or tamper with rows.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Copy the WAL into the database file and truncate it to zero bytes
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), so that pages written before a
    /// deletion (with the deleted bytes) no longer exist in the WAL. With
    /// `secure_delete=ON` the database file's pages hold zeros where the
    /// deleted rows were. Called after every commit that deletes.
    ///
    /// Errors: [`StoreError::Locked`] when a reader kept the checkpoint from
    /// completing within the busy timeout (the deletion is committed; the
    /// next deleting commit or sweep truncates again).
    pub(crate) fn truncate_wal(&self) -> Result<(), StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(|e| self.e(e))?;
        if busy != 0 {
            return Err(StoreError::Locked {
                waited_ms: self.opts.busy_timeout_ms,
            });
        }
        Ok(())
    }

    fn e(&self, e: rusqlite::Error) -> StoreError {
        map_err(e, self.opts.busy_timeout_ms)
    }
}

/// `Err(None)` when an identifier row of `c` clashes (its blind index is
/// indexed, after `c.delete_identifiers`, to another subject in the store
/// or earlier in `c`); `Err(Some(e))` for a database error.
fn check_identifier_clashes(
    tx: &rusqlite::Transaction<'_>,
    c: &ChangeSet,
) -> Result<(), Option<rusqlite::Error>> {
    let mut seen: std::collections::HashMap<[u8; 32], steward_domain::SubjectId> =
        Default::default();
    let mut st = tx
        .prepare_cached("SELECT subject_id FROM identifiers WHERE blind = ?1")
        .map_err(Some)?;
    for i in &c.identifiers {
        if let Some(s) = seen.insert(i.blind, i.subject)
            && s != i.subject
        {
            return Err(None);
        }
        if c.delete_identifiers.contains(&i.blind) {
            continue;
        }
        let now: Option<i64> = st
            .query_row(params![&i.blind[..]], |r| r.get(0))
            .optional()
            .map_err(Some)?;
        if now.is_some_and(|s| s != i.subject.0) {
            return Err(None);
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn commit(&mut self, c: ChangeSet) -> Result<Committed, StoreError> {
        self.health()?;
        let busy = self.opts.busy_timeout_ms;
        let opts = self.opts.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(e, busy))?;
        let deletes = deletes_rows(&c);
        let out = apply_change(&tx, &opts, c)?;
        tx.commit().map_err(|e| map_err(e, busy))?;
        if deletes {
            // Best effort: the change is committed whatever the checkpoint says.
            let _ = self.truncate_wal();
        }
        Ok(out)
    }

    /// One IMMEDIATE transaction for the whole group, each change set in a
    /// savepoint of its own (rolled back alone when it fails), one commit
    /// and so one fsync of the WAL for all (issue 21 item 2).
    fn commit_group(&mut self, group: Vec<ChangeSet>) -> Vec<Result<Committed, StoreError>> {
        let n = group.len();
        let fail_all = |e: &StoreError| -> Vec<Result<Committed, StoreError>> {
            (0..n).map(|_| Err(e.clone())).collect()
        };
        if let Err(e) = self.health() {
            return fail_all(&e);
        }
        let busy = self.opts.busy_timeout_ms;
        let opts = self.opts.clone();
        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(e) => return fail_all(&map_err(e, busy)),
        };
        let mut out = Vec::with_capacity(n);
        let mut deletes = false;
        for c in group {
            let d = deletes_rows(&c);
            let r = tx
                .execute_batch("SAVEPOINT steward_group")
                .map_err(|e| map_err(e, busy))
                .and_then(|()| apply_change(&tx, &opts, c));
            let end = match r {
                Ok(_) => "RELEASE steward_group",
                Err(_) => "ROLLBACK TO steward_group; RELEASE steward_group",
            };
            if let Err(e) = tx.execute_batch(end) {
                // The transaction is in an unknown state (SQLite may have
                // rolled it back whole, e.g. on a full disk): nothing of it
                // is kept. The change set's own error says why, if it had one.
                drop(tx);
                return fail_all(&match r {
                    Err(first) => first,
                    Ok(_) => map_err(e, busy),
                });
            }
            deletes |= d && r.is_ok();
            out.push(r);
        }
        if let Err(e) = tx.commit() {
            return fail_all(&map_err(e, busy));
        }
        if deletes {
            let _ = self.truncate_wal();
        }
        out
    }

    fn reader(&self) -> Result<Option<Box<dyn Store>>, StoreError> {
        Ok(Some(Box::new(self.open_reader()?)))
    }

    fn health(&self) -> Result<(), StoreError> {
        let now = file_identity(&self.path);
        if now.is_none() || now != self.identity {
            return Err(StoreError::FileReplaced {
                path: self.path.display().to_string(),
            });
        }
        Ok(())
    }
}

/// A connection to `path` with the settings every connection of a store
/// has: the busy timeout (ms), a page cache of `cache_kib` KiB (`PRAGMA
/// cache_size` is per connection) and room for the store's prepared
/// statements (one audited read prepares about twenty distinct statements:
/// the principal, registry look-ups per table, the audit head, records;
/// rusqlite's default cache of 16 evicted them on every request).
fn connect(path: &Path, busy: u64, cache_kib: i64) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| map_err(e, busy))?;
    conn.busy_timeout(Duration::from_millis(busy))
        .map_err(|e| map_err(e, busy))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "cache_size", -cache_kib)
        .map_err(|e| map_err(e, busy))?;
    Ok(conn)
}

/// N8.8 and N8.4, issue 13 item 1: a change that deletes or replaces stored
/// rows (an erasure, a sweep, a hold, a rectification's superseded record, a
/// merge's or re-index's identifier and record rows, registry rows past their
/// retention or at an erasure) leaves no copy in the WAL, however long the
/// WAL may grow between checkpoints otherwise: the committing store truncates
/// it when this says so.
fn deletes_rows(c: &ChangeSet) -> bool {
    !(c.shred.is_empty()
        && c.delete_records.is_empty()
        && c.delete_held.is_empty()
        && c.held.is_empty()
        && c.delete_identifiers.is_empty()
        && c.resealed.is_empty()
        && c.delete_registry.is_empty())
}

/// Checks `c`'s guards and identifiers and writes it inside `tx`; on error
/// the caller rolls back what this wrote.
fn apply_change(
    tx: &rusqlite::Transaction<'_>,
    opts: &StoreOptions,
    c: ChangeSet,
) -> Result<Committed, StoreError> {
    let busy = opts.busy_timeout_ms;
    {
        // Optimistic-concurrency guards, inside the IMMEDIATE transaction
        // (one writer at a time): a mismatch writes nothing.
        for g in &c.guards {
            let now: Option<String> = tx
                .query_row(
                    &format!("SELECT body FROM {} WHERE id = ?1", g.table.table()),
                    params![g.id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| map_err(e, busy))?;
            if now != g.expected {
                return Err(StoreError::GuardConflict {
                    table: g.table.table(),
                    id: g.id.clone(),
                });
            }
        }
        // Issue 15 item 3: a blind index already indexed to another subject
        // is a clash, never ignored; nothing is written.
        check_identifier_clashes(tx, &c).map_err(|e| match e {
            Some(e) => map_err(e, busy),
            None => StoreError::IdentifierClash,
        })?;
    }
    write_change(tx, opts, c).map_err(|e| map_err(e, busy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::options;
    use crate::{ChangeSet, RegistryTable};

    /// The page cache and checkpoint interval the ingest figures of
    /// docs/benchmarks.md were measured with are the ones an opened store
    /// runs with (they are per connection, not stored in the file).
    #[test]
    fn an_opened_store_runs_with_its_page_cache_and_checkpoint_interval() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.sqlite3"), options()).unwrap();
        let cache: i64 = store
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        let ckpt: i64 = store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        // SQLite reports a size in KiB as its negation; 32 MiB and 10,000
        // pages, written out rather than read from the constants.
        assert_eq!(cache, -32_768);
        assert_eq!(ckpt, 10_000);
    }

    /// N8.4 / N8.8 (issue 13 item 1): a commit that only deletes registry
    /// rows (a disclosure-ledger row past its retention, an erased
    /// subject's stored request result) leaves the WAL empty, although the
    /// checkpoint interval would let it hold thousands of pages.
    #[test]
    fn a_commit_deleting_registry_rows_leaves_the_wal_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        let mut store = SqliteStore::open(&path, options()).unwrap();
        let marker = "registry-row-body-to-be-deleted";
        let mut put = ChangeSet::default();
        put.registry.push((
            RegistryTable::DsrResults,
            "r1".into(),
            format!("{{\"note\":\"{marker}\"}}"),
        ));
        store.commit(put).unwrap();
        let wal = dir.path().join("s.sqlite3-wal");
        let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(
            wal_len() > 0,
            "the insert stays in the WAL until a checkpoint"
        );
        let mut del = ChangeSet::default();
        del.delete_registry
            .push((RegistryTable::DsrResults, "r1".into()));
        store.commit(del).unwrap();
        assert_eq!(wal_len(), 0, "the deleting commit truncates the WAL");
        let db = std::fs::read(&path).unwrap();
        assert!(
            !db.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "secure_delete zeroed the deleted row in the database file"
        );
    }
}
