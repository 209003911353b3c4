//! [`AuditStore`]: the audit log's reads, checkpoints and import.

use super::commit::{RECORD_CHUNK, append_audit};
use super::rows::HEAD_FOR_UPDATE;
use super::{Fail, PostgresStore};
use crate::append;
use crate::types::*;

/// Audit rows read per query by [`AuditStore::audit_scan`].
const SCAN_CHUNK: i64 = 4096;

impl AuditStore for PostgresStore {
    fn audit_size(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT size FROM audit_head WHERE id = 1")?;
            Ok(c.client.query_one(&st, &[])?.try_get::<_, i64>(0)? as u64)
        })
    }

    fn audit_scan(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(AuditRow) -> bool,
    ) -> Result<(), StoreError> {
        // Read in chunks so that memory stays bounded and `f` runs while no
        // query holds the connection (it may call the store).
        let end = to.min(i64::MAX as u64) as i64;
        let mut next = from.min(i64::MAX as u64) as i64;
        while next < end {
            let rows: Vec<AuditRow> = self.with_conn(|c| {
                let st = c.stmt("SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3")?;
                c.client
                    .query(&st, &[&next, &end, &SCAN_CHUNK])?
                    .iter()
                    .map(|r| {
                        let idx: i64 = r.try_get(0)?;
                        let leaf: &[u8] = r.try_get(2)?;
                        // A stored leaf hash of the wrong length is reported by the verifier as a mismatch.
                        let mut leaf_hash = [0u8; 32];
                        if leaf.len() == 32 {
                            leaf_hash.copy_from_slice(leaf);
                        }
                        Ok(AuditRow {
                            index: idx as u64,
                            entry: r.try_get(1)?,
                            leaf_hash,
                        })
                    })
                    .collect()
            })?;
            let full = rows.len() as i64 == SCAN_CHUNK;
            for row in rows {
                next = (row.index as i64).saturating_add(1);
                if !f(row) {
                    return Ok(());
                }
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT size, note FROM audit_checkpoints ORDER BY size")?;
            c.client
                .query(&st, &[])?
                .iter()
                .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
                .collect()
        })
    }

    fn audit_head(&self) -> Result<(u64, [u8; 32]), StoreError> {
        let (size, frontier): (i64, Vec<u8>) = self.with_conn(|c| {
            let st = c.stmt("SELECT size, frontier FROM audit_head WHERE id = 1")?;
            let r = c.client.query_one(&st, &[])?;
            Ok((r.try_get(0)?, r.try_get(1)?))
        })?;
        append::head_root(size, &frontier)
    }

    fn cut_checkpoint(&mut self) -> Result<u64, StoreError> {
        let opts = self.opts.clone();
        self.write(|conn, _| {
            let mut tx = conn.client.transaction()?;
            let c = append_audit(&mut tx, &opts, Vec::new(), true)?;
            tx.commit().map_err(Fail::Commit)?;
            Ok(c.audit_size)
        })
    }

    fn import_audit(
        &mut self,
        rows: &[AuditRow],
        checkpoints: &[(u64, String)],
    ) -> Result<(), StoreError> {
        let plan = crate::copy::import_plan(rows, checkpoints)?;
        self.write(|conn, _| {
            let mut tx = conn.client.transaction()?;
            let size: i64 = tx.query_one(HEAD_FOR_UPDATE, &[])?.try_get(0)?;
            if size != 0 {
                return Err(StoreError::Conflict(format!(
                    "the target audit log already holds {size} entries"
                ))
                .into());
            }
            for chunk in rows.chunks(RECORD_CHUNK) {
                let idx: Vec<i64> = chunk.iter().map(|r| r.index as i64).collect();
                let entry: Vec<&[u8]> = chunk.iter().map(|r| r.entry.as_slice()).collect();
                let leaf: Vec<&[u8]> = chunk.iter().map(|r| &r.leaf_hash[..]).collect();
                tx.execute(
                    "INSERT INTO audit_entries(idx, entry, leaf_hash) SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::bytea[])",
                    &[&idx, &entry, &leaf],
                )?;
            }
            for (size, note) in checkpoints {
                tx.execute(
                    "INSERT INTO audit_checkpoints(size, note, created_at) VALUES ($1, $2, $3)",
                    &[&(*size as i64), note, &plan.now],
                )?;
            }
            tx.execute(
                "UPDATE audit_head SET size = $1, last_leaf = $2, frontier = $3, checkpoint_size = $4, checkpoint_at = $5 WHERE id = 1",
                &[&plan.size, &plan.last_leaf, &plan.frontier, &plan.checkpoint_size, &plan.now],
            )?;
            tx.commit().map_err(Fail::Commit)?;
            Ok(())
        })
    }
}
