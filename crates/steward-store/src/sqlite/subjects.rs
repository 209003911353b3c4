//! [`SubjectStore`] reads.

use rusqlite::{OptionalExtension, params};
use steward_domain::SubjectId;

use super::SqliteStore;
use crate::append::hash32;
use crate::types::*;

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
