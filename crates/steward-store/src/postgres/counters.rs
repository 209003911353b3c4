//! [`CounterStore`] on PostgreSQL: each operation one statement (an
//! upsert, a conditional update, a delete), atomic across every node.

use super::PostgresStore;
use crate::counters::{check_key, count_sql, lock_sql, sweep_sql};
use crate::types::{CounterState, CounterStore, StoreError};

impl CounterStore for PostgresStore {
    fn count_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<CounterState, StoreError> {
        check_key(key)?;
        let sql = count_sql(["$1", "$2::int8", "$3::int8"]);
        self.write(|c, _| {
            let st = c.stmt(&sql)?;
            let r = c.client.query_one(&st, &[&key, &now_ms, &window_ms])?;
            Ok(CounterState {
                count: r.try_get::<_, i64>(0)?.max(0) as u64,
                window_start_ms: r.try_get(1)?,
                locked_until_ms: r.try_get(2)?,
            })
        })
    }

    fn start_lockout(&self, key: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError> {
        check_key(key)?;
        let sql = lock_sql(["$1", "$2::int8", "$3::int8"]);
        self.write(|c, _| {
            let st = c.stmt(&sql)?;
            Ok(c.client.execute(&st, &[&key, &now_ms, &until_ms])? == 1)
        })
    }

    fn locked_until(&self, key: &str) -> Result<Option<i64>, StoreError> {
        check_key(key)?;
        self.with_conn(|c| {
            let st = c.stmt("SELECT locked_until FROM limit_counters WHERE key = $1")?;
            Ok(c.client
                .query_opt(&st, &[&key])?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn sweep_counters(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError> {
        let sql = sweep_sql(["$1::int8", "$2::int8"]);
        self.write(|c, _| {
            let st = c.stmt(&sql)?;
            Ok(c.client.execute(&st, &[&now_ms, &window_ms])?)
        })
    }
}
