//! [`AuditStore`]: the audit log's reads, checkpoints and import.

use rusqlite::{TransactionBehavior, params};

use super::write::append_audit;
use super::{SqliteStore, map_err};
use crate::append;
use crate::types::*;

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
