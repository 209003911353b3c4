//! Rows read back: codes to names, integer columns checked, the shared
//! `SELECT`s.

use postgres::Row;
use steward_domain::{RecordId, SubjectId};

use super::Fail;
use crate::codes;
use crate::types::*;

/// Category, kind and product codes as stored (crate::codes, one mapping
/// for both backends).
pub(super) fn category_code(name: &str) -> Result<i32, StoreError> {
    codes::category_code(name)
        .map(i32::from)
        .map_err(|e| StoreError::Database(e.to_string()))
}

pub(super) fn kind_code(name: &str) -> Result<i32, StoreError> {
    codes::kind_code(name)
        .map(i32::from)
        .map_err(|e| StoreError::Database(e.to_string()))
}

pub(super) fn product_code(name: &str) -> Result<i32, StoreError> {
    codes::product_code(name)
        .map(i32::from)
        .map_err(|e| StoreError::Database(e.to_string()))
}

pub(super) fn category_name(code: i32) -> Result<&'static str, StoreError> {
    codes::category_name(i64::from(code))
        .ok_or_else(|| StoreError::Corrupt(format!("records.category holds unknown code {code}")))
}

pub(super) fn u32_col(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} holds {v}, not a u32")))
}

pub(super) fn record_from(r: &Row, region: &str) -> Result<RecordRow, Fail> {
    let kind: i32 = r.try_get(3)?;
    let product: i32 = r.try_get(4)?;
    Ok(RecordRow {
        id: RecordId(r.try_get(0)?),
        subject: SubjectId(r.try_get(1)?),
        category: std::borrow::Cow::Borrowed(category_name(r.try_get(2)?)?),
        kind: std::borrow::Cow::Borrowed(codes::kind_name(i64::from(kind)).ok_or_else(|| {
            StoreError::Corrupt(format!("records.kind holds unknown code {kind}"))
        })?),
        product: std::borrow::Cow::Borrowed(codes::product_name(i64::from(product)).ok_or_else(
            || StoreError::Corrupt(format!("records.product holds unknown code {product}")),
        )?),
        region: std::borrow::Cow::Owned(region.to_owned()),
        key_version: u32_col(r.try_get(5)?, "records.key_version")?,
        stored_at_ms: r.try_get(6)?,
        sealed: r.try_get(7)?,
    })
}

pub(super) fn key_from(r: &Row) -> Result<WrappedKeyRow, Fail> {
    Ok(WrappedKeyRow {
        subject: SubjectId(r.try_get(0)?),
        kek_version: u32_col(r.try_get(1)?, "subject_keys.kek_version")?,
        key_version: u32_col(r.try_get(2)?, "subject_keys.key_version")?,
        wrapped: r.try_get(3)?,
    })
}

pub(super) fn subject_from(r: &Row) -> Result<SubjectRow, Fail> {
    Ok(SubjectRow {
        id: SubjectId(r.try_get(0)?),
        region: r.try_get(1)?,
        created_at_ms: r.try_get(2)?,
        erased_at_ms: r.try_get(3)?,
    })
}

pub(super) const RECORD_SELECT: &str = "SELECT r.id, s.id, r.category, r.kind, r.product, r.key_version, r.stored_at, r.sealed FROM records r JOIN subjects s ON s.key = r.subject_key";

pub(super) const HEAD_FOR_UPDATE: &str = "SELECT size, last_leaf, frontier, checkpoint_size, checkpoint_at FROM audit_head WHERE id = 1 FOR UPDATE";

/// A record's metadata (retention, N8.8): id, subject id, category, kind,
/// stored_at and, for held records, until_at.
pub(super) fn meta_from(r: &Row, held: bool) -> Result<RecordMeta, Fail> {
    let kind: i32 = r.try_get(3)?;
    Ok(RecordMeta {
        id: RecordId(r.try_get(0)?),
        subject: SubjectId(r.try_get(1)?),
        category: std::borrow::Cow::Borrowed(category_name(r.try_get(2)?)?),
        kind: std::borrow::Cow::Borrowed(
            codes::kind_name(i64::from(kind))
                .ok_or_else(|| StoreError::Corrupt(format!("kind holds unknown code {kind}")))?,
        ),
        stored_at_ms: r.try_get(4)?,
        until_ms: if held { Some(r.try_get(5)?) } else { None },
    })
}
