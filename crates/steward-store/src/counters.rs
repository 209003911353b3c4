//! The security counters every node shares (issue 21 item 5, N5.1):
//! windowed failure counts and lockouts, one row per guarded key in
//! `limit_counters`. The store only counts, atomically; whether a count
//! locks a key out is decided by the core (its lockout rule).
//!
//! Unlike every other write, these are not [`ChangeSet`](crate::ChangeSet)s
//! and carry no audit entry: they are counters, not Service Data or
//! decisions (the core audits the lockouts that matter, such as an
//! account's `login_lockout`).

use crate::types::StoreError;

/// A counter after [`CounterStore::count_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterState {
    /// Failures counted in the current window, this one included (>= 1).
    pub count: u64,
    /// When the current window began, ms since the Unix epoch.
    pub window_start_ms: i64,
    /// When the lockout in force ends, ms since the Unix epoch; 0 or a
    /// time past: none.
    pub locked_until_ms: i64,
}

/// Windowed counters shared by every node on the store (SQLite: the one
/// node; PostgreSQL: every node), each operation one atomic statement.
/// Keys are the caller's opaque strings (at most 200 bytes; the core
/// passes keyed digests, never a name or an address).
pub trait CounterStore {
    /// Adds one failure to `key` at `now_ms` and returns the counter: a
    /// window that began `window_ms` or more before `now_ms` (or none)
    /// starts again at `now_ms` with this failure. Atomic: concurrent
    /// calls on any node each count once.
    ///
    /// Errors: the store's ([`StoreError::Locked`] when busy,
    /// [`StoreError::Unwritable`] ...), [`StoreError::Config`] for a key
    /// over 200 bytes.
    fn count_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<CounterState, StoreError>;

    /// Starts a lockout of `key` until `until_ms` if none is in force at
    /// `now_ms`, and starts its window again (count 0 at `now_ms`). True
    /// when this call started it: of concurrent callers on any node,
    /// exactly one. False when a lockout is in force or the key has no
    /// counter.
    ///
    /// Errors: as [`count_failure`](Self::count_failure).
    fn start_lockout(&self, key: &str, now_ms: i64, until_ms: i64) -> Result<bool, StoreError>;

    /// When the lockout of `key` ends (ms since the Unix epoch), if one
    /// was ever started and its counter is kept; the caller compares it
    /// with its "now".
    ///
    /// Errors: the store's.
    fn locked_until(&self, key: &str) -> Result<Option<i64>, StoreError>;

    /// Deletes the counters whose lockout has ended by `now_ms` and whose
    /// window began `window_ms` or more before it; returns how many.
    ///
    /// Errors: the store's.
    fn sweep_counters(&self, now_ms: i64, window_ms: i64) -> Result<u64, StoreError>;
}

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
