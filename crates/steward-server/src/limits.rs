//! The lockout and the rate limit (N5.1): failed authentications counted
//! per client address and per account, and a token bucket per principal, on an injectable
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

/// Failed authentications of one address or one account.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// Failed authentications counted per key (an address, or an account
/// name's digest), each key locked out for `lockout_for` once it reaches
/// `lockout_after` failures within `lockout_for`.
#[derive(Debug)]
struct FailureCounter<K> {
    map: Mutex<HashMap<K, Failures>>,
}

impl<K: std::hash::Hash + Eq> FailureCounter<K> {
    fn new() -> Self {
        FailureCounter {
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds left of a lockout of `key`, if locked out at `now`.
    fn locked(&self, key: &K, now: Instant) -> Option<u64> {
        let map = self.map.lock().ok()?;
        let until = map.get(key)?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Record a failure of `key` at `now`; true when it starts a lockout.
    fn fail(&self, key: K, now: Instant, after: u32, window: Duration) -> bool {
        let Ok(mut map) = self.map.lock() else {
            return false;
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now) || now.duration_since(f.since) < window
            });
        }
        let fresh = Failures {
            count: 0,
            since: now,
            locked_until: None,
        };
        let f = map.entry(key).or_insert(fresh);
        if now.duration_since(f.since) >= window {
            *f = fresh;
        }
        f.count += 1;
        if f.count >= after && f.locked_until.is_none_or(|u| u <= now) {
            f.locked_until = Some(now + window);
            f.count = 0;
            f.since = now;
            return true;
        }
        false
    }
}

/// A token bucket of one principal.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Lockout and rate-limit state (in memory, per node). Failures are
/// counted per address and per account separately (issue 14 item 6): an
/// address that guessed passwords is refused further guesses, never a valid
/// token; an account guessed at from many addresses is locked by itself.
#[derive(Debug)]
pub(crate) struct Limits {
    addresses: FailureCounter<IpAddr>,
    /// Keyed by the SHA-256 of the account name given at login (the name
    /// is the client's input: its digest bounds the memory it takes).
    accounts: FailureCounter<[u8; 32]>,
    buckets: Mutex<HashMap<String, Bucket>>,
    lockout_after: u32,
    lockout_for: Duration,
    rate: f64,
    clock: LimitsClock,
}

/// Map entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

/// The key of an account name in the failure counter.
fn account_key(name: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(name.as_bytes()).into()
}

impl Limits {
    pub fn new(lockout_after: u32, lockout_for: Duration, rate: u32, clock: LimitsClock) -> Self {
        Limits {
            addresses: FailureCounter::new(),
            accounts: FailureCounter::new(),
            buckets: Mutex::new(HashMap::new()),
            lockout_after: lockout_after.max(1),
            lockout_for,
            rate: f64::from(rate.max(1)),
            clock,
        }
    }

    /// Seconds left of a lockout of `ip`, if locked out.
    pub fn locked(&self, ip: IpAddr) -> Option<u64> {
        self.addresses.locked(&ip, self.clock.now())
    }

    /// Record a failed authentication from `ip`; returns true when this
    /// failure starts a lockout.
    pub fn fail(&self, ip: IpAddr) -> bool {
        self.addresses
            .fail(ip, self.clock.now(), self.lockout_after, self.lockout_for)
    }

    /// Seconds left of a lockout of the account `name`, if locked out
    /// (whether or not such an account exists: the answer must not tell).
    pub fn account_locked(&self, name: &str) -> Option<u64> {
        self.accounts.locked(&account_key(name), self.clock.now())
    }

    /// Record a failed login to the account `name`, from any address;
    /// returns true when this failure starts a lockout of the account.
    pub fn fail_account(&self, name: &str) -> bool {
        self.accounts.fail(
            account_key(name),
            self.clock.now(),
            self.lockout_after,
            self.lockout_for,
        )
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
