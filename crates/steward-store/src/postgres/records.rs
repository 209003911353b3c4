//! [`RecordStore`] reads and the sweep of shredded subjects' records.

use steward_domain::{RecordId, SubjectId};

use super::PostgresStore;
use super::rows::{RECORD_SELECT, category_code, category_name, key_from, meta_from, record_from};
use crate::types::*;

impl RecordStore for PostgresStore {
    fn records(
        &self,
        subject: SubjectId,
        category: Option<&str>,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let rows = match category {
                Some(cat) => {
                    let code = category_code(cat)?;
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.category = $2 ORDER BY r.id"))?;
                    c.client.query(&st, &[&subject.0, &code])?
                }
                None => {
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) ORDER BY r.id"))?;
                    c.client.query(&st, &[&subject.0])?
                }
            };
            rows.iter().map(|r| record_from(r, region)).collect()
        })
    }

    fn record_counts(&self, subject: SubjectId) -> Result<Vec<(String, u64)>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT category, COUNT(*) FROM records WHERE subject_key = (SELECT key FROM subjects WHERE id = $1) GROUP BY category ORDER BY category")?;
            c.client
                .query(&st, &[&subject.0])?
                .iter()
                .map(|r| {
                    Ok((
                        category_name(r.try_get(0)?)?.to_owned(),
                        r.try_get::<_, i64>(1)? as u64,
                    ))
                })
                .collect()
        })
    }

    fn sweep_shredded(&mut self) -> Result<u64, StoreError> {
        self.writable()?;
        self.with_conn(|c| {
            Ok(c.client.execute(
                "DELETE FROM records WHERE subject_key IN (SELECT key FROM subjects WHERE erased_at IS NOT NULL)",
                &[],
            )?)
        })
    }

    fn records_stored_before(
        &self,
        before_ms: i64,
        after: RecordId,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|c| {
            let st = c.stmt("SELECT r.id, s.id, r.category, r.kind, r.stored_at FROM records r JOIN subjects s ON s.key = r.subject_key WHERE r.id > $1 AND r.stored_at <= $2 ORDER BY r.id LIMIT $3")?;
            c.client
                .query(&st, &[&after.0, &before_ms, &limit])?
                .iter()
                .map(|r| meta_from(r, false))
                .collect()
        })
    }

    fn held_records(&self, subject: SubjectId) -> Result<Vec<HeldRecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let st = c.stmt("SELECT id, subject_id, category, kind, product, key_version, stored_at, sealed, until_at FROM held_records WHERE subject_id = $1 ORDER BY id")?;
            c.client
                .query(&st, &[&subject.0])?
                .iter()
                .map(|r| {
                    Ok(HeldRecordRow {
                        record: record_from(r, region)?,
                        until_ms: r.try_get(8)?,
                    })
                })
                .collect()
        })
    }

    fn held_due(&self, at_ms: i64) -> Result<Vec<RecordMeta>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT id, subject_id, category, kind, stored_at, until_at FROM held_records WHERE until_at <= $1 ORDER BY id")?;
            c.client
                .query(&st, &[&at_ms])?
                .iter()
                .map(|r| meta_from(r, true))
                .collect()
        })
    }

    fn hold_key(&self, subject: SubjectId) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys WHERE subject_id = $1")?;
            c.client
                .query_opt(&st, &[&subject.0])?
                .map(|r| key_from(&r))
                .transpose()
        })
    }

    fn hold_keys(&self) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.with_conn(|c| {
            let st = c.stmt("SELECT subject_id, kek_version, key_version, wrapped FROM hold_keys ORDER BY subject_id")?;
            c.client.query(&st, &[])?.iter().map(key_from).collect()
        })
    }

    fn record(&self, id: RecordId) -> Result<Option<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        self.with_conn(|c| {
            let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.id = $1"))?;
            c.client
                .query_opt(&st, &[&id.0])?
                .map(|r| record_from(&r, region))
                .transpose()
        })
    }

    fn records_page(
        &self,
        subject: SubjectId,
        category: Option<&str>,
        after: Option<RecordId>,
        limit: usize,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let region = self.opts.region.as_str();
        let after = after.map(|r| r.0).unwrap_or(i64::MIN);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn(|c| {
            let rows = match category {
                Some(cat) => {
                    let code = category_code(cat)?;
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.category = $2 AND r.id > $3 ORDER BY r.id LIMIT $4"))?;
                    c.client.query(&st, &[&subject.0, &code, &after, &limit])?
                }
                None => {
                    let st = c.stmt(&format!("{RECORD_SELECT} WHERE r.subject_key = (SELECT key FROM subjects WHERE id = $1) AND r.id > $2 ORDER BY r.id LIMIT $3"))?;
                    c.client.query(&st, &[&subject.0, &after, &limit])?
                }
            };
            rows.iter().map(|r| record_from(r, region)).collect()
        })
    }
}
