//! The migrations: versioned, one transaction, no advisory lock; the DDL
//! is rendered from the one description ([`crate::schema`]).

use postgres::error::SqlState;

use super::errors::is_retryable;
use super::{Conn, Fail};
use crate::schema::{self, Backend, MIGRATIONS};
use crate::types::*;

/// One attempt at the migrations (see [`PostgresStore`](super::PostgresStore)).
pub(super) fn migrate_once(conn: &mut Conn, schema: Option<&str>) -> Result<(), Fail> {
    let mut tx = conn.client.transaction()?;
    if let Some(s) = schema {
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE
        // privilege on the database even when the schema exists.
        let present = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&s])?
            .is_some();
        if !present {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""))?;
        }
    }
    let missing = |tx: &mut postgres::Transaction<'_>, table: &str| -> Result<bool, Fail> {
        Ok(tx
            .query_one("SELECT to_regclass($1::text) IS NULL", &[&table])?
            .try_get(0)?)
    };
    if missing(&mut tx, "steward_schema_version")? {
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS steward_schema_version(id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
        )?;
    }
    tx.execute(
        "INSERT INTO steward_schema_version(id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        &[],
    )?;
    // The row lock serializes concurrent migrators (no advisory lock).
    let version: i64 = tx
        .query_one(
            "SELECT version FROM steward_schema_version WHERE id = 1 FOR UPDATE",
            &[],
        )?
        .try_get(0)?;
    let done = usize::try_from(version).unwrap_or(usize::MAX);
    for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.batch_execute(&Backend::Postgres.render(m))?;
        tx.execute(
            "UPDATE steward_schema_version SET version = $1 WHERE id = 1",
            &[&((i + 1) as i64)],
        )?;
    }
    // Every registry table exists, also one added to `RegistryTable` before
    // its migration was written here.
    for t in RegistryTable::ALL {
        if missing(&mut tx, t.table())? {
            let described = schema::table(t.table()).ok_or_else(|| {
                StoreError::Database(format!(
                    "registry table {} is not in the schema description (crate::schema)",
                    t.table()
                ))
            })?;
            tx.batch_execute(&Backend::Postgres.create_table(described))?;
            // Its lookup columns (issue 12), empty like the table.
            for l in schema::lookups_of(t) {
                tx.batch_execute(&Backend::Postgres.add_lookup(l))?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// SQLSTATEs of a migrator that lost a race with another one.
pub(super) fn lost_migration_race(e: &postgres::Error) -> bool {
    is_retryable(e)
        || matches!(e.code(), Some(c) if *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::DUPLICATE_TABLE
            || *c == SqlState::DUPLICATE_SCHEMA
            || *c == SqlState::DUPLICATE_OBJECT)
}
