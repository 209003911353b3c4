//! The lockout's rule and clock and the rate limit (N5.1), on an
//! injectable clock. Failed authentications are counted, and lockouts
//! decided, by the core in the store that every node shares
//! ([`steward_core::Steward::count_auth_failure`], issue 21 item 5); the
//! token bucket of each principal is this node's. Kept apart from `authn`
//! so that the application state can hold them without importing the
//! extractors back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use steward_core::LockoutRule;

/// Where the lockout and the rate limit read the time (N5.1): the system's
/// clocks (monotonic for the rate limit, the wall clock for the lockout
/// counters the nodes share), or a manual clock that only moves when told
/// to, so that tests decide exactly how much time passes between two
/// requests.
#[derive(Debug, Clone, Default)]
pub enum LimitsClock {
    /// [`Instant::now`] and [`SystemTime::now`].
    #[default]
    System,
    /// A frozen instant and Unix time in ms, moved on together by
    /// [`LimitsClock::advance`].
    Manual(Arc<Mutex<(Instant, i64)>>),
}

/// The system's wall clock in ms since the Unix epoch.
fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl LimitsClock {
    /// A manual clock standing at the present instant.
    pub fn manual() -> LimitsClock {
        LimitsClock::Manual(Arc::new(Mutex::new((Instant::now(), system_ms()))))
    }

    /// The manual clock's reading.
    fn manual_at(at: &Mutex<(Instant, i64)>) -> std::sync::MutexGuard<'_, (Instant, i64)> {
        match at.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The current instant of this clock.
    pub fn now(&self) -> Instant {
        match self {
            LimitsClock::System => Instant::now(),
            LimitsClock::Manual(at) => Self::manual_at(at).0,
        }
    }

    /// The current time of this clock in ms since the Unix epoch (the
    /// lockout counters every node shares).
    pub fn now_ms(&self) -> i64 {
        match self {
            LimitsClock::System => system_ms(),
            LimitsClock::Manual(at) => Self::manual_at(at).1,
        }
    }

    /// Moves a manual clock on by `by` (every clone sees it); the system
    /// clock is left alone.
    pub fn advance(&self, by: Duration) {
        if let LimitsClock::Manual(at) = self {
            let mut t = Self::manual_at(at);
            t.0 += by;
            t.1 =
                t.1.saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        }
    }
}

/// A token bucket of one principal.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The lockout's rule and clock, and the rate limit's buckets (in memory,
/// per node: N nodes allow N times `--rate-per-principal` together).
/// Failures are counted per address and per account separately (issue 14
/// item 6) by the core, in the store every node shares.
#[derive(Debug)]
pub(crate) struct Limits {
    buckets: Mutex<HashMap<String, Bucket>>,
    lockout_after: u32,
    lockout_for: Duration,
    rate: f64,
    clock: LimitsClock,
}

/// Buckets kept before idle ones are swept.
const SWEEP_AT: usize = 10_000;

impl Limits {
    pub fn new(lockout_after: u32, lockout_for: Duration, rate: u32, clock: LimitsClock) -> Self {
        Limits {
            buckets: Mutex::new(HashMap::new()),
            lockout_after: lockout_after.max(1),
            lockout_for,
            rate: f64::from(rate.max(1)),
            clock,
        }
    }

    /// The lockout rule the core applies (N5.1).
    pub fn rule(&self) -> LockoutRule {
        LockoutRule {
            after: self.lockout_after,
            window: self.lockout_for,
        }
    }

    /// The lockout clock's time, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Take one request from `principal`'s bucket (rate per second, burst
    /// twice that); `Err(seconds)` to wait when it is empty.
    pub fn take(&self, principal: &str) -> Result<(), u64> {
        let now = self.clock.now();
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, b| now.duration_since(b.at) < Duration::from_secs(60));
        }
        let burst = self.rate * 2.0;
        let b = map.entry(principal.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}
