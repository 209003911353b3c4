//! [`SubjectStore`] reads.

use steward_domain::SubjectId;

use super::PostgresStore;
use super::rows::{key_from, subject_from};
use crate::append::hash32;
use crate::types::*;

impl SubjectStore for PostgresStore {
    fn subject_by_blind(&self, blind: &[u8; 32]) -> Result<Option<SubjectId>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id FROM identifiers WHERE blind = $1")?;
            Ok(match c.client.query_opt(&st, &[&&blind[..]])? {
                Some(r) => Some(SubjectId(r.try_get(0)?)),
                None => None,
            })
        })
    }

    fn subject(&self, id: SubjectId) -> Result<Option<SubjectRow>, StoreError> {
        self.with_conn(|c| {
            let st =
                c.stmt("SELECT id, region, created_at, erased_at FROM subjects WHERE id = $1")?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| subject_from(&r))
                .transpose()
        })
    }

    fn subjects(&self) -> Result<Vec<SubjectRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt(
                "SELECT id, region, created_at, erased_at FROM subjects ORDER BY created_at, id",
            )?;
            c.client.query(&st, &[])?.iter().map(subject_from).collect()
        })
    }

    fn identifiers(&self, id: SubjectId) -> Result<Vec<IdentifierRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT blind, subject_id, kind, sealed FROM identifiers WHERE subject_id = $1 ORDER BY kind, blind")?;
            c.client
                .query(&st, &[&id.0])?
                .iter()
                .map(|r| {
                    Ok(IdentifierRow {
                        blind: hash32(r.try_get(0)?, "identifiers.blind")?,
                        subject: SubjectId(r.try_get(1)?),
                        kind: r.try_get(2)?,
                        sealed: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    fn wrapped_key(&self, id: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys WHERE subject_id = $1")?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| key_from(&r))
                .transpose()
        })
    }

    fn wrapped_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM subject_keys ORDER BY subject_id")?;
            c.client.query(&st, &[])?.iter().map(key_from).collect()
        })
    }
}
