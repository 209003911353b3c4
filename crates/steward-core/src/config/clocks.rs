//! The regulators' clocks (N8.5 "deadlines", N8.4; APPI Art. 26 and its
//! Enforcement Rules Art. 8; GDPR Art. 33(1)): due instants computed from
//! the awareness time by a [`ClockRule`] from configuration.
//!
//! Two kinds of rule:
//!
//! - **hours**: `awareness + n hours`, an absolute duration (GDPR: 72 hours
//!   "after having become aware"): a daylight-saving change in between
//!   changes the local wall time of the deadline, not its length.
//! - **days**: calendar days counted in the rule's zone, the day of
//!   awareness not counted and the period ending at the end of its last day
//!   (Japan's Civil Code Art. 140 and 141, which APPI's periods follow): due
//!   at local midnight starting day `awareness date + n + 1`.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// How one deadline is computed from the awareness time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockRule {
    /// Absolute hours after awareness (e.g. 72). Exactly one of `hours`
    /// and `days`.
    #[serde(default)]
    pub hours: Option<u32>,
    /// Calendar days after the day of awareness, in `zone` (e.g. 30).
    #[serde(default)]
    pub days: Option<u32>,
    /// IANA zone the days are counted in (default `Asia/Tokyo`).
    #[serde(default = "tokyo")]
    pub zone: String,
}

fn tokyo() -> String {
    "Asia/Tokyo".into()
}

impl ClockRule {
    /// `n` calendar days in Asia/Tokyo.
    pub fn days_in_tokyo(n: u32) -> ClockRule {
        ClockRule {
            hours: None,
            days: Some(n),
            zone: tokyo(),
        }
    }

    /// `n` hours.
    pub fn hours(n: u32) -> ClockRule {
        ClockRule {
            hours: Some(n),
            days: None,
            zone: "UTC".into(),
        }
    }

    /// The due instant for awareness at `aware`.
    ///
    /// Errors: both or neither of `hours` and `days`; an unknown zone; a
    /// date out of range (a sentence naming the field).
    pub fn due(&self, aware: Timestamp) -> Result<Timestamp, String> {
        match (self.hours, self.days) {
            (Some(h), None) => aware
                .checked_add(SignedDuration::from_hours(i64::from(h)))
                .map_err(|e| format!("hours: {e}")),
            (None, Some(n)) => {
                let tz = TimeZone::get(&self.zone)
                    .map_err(|_| format!("zone: `{}` is not an IANA time zone name", self.zone))?;
                let day: Date = tz.to_datetime(aware).date();
                let last = day
                    .checked_add((i64::from(n) + 1).days())
                    .map_err(|e| format!("days: {e}"))?;
                tz.to_ambiguous_timestamp(last.at(0, 0, 0, 0))
                    .compatible()
                    .map_err(|e| format!("days: {e}"))
            }
            _ => Err("give exactly one of `hours` and `days`".into()),
        }
    }
}

/// The clocks of configuration `[incidents.clocks]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClocksConfig {
    /// APPI preliminary report ("promptly": about 3 to 5 days; default 5
    /// days in Asia/Tokyo).
    pub appi_preliminary: ClockRule,
    /// APPI final report (default 30 days).
    pub appi_final: ClockRule,
    /// APPI final report when the breach had an unlawful purpose (default 60 days).
    pub appi_final_unlawful: ClockRule,
    /// GDPR notification to the supervisory authority (default 72 hours).
    pub gdpr: ClockRule,
    /// Hours before a deadline the commander is reminded (default 24).
    pub remind_before_hours: u32,
}

impl Default for ClocksConfig {
    fn default() -> Self {
        ClocksConfig {
            appi_preliminary: ClockRule::days_in_tokyo(5),
            appi_final: ClockRule::days_in_tokyo(30),
            appi_final_unlawful: ClockRule::days_in_tokyo(60),
            gdpr: ClockRule::hours(72),
            remind_before_hours: 24,
        }
    }
}

/// One regulator's deadline of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// `appi_preliminary`, `appi_final` or `gdpr`.
    pub clock: String,
    /// Due (RFC 3339 UTC).
    pub due_at: String,
    /// When the report was filed (RFC 3339 UTC), if it was.
    #[serde(default)]
    pub done_at: Option<String>,
}

/// The deadlines of an incident aware at `aware`: APPI preliminary and
/// final when `appi` (final by the unlawful-purpose rule when `unlawful`),
/// GDPR when `gdpr`.
///
/// Errors: a rule that does not compute (names the clock).
pub fn deadlines(
    c: &ClocksConfig,
    aware: Timestamp,
    appi: bool,
    unlawful: bool,
    gdpr: bool,
) -> Result<Vec<Deadline>, String> {
    let mut out = Vec::new();
    let mut add = |clock: &str, rule: &ClockRule| -> Result<(), String> {
        let due = rule
            .due(aware)
            .map_err(|e| format!("incidents.clocks.{clock}: {e}"))?;
        out.push(Deadline {
            clock: clock.into(),
            due_at: crate::oncall::rotation::utc(due),
            done_at: None,
        });
        Ok(())
    };
    if appi {
        add("appi_preliminary", &c.appi_preliminary)?;
        if unlawful {
            add("appi_final", &c.appi_final_unlawful)?;
        } else {
            add("appi_final", &c.appi_final)?;
        }
    }
    if gdpr {
        add("gdpr", &c.gdpr)?;
    }
    Ok(out)
}
