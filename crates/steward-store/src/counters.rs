//! The statements of [`CounterStore`](crate::CounterStore) (the security
//! counters every node shares, issue 21 item 5), written once for both
//! backends, and the key check.

use crate::types::StoreError;

/// The longest key accepted, in bytes.
pub(crate) const MAX_KEY: usize = 200;

/// Refuses a key over [`MAX_KEY`] bytes.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY || key.is_empty() {
        return Err(StoreError::Config(format!(
            "a counter key is 1 to {MAX_KEY} bytes, this one {}: pass a digest",
            key.len()
        )));
    }
    Ok(())
}

/// The upsert of [`CounterStore::count_failure`], with `{0}`..`{2}` for
/// the backend's placeholders of key, now and window (same statement on
/// both backends: `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`).
pub(crate) fn count_sql(p: [&str; 3]) -> String {
    let [key, now, window] = p;
    format!(
        "INSERT INTO limit_counters(key, window_start, count, locked_until) VALUES ({key}, {now}, 1, 0) \
         ON CONFLICT (key) DO UPDATE SET \
         count = CASE WHEN limit_counters.window_start <= {now} - {window} THEN 1 ELSE limit_counters.count + 1 END, \
         window_start = CASE WHEN limit_counters.window_start <= {now} - {window} THEN {now} ELSE limit_counters.window_start END \
         RETURNING count, window_start, locked_until"
    )
}

/// The compare-and-set of [`CounterStore::start_lockout`] (key, now, until).
pub(crate) fn lock_sql(p: [&str; 3]) -> String {
    let [key, now, until] = p;
    format!(
        "UPDATE limit_counters SET locked_until = {until}, count = 0, window_start = {now} \
         WHERE key = {key} AND locked_until <= {now}"
    )
}

/// The sweep of [`CounterStore::sweep_counters`] (now, window).
pub(crate) fn sweep_sql(p: [&str; 2]) -> String {
    let [now, window] = p;
    format!(
        "DELETE FROM limit_counters WHERE locked_until <= {now} AND window_start <= {now} - {window}"
    )
}
