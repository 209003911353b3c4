//! The daily on-call rotation (N8.5 "the on-call team rotates daily"): 90
//! days of a three-person rotation with one override and one swap, in
//! Asia/Tokyo and in Europe/Berlin across both daylight-saving changes,
//! against tables written by hand here; layers; handoffs inside the DST gap
//! and fold; and the iCalendar export read back by an independent parser
//! (Python's `icalendar` package).
//!
//! Hand rules used for the expected instants (no time zone code): Tokyo is
//! UTC+9 all year, so a 09:00 handoff is 00:00Z of the same date. Berlin is
//! UTC+1 (CET) until Sunday 2026-03-29 and from Sunday 2026-10-25, UTC+2
//! (CEST) between: a 09:00 handoff is 08:00Z on CET dates and 07:00Z on
//! CEST dates.

use jiff::ToSpan;
use jiff::civil::Date;
use steward_core::oncall::{self, Layer, Override, Schedule, Swap};

const NAMES: [(char, &str); 3] = [('A', "aiko"), ('B', "ben"), ('C', "chen")];

fn name(c: char) -> &'static str {
    NAMES.iter().find(|(k, _)| *k == c).unwrap().1
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn schedule(zone: &str, handoff: &str, start: &str, swap: (&str, &str), ov: Override) -> Schedule {
    Schedule {
        name: "ir".into(),
        zone: zone.into(),
        handoff: handoff.into(),
        layers: vec![Layer {
            members: vec!["aiko".into(), "ben".into(), "chen".into()],
            start: start.into(),
            weekdays: vec![],
        }],
        overrides: vec![ov],
        swaps: vec![Swap {
            first: swap.0.into(),
            second: swap.1.into(),
        }],
        escalate_after_minutes: 15,
    }
}

/// Expected (member, date, start, end) from a table of one initial per day
/// and the UTC handoff instant of each date.
fn expected(
    table: &[&str],
    first: Date,
    handoff_utc: impl Fn(Date) -> String,
) -> Vec<(String, String, String, String)> {
    let days: Vec<char> = table.iter().flat_map(|l| l.chars()).collect();
    let mut out = Vec::new();
    for (i, c) in days.iter().enumerate() {
        let day = first + (i as i64).days();
        let next = day + 1.days();
        out.push((
            name(*c).to_owned(),
            day.to_string(),
            handoff_utc(day),
            handoff_utc(next),
        ));
    }
    out
}

fn actual(s: &Schedule, from: &str, days: u32) -> Vec<(String, String, String, String)> {
    oncall::shifts(s, from, days)
        .unwrap()
        .into_iter()
        .map(|s| (s.member, s.date, s.start, s.end))
        .collect()
}

/// Replace the shift of `date` in `v` by `pieces` (an override's cut).
fn splice(
    v: &mut Vec<(String, String, String, String)>,
    date: &str,
    pieces: &[(&str, &str, &str)],
) {
    let i = v.iter().position(|s| s.1 == date).unwrap();
    v.remove(i);
    for (k, (m, s, e)) in pieces.iter().enumerate() {
        v.insert(i + k, ((*m).into(), date.into(), (*s).into(), (*e).into()));
    }
}

/// 2026-03-01 .. 2026-05-29 (90 days), day i's member i mod 3 (A, B, C),
/// with 2026-03-10 (day 9, A) and 2026-03-12 (day 11, C) swapped: written
/// out by hand, ten days a line.
const SPRING: [&str; 9] = [
    "ABCABCABCC", // Mar 1-10: Mar 10 swapped (was A)
    "BAABCABCAB", // Mar 11-20: Mar 12 swapped (was C)
    "CABCABCABC",
    "ABCABCABCA",
    "BCABCABCAB",
    "CABCABCABC",
    "ABCABCABCA",
    "BCABCABCAB",
    "CABCABCABC",
];

/// Tokyo, 90 days: one swap (Mar 10 <-> Mar 12) and one override (ben
/// from 2026-04-02 12:00 JST to 2026-04-03 03:00 JST, inside chen's Apr 2
/// shift: 03:00Z to 18:00Z), and who is on call at past instants (N8.5).
#[test]
fn tokyo_daily_rotation_90_days_with_override_and_swap_n8_5() {
    let s = schedule(
        "Asia/Tokyo",
        "09:00",
        "2026-03-01",
        ("2026-03-10", "2026-03-12"),
        Override {
            member: "ben".into(),
            start: "2026-04-02T12:00:00+09:00".into(),
            end: "2026-04-03T03:00:00+09:00".into(),
        },
    );
    let mut want = expected(&SPRING, d("2026-03-01"), |day| format!("{day}T00:00:00Z"));
    assert_eq!(want[32].0, "chen", "Apr 2 is day 32: chen");
    splice(
        &mut want,
        "2026-04-02",
        &[
            ("chen", "2026-04-02T00:00:00Z", "2026-04-02T03:00:00Z"),
            ("ben", "2026-04-02T03:00:00Z", "2026-04-02T18:00:00Z"),
            ("chen", "2026-04-02T18:00:00Z", "2026-04-03T00:00:00Z"),
        ],
    );
    let got = actual(&s, "2026-03-01", 90);
    assert_eq!(got.len(), 92);
    assert_eq!(got, want);
    let at = |t: &str| oncall::on_call_at(&s, t).unwrap();
    assert_eq!(at("2026-03-12T08:59:59+09:00").as_deref(), Some("ben"));
    assert_eq!(at("2026-03-12T09:00:00+09:00").as_deref(), Some("aiko"));
    assert_eq!(at("2026-04-02T12:00:00+09:00").as_deref(), Some("ben"));
    assert_eq!(at("2026-04-03T03:00:00+09:00").as_deref(), Some("chen"));
    assert_eq!(at("2026-02-28T12:00:00+09:00"), None, "before the start");
    ical_matches(&s, "2026-03-01", 90, &want);
}

/// Berlin, 2026-03-01 for 90 days (across the spring change on Mar 29):
/// the same table, swap and override (ben from 2026-04-02 12:00 CEST =
/// 10:00Z to 2026-04-03 03:00 CEST = 01:00Z). The Mar 28 shift is 23
/// hours long; no day is lost (N8.5).
#[test]
fn berlin_daily_rotation_across_the_spring_change_n8_5() {
    let s = schedule(
        "Europe/Berlin",
        "09:00",
        "2026-03-01",
        ("2026-03-10", "2026-03-12"),
        Override {
            member: "ben".into(),
            start: "2026-04-02T12:00:00+02:00".into(),
            end: "2026-04-03T03:00:00+02:00".into(),
        },
    );
    let summer = |day: Date| day >= d("2026-03-29") && day < d("2026-10-25");
    let handoff = |day: Date| {
        if summer(day) {
            format!("{day}T07:00:00Z")
        } else {
            format!("{day}T08:00:00Z")
        }
    };
    let mut want = expected(&SPRING, d("2026-03-01"), handoff);
    let mar28 = want.iter().find(|s| s.1 == "2026-03-28").unwrap();
    assert_eq!(
        (mar28.2.as_str(), mar28.3.as_str()),
        ("2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"),
        "23 hours"
    );
    splice(
        &mut want,
        "2026-04-02",
        &[
            ("chen", "2026-04-02T07:00:00Z", "2026-04-02T10:00:00Z"),
            ("ben", "2026-04-02T10:00:00Z", "2026-04-03T01:00:00Z"),
            ("chen", "2026-04-03T01:00:00Z", "2026-04-03T07:00:00Z"),
        ],
    );
    assert_eq!(actual(&s, "2026-03-01", 90), want);
    ical_matches(&s, "2026-03-01", 90, &want);
}

/// 2026-09-15 .. 2026-12-13 (90 days), i mod 3, with 2026-10-20 (day 35,
/// C) and 2026-10-22 (day 37, B) swapped.
const AUTUMN: [&str; 9] = [
    "ABCABCABCA",
    "BCABCABCAB",
    "CABCABCABC",
    "ABCABBACCA", // Oct 15-24: Oct 20 and Oct 22 swapped
    "BCABCABCAB", // Oct 25 (day 40): ben
    "CABCABCABC",
    "ABCABCABCA",
    "BCABCABCAB",
    "CABCABCABC",
];

/// Berlin from 2026-09-15 for 90 days (across the autumn change on Oct
/// 25): the Oct 24 shift is 25 hours (07:00Z to 08:00Z next day); the
/// override (aiko from 2026-10-25T00:00Z to 12:00Z) extends aiko's own Oct
/// 24 shift, then takes the first four hours of ben's Oct 25 (N8.5).
#[test]
fn berlin_daily_rotation_across_the_autumn_change_n8_5() {
    let s = schedule(
        "Europe/Berlin",
        "09:00",
        "2026-09-15",
        ("2026-10-20", "2026-10-22"),
        Override {
            member: "aiko".into(),
            start: "2026-10-25T00:00:00Z".into(),
            end: "2026-10-25T12:00:00Z".into(),
        },
    );
    let handoff = |day: Date| {
        if day < d("2026-10-25") {
            format!("{day}T07:00:00Z")
        } else {
            format!("{day}T08:00:00Z")
        }
    };
    let mut want = expected(&AUTUMN, d("2026-09-15"), handoff);
    let oct24 = want.iter().find(|s| s.1 == "2026-10-24").unwrap();
    assert_eq!(oct24.0, "aiko");
    assert_eq!(
        (oct24.2.as_str(), oct24.3.as_str()),
        ("2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"),
        "25 hours"
    );
    splice(
        &mut want,
        "2026-10-25",
        &[
            ("aiko", "2026-10-25T08:00:00Z", "2026-10-25T12:00:00Z"),
            ("ben", "2026-10-25T12:00:00Z", "2026-10-26T08:00:00Z"),
        ],
    );
    assert_eq!(actual(&s, "2026-09-15", 90), want);
    ical_matches(&s, "2026-09-15", 90, &want);
}

/// A handoff time inside the gap (02:30 on 2026-03-29 does not exist in
/// Berlin) starts the shift right after the gap, 03:30 CEST = 01:30Z; in
/// the fold (02:30 on 2026-10-25 happens twice) the first, 02:30 CEST =
/// 00:30Z. Each day still has exactly one shift (N8.5).
#[test]
fn handoffs_in_the_dst_gap_and_fold_are_neither_lost_nor_doubled_n8_5() {
    let mut s = schedule(
        "Europe/Berlin",
        "02:30",
        "2026-03-28",
        ("2026-01-01", "2026-01-02"),
        Override {
            member: "ben".into(),
            start: "2020-01-01T00:00:00Z".into(),
            end: "2020-01-02T00:00:00Z".into(),
        },
    );
    let spring: Vec<(String, String)> = oncall::shifts(&s, "2026-03-28", 3)
        .unwrap()
        .into_iter()
        .map(|x| (x.start, x.end))
        .collect();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    };
    assert_eq!(
        spring,
        pairs(&[
            ("2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"),
            ("2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"),
            ("2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"),
        ])
    );
    s.layers[0].start = "2026-10-24".into();
    let autumn: Vec<(String, String)> = oncall::shifts(&s, "2026-10-24", 3)
        .unwrap()
        .into_iter()
        .map(|x| (x.start, x.end))
        .collect();
    assert_eq!(
        autumn,
        pairs(&[
            ("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"),
            ("2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
            ("2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"),
        ])
    );
}

/// Layers (N8.5): a weekend layer (dana, eli on Saturdays and Sundays from
/// Saturday 2026-03-07) over the daily three from Monday 2026-03-02. The
/// weekend layer advances only on the days it covers; the daily layer
/// advances every day.
#[test]
fn a_weekend_layer_wins_over_the_daily_layer_n8_5() {
    let s = Schedule {
        name: "ir".into(),
        zone: "Asia/Tokyo".into(),
        handoff: "09:00".into(),
        layers: vec![
            Layer {
                members: vec!["aiko".into(), "ben".into(), "chen".into()],
                start: "2026-03-02".into(),
                weekdays: vec![],
            },
            Layer {
                members: vec!["dana".into(), "eli".into()],
                start: "2026-03-07".into(),
                weekdays: vec!["saturday".into(), "sunday".into()],
            },
        ],
        overrides: vec![],
        swaps: vec![],
        escalate_after_minutes: 15,
    };
    let got: Vec<String> = oncall::shifts(&s, "2026-03-02", 14)
        .unwrap()
        .into_iter()
        .map(|x| x.member)
        .collect();
    let want = [
        "aiko", "ben", "chen", "aiko", "ben", "dana", "eli", // Mar 2-8
        "ben", "chen", "aiko", "ben", "chen", "dana", "eli", // Mar 9-15
    ];
    assert_eq!(got, want);
}

/// Bad schedules are refused naming the field (N8.5).
#[test]
fn bad_schedules_name_the_field_n8_5() {
    let mut s = schedule(
        "Asia/Tokio",
        "09:00",
        "2026-03-01",
        ("2026-03-10", "2026-03-12"),
        Override {
            member: "ben".into(),
            start: "2026-04-02T12:00:00+09:00".into(),
            end: "2026-04-03T03:00:00+09:00".into(),
        },
    );
    let e = oncall::shifts(&s, "2026-03-01", 1).unwrap_err().to_string();
    assert!(
        e.contains("zone: `Asia/Tokio` is not an IANA time zone name"),
        "{e}"
    );
    s.zone = "Asia/Tokyo".into();
    s.handoff = "9am".into();
    let e = oncall::shifts(&s, "2026-03-01", 1).unwrap_err().to_string();
    assert!(e.contains("handoff: `9am` is not HH:MM"), "{e}");
    s.handoff = "09:00".into();
    s.overrides[0].end = "2026-04-01T00:00:00Z".into();
    let e = oncall::shifts(&s, "2026-03-01", 1).unwrap_err().to_string();
    assert!(e.contains("overrides[0]"), "{e}");
}

/// The iCalendar export (RFC 5545) read by Python's `icalendar` package:
/// the same shifts (member, start, end in UTC), in order.
fn ical_matches(s: &Schedule, from: &str, days: u32, want: &[(String, String, String, String)]) {
    let text = oncall::ical(s, from, days).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oncall.ics");
    std::fs::write(&path, &text).unwrap();
    let script = "import sys\nimport icalendar\ncal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())\nfor ev in cal.walk('VEVENT'):\n    a = ev.decoded('DTSTART'); b = ev.decoded('DTEND')\n    assert a.utcoffset().total_seconds() == 0 and b.utcoffset().total_seconds() == 0\n    print(str(ev.get('SUMMARY')), a.strftime('%Y-%m-%dT%H:%M:%SZ'), b.strftime('%Y-%m-%dT%H:%M:%SZ'))\n";
    let out = match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            println!("skipped the iCalendar check: python3 not found ({e})");
            return;
        }
    };
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("No module named 'icalendar'") {
        println!("skipped the iCalendar check: pip install icalendar (CI installs it)");
        return;
    }
    assert!(out.status.success(), "python icalendar failed: {err}");
    let parsed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let expect: Vec<String> = want
        .iter()
        .map(|(m, _, a, b)| format!("{m} {a} {b}"))
        .collect();
    assert_eq!(parsed, expect);
}
