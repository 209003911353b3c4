//! [`RecordStore`] reads and the sweep of shredded subjects' records.

use rusqlite::{OptionalExtension, params};
use steward_domain::{RecordId, SubjectId};

use super::SqliteStore;
use super::rows::{
    RECORD_COLS, RECORD_FROM, category_code, category_name, hold_key_row, meta_row, record_row,
};
use crate::types::*;

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
        // Issue 13 item 1: the deleted bodies leave the WAL too (best
        // effort: the deletion is committed whatever the checkpoint says).
        let _ = self.truncate_wal();
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
