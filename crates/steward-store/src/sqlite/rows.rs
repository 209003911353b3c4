//! Rows read back and columns written: the stable codes (crate::codes, one
//! mapping for both backends) and the shared `SELECT` parts.

use std::borrow::Cow;

use steward_domain::{RecordId, SubjectId};

use crate::codes;
use crate::types::*;

/// Categories, kinds and products are stored as their stable codes
/// (crate::codes, one mapping for both backends).
pub(super) fn category_code(name: &str) -> rusqlite::Result<i64> {
    codes::category_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn kind_code(name: &str) -> rusqlite::Result<i64> {
    codes::kind_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn product_code(name: &str) -> rusqlite::Result<i64> {
    codes::product_code(name)
        .map(i64::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn category_name(code: i64) -> rusqlite::Result<&'static str> {
    codes::category_name(code).ok_or_else(|| bad_code(2, "records.category"))
}

fn bad_code(i: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(i, what.into(), rusqlite::types::Type::Integer)
}

/// A record's region is the region of the store that holds it (one store per
/// region, N4.1), so rows do not repeat it.
pub(super) fn record_row(r: &rusqlite::Row<'_>, region: &str) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: RecordId(r.get(0)?),
        subject: SubjectId(r.get(1)?),
        category: Cow::Borrowed(category_name(r.get(2)?)?),
        kind: Cow::Borrowed(
            codes::kind_name(r.get(3)?).ok_or_else(|| bad_code(3, "records.kind"))?,
        ),
        product: Cow::Borrowed(
            codes::product_name(r.get(4)?).ok_or_else(|| bad_code(4, "records.product"))?,
        ),
        region: Cow::Owned(region.to_owned()),
        key_version: r.get(5)?,
        stored_at_ms: r.get(6)?,
        sealed: r.get(7)?,
    })
}

pub(super) const RECORD_FROM: &str = "records r JOIN subjects s ON s.key = r.subject_key";

pub(super) const RECORD_COLS: &str =
    "r.id, s.id, r.category, r.kind, r.product, r.key_version, r.stored_at, r.sealed";

/// A record's metadata (retention, N8.8): id, subject id, category, kind,
/// stored_at and, for held records, until_at.
pub(super) fn meta_row(r: &rusqlite::Row<'_>, held: bool) -> rusqlite::Result<RecordMeta> {
    Ok(RecordMeta {
        id: RecordId(r.get(0)?),
        subject: SubjectId(r.get(1)?),
        category: Cow::Borrowed(category_name(r.get(2)?)?),
        kind: Cow::Borrowed(codes::kind_name(r.get(3)?).ok_or_else(|| bad_code(3, "kind"))?),
        stored_at_ms: r.get(4)?,
        until_ms: if held { Some(r.get(5)?) } else { None },
    })
}

pub(super) fn hold_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WrappedKeyRow> {
    Ok(WrappedKeyRow {
        subject: SubjectId(r.get(0)?),
        kek_version: r.get(1)?,
        key_version: r.get(2)?,
        wrapped: r.get(3)?,
    })
}
