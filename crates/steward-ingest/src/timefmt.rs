//! Timestamps: validation and conversion to the forms records carry.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, Time};

/// The month number (1-12) of an English three-letter abbreviation (`Dec`).
pub(crate) fn month(abbr: &str) -> Option<u8> {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES
        .iter()
        .position(|n| *n == abbr)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// `YYYY-MM-DDTHH:MM:SS` when the parts name a real date and time (year
/// 0-9999, second 0-59), else `None`.
pub(crate) fn local_datetime(
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
) -> Option<String> {
    if !(0..=9999).contains(&year) {
        return None;
    }
    let m = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, m, day).ok()?;
    Time::from_hms(hour, minute, second).ok()?;
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    ))
}

/// Whether `s` is an RFC 3339 date-time (`2018-04-05T17:31:00Z`).
pub(crate) fn is_rfc3339(s: &str) -> bool {
    OffsetDateTime::parse(s, &Rfc3339).is_ok()
}

/// Parse a decimal number of at most 4 ASCII digits.
pub(crate) fn num<T: TryFrom<u32>>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().and_then(|v| T::try_from(v).ok())
}

/// Apache `%t` without brackets (`17/May/2015:10:05:03 +0000`) as RFC 3339
/// (`2015-05-17T10:05:03+00:00`); `None` when it is not a real date and time.
pub(crate) fn apache(ts: &str) -> Option<String> {
    let (dt, zone) = ts.split_once(' ')?;
    let mut parts = dt.splitn(3, '/');
    let day: u8 = num(parts.next()?)?;
    let mon = month(parts.next()?)?;
    let rest = parts.next()?;
    let mut hms = rest.splitn(4, ':');
    let year: i32 = num(hms.next()?)?;
    let hour: u8 = num(hms.next()?)?;
    let minute: u8 = num(hms.next()?)?;
    let second: u8 = num(hms.next()?)?;
    let local = local_datetime(year, mon, day, hour, minute, second)?;
    let zb = zone.as_bytes();
    if zb.len() != 5 || !(zb[0] == b'+' || zb[0] == b'-') {
        return None;
    }
    let zh: u8 = num(zone.get(1..3)?)?;
    let zm: u8 = num(zone.get(3..5)?)?;
    if zh > 23 || zm > 59 {
        return None;
    }
    let sign = char::from(zb[0]);
    Some(format!("{local}{sign}{zh:02}:{zm:02}"))
}

/// A FOCUS date-time (`2024-09-18 22:00:00`, `2024-09-18T22:00:00Z`; FOCUS
/// 1.0 date-times are UTC) as RFC 3339 (`2024-09-18T22:00:00Z`).
pub(crate) fn focus_utc(s: &str) -> Option<String> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    if s.len() != 19 {
        return None;
    }
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let local = local_datetime(
        num(s.get(0..4)?)?,
        num(s.get(5..7)?)?,
        num(s.get(8..10)?)?,
        num(s.get(11..13)?)?,
        num(s.get(14..16)?)?,
        num(s.get(17..19)?)?,
    )?;
    Some(format!("{local}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_refuses_impossible_dates() {
        assert_eq!(
            local_datetime(2024, 12, 10, 6, 55, 46).as_deref(),
            Some("2024-12-10T06:55:46")
        );
        assert_eq!(local_datetime(2023, 2, 29, 0, 0, 0), None);
        assert!(local_datetime(2024, 2, 29, 0, 0, 0).is_some());
        assert_eq!(local_datetime(2024, 1, 1, 24, 0, 0), None);
        assert_eq!(local_datetime(-1, 1, 1, 0, 0, 0), None);
        assert_eq!(
            apache("17/May/2015:10:05:03 +0000").as_deref(),
            Some("2015-05-17T10:05:03+00:00")
        );
        assert_eq!(
            apache("01/Jan/2020:00:00:00 -0530").as_deref(),
            Some("2020-01-01T00:00:00-05:30")
        );
        assert_eq!(apache("31/Apr/2015:10:05:03 +0000"), None);
        assert_eq!(apache("17/May/2015:10:05:03"), None);
        assert_eq!(apache("17/Mai/2015:10:05:03 +0000"), None);
        assert_eq!(apache("17/May/2015:10:05:03 +00é0"), None);
        assert_eq!(
            focus_utc("2024-09-18 22:00:00").as_deref(),
            Some("2024-09-18T22:00:00Z")
        );
        assert_eq!(focus_utc("2024-09-18é22:00:0"), None);
        assert_eq!(focus_utc("NULL"), None);
        assert!(is_rfc3339("2018-04-05T17:31:00Z"));
        assert!(!is_rfc3339("2018-04-05 17:31:00"));
        assert_eq!(month("Dec"), Some(12));
        assert_eq!(month("dec"), None);
    }
}
