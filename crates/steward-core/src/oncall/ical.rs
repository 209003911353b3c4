//! iCalendar (RFC 5545) export of a schedule's shifts, built with the
//! `icalendar` crate: one `VEVENT` per shift (`DTSTART`/`DTEND` in UTC,
//! section 3.3.5 form 2; `SUMMARY` the member; `UID`
//! `<schedule>-<date>-<n>@steward`; `DTSTAMP` the shift's start, so the
//! same schedule always exports the same bytes).

use icalendar::{Calendar, Component, Event, EventLike};

use super::rotation::Shift;

fn chrono_utc(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let t: jiff::Timestamp = s
        .parse()
        .map_err(|_| format!("shift instant `{s}` does not parse"))?;
    chrono::DateTime::from_timestamp(t.as_second(), 0)
        .ok_or_else(|| format!("shift instant `{s}` is out of range"))
}

/// The calendar text of `shifts` of schedule `name` (CRLF line ends).
///
/// Errors: a shift whose instants do not parse (never for shifts computed
/// by the rotation).
pub(crate) fn export(name: &str, zone: &str, shifts: &[Shift]) -> Result<String, String> {
    let mut cal = Calendar::new();
    cal.name(&format!("on-call {name}"));
    cal.append_property(icalendar::Property::new("X-WR-TIMEZONE", zone));
    let mut n_by_date: std::collections::BTreeMap<&str, u32> = Default::default();
    for s in shifts {
        let n = n_by_date.entry(s.date.as_str()).or_insert(0);
        *n += 1;
        let start = chrono_utc(&s.start)?;
        let event = Event::new()
            .uid(&format!("{name}-{}-{n}@steward", s.date))
            .timestamp(start)
            .summary(&s.member)
            .starts(start)
            .ends(chrono_utc(&s.end)?)
            .done();
        cal.push(event);
    }
    Ok(cal.done().to_string())
}
