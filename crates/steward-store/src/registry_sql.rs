//! Registry lookups (issue 12) for both backends: the query of
//! [`RegistryStore::registry_find`](crate::RegistryStore) over a registry
//! table's lookup columns ([`crate::schema::LOOKUPS`], computed by the
//! database from the row's body, [`Backend::add_lookup`]).
//!
//! A lookup column only narrows: a value that cannot be read from the body
//! is NULL, and NULL rows are returned by every lookup, so a caller that
//! filters what it gets (as every caller in steward-core does) sees every
//! row a full listing would have given it for the value asked, a row whose
//! field cannot be read included. What it no longer reads is the rows with
//! another readable value: a row about another subject that is corrupt in
//! some other field fails the operations about that subject, not this one.

use crate::schema::{Backend, Lookup, lookups_of};
use crate::types::{RegistryField, RegistryQuery, RegistryTable, StoreError};

/// `$n` or `?n`.
fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => format!("?{n}"),
        Backend::Postgres => format!("${n}"),
    }
}

/// A parameter of a [`find`] statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FindParam {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// The column `field` of `table`, or the error naming both.
fn lookup_of(table: RegistryTable, field: RegistryField) -> Result<&'static Lookup, StoreError> {
    lookups_of(table).find(|l| l.field == field).ok_or_else(|| {
        StoreError::Config(format!(
            "registry {} has no indexed column for {field:?}: add a lookup to the schema description (a new migration) or list the table",
            table.table()
        ))
    })
}

/// The condition `<column> <op> <placeholder> OR <column> IS NULL` on the
/// lookup column of `field`, which must be a time column when `time` is set
/// and a text column otherwise.
fn indexed(
    table: RegistryTable,
    field: RegistryField,
    time: bool,
    op: &str,
    placeholder: &str,
) -> Result<String, StoreError> {
    let l = lookup_of(table, field)?;
    if l.field.is_time() != time {
        let (is, with) = if time {
            ("a text column", "Equals")
        } else {
            ("a time column", "Before")
        };
        return Err(StoreError::Config(format!(
            "registry {}: {field:?} is {is}; look it up with {with}",
            table.table()
        )));
    }
    let c = field.column();
    Ok(format!("{c} {op} {placeholder} OR {c} IS NULL"))
}

/// The end of the id range that starts with `prefix` (its last character
/// raised by one), when the prefix ends in an ASCII character below `~`.
fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !(b' '..b'~').contains(&last) {
        return None;
    }
    let mut end = prefix[..prefix.len() - 1].to_owned();
    end.push(char::from(last + 1));
    Some(end)
}

/// The query of [`RegistryStore::registry_find`](crate::RegistryStore) on
/// `table` and its parameters. An id prefix whose end cannot be computed
/// reads from the prefix on, and the caller keeps the ids that start with
/// it ([`keep`]).
pub(crate) fn find(
    backend: Backend,
    table: RegistryTable,
    query: RegistryQuery<'_>,
) -> Result<(String, Vec<FindParam>), StoreError> {
    let t = table.table();
    let p1 = placeholder(backend, 1);
    let (cond, params) = match query {
        RegistryQuery::Equals(field, v) => (
            indexed(table, field, false, "=", &p1)?,
            vec![FindParam::Text(v.to_owned())],
        ),
        RegistryQuery::Before(field, bound) => (
            indexed(table, field, true, "<", &p1)?,
            vec![FindParam::Int(bound)],
        ),
        RegistryQuery::IdPrefix(prefix) => match prefix_end(prefix) {
            Some(end) => (
                format!("id >= {p1} AND id < {}", placeholder(backend, 2)),
                vec![FindParam::Text(prefix.to_owned()), FindParam::Text(end)],
            ),
            None => (
                format!("id >= {p1}"),
                vec![FindParam::Text(prefix.to_owned())],
            ),
        },
    };
    Ok((
        format!("SELECT id, body FROM {t} WHERE {cond} ORDER BY id"),
        params,
    ))
}

/// Whether row `id` belongs in the answer to `query` (only an id prefix
/// needs the check: its range may reach past the prefix).
pub(crate) fn keep(query: RegistryQuery<'_>, id: &str) -> bool {
    match query {
        RegistryQuery::IdPrefix(p) => id.starts_with(p),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_the_table_does_not_index_is_a_named_error() {
        let e = find(
            Backend::Sqlite,
            RegistryTable::Incidents,
            RegistryQuery::Equals(RegistryField::Subject, "sub_1"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("registry incidents has no indexed column for Subject"),
            "{e}"
        );
        let e = find(
            Backend::Postgres,
            RegistryTable::Disclosures,
            RegistryQuery::Equals(RegistryField::At, "1"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("time column"), "{e}");
    }

    #[test]
    fn an_id_prefix_is_a_range_of_the_primary_key() {
        assert_eq!(prefix_end("org:"), Some("org;".into()));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("a~"), None);
        let (sql, params) = find(
            Backend::Postgres,
            RegistryTable::Tenancy,
            RegistryQuery::IdPrefix("org:"),
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT id, body FROM tenancy WHERE id >= $1 AND id < $2 ORDER BY id"
        );
        assert_eq!(
            params,
            vec![
                FindParam::Text("org:".into()),
                FindParam::Text("org;".into())
            ]
        );
        assert!(keep(RegistryQuery::IdPrefix("org:"), "org:1"));
        assert!(!keep(RegistryQuery::IdPrefix("a~"), "b"));
    }
}
