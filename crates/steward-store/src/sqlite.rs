//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL`
//! (a commit is durable when it returns), migrations applied on open.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use steward_domain::{RecordId, SubjectId};

use crate::append::{self, HeadRow, hash32, now_ms};
use crate::codes;
use crate::options::StoreOptions;
use crate::schema::{Backend, MIGRATIONS};
use crate::types::*;

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

impl SqliteStore {
    /// Open (or create) the store at `path` and apply pending migrations.
    ///
    /// Errors: [`StoreError::Database`] / [`StoreError::Unwritable`] when the
    /// file cannot be opened or migrated.
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Self, StoreError> {
        let busy = opts.busy_timeout_ms;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unwritable {
                reason: format!("{}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| map_err(e, busy))?;
        conn.busy_timeout(Duration::from_millis(busy))
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| map_err(e, busy))?;
        conn.pragma_update(None, "foreign_keys", "ON")
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

    fn e(&self, e: rusqlite::Error) -> StoreError {
        map_err(e, self.opts.busy_timeout_ms)
    }
}

fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    opts: &StoreOptions,
    drafts: Vec<AuditDraft>,
    force_checkpoint: bool,
) -> Result<Committed, rusqlite::Error> {
    let head = tx.query_row(
        "SELECT size, last_leaf, frontier, checkpoint_size, checkpoint_at FROM audit_head WHERE id = 1",
        [],
        |r| {
            Ok(HeadRow {
                size: r.get(0)?,
                last_leaf: r.get(1)?,
                frontier: r.get(2)?,
                checkpoint_size: r.get(3)?,
                checkpoint_at: r.get(4)?,
            })
        },
    )?;
    let corrupt = |what: &str| {
        rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Blob)
    };
    let plan = append::plan(head, opts, drafts, force_checkpoint, now_ms()).map_err(corrupt)?;
    let mut ins =
        tx.prepare_cached("INSERT INTO audit_entries(idx, entry, leaf_hash) VALUES (?1, ?2, ?3)")?;
    for e in &plan.entries {
        ins.execute(params![e.idx, e.entry, &e.leaf_hash[..]])?;
    }
    if let Some(cp) = &plan.checkpoint {
        tx.execute(
            "INSERT INTO audit_checkpoints(size, note, created_at) VALUES (?1, ?2, ?3)",
            params![cp.size, cp.note, cp.created_at],
        )?;
    }
    let h = &plan.head;
    tx.execute(
        "UPDATE audit_head SET size = ?1, last_leaf = ?2, frontier = ?3, checkpoint_size = ?4, checkpoint_at = ?5 WHERE id = 1",
        params![h.size, h.last_leaf, h.frontier, h.checkpoint_size, h.checkpoint_at],
    )?;
    Ok(plan.committed)
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
        let out = write_change(&tx, &opts, c).map_err(|e| map_err(e, busy))?;
        tx.commit().map_err(|e| map_err(e, busy))?;
        Ok(out)
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

/// Writes everything of `c` inside `tx`, then appends its audit entries.
fn write_change(
    tx: &rusqlite::Transaction<'_>,
    opts: &StoreOptions,
    c: ChangeSet,
) -> Result<Committed, rusqlite::Error> {
    write_subjects(tx, &c)?;
    write_records(tx, &c.records)?;
    write_holds(tx, &c)?;
    let now = now_ms();
    for s in &c.shred {
        // N8.8 crypto-shredding: the wrapped DEK and the identifiers go; records become unreadable.
        tx.execute(
            "DELETE FROM subject_keys WHERE subject_id = ?1",
            params![s.0],
        )?;
        tx.execute(
            "DELETE FROM identifiers WHERE subject_id = ?1",
            params![s.0],
        )?;
        tx.execute(
            "UPDATE subjects SET erased_at = ?2 WHERE id = ?1",
            params![s.0, now],
        )?;
    }
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO principals(name, body, revoked) VALUES (?1, ?2, ?3)",
    )?;
    for (n, b, r) in &c.principals {
        st.execute(params![n, b, r])?;
    }
    for (t, id, body) in &c.registry {
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO {}(id, body) VALUES (?1, ?2)",
                t.table()
            ),
            params![id, body],
        )?;
    }
    append_audit(tx, opts, c.audit, false)
}

/// Subjects, their wrapped keys and their identifiers.
fn write_subjects(tx: &rusqlite::Transaction<'_>, c: &ChangeSet) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO subjects(id, region, created_at, erased_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for s in &c.subjects {
        st.execute(params![s.id.0, s.region, s.created_at_ms, s.erased_at_ms])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO subject_keys(subject_id, kek_version, key_version, wrapped) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for k in &c.keys {
        st.execute(params![
            k.subject.0,
            k.kek_version,
            k.key_version,
            k.wrapped
        ])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO identifiers(blind, subject_id, kind, sealed) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for i in &c.identifiers {
        st.execute(params![&i.blind[..], i.subject.0, i.kind, i.sealed])?;
    }
    Ok(())
}

/// Sealed records.
fn write_records(tx: &rusqlite::Transaction<'_>, records: &[RecordRow]) -> rusqlite::Result<()> {
    // Records point at the subject's local row key (a small integer), not its
    // 63-bit opaque id: a narrower index. The opaque id stays in the AAD.
    let mut keys: std::collections::HashMap<SubjectId, i64> = std::collections::HashMap::new();
    let mut key_of = tx.prepare_cached("SELECT key FROM subjects WHERE id = ?1")?;
    let mut st = tx.prepare_cached(
        "INSERT INTO records(id, subject_key, category, kind, product, key_version, stored_at, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for r in records {
        let key = match keys.get(&r.subject) {
            Some(k) => *k,
            None => {
                let k: i64 = key_of.query_row(params![r.subject.0], |row| row.get(0))?;
                keys.insert(r.subject, k);
                k
            }
        };
        st.execute(params![
            r.id.0,
            key,
            category_code(&r.category)?,
            kind_code(&r.kind)?,
            product_code(&r.product)?,
            r.key_version,
            r.stored_at_ms,
            r.sealed
        ])?;
    }
    Ok(())
}

/// N3.7 legal holds: records move under the subject's hold key (and out of
/// the live records) before any shredding; N7.2 rectification (superseded
/// record) and N8.8 retention delete records and held records.
fn write_holds(tx: &rusqlite::Transaction<'_>, c: &ChangeSet) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO hold_keys(subject_id, kek_version, key_version, wrapped) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for k in &c.hold_keys {
        st.execute(params![
            k.subject.0,
            k.kek_version,
            k.key_version,
            k.wrapped
        ])?;
    }
    let mut ins = tx.prepare_cached(
        "INSERT INTO held_records(id, subject_id, category, kind, product, key_version, stored_at, until_at, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut del = tx.prepare_cached("DELETE FROM records WHERE id = ?1")?;
    for h in &c.held {
        let r = &h.record;
        ins.execute(params![
            r.id.0,
            r.subject.0,
            category_code(&r.category)?,
            kind_code(&r.kind)?,
            product_code(&r.product)?,
            r.key_version,
            r.stored_at_ms,
            h.until_ms,
            r.sealed
        ])?;
        if del.execute(params![r.id.0])? != 1 {
            return Err(not_stored("record", r.id));
        }
    }
    for id in &c.delete_records {
        if del.execute(params![id.0])? != 1 {
            return Err(not_stored("record", *id));
        }
    }
    if !c.delete_held.is_empty() {
        let mut del = tx.prepare_cached("DELETE FROM held_records WHERE id = ?1")?;
        for id in &c.delete_held {
            if del.execute(params![id.0])? != 1 {
                return Err(not_stored("held record", *id));
            }
        }
        // A hold key goes with its subject's last held record.
        tx.execute(
            "DELETE FROM hold_keys WHERE subject_id NOT IN (SELECT subject_id FROM held_records)",
            [],
        )?;
    }
    Ok(())
}

impl SubjectStore for SqliteStore {
    fn subject_by_blind(&self, blind: &[u8; 32]) -> Result<Option<SubjectId>, StoreError> {
        self.conn
            .prepare_cached("SELECT subject_id FROM identifiers WHERE blind = ?1")
            .and_then(|mut s| s.query_row(params![&blind[..]], |r| r.get(0)).optional())
            .map(|o| o.map(SubjectId))
            .map_err(|e| self.e(e))
    }

    fn subject(&self, id: SubjectId) -> Result<Option<SubjectRow>, StoreError> {
        self.conn
            .prepare_cached("SELECT id, region, created_at, erased_at FROM subjects WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row(params![id.0], |r| {
                    Ok(SubjectRow {
                        id: SubjectId(r.get(0)?),
                        region: r.get(1)?,
                        created_at_ms: r.get(2)?,
                        erased_at_ms: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.e(e))
    }

    fn subjects(&self) -> Result<Vec<SubjectRow>, StoreError> {
        let mut s = self
            .conn
            .prepare_cached(
                "SELECT id, region, created_at, erased_at FROM subjects ORDER BY created_at, id",
            )
            .map_err(|e| self.e(e))?;
        let rows = s
            .query_map([], |r| {
                Ok(SubjectRow {
                    id: SubjectId(r.get(0)?),
                    region: r.get(1)?,
                    created_at_ms: r.get(2)?,
                    erased_at_ms: r.get(3)?,
                })
            })
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))?;
        Ok(rows)
    }

    fn identifiers(&self, id: SubjectId) -> Result<Vec<IdentifierRow>, StoreError> {
        let mut s = self.conn.prepare_cached("SELECT blind, subject_id, kind, sealed FROM identifiers WHERE subject_id = ?1 ORDER BY kind").map_err(|e| self.e(e))?;
        let rows = s
            .query_map(params![id.0], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))?;
        rows.into_iter()
            .map(|(b, s, kind, sealed)| {
                Ok(IdentifierRow {
                    blind: hash32(b, "identifiers.blind")?,
                    subject: SubjectId(s),
                    kind,
                    sealed,
                })
            })
            .collect()
    }

    fn wrapped_key(&self, id: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.conn
            .prepare_cached("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys WHERE subject_id = ?1")
            .and_then(|mut s| {
                s.query_row(params![id.0], |r| {
                    Ok(WrappedKeyRow { subject: SubjectId(r.get(0)?), kek_version: r.get(1)?, key_version: r.get(2)?, wrapped: r.get(3)? })
                })
                .optional()
            })
            .map_err(|e| self.e(e))
    }

    fn wrapped_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        let mut s = self.conn.prepare_cached("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys ORDER BY subject_id").map_err(|e| self.e(e))?;
        s.query_map([], |r| {
            Ok(WrappedKeyRow {
                subject: SubjectId(r.get(0)?),
                kek_version: r.get(1)?,
                key_version: r.get(2)?,
                wrapped: r.get(3)?,
            })
        })
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.e(e))
    }
}

/// Categories, kinds and products are stored as their stable codes
/// (crate::codes, one mapping for both backends).
fn category_code(name: &str) -> rusqlite::Result<i64> {
    codes::category_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn kind_code(name: &str) -> rusqlite::Result<i64> {
    codes::kind_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn product_code(name: &str) -> rusqlite::Result<i64> {
    codes::product_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn category_name(code: i64) -> rusqlite::Result<&'static str> {
    codes::category_name(code).ok_or_else(|| bad_code(2, "records.category"))
}

fn bad_code(i: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(i, what.into(), rusqlite::types::Type::Integer)
}

/// A record's region is the region of the store that holds it (one store per
/// region, N4.1), so rows do not repeat it.
fn record_row(r: &rusqlite::Row<'_>, region: &str) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: RecordId(r.get(0)?),
        subject: SubjectId(r.get(1)?),
        category: Cow::Borrowed(category_name(r.get(2)?)?),
        kind: Cow::Borrowed(
            codes::kind_name(r.get(3)?).ok_or_else(|| bad_code(3, "records.kind"))?,
        ),
        product: Cow::Borrowed(
            codes::product_name(r.get(4)?).ok_or_else(|| bad_code(4, "records.product"))?,
        ),
        region: Cow::Owned(region.to_owned()),
        key_version: r.get(5)?,
        stored_at_ms: r.get(6)?,
        sealed: r.get(7)?,
    })
}

const RECORD_FROM: &str = "records r JOIN subjects s ON s.key = r.subject_key";
const RECORD_COLS: &str =
    "r.id, s.id, r.category, r.kind, r.product, r.key_version, r.stored_at, r.sealed";

impl RecordStore for SqliteStore {
    fn records(
        &self,
        subject: SubjectId,
        category: Option<&str>,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let out = match category {
            Some(c) => self
                .conn
                .prepare_cached(&format!("SELECT {RECORD_COLS} FROM {RECORD_FROM} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = ?1) AND r.category = ?2 ORDER BY r.id"))
                .and_then(|mut s| s.query_map(params![subject.0, category_code(c)?], |r| record_row(r, &self.opts.region)).and_then(|it| it.collect::<Result<Vec<_>, _>>())),
            None => self
                .conn
                .prepare_cached(&format!("SELECT {RECORD_COLS} FROM {RECORD_FROM} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = ?1) ORDER BY r.id"))
                .and_then(|mut s| s.query_map(params![subject.0], |r| record_row(r, &self.opts.region)).and_then(|it| it.collect::<Result<Vec<_>, _>>())),
        };
        out.map_err(|e| self.e(e))
    }

    fn record_counts(&self, subject: SubjectId) -> Result<Vec<(String, u64)>, StoreError> {
        let mut s = self
            .conn
            .prepare_cached("SELECT category, COUNT(*) FROM records WHERE subject_key = (SELECT key FROM subjects WHERE id = ?1) GROUP BY category ORDER BY category")
            .map_err(|e| self.e(e))?;
        s.query_map(params![subject.0], |r| {
            Ok((
                category_name(r.get(0)?)?.to_owned(),
                r.get::<_, i64>(1)? as u64,
            ))
        })
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.e(e))
    }

    fn sweep_shredded(&mut self) -> Result<u64, StoreError> {
        self.health()?;
        let n = self
            .conn
            .execute(
                "DELETE FROM records WHERE subject_key IN (SELECT key FROM subjects WHERE erased_at IS NOT NULL)",
                [],
            )
            .map_err(|e| self.e(e))?;
        Ok(n as u64)
    }

    fn records_stored_before(
        &self,
        before_ms: i64,
        after: RecordId,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.conn
            .prepare_cached("SELECT r.id, s.id, r.category, r.kind, r.stored_at FROM records r JOIN subjects s ON s.key = r.subject_key WHERE r.id > ?1 AND r.stored_at <= ?2 ORDER BY r.id LIMIT ?3")
            .and_then(|mut s| {
                s.query_map(params![after.0, before_ms, limit], |r| meta_row(r, false))
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.e(e))
    }

    fn held_records(&self, subject: SubjectId) -> Result<Vec<HeldRecordRow>, StoreError> {
        self.conn
            .prepare_cached("SELECT id, subject_id, category, kind, product, key_version, stored_at, sealed, until_at FROM held_records WHERE subject_id = ?1 ORDER BY id")
            .and_then(|mut s| {
                s.query_map(params![subject.0], |r| {
                    Ok(HeldRecordRow {
                        record: record_row(r, &self.opts.region)?,
                        until_ms: r.get(8)?,
                    })
                })
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.e(e))
    }

    fn held_due(&self, at_ms: i64) -> Result<Vec<RecordMeta>, StoreError> {
        self.conn
            .prepare_cached("SELECT id, subject_id, category, kind, stored_at, until_at FROM held_records WHERE until_at <= ?1 ORDER BY id")
            .and_then(|mut s| {
                s.query_map(params![at_ms], |r| meta_row(r, true))
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.e(e))
    }

    fn hold_key(&self, subject: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.conn
            .prepare_cached("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys WHERE subject_id = ?1")
            .and_then(|mut s| s.query_row(params![subject.0], hold_key_row).optional())
            .map_err(|e| self.e(e))
    }

    fn hold_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.conn
            .prepare_cached("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys ORDER BY subject_id")
            .and_then(|mut s| {
                s.query_map([], hold_key_row)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            })
            .map_err(|e| self.e(e))
    }

    fn record(&self, id: RecordId) -> Result<Option<RecordRow>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {RECORD_COLS} FROM {RECORD_FROM} WHERE r.id = ?1"
            ))
            .and_then(|mut s| {
                s.query_row(params![id.0], |r| record_row(r, &self.opts.region))
                    .optional()
            })
            .map_err(|e| self.e(e))
    }

    fn records_page(
        &self,
        subject: SubjectId,
        category: Option<&str>,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError> {
        // `records_subject` indexes (subject_key, rowid = id): each page is
        // one index range scan, whatever the page's position.
        let after = after.map(|r| r.0).unwrap_or(i64::MIN);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let out = match category {
            Some(c) => self
                .conn
                .prepare_cached(&format!("SELECT {RECORD_COLS} FROM {RECORD_FROM} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = ?1) AND r.category = ?2 AND r.id > ?3 ORDER BY r.id LIMIT ?4"))
                .and_then(|mut s| s.query_map(params![subject.0, category_code(c)?, after, limit], |r| record_row(r, &self.opts.region)).and_then(|it| it.collect::<Result<Vec<_>, _>>())),
            None => self
                .conn
                .prepare_cached(&format!("SELECT {RECORD_COLS} FROM {RECORD_FROM} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = ?1) AND r.id > ?2 ORDER BY r.id LIMIT ?3"))
                .and_then(|mut s| s.query_map(params![subject.0, after, limit], |r| record_row(r, &self.opts.region)).and_then(|it| it.collect::<Result<Vec<_>, _>>())),
        };
        out.map_err(|e| self.e(e))
    }
}

impl AuditStore for SqliteStore {
    fn audit_size(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT size FROM audit_head WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|v| v as u64)
            .map_err(|e| self.e(e))
    }

    fn audit_scan(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(AuditRow) -> bool,
    ) -> Result<(), StoreError> {
        let mut s = self
            .conn
            .prepare("SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")
            .map_err(|e| self.e(e))?;
        let mut rows = s
            .query(params![from as i64, to.min(i64::MAX as u64) as i64])
            .map_err(|e| self.e(e))?;
        while let Some(r) = rows.next().map_err(|e| self.e(e))? {
            let idx: i64 = r.get(0).map_err(|e| self.e(e))?;
            let entry: Vec<u8> = r.get(1).map_err(|e| self.e(e))?;
            let leaf: Vec<u8> = r.get(2).map_err(|e| self.e(e))?;
            // A stored leaf hash of the wrong length is reported by the verifier as a mismatch.
            let mut leaf_hash = [0u8; 32];
            if leaf.len() == 32 {
                leaf_hash.copy_from_slice(&leaf);
            }
            if !f(AuditRow {
                index: idx as u64,
                entry,
                leaf_hash,
            }) {
                break;
            }
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        let mut s = self
            .conn
            .prepare("SELECT size, note FROM audit_checkpoints ORDER BY size")
            .map_err(|e| self.e(e))?;
        s.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))
    }

    fn audit_head(&self) -> Result<(u64, [u8; 32]), StoreError> {
        let (size, frontier): (i64, Vec<u8>) = self
            .conn
            .query_row(
                "SELECT size, frontier FROM audit_head WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.e(e))?;
        append::head_root(size, &frontier)
    }

    fn cut_checkpoint(&mut self) -> Result<u64, StoreError> {
        self.health()?;
        let busy = self.opts.busy_timeout_ms;
        let opts = self.opts.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(e, busy))?;
        let c = append_audit(&tx, &opts, Vec::new(), true).map_err(|e| map_err(e, busy))?;
        tx.commit().map_err(|e| map_err(e, busy))?;
        Ok(c.audit_size)
    }

    fn import_audit(
        &mut self,
        rows: &[AuditRow],
        checkpoints: &[(u64, String)],
    ) -> Result<(), StoreError> {
        self.health()?;
        let plan = crate::copy::import_plan(rows, checkpoints)?;
        let busy = self.opts.busy_timeout_ms;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(e, busy))?;
        let size: i64 = tx
            .query_row("SELECT size FROM audit_head WHERE id = 1", [], |r| r.get(0))
            .map_err(|e| map_err(e, busy))?;
        if size != 0 {
            return Err(StoreError::Conflict(format!(
                "the target audit log already holds {size} entries"
            )));
        }
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO audit_entries(idx, entry, leaf_hash) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| map_err(e, busy))?;
            for r in rows {
                ins.execute(params![r.index as i64, r.entry, &r.leaf_hash[..]])
                    .map_err(|e| map_err(e, busy))?;
            }
            let mut cp = tx
                .prepare_cached(
                    "INSERT INTO audit_checkpoints(size, note, created_at) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| map_err(e, busy))?;
            for (size, note) in checkpoints {
                cp.execute(params![*size as i64, note, plan.now])
                    .map_err(|e| map_err(e, busy))?;
            }
        }
        tx.execute(
            "UPDATE audit_head SET size = ?1, last_leaf = ?2, frontier = ?3, checkpoint_size = ?4, checkpoint_at = ?5 WHERE id = 1",
            params![plan.size, plan.last_leaf, plan.frontier, plan.checkpoint_size, plan.now],
        )
        .map_err(|e| map_err(e, busy))?;
        tx.commit().map_err(|e| map_err(e, busy))
    }
}

impl PrincipalStore for SqliteStore {
    fn principal(&self, name: &str) -> Result<Option<(String, bool)>, StoreError> {
        self.conn
            .prepare_cached("SELECT body, revoked FROM principals WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row(params![name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))
    }

    fn principals(&self) -> Result<Vec<(String, String, bool)>, StoreError> {
        let mut s = self
            .conn
            .prepare("SELECT name, body, revoked FROM principals ORDER BY name")
            .map_err(|e| self.e(e))?;
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))
    }
}

impl RegistryStore for SqliteStore {
    fn registry_get(&self, table: RegistryTable, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT body FROM {} WHERE id = ?1", table.table()))
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)).optional())
            .map_err(|e| self.e(e))
    }

    fn registry_list(&self, table: RegistryTable) -> Result<Vec<(String, String)>, StoreError> {
        let mut s = self
            .conn
            .prepare(&format!(
                "SELECT id, body FROM {} ORDER BY id",
                table.table()
            ))
            .map_err(|e| self.e(e))?;
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.e(e))
    }
}

/// A change that names a record the store does not hold (deleted or moved by
/// another writer): the whole commit is refused as a conflict.
fn not_stored(what: &str, id: RecordId) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
        Some(format!(
            "{what} {} is not stored (deleted or changed by another writer); nothing was written: read it again and retry",
            id.0
        )),
    )
}

/// A record's metadata (retention, N8.8): id, subject id, category, kind,
/// stored_at and, for held records, until_at.
fn meta_row(r: &rusqlite::Row<'_>, held: bool) -> rusqlite::Result<RecordMeta> {
    Ok(RecordMeta {
        id: RecordId(r.get(0)?),
        subject: SubjectId(r.get(1)?),
        category: Cow::Borrowed(category_name(r.get(2)?)?),
        kind: Cow::Borrowed(codes::kind_name(r.get(3)?).ok_or_else(|| bad_code(3, "kind"))?),
        stored_at_ms: r.get(4)?,
        until_ms: if held { Some(r.get(5)?) } else { None },
    })
}

fn hold_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WrappedKeyRow> {
    Ok(WrappedKeyRow {
        subject: SubjectId(r.get(0)?),
        kek_version: r.get(1)?,
        key_version: r.get(2)?,
        wrapped: r.get(3)?,
    })
}
