//! The lockout and the rate limit (N5.1): failed authentications counted
//! per client address, and a token bucket per principal, on an injectable
//! clock. Kept apart from `authn` so that the application state can hold
//! them without importing the extractors back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the lockout and the rate limit read the time (N5.1): the system's
/// monotonic clock, or a manual clock that only moves when told to, so that
/// tests decide exactly how much time passes between two requests.
#[derive(Debug, Clone, Default)]
pub enum LimitsClock {
    /// [`Instant::now`].
    #[default]
    System,
    /// A frozen instant, moved on by [`LimitsClock::advance`].
    Manual(Arc<Mutex<Instant>>),
}

impl LimitsClock {
    /// A manual clock standing at the present instant.
    pub fn manual() -> LimitsClock {
        LimitsClock::Manual(Arc::new(Mutex::new(Instant::now())))
    }

    /// The current instant of this clock.
    pub fn now(&self) -> Instant {
        match self {
            LimitsClock::System => Instant::now(),
            LimitsClock::Manual(at) => match at.lock() {
                Ok(t) => *t,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }

    /// Moves a manual clock on by `by` (every clone sees it); the system
    /// clock is left alone.
    pub fn advance(&self, by: Duration) {
        if let LimitsClock::Manual(at) = self {
            let mut t = match at.lock() {
                Ok(t) => t,
                Err(poisoned) => poisoned.into_inner(),
            };
            *t += by;
        }
    }
}

/// Failed authentications of one address.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// A token bucket of one principal.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Lockout and rate-limit state (in memory, per node).
#[derive(Debug)]
pub(crate) struct Limits {
    failures: Mutex<HashMap<IpAddr, Failures>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    lockout_after: u32,
    lockout_for: Duration,
    rate: f64,
    clock: LimitsClock,
}

/// Map entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

impl Limits {
    pub fn new(lockout_after: u32, lockout_for: Duration, rate: u32, clock: LimitsClock) -> Self {
        Limits {
            failures: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            lockout_after: lockout_after.max(1),
            lockout_for,
            rate: f64::from(rate.max(1)),
            clock,
        }
    }

    /// Seconds left of a lockout of `ip`, if locked out.
    pub fn locked(&self, ip: IpAddr) -> Option<u64> {
        let now = self.clock.now();
        let map = self.failures.lock().ok()?;
        let until = map.get(&ip)?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Record a failed authentication from `ip`; returns true when this
    /// failure starts a lockout.
    pub fn fail(&self, ip: IpAddr) -> bool {
        let now = self.clock.now();
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        if map.len() >= SWEEP_AT {
            let window = self.lockout_for;
            map.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || now.duration_since(f.since) < window
            });
        }
        let f = map.entry(ip).or_insert(Failures {
            count: 0,
            since: now,
            locked_until: None,
        });
        if now.duration_since(f.since) >= self.lockout_for {
            *f = Failures {
                count: 0,
                since: now,
                locked_until: None,
            };
        }
        f.count += 1;
        if f.count >= self.lockout_after && f.locked_until.is_none_or(|u| u <= now) {
            f.locked_until = Some(now + self.lockout_for);
            f.count = 0;
            f.since = now;
            return true;
        }
        false
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
