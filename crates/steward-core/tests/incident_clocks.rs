//! The regulators' clocks (N8.5 "deadlines", N8.4; APPI Art. 26, GDPR
//! Art. 33) against dates computed by hand: APPI preliminary (5 days as
//! configured by default) and final (30 days; 60 for an unlawful purpose),
//! GDPR 72 hours, across a month end, a leap day and both European
//! daylight-saving changes.
//!
//! The hand computation, written out per case: APPI counts calendar days in
//! Asia/Tokyo (UTC+9, no daylight saving), the day of awareness not counted,
//! due at the end of the last day (Civil Code Art. 140, 141): due = 00:00
//! JST of (awareness date + n + 1) = 15:00 UTC of (awareness date + n).
//! GDPR is 72 hours of elapsed time.

use jiff::Timestamp;
use steward_core::incidents::clocks::{ClockRule, ClocksConfig, Deadline, deadlines};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn due(ds: &[Deadline], clock: &str) -> String {
    ds.iter()
        .find(|d| d.clock == clock)
        .unwrap_or_else(|| panic!("no {clock} in {ds:?}"))
        .due_at
        .clone()
}

/// Awareness 2026-01-31 00:00 JST (2026-01-30T15:00Z), a month end in
/// Japan. Preliminary: Jan 31 + 5 days = Feb 5, due 2026-02-05T15:00Z.
/// Final: Jan 31 + 30 days: Feb 1 is +1, Feb 28 +28, Mar 1 +29, Mar 2
/// +30: due 2026-03-02T15:00Z. Unlawful purpose: Mar 2 + 30 more = Apr 1:
/// due 2026-04-01T15:00Z. GDPR: Jan 30 15:00 + 72 h = Feb 2 15:00 UTC.
#[test]
fn appi_and_gdpr_deadlines_across_a_month_end_n8_5() {
    let c = ClocksConfig::default();
    let aware = ts("2026-01-30T15:00:00Z");
    let ds = deadlines(&c, aware, true, false, true).unwrap();
    assert_eq!(ds.len(), 3);
    assert_eq!(due(&ds, "appi_preliminary"), "2026-02-05T15:00:00Z");
    assert_eq!(due(&ds, "appi_final"), "2026-03-02T15:00:00Z");
    assert_eq!(due(&ds, "gdpr"), "2026-02-02T15:00:00Z");
    let unlawful = deadlines(&c, aware, true, true, false).unwrap();
    assert_eq!(unlawful.len(), 2, "no GDPR clock without EEA subjects");
    assert_eq!(due(&unlawful, "appi_final"), "2026-04-01T15:00:00Z");
    // One second earlier is still 2026-01-30 in Tokyo (23:59:59 JST): a
    // day earlier everywhere.
    let before = deadlines(&c, ts("2026-01-30T14:59:59Z"), true, false, false).unwrap();
    assert_eq!(due(&before, "appi_preliminary"), "2026-02-04T15:00:00Z");
    assert_eq!(due(&before, "appi_final"), "2026-03-01T15:00:00Z");
}

/// Awareness 2028-02-27 12:00 JST (03:00Z), 2028 a leap year.
/// Preliminary: Feb 28 +1, Feb 29 +2, Mar 1 +3, Mar 2 +4, Mar 3 +5: due
/// 2028-03-03T15:00Z. Final: Mar 1 is +3, so +30 is Mar 28: due
/// 2028-03-28T15:00Z. Unlawful: Mar 28 + 30 = Apr 27: due
/// 2028-04-27T15:00Z. GDPR: Feb 27 03:00 -> Feb 28 -> Feb 29 -> Mar 1
/// 03:00 UTC.
#[test]
fn appi_and_gdpr_deadlines_across_a_leap_day_n8_5() {
    let c = ClocksConfig::default();
    let aware = ts("2028-02-27T03:00:00Z");
    let ds = deadlines(&c, aware, true, false, true).unwrap();
    assert_eq!(due(&ds, "appi_preliminary"), "2028-03-03T15:00:00Z");
    assert_eq!(due(&ds, "appi_final"), "2028-03-28T15:00:00Z");
    assert_eq!(due(&ds, "gdpr"), "2028-03-01T03:00:00Z");
    let unlawful = deadlines(&c, aware, true, true, true).unwrap();
    assert_eq!(due(&unlawful, "appi_final"), "2028-04-27T15:00:00Z");
    // The same dates in 2027 (no Feb 29) come a day later.
    let y27 = deadlines(&c, ts("2027-02-27T03:00:00Z"), true, false, true).unwrap();
    assert_eq!(due(&y27, "appi_preliminary"), "2027-03-04T15:00:00Z");
    assert_eq!(due(&y27, "gdpr"), "2027-03-02T03:00:00Z");
}

/// Europe/Berlin moves from CET (UTC+1) to CEST (UTC+2) on Sunday
/// 2026-03-29 at 02:00, and back on Sunday 2026-10-25 at 03:00.
///
/// GDPR from 2026-03-27 10:00 CET (09:00Z): 72 hours of elapsed time end
/// 2026-03-30T09:00Z, which is 11:00 CEST on the wall clock (not 10:00).
/// From 2026-10-23 10:00 CEST (08:00Z): 2026-10-26T08:00Z, 09:00 CET.
///
/// A days rule counted in Europe/Berlin (a jurisdiction configured so):
/// 5 days from 2026-03-27 ends at the end of 2026-04-01, i.e. 00:00 CEST
/// 2026-04-02 = 2026-04-01T22:00Z; from 2026-10-23 it ends at 00:00 CET
/// 2026-10-29 = 2026-10-28T23:00Z. Both DST days count once.
#[test]
fn gdpr_72_hours_and_zone_days_across_european_dst_changes_n8_5() {
    let c = ClocksConfig::default();
    let spring = deadlines(&c, ts("2026-03-27T09:00:00Z"), false, false, true).unwrap();
    assert_eq!(spring.len(), 1);
    assert_eq!(due(&spring, "gdpr"), "2026-03-30T09:00:00Z");
    let autumn = deadlines(&c, ts("2026-10-23T08:00:00Z"), false, false, true).unwrap();
    assert_eq!(due(&autumn, "gdpr"), "2026-10-26T08:00:00Z");

    let berlin = ClockRule {
        hours: None,
        days: Some(5),
        zone: "Europe/Berlin".into(),
    };
    assert_eq!(
        berlin.due(ts("2026-03-27T09:00:00Z")).unwrap(),
        ts("2026-04-01T22:00:00Z")
    );
    assert_eq!(
        berlin.due(ts("2026-10-23T08:00:00Z")).unwrap(),
        ts("2026-10-28T23:00:00Z")
    );
    // 23:30 CET on 2026-03-28 is still the 28th in Berlin (22:30Z).
    assert_eq!(
        berlin.due(ts("2026-03-28T22:30:00Z")).unwrap(),
        ts("2026-04-02T22:00:00Z")
    );
}

/// Configuration decides the clocks (N8.5): a preliminary report in 3 days,
/// and a rule giving both hours and days is refused naming the clock.
#[test]
fn clocks_come_from_configuration_and_bad_rules_are_named_n8_5() {
    let mut c = ClocksConfig::default();
    c.appi_preliminary = ClockRule::days_in_tokyo(3);
    let ds = deadlines(&c, ts("2026-01-30T15:00:00Z"), true, false, false).unwrap();
    assert_eq!(due(&ds, "appi_preliminary"), "2026-02-03T15:00:00Z");
    c.gdpr = ClockRule {
        hours: Some(72),
        days: Some(3),
        zone: "UTC".into(),
    };
    let e = deadlines(&c, ts("2026-01-30T15:00:00Z"), false, false, true).unwrap_err();
    assert_eq!(
        e,
        "incidents.clocks.gdpr: give exactly one of `hours` and `days`"
    );
    c.gdpr = ClockRule {
        hours: None,
        days: Some(3),
        zone: "Mars/Olympus".into(),
    };
    let e = deadlines(&c, ts("2026-01-30T15:00:00Z"), false, false, true).unwrap_err();
    assert!(e.contains("Mars/Olympus"), "{e}");
}
