//! [`CounterStore`] on SQLite: each operation one statement in its own
//! transaction (SQLite has one writer at a time).

use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::counters::{check_key, count_sql, lock_sql, sweep_sql};
use crate::types::{CounterState, CounterStore, StoreError};

impl CounterStore for SqliteStore {
    fn count_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<CounterState, StoreError> {
        check_key(key)?;
        self.conn
            .prepare_cached(&count_sql(["?1", "?2", "?3"]))
            .and_then(|mut s| {
                s.query_row(params![key, now_ms, window_ms], |r| {
                    Ok(CounterState {
                        count: r.get::<_, i64>(0)?.max(0) as u64,
                        window_start_ms: r.get(1)?,
                        locked_until_ms: r.get(2)?,
                    })
                })
            })
            .map_err(|e| self.e(e))
    }

    fn start_lockout(&self, key: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
        check_key(key)?;
        self.conn
            .prepare_cached(&lock_sql(["?1", "?2", "?3"]))
            .and_then(|mut s| s.execute(params![key, now_ms, until_ms]))
            .map(|n| n == 1)
            .map_err(|e| self.e(e))
    }

    fn locked_until(&self, key: &str) -> Result<Option<i64>, StoreError> {
        check_key(key)?;
        self.conn
            .prepare_cached("SELECT locked_until FROM limit_counters WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
            .map_err(|e| self.e(e))
    }

    fn sweep_counters(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached(&sweep_sql(["?1", "?2"]))
            .and_then(|mut s| s.execute(params![now_ms, window_ms]))
            .map(|n| n as u64)
            .map_err(|e| self.e(e))
    }
}
