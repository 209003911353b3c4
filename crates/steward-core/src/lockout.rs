//! The brute-force lockout (N5.1), shared by every node on the store
//! (issue 21 item 5): failed authentications are counted per client
//! address and per account name in the primary region's store
//! ([`steward_store::CounterStore`]), so N nodes allow the documented
//! limit, not N times it. The store counts atomically; whether a count
//! locks out is decided here.
//!
//! The counters are keyed by an HMAC-SHA-256 of the address or name under
//! the current blind-index key (never the address or name in clear; a
//! blind-index rotation starts every counter afresh).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{CoreError, Steward};

/// What a lockout guards (N5.1, issue 14 item 6): a client address (its
/// guesses are refused, never a valid token) or an account name (its
/// logins are refused from any address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded {
    /// A client address.
    Address(IpAddr),
    /// The account name given at login (whether or not such a user exists:
    /// the answer must not tell).
    Account(String),
}

/// The lockout rule (N5.1): `after` failed authentications of one address
/// or account within `window` lock it for `window` (the server's
/// `--lockout-after`, default 10, and `lockout_for`, default 60 s).
/// Cluster-wide: failures through every node on the store add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutRule {
    /// Failures that start a lockout (at least 1).
    pub after: u32,
    /// The window failures are counted in, and how long a lockout lasts.
    pub window: Duration,
}

/// Failures counted by this process between two sweeps of ended counters.
const SWEEP_EVERY: u64 = 64;

/// Failures counted by this process, for the sweep.
static COUNTED: AtomicU64 = AtomicU64::new(0);

/// The counter key of `who` under blind-index key `key`: `lk_` and 32 hex
/// digits.
fn counter_key(key: &[u8; 32], who: &Guarded) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"steward-lockout\0");
    match who {
        Guarded::Address(ip) => {
            mac.update(b"address\0");
            // One key per address however it arrived (an IPv4-mapped IPv6
            // address is the IPv4 address).
            mac.update(ip.to_canonical().to_string().as_bytes());
        }
        Guarded::Account(name) => {
            mac.update(b"account\0");
            mac.update(name.as_bytes());
        }
    }
    format!("lk_{}", hex::encode(&mac.finalize().into_bytes()[..16]))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Steward {
    fn lockout_key(&self, who: &Guarded) -> Result<String, CoreError> {
        Ok(counter_key(self.blind_keys()?.current.bytes(), who))
    }

    /// Whole seconds left (at least 1) of the lockout of `who` in force at
    /// `now_ms` (ms since the Unix epoch, the caller's clock), started by
    /// any node on the store; `None` when there is none (N5.1).
    ///
    /// Errors: [`CoreError::Store`] when the store cannot be read (the
    /// caller fails closed), [`CoreError`] from the blind-index key file.
    pub fn lockout_left(&self, who: &Guarded, now_ms: i64) -> Result<Option<u64>, CoreError> {
        let key = self.lockout_key(who)?;
        let until = self.store()?.locked_until(&key)?;
        Ok(until
            .filter(|u| *u > now_ms)
            .map(|u| (u.saturating_sub(now_ms) / 1000).max(1) as u64))
    }

    /// Counts a failed authentication of `who` at `now_ms` (ms since the
    /// Unix epoch) and decides the lockout (N5.1): when the failures of
    /// the current window (this one included, through every node) reach
    /// `rule.after` and no lockout is in force, `who` is locked for
    /// `rule.window` and the count starts again. Returns true when this
    /// failure started the lockout (exactly one of concurrent failures on
    /// all nodes). An account's lockout is recorded for its organisation's
    /// administrators ([`Steward::record_login_lockout`]; nothing for a
    /// name that is no user). Now and then, counters that have ended are
    /// swept.
    ///
    /// Errors: [`CoreError::Store`] when the counter cannot be written.
    pub fn count_auth_failure(
        &self,
        who: &Guarded,
        rule: LockoutRule,
        now_ms: i64,
    ) -> Result<bool, CoreError> {
        let key = self.lockout_key(who)?;
        let window = millis(rule.window);
        let started = {
            let store = self.store()?;
            if COUNTED.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                store.sweep_counters(now_ms, window)?;
            }
            let counted = store.count_failure(&key, now_ms, window)?;
            counted.count >= u64::from(rule.after.max(1))
                && counted.locked_until_ms <= now_ms
                && store.start_lockout(&key, now_ms, now_ms.saturating_add(window))?
        };
        if let (true, Guarded::Account(name)) = (started, who) {
            self.record_login_lockout(name)?;
        }
        Ok(started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_are_keyed_digests_apart_per_kind() {
        let k = [7u8; 32];
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let a = counter_key(&k, &Guarded::Address(v4));
        assert_eq!(a.len(), 3 + 32);
        assert!(a.starts_with("lk_") && !a.contains("192"));
        assert_eq!(a, counter_key(&k, &Guarded::Address(mapped)));
        assert_ne!(a, counter_key(&[8u8; 32], &Guarded::Address(v4)));
        assert_ne!(
            counter_key(&k, &Guarded::Account("192.0.2.1".into())),
            a,
            "an account named like an address is another counter"
        );
    }
}
