//! [`Clock`]: the one source of "now" inside Steward's services (issue 12:
//! a clock passed in, instead of `*_at(now)` twins of each operation).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The clock Steward reads the current instant from: request deadlines and
/// their verification codes (N7.2, N7.4), the date a decision is made on
/// (training and engagement dates of N5.4), token expiry, retention sweeps
/// and the stored time of records, from which retention counts (N8.8; it is
/// bound into each record's AAD, issue 13 item 6, so it cannot be changed
/// once sealed).
///
/// Default: the system clock. A manual setting (tests, a replay of
/// historical data) holds the instant set until it is cleared; clones share
/// it, so a test keeps one clone and moves the time of the Steward it
/// opened with another ([`crate::OpenOptions::clock`]). Record ids and
/// lock timeouts always use the system clock: they need uniqueness and
/// real elapsed time, not the business time.
///
/// Held as nanoseconds since the Unix epoch (UTC), so an instant set is read
/// back exactly; an instant outside 1677-09-21..2262-04-11 (what 64 bits of
/// nanoseconds hold) is clamped to that range.
#[derive(Debug, Clone)]
pub struct Clock(Arc<AtomicI64>);

/// The value meaning "read the system clock".
const SYSTEM: i64 = i64::MIN;

impl Default for Clock {
    fn default() -> Self {
        Clock(Arc::new(AtomicI64::new(SYSTEM)))
    }
}

impl Clock {
    /// A clock that follows the system clock until [`Clock::set`].
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock held at `t` until moved or cleared.
    pub fn fixed(t: OffsetDateTime) -> Self {
        let c = Self::default();
        c.set(t);
        c
    }

    /// Hold the clock (and every clone of it) at `t`.
    pub fn set(&self, t: OffsetDateTime) {
        let ns = i64::try_from(t.unix_timestamp_nanos()).unwrap_or(if t.year() < 1970 {
            SYSTEM + 1
        } else {
            i64::MAX
        });
        // i64::MIN means "system": the instant one nanosecond later is as good.
        self.0.store(ns.max(SYSTEM + 1), Ordering::SeqCst);
    }

    /// Hold the clock at `ms` milliseconds since the Unix epoch.
    pub fn set_ms(&self, ms: i64) {
        self.0.store(
            ms.saturating_mul(1_000_000).max(SYSTEM + 1),
            Ordering::SeqCst,
        );
    }

    /// Back to the system clock.
    pub fn clear(&self) {
        self.0.store(SYSTEM, Ordering::SeqCst);
    }

    /// The current instant, in UTC.
    pub fn now(&self) -> OffsetDateTime {
        match self.0.load(Ordering::SeqCst) {
            SYSTEM => OffsetDateTime::now_utc(),
            ns => OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }

    /// The current instant in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        to_ms(self.now())
    }

    /// Today's date (UTC).
    pub fn today(&self) -> time::Date {
        self.now().date()
    }

    /// The current instant as RFC 3339 (UTC, `Z`).
    pub fn rfc3339(&self) -> String {
        self.now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    /// The current instant in whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_set_clock_holds_its_instant_across_clones_until_cleared() {
        let c = Clock::system();
        let other = c.clone();
        c.set(datetime!(2024-02-29 23:59:59.500_000_001 UTC));
        // Read back to the nanosecond.
        assert_eq!(other.now(), datetime!(2024-02-29 23:59:59.500_000_001 UTC));
        // 2024-02-29T23:59:59.5Z = 1_709_251_199_500 ms (19_782 days * 86_400 s + 86_399 s).
        assert_eq!(other.now_ms(), 1_709_251_199_500);
        assert_eq!(other.today(), time::macros::date!(2024 - 02 - 29));
        assert_eq!(other.rfc3339(), "2024-02-29T23:59:59.500000001Z");
        other.set_ms(1_709_251_199_500);
        assert_eq!(other.now(), datetime!(2024-02-29 23:59:59.5 UTC));
        assert_eq!(other.unix_seconds(), 1_709_251_199);
        other.clear();
        let sys = OffsetDateTime::now_utc();
        assert!((c.now() - sys).abs() < time::Duration::minutes(1));
    }
}
