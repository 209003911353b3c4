//! The year of BSD syslog timestamps, which carry none (issue 18, item 4).

use super::{BSD_STAMP, cap};
use crate::{lines, timefmt};

/// The years of BSD syslog timestamps (RFC 3164 `Mmm dd HH:MM:SS` has none),
/// followed line by line: a file runs forward in time, so when a line's month
/// is two or more months before the previous line's (`Dec 31` then `Jan 1`),
/// the year has rolled forward by one. A step back of one month (`Jul 1`
/// then `Jun 30`: lines written slightly out of order at a month's end) is
/// not a new year. Every line with a BSD timestamp counts, sshd's or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct YearRoll {
    prev: Option<u8>,
    rolls: i32,
}

impl YearRoll {
    /// Years rolled so far, after a line of `month` (1-12): add it to the
    /// year of the first line.
    pub fn next(&mut self, month: u8) -> i32 {
        if let Some(p) = self.prev
            && month + 1 < p
        {
            self.rolls += 1;
        }
        self.prev = Some(month);
        self.rolls
    }
}

/// A BSD syslog timestamp: `(month 1-12, day, hour, minute, second)`.
pub(super) type Stamp = (u8, u8, u8, u8, u8);

/// A line's BSD syslog timestamp, when its parts are numbers.
pub(super) fn bsd_stamp(text: &str) -> Option<Stamp> {
    let c = BSD_STAMP.captures(text)?;
    Some((
        timefmt::month(cap(&c, 1)?)?,
        timefmt::num(cap(&c, 2)?)?,
        timefmt::num(cap(&c, 3)?)?,
        timefmt::num(cap(&c, 4)?)?,
        timefmt::num(cap(&c, 5)?)?,
    ))
}

/// The year to give [`ParseOptions::year`] for `input` when the user named
/// none: the latest year such that no BSD-stamped line is dated more than a
/// day after `now` (the stamps are the logging host's local time, up to 14
/// hours ahead of UTC), with the years rolling forward as [`YearRoll`]
/// says. So a `Dec 10` line read on 2 December is dated last year, and a
/// file running from December into January ends in `now`'s year (or
/// before). An input without BSD stamps gets `now`'s year.
pub fn year_for(input: &[u8], now: time::OffsetDateTime) -> i32 {
    let mut roll = YearRoll::default();
    let mut latest: Option<(i32, Stamp)> = None;
    for (_, bytes) in lines::lines(input) {
        let Ok(text) = lines::text(bytes) else {
            continue;
        };
        let Some(stamp) = bsd_stamp(text) else {
            continue;
        };
        let rolls = roll.next(stamp.0);
        if latest.is_none_or(|l| (rolls, stamp) > l) {
            latest = Some((rolls, stamp));
        }
    }
    let limit = now.saturating_add(time::Duration::DAY);
    let Some((rolls, stamp)) = latest else {
        return now.year();
    };
    let limit_stamp = (
        u8::from(limit.month()),
        limit.day(),
        limit.hour(),
        limit.minute(),
        limit.second(),
    );
    let last_year = if stamp <= limit_stamp {
        limit.year()
    } else {
        limit.year() - 1
    };
    last_year - rolls
}
