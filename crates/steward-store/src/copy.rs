//! `steward copy`: move a region's store to another backend (e.g. SQLite to
//! PostgreSQL) with every record still opening and the audit log still
//! verifying. Rows are copied as stored: sealed records, wrapped keys,
//! blind-index entries, and the audit log byte for byte with its signed
//! checkpoints (the head row is recomputed from the rows).

use steward_audit::RootBuilder;

use crate::types::*;

/// What [`copy_store`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopySummary {
    /// Subjects (erased ones included: their records stay unreadable).
    pub subjects: u64,
    /// Sealed records.
    pub records: u64,
    /// Audit entries.
    pub audit_entries: u64,
    /// Signed checkpoints.
    pub checkpoints: u64,
    /// Principals.
    pub principals: u64,
    /// Registry rows (cases, obligations, receipts, transfer mechanisms, transfers).
    pub registry_rows: u64,
}

pub(crate) struct ImportPlan {
    pub size: i64,
    pub last_leaf: Vec<u8>,
    pub frontier: Vec<u8>,
    pub checkpoint_size: i64,
    pub now: i64,
}

/// Check that `rows` are contiguous from 0 and compute the head row.
pub(crate) fn import_plan(
    rows: &[AuditRow],
    checkpoints: &[(u64, String)],
) -> Result<ImportPlan, StoreError> {
    let mut tree = RootBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        if r.index != i as u64 {
            return Err(StoreError::Corrupt(format!(
                "audit rows are not contiguous: row {i} has index {}",
                r.index
            )));
        }
        tree.push(r.leaf_hash)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    let size = rows.len() as u64;
    if let Some((s, _)) = checkpoints.iter().find(|(s, _)| *s > size) {
        return Err(StoreError::Corrupt(format!(
            "a checkpoint covers {s} entries but only {size} are copied"
        )));
    }
    Ok(ImportPlan {
        size: size as i64,
        last_leaf: rows
            .last()
            .map(|r| r.leaf_hash.to_vec())
            .unwrap_or_default(),
        frontier: tree.hashes().concat(),
        checkpoint_size: checkpoints.iter().map(|(s, _)| *s).max().unwrap_or(0) as i64,
        now: crate::append::now_ms(),
    })
}

/// Copy everything in `from` into `to`, whose log must be empty.
///
/// The audit log is imported first (so the target's log is the source's, byte
/// for byte), then subjects, keys, identifiers and records in transactions of
/// `batch` subjects, then principals and registries. The copy adds no audit
/// entry to the target: its log stays identical to the source's.
///
/// Errors: [`StoreError::Conflict`] when the target's log is not empty; any
/// read or write error of either store (a failed copy leaves a partial
/// target: start again into a fresh store).
pub fn copy_store(
    from: &dyn Store,
    to: &mut dyn Store,
    batch: usize,
) -> Result<CopySummary, StoreError> {
    let mut summary = CopySummary::default();
    let mut rows = Vec::new();
    from.audit_scan(0, u64::MAX, &mut |r| {
        rows.push(r);
        true
    })?;
    let checkpoints = from.checkpoints()?;
    to.import_audit(&rows, &checkpoints)?;
    summary.audit_entries = rows.len() as u64;
    summary.checkpoints = checkpoints.len() as u64;
    drop(rows);

    let keys: std::collections::HashMap<_, _> = from
        .wrapped_keys()?
        .into_iter()
        .map(|k| (k.subject, k))
        .collect();
    let subjects = from.subjects()?;
    for chunk in subjects.chunks(batch.max(1)) {
        let mut cs = ChangeSet::default();
        for s in chunk {
            cs.subjects.push(s.clone());
            if let Some(k) = keys.get(&s.id) {
                cs.keys.push(k.clone());
            }
            cs.identifiers.extend(from.identifiers(s.id)?);
            let recs = from.records(s.id, None)?;
            summary.records += recs.len() as u64;
            cs.records.extend(recs);
            // Legal holds (N3.7): held records and their hold key, as stored
            // (inserted as records, then moved under the hold in the same commit).
            let held = from.held_records(s.id)?;
            if !held.is_empty() {
                if let Some(k) = from.hold_key(s.id)? {
                    cs.hold_keys.push(k);
                }
                summary.records += held.len() as u64;
                for h in held {
                    cs.records.push(h.record.clone());
                    cs.held.push(h);
                }
            }
        }
        summary.subjects += chunk.len() as u64;
        to.commit(cs)?;
    }
    let mut cs = ChangeSet::default();
    for p in from.principals()? {
        cs.principals.push(p);
    }
    summary.principals = cs.principals.len() as u64;
    for t in RegistryTable::ALL {
        for (id, body) in from.registry_list(t)? {
            cs.registry.push((t, id, body));
        }
    }
    summary.registry_rows = cs.registry.len() as u64;
    to.commit(cs)?;
    Ok(summary)
}
