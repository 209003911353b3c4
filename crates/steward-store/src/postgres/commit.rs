//! One commit: a [`ChangeSet`] and its audit entries in one transaction.

use std::collections::HashMap;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Statement, Transaction};

use super::errors::{connection_gone, is_retryable, map_pg};
use super::rows::{HEAD_FOR_UPDATE, category_code, kind_code, product_code};
use super::{Conn, Fail};
use crate::append::{self, HeadRow, now_ms};
use crate::options::StoreOptions;
use crate::types::*;

/// Records per `INSERT ... UNNEST` statement.
pub(super) const RECORD_CHUNK: usize = 20_000;

/// From this many records in one commit on, records go by binary COPY.
const COPY_MIN_RECORDS: usize = 100;

/// Appends `drafts` (and a due checkpoint) inside `tx`, locking the head row.
pub(super) fn append_audit(
    tx: &mut postgres::Transaction<'_>,
    opts: &StoreOptions,
    drafts: Vec<AuditDraft>,
    force_checkpoint: bool,
) -> Result<Committed, Fail> {
    let r = tx.query_one(HEAD_FOR_UPDATE, &[])?;
    let head = HeadRow {
        size: r.try_get(0)?,
        last_leaf: r.try_get(1)?,
        frontier: r.try_get(2)?,
        checkpoint_size: r.try_get(3)?,
        checkpoint_at: r.try_get(4)?,
    };
    let plan = append::plan(head, opts, drafts, force_checkpoint, now_ms())
        .map_err(|what| StoreError::Corrupt(what.to_owned()))?;
    if !plan.entries.is_empty() {
        let idx: Vec<i64> = plan.entries.iter().map(|e| e.idx).collect();
        let entry: Vec<&[u8]> = plan.entries.iter().map(|e| e.entry.as_slice()).collect();
        let leaf: Vec<&[u8]> = plan.entries.iter().map(|e| &e.leaf_hash[..]).collect();
        tx.execute(
            "INSERT INTO audit_entries(idx, entry, leaf_hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])",
            &[&idx, &entry, &leaf],
        )?;
    }
    if let Some(cp) = &plan.checkpoint {
        tx.execute(
            "INSERT INTO audit_checkpoints(size, note, created_at) VALUES ($1, $2, $3)",
            &[&cp.size, &cp.note, &cp.created_at],
        )?;
    }
    let h = &plan.head;
    tx.execute(
        "UPDATE audit_head SET size = $1, last_leaf = $2, frontier = $3, checkpoint_size = $4, checkpoint_at = $5 WHERE id = 1",
        &[&h.size, &h.last_leaf, &h.frontier, &h.checkpoint_size, &h.checkpoint_at],
    )?;
    Ok(plan.committed)
}

/// A commit's records as columns, encoded before anything is sent (a bad
/// category, kind or product fails first).
struct RecordColumns<'a> {
    id: Vec<i64>,
    category: Vec<i32>,
    kind: Vec<i32>,
    product: Vec<i32>,
    key_version: Vec<i64>,
    stored_at: Vec<i64>,
    sealed: Vec<&'a [u8]>,
}

impl<'a> RecordColumns<'a> {
    fn encode(records: &'a [RecordRow]) -> Result<Self, StoreError> {
        let n = records.len();
        let mut cols = RecordColumns {
            id: Vec::with_capacity(n),
            category: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            product: Vec::with_capacity(n),
            key_version: Vec::with_capacity(n),
            stored_at: Vec::with_capacity(n),
            sealed: Vec::with_capacity(n),
        };
        for r in records {
            cols.id.push(r.id.0);
            cols.category.push(category_code(&r.category)?);
            cols.kind.push(kind_code(&r.kind)?);
            cols.product.push(product_code(&r.product)?);
            cols.key_version.push(i64::from(r.key_version));
            cols.stored_at.push(r.stored_at_ms);
            cols.sealed.push(&r.sealed);
        }
        Ok(cols)
    }
}

/// The statements a commit prepares (once per connection) before its
/// transaction starts.
struct Prepared {
    subjects: Statement,
    keys: Statement,
    idents: Statement,
    keys_of: Statement,
    records: Statement,
    principal: Statement,
}

impl Prepared {
    fn new(conn: &mut Conn) -> Result<Self, postgres::Error> {
        Ok(Prepared {
            subjects: conn.stmt("INSERT INTO subjects(key, id, region, created_at, erased_at) SELECT u.id, u.id, u.region, u.created_at, u.erased_at FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::int8[]) AS u(id, region, created_at, erased_at)")?,
            keys: conn.stmt("INSERT INTO subject_keys(subject_id, kek_version, key_version, wrapped) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::bytea[]) ON CONFLICT (subject_id) DO UPDATE SET kek_version = EXCLUDED.kek_version, key_version = EXCLUDED.key_version, wrapped = EXCLUDED.wrapped")?,
            idents: conn.stmt("INSERT INTO identifiers(blind, subject_id, kind, sealed) SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[]) ON CONFLICT (blind) DO NOTHING")?,
            keys_of: conn.stmt("SELECT id, key FROM subjects WHERE id = ANY($1::int8[])")?,
            records: conn.stmt("INSERT INTO records(id, subject_key, category, kind, product, key_version, stored_at, sealed) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int4[], $4::int4[], $5::int4[], $6::int8[], $7::int8[], $8::bytea[])")?,
            principal: conn.stmt("INSERT INTO principals(name, body, revoked) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, revoked = EXCLUDED.revoked")?,
        })
    }
}

/// One attempt at a commit: everything in one transaction.
pub(super) fn commit_once(
    conn: &mut Conn,
    opts: &StoreOptions,
    copy: bool,
    c: &ChangeSet,
    drafts: Vec<AuditDraft>,
) -> Result<Committed, Fail> {
    let cols = RecordColumns::encode(&c.records)?;
    let st = Prepared::new(conn)?;
    let mut tx = conn.client.transaction()?;
    let out = apply(&mut tx, &st, opts, copy, c, &cols, drafts)?;
    tx.commit().map_err(Fail::Commit)?;
    Ok(out)
}

/// The most change sets one group transaction holds: each takes a
/// subtransaction id (it writes the head row), and past 64 in one
/// transaction PostgreSQL's per-backend subtransaction cache overflows and
/// every other session's snapshots slow down. A larger group is committed
/// as several transactions of at most this many.
pub(super) const GROUP_MAX: usize = 48;

/// One attempt at a group commit (issue 21 item 2, [`Store::commit_group`]):
/// every change set of `group` (at most [`GROUP_MAX`]) in one transaction,
/// each in its own savepoint (released, or rolled back to and released),
/// then one `COMMIT` (one WAL flush for the group). A change set that fails
/// on its own (a guard conflict, a clash, a constraint; on the `last` try
/// also a serialization failure, deadlock or lock timeout) is rolled back to
/// its savepoint and reported in its slot; the others go on. An error that
/// concerns the transaction as a whole fails the attempt, so that
/// [`PostgresStore::write`] retries the whole group or reports it failed,
/// nothing of it kept: the connection lost, a serialization failure or
/// deadlock before the last try (CockroachDB's 40001 asks for the whole
/// transaction again), a savepoint that cannot be made or ended (then with
/// the change set's own error when it had one).
///
/// Lock order: the first change set's audit append takes the region's head
/// row, and later change sets write their rows while the group holds it,
/// whereas a single commit writes its rows first and takes the head row
/// last. A group and a single commit (another node, a `steward` command)
/// writing the same row (a registry row or principal upserted by both, one
/// identifier) can therefore deadlock; PostgreSQL detects it after
/// `deadlock_timeout` and fails one side, which is retried. The grouped
/// change sets are the gate's access decisions, which insert new rows only.
///
/// [`Store::commit_group`]: crate::Store::commit_group
/// [`PostgresStore::write`]: super::PostgresStore
pub(super) fn commit_group_once(
    conn: &mut Conn,
    opts: &StoreOptions,
    copy: bool,
    group: &[ChangeSet],
    last: bool,
) -> Result<Vec<Result<Committed, StoreError>>, Fail> {
    let st = Prepared::new(conn)?;
    let mut tx = conn.client.transaction()?;
    let mut out = Vec::with_capacity(group.len());
    for c in group {
        let cols = match RecordColumns::encode(&c.records) {
            Ok(cols) => cols,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        tx.batch_execute("SAVEPOINT steward_group")?;
        let failed = match apply(&mut tx, &st, opts, copy, c, &cols, c.audit.clone()) {
            Ok(done) => {
                tx.batch_execute("RELEASE SAVEPOINT steward_group")?;
                out.push(Ok(done));
                continue;
            }
            Err(Fail::Store(e)) => e,
            Err(Fail::Pg(e) | Fail::Commit(e))
                if connection_gone(&e) || (!last && is_retryable(&e)) =>
            {
                return Err(Fail::Pg(e));
            }
            Err(Fail::Pg(e) | Fail::Commit(e)) => map_pg(&e, opts.busy_timeout_ms),
        };
        // The change set alone is undone; the savepoint is ended so that
        // the next one is not nested in it.
        if tx
            .batch_execute("ROLLBACK TO SAVEPOINT steward_group; RELEASE SAVEPOINT steward_group")
            .is_err()
        {
            return Err(Fail::Store(failed));
        }
        out.push(Err(failed));
    }
    tx.commit().map_err(Fail::Commit)?;
    Ok(out)
}

/// A change set's writes and its audit entries inside `tx` (a transaction
/// or a savepoint of one); nothing is committed here.
fn apply(
    tx: &mut Transaction<'_>,
    st: &Prepared,
    opts: &StoreOptions,
    copy: bool,
    c: &ChangeSet,
    cols: &RecordColumns<'_>,
    drafts: Vec<AuditDraft>,
) -> Result<Committed, Fail> {
    check_guards(tx, &c.guards)?;
    if !c.delete_identifiers.is_empty() {
        let b: Vec<&[u8]> = c.delete_identifiers.iter().map(|b| &b[..]).collect();
        tx.execute(
            "DELETE FROM identifiers WHERE blind = ANY($1::bytea[])",
            &[&b],
        )?;
    }
    write_subjects(tx, st, c)?;
    if !c.records.is_empty() {
        write_records(tx, st, copy, &c.records, cols)?;
    }
    if !c.resealed.is_empty() {
        let id: Vec<i64> = c.resealed.iter().map(|r| r.id.0).collect();
        let subject: Vec<i64> = c.resealed.iter().map(|r| r.subject.0).collect();
        let kv: Vec<i64> = c
            .resealed
            .iter()
            .map(|r| i64::from(r.key_version))
            .collect();
        let sealed: Vec<&[u8]> = c.resealed.iter().map(|r| r.sealed.as_slice()).collect();
        let n = tx.execute(
            "UPDATE records r SET subject_key = s.key, key_version = u.kv, sealed = u.sealed FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::bytea[]) AS u(id, subject, kv, sealed) JOIN subjects s ON s.id = u.subject WHERE r.id = u.id",
            &[&id, &subject, &kv, &sealed],
        )?;
        if n != id.len() as u64 {
            return Err(Fail::Store(not_stored("record", id.len() as u64 - n)));
        }
    }
    write_holds(tx, c)?;
    if !c.shred.is_empty() {
        // N8.8 crypto-shredding: the wrapped DEK and the identifiers go; records become unreadable.
        let ids: Vec<i64> = c.shred.iter().map(|s| s.0).collect();
        let now = now_ms();
        tx.execute(
            "DELETE FROM subject_keys WHERE subject_id = ANY($1::int8[])",
            &[&ids],
        )?;
        tx.execute(
            "DELETE FROM identifiers WHERE subject_id = ANY($1::int8[])",
            &[&ids],
        )?;
        tx.execute(
            "UPDATE subjects SET erased_at = $2 WHERE id = ANY($1::int8[])",
            &[&ids, &now],
        )?;
    }
    for (name, body, revoked) in &c.principals {
        tx.execute(&st.principal, &[name, body, revoked])?;
    }
    for (t, id, body) in &c.registry {
        tx.execute(
            &format!(
                "INSERT INTO {}(id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                t.table()
            ),
            &[id, body],
        )?;
    }
    for (t, id) in &c.delete_registry {
        tx.execute(&format!("DELETE FROM {} WHERE id = $1", t.table()), &[id])?;
    }
    append_audit(tx, opts, drafts, false)
}

/// Optimistic-concurrency guards: take the head row lock every commit takes
/// (so guarded commits of one store serialize and each sees the last one's
/// write, READ COMMITTED), then lock and compare each row.
fn check_guards(tx: &mut Transaction<'_>, guards: &[RegistryGuard]) -> Result<(), Fail> {
    if guards.is_empty() {
        return Ok(());
    }
    tx.query_one(HEAD_FOR_UPDATE, &[])?;
    for g in guards {
        let now: Option<String> = tx
            .query_opt(
                &format!(
                    "SELECT body FROM {} WHERE id = $1 FOR UPDATE",
                    g.table.table()
                ),
                &[&g.id],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if now != g.expected {
            return Err(Fail::Store(StoreError::GuardConflict {
                table: g.table.table(),
                id: g.id.clone(),
            }));
        }
    }
    Ok(())
}

/// Subjects, their wrapped keys and their identifiers.
fn write_subjects(tx: &mut Transaction<'_>, st: &Prepared, c: &ChangeSet) -> Result<(), Fail> {
    if !c.subjects.is_empty() {
        let id: Vec<i64> = c.subjects.iter().map(|s| s.id.0).collect();
        let region: Vec<&str> = c.subjects.iter().map(|s| s.region.as_str()).collect();
        let created: Vec<i64> = c.subjects.iter().map(|s| s.created_at_ms).collect();
        let erased: Vec<Option<i64>> = c.subjects.iter().map(|s| s.erased_at_ms).collect();
        tx.execute(&st.subjects, &[&id, &region, &created, &erased])?;
    }
    if !c.keys.is_empty() {
        // INSERT OR REPLACE semantics: the last key given for a subject wins.
        let mut last: HashMap<i64, usize> = HashMap::with_capacity(c.keys.len());
        for (i, k) in c.keys.iter().enumerate() {
            last.insert(k.subject.0, i);
        }
        let keys: Vec<&WrappedKeyRow> = c
            .keys
            .iter()
            .enumerate()
            .filter(|(i, k)| last.get(&k.subject.0) == Some(i))
            .map(|(_, k)| k)
            .collect();
        let subject: Vec<i64> = keys.iter().map(|k| k.subject.0).collect();
        let kek: Vec<i64> = keys.iter().map(|k| i64::from(k.kek_version)).collect();
        let ver: Vec<i64> = keys.iter().map(|k| i64::from(k.key_version)).collect();
        let wrapped: Vec<&[u8]> = keys.iter().map(|k| k.wrapped.as_slice()).collect();
        tx.execute(&st.keys, &[&subject, &kek, &ver, &wrapped])?;
    }
    if !c.identifiers.is_empty() {
        let blind: Vec<&[u8]> = c.identifiers.iter().map(|i| &i.blind[..]).collect();
        let subject: Vec<i64> = c.identifiers.iter().map(|i| i.subject.0).collect();
        let kind: Vec<&str> = c.identifiers.iter().map(|i| i.kind.as_str()).collect();
        let sealed: Vec<&[u8]> = c.identifiers.iter().map(|i| i.sealed.as_slice()).collect();
        let mut seen: HashMap<&[u8], i64> = HashMap::with_capacity(blind.len());
        for (b, s) in blind.iter().zip(&subject) {
            if seen.insert(b, *s).is_some_and(|o| o != *s) {
                return Err(Fail::Store(StoreError::IdentifierClash));
            }
        }
        // Issue 15 item 3: the insert waits for a concurrent writer of the
        // same blind index; once it committed, the check below (a new
        // snapshot, READ COMMITTED) sees its row: another subject's entry
        // is a clash and nothing of this change is written.
        tx.execute(&st.idents, &[&blind, &subject, &kind, &sealed])?;
        let clash = tx.query_one(
            "SELECT count(*) FROM identifiers i JOIN UNNEST($1::bytea[], $2::int8[]) AS n(blind, subject) ON i.blind = n.blind WHERE i.subject_id <> n.subject",
            &[&blind, &subject],
        )?;
        if clash.try_get::<_, i64>(0)? > 0 {
            return Err(Fail::Store(StoreError::IdentifierClash));
        }
    }
    Ok(())
}

/// Sealed records: one binary COPY (`copy` and at least
/// [`COPY_MIN_RECORDS`]) or multi-row `INSERT ... UNNEST`s.
fn write_records(
    tx: &mut Transaction<'_>,
    st: &Prepared,
    copy: bool,
    records: &[RecordRow],
    cols: &RecordColumns<'_>,
) -> Result<(), Fail> {
    let n = records.len();
    // Records point at the subject's row key (see the SQLite store); a
    // record of a subject the store does not hold is refused.
    let mut wanted: Vec<i64> = records.iter().map(|r| r.subject.0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut keys: HashMap<i64, i64> = HashMap::with_capacity(wanted.len());
    for row in tx.query(&st.keys_of, &[&wanted])? {
        keys.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut rec_key = Vec::with_capacity(n);
    for r in records {
        let key = keys.get(&r.subject.0).copied().ok_or_else(|| {
            StoreError::Database(
                "a record refers to a subject that is not in this store; add the subject in the same or an earlier ChangeSet".into(),
            )
        })?;
        rec_key.push(key);
    }
    if copy && n >= COPY_MIN_RECORDS {
        // One binary COPY: the fastest path PostgreSQL has; `WITH BINARY`
        // is the spelling PostgreSQL, CockroachDB and YugabyteDB share.
        let sink = tx.copy_in(
            "COPY records(id, subject_key, category, kind, product, key_version, stored_at, sealed) FROM STDIN WITH BINARY",
        )?;
        let mut w = BinaryCopyInWriter::new(
            sink,
            &[
                Type::INT8,
                Type::INT8,
                Type::INT4,
                Type::INT4,
                Type::INT4,
                Type::INT8,
                Type::INT8,
                Type::BYTEA,
            ],
        );
        for (j, key) in rec_key.iter().enumerate() {
            w.write(&[
                &cols.id[j],
                key,
                &cols.category[j],
                &cols.kind[j],
                &cols.product[j],
                &cols.key_version[j],
                &cols.stored_at[j],
                &cols.sealed[j],
            ])?;
        }
        w.finish()?;
    } else {
        let mut at = 0;
        while at < n {
            let end = (at + RECORD_CHUNK).min(n);
            let r = at..end;
            tx.execute(
                &st.records,
                &[
                    &&cols.id[r.clone()],
                    &&rec_key[r.clone()],
                    &&cols.category[r.clone()],
                    &&cols.kind[r.clone()],
                    &&cols.product[r.clone()],
                    &&cols.key_version[r.clone()],
                    &&cols.stored_at[r.clone()],
                    &&cols.sealed[r],
                ],
            )?;
            at = end;
        }
    }
    Ok(())
}

/// N3.7 legal holds: records move under the subject's hold key (and out of
/// the live records) before any shredding; N7.2/N8.8 deletions.
fn write_holds(tx: &mut Transaction<'_>, c: &ChangeSet) -> Result<(), Fail> {
    for k in &c.hold_keys {
        tx.execute(
            "INSERT INTO hold_keys(subject_id, kek_version, key_version, wrapped) VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO UPDATE SET kek_version = EXCLUDED.kek_version, key_version = EXCLUDED.key_version, wrapped = EXCLUDED.wrapped",
            &[&k.subject.0, &i64::from(k.kek_version), &i64::from(k.key_version), &k.wrapped],
        )?;
    }
    for h in &c.held {
        let r = &h.record;
        tx.execute(
            "INSERT INTO held_records(id, subject_id, category, kind, product, key_version, stored_at, until_at, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.id.0,
                &r.subject.0,
                &category_code(&r.category)?,
                &kind_code(&r.kind)?,
                &product_code(&r.product)?,
                &i64::from(r.key_version),
                &r.stored_at_ms,
                &h.until_ms,
                &r.sealed,
            ],
        )?;
    }
    let live_gone: Vec<i64> = c
        .held
        .iter()
        .map(|h| h.record.id.0)
        .chain(c.delete_records.iter().map(|id| id.0))
        .collect();
    if !live_gone.is_empty() {
        let n = tx.execute(
            "DELETE FROM records WHERE id = ANY($1::int8[])",
            &[&live_gone],
        )?;
        if n != live_gone.len() as u64 {
            return Err(Fail::Store(not_stored(
                "record",
                live_gone.len() as u64 - n,
            )));
        }
    }
    if !c.delete_held.is_empty() {
        let ids: Vec<i64> = c.delete_held.iter().map(|id| id.0).collect();
        let n = tx.execute(
            "DELETE FROM held_records WHERE id = ANY($1::int8[])",
            &[&ids],
        )?;
        if n != ids.len() as u64 {
            return Err(Fail::Store(not_stored("held record", ids.len() as u64 - n)));
        }
        // A hold key goes with its subject's last held record.
        tx.execute(
            "DELETE FROM hold_keys WHERE subject_id NOT IN (SELECT subject_id FROM held_records)",
            &[],
        )?;
    }
    Ok(())
}

/// A change that names records the store does not hold (deleted or moved by
/// another writer): the whole commit is refused as a conflict.
fn not_stored(what: &str, missing: u64) -> StoreError {
    StoreError::Conflict(format!(
        "{missing} {what}(s) named by the change are not stored (deleted or changed by another writer); nothing was written: read them again and retry"
    ))
}
