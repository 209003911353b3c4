//! One commit's writes, in the commit's `BEGIN IMMEDIATE` transaction, and
//! the audit append.

use rusqlite::params;
use steward_domain::{RecordId, SubjectId};

use super::rows::{category_code, kind_code, product_code};
use crate::append::{self, HeadRow, now_ms};
use crate::options::StoreOptions;
use crate::types::*;

pub(super) fn append_audit(
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

/// Writes everything of `c` inside `tx`, then appends its audit entries.
pub(super) fn write_change(
    tx: &rusqlite::Transaction<'_>,
    opts: &StoreOptions,
    c: ChangeSet,
) -> Result<Committed, rusqlite::Error> {
    let mut st = tx.prepare_cached("DELETE FROM identifiers WHERE blind = ?1")?;
    for b in &c.delete_identifiers {
        st.execute(params![&b[..]])?;
    }
    write_subjects(tx, &c)?;
    write_records(tx, &c.records)?;
    let mut st = tx.prepare_cached(
        "UPDATE records SET subject_key = (SELECT key FROM subjects WHERE id = ?2), key_version = ?3, sealed = ?4 WHERE id = ?1",
    )?;
    for r in &c.resealed {
        if st.execute(params![r.id.0, r.subject.0, r.key_version, r.sealed])? != 1 {
            return Err(not_stored("record", r.id));
        }
    }
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
    for (t, id) in &c.delete_registry {
        tx.execute(
            &format!("DELETE FROM {} WHERE id = ?1", t.table()),
            params![id],
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
        // The same subject's entry is kept; another subject's was refused
        // before (`check_identifier_clashes`).
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
