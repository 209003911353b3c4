//! PostgreSQL errors mapped onto [`StoreError`] (the table in the
//! [`PostgresStore`](super::PostgresStore) documentation), never quoting a
//! `DETAIL` (which can hold key values).

use postgres::error::SqlState;

use crate::types::StoreError;

pub(super) fn config_err(what: impl Into<String>) -> StoreError {
    StoreError::Config(what.into())
}

/// PostgreSQL's primary message (never its DETAIL, which can quote key
/// values), or the client error.
pub(super) fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => with_causes(e),
    }
}

/// An error and its causes (`error connecting to server: Connection refused`).
fn with_causes(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Whether `e` means the session is over: closed, an I/O failure, a
/// connection exception (class 08) or a server shutdown (57P01-57P03).
pub(super) fn connection_gone(e: &postgres::Error) -> bool {
    if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    match e.code() {
        Some(c) => {
            c.code().starts_with("08")
                || *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        }
        None => false,
    }
}

pub(super) fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// Maps a PostgreSQL error onto the store's error kinds (table in the
/// [`PostgresStore`] documentation).
pub(super) fn map_pg(e: &postgres::Error, busy_ms: u64) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let msg = db.message().to_owned();
        if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::QUERY_CANCELED
        {
            return StoreError::Locked { waited_ms: busy_ms };
        }
        if *code == SqlState::READ_ONLY_SQL_TRANSACTION || *code == SqlState::INSUFFICIENT_PRIVILEGE
        {
            return StoreError::Unwritable { reason: msg };
        }
        // Issue 21: a record id another node drew in the same millisecond.
        if *code == SqlState::UNIQUE_VIOLATION && db.constraint() == Some("records_pkey") {
            return StoreError::RecordIdClash;
        }
        return match code.code().get(..2) {
            Some("23") => StoreError::Conflict(msg),
            Some("08" | "28" | "3D" | "53" | "57") => StoreError::Unwritable {
                reason: format!("{msg} (SQLSTATE {})", code.code()),
            },
            _ => StoreError::Database(format!("{msg} (SQLSTATE {})", code.code())),
        };
    }
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        return StoreError::Unwritable {
            reason: format!("the connection to PostgreSQL was lost: {}", with_causes(e)),
        };
    }
    StoreError::Database(with_causes(e))
}
