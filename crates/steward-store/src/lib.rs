//! Steward's storage: small role traits, the embedded SQLite backend
//! ([`SqliteStore`]) and the PostgreSQL backend ([`PostgresStore`]), both
//! held to one conformance suite (`tests/conformance/`).
//!
//! Reads go through role traits ([`SubjectStore`], [`RecordStore`],
//! [`AuditStore`], [`PrincipalStore`], [`RegistryStore`]). Every write is a
//! [`ChangeSet`] applied by [`Store::commit`] in **one transaction** together
//! with the audit entries that record it: either all of it is durable, or
//! none of it is (DESIGN: "A rejected batch leaves nothing behind"; an
//! acknowledged record survives a crash).
//!
//! The audit log's index is assigned from the `audit_head` row updated in the
//! same transaction: no database sequence orders anything, so distributed
//! PostgreSQL-compatible engines need none.
//!
//! The store never sees Service Data in clear: records, identifiers and data
//! keys arrive sealed; identifiers are found by their blind index.
//!
//! Regions map to stores (N4.1): [`open_store`] opens the store of one
//! region from its URL, SQLite for a path, PostgreSQL for a `postgres://`
//! URL (TLS options in [`PostgresStore`], N5.3).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod append;
mod codes;
mod copy;
mod counters;
mod options;
mod postgres;
mod registry_sql;
mod schema;
mod sqlite;
mod types;

pub use copy::{CopySummary, copy_store};
pub use options::StoreOptions;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::*;

/// Opens the store a region's configuration names (N4.1: regions map to
/// stores; a subject's records never leave their region's store).
///
/// `url` is one of:
///
/// * `postgres://...` or `postgresql://...`: a [`PostgresStore`] (URL
///   options `schema`, `sslmode`, `sslrootcert` and libpq's connection
///   options; TLS as in its documentation, N5.3);
/// * `sqlite:PATH` (`sqlite://PATH` and `sqlite:///ABSOLUTE/PATH` too): a
///   [`SqliteStore`] at `PATH`;
/// * a plain file path (no `scheme://`): a [`SqliteStore`] there.
///
/// Errors: [`StoreError::Config`] for an empty URL or an unknown scheme
/// (`mysql://...`); otherwise those of [`SqliteStore::open`] and
/// [`PostgresStore::open`].
pub fn open_store(url: &str, opts: StoreOptions) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStore::open(url, opts)?));
    }
    let path = match url.strip_prefix("sqlite:") {
        Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
        None => {
            if let Some((scheme, _)) = url.split_once("://") {
                return Err(StoreError::Config(format!(
                    "store URL scheme `{}` is not supported: use postgres://, postgresql://, sqlite:PATH or a file path",
                    scheme.chars().take(20).collect::<String>()
                )));
            }
            url
        }
    };
    if path.is_empty() {
        return Err(StoreError::Config(
            "the store URL is empty: give sqlite:PATH, a file path or a postgres:// URL".into(),
        ));
    }
    Ok(Box::new(SqliteStore::open(
        std::path::Path::new(path),
        opts,
    )?))
}
