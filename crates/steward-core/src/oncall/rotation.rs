//! The daily on-call rotation (N8.5: "the on-call team rotates daily"):
//! shifts computed from a [`Schedule`] by civil dates in its named time
//! zone, layered, swapped and overridden, as instants in UTC.
//!
//! **A day is one shift.** The shift of local date `d` runs from the
//! handoff time on `d` to the handoff time on `d + 1`, both resolved in the
//! schedule's zone (IANA name, jiff's bundled tz database). Shifts are
//! therefore contiguous, and a day with a daylight-saving change is neither
//! lost nor doubled: it is 23 or 25 hours long. A handoff time that does
//! not exist on a day (the spring-forward gap) resolves to the instant just
//! after the gap; one that exists twice (the autumn fold) to the first of
//! the two (RFC 5545 section 3.3.5 resolves both the same way; jiff's
//! "compatible" disambiguation).
//!
//! **Layers** (as Grafana OnCall's): each layer rotates its own members
//! daily from its own start date, optionally on some weekdays only; where
//! a higher layer (later in the list) has a shift, it wins. **Swaps**
//! exchange the people of two dates (after layering). **Overrides** put one
//! member on call from one instant to another, cutting the shifts they
//! cover.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// One layer of a schedule: members rotating daily from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Principal names, in rotation order (at least one).
    pub members: Vec<String>,
    /// The local date whose shift is the first member's (`YYYY-MM-DD`).
    pub start: String,
    /// Weekdays this layer covers (`monday` ... `sunday`); empty: every
    /// day. A day not covered does not advance the rotation.
    #[serde(default)]
    pub weekdays: Vec<String>,
}

/// An override: `member` is on call from `start` to `end` (RFC 3339
/// instants), whoever the layers say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The principal on call instead.
    pub member: String,
    /// From (RFC 3339, stored in UTC).
    pub start: String,
    /// Until (RFC 3339, stored in UTC), after `start`.
    pub end: String,
}

/// A swap: the people on call on two local dates trade those days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Swap {
    /// One local date (`YYYY-MM-DD`).
    pub first: String,
    /// The other local date.
    pub second: String,
}

/// An on-call schedule (registry `oncall_schedules`, keyed by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The schedule's name (`[a-z0-9_-]`, 1-64 characters).
    pub name: String,
    /// IANA time zone name; default `Asia/Tokyo`.
    #[serde(default = "default_zone")]
    pub zone: String,
    /// The daily handoff time in the zone (`HH:MM`); default `09:00`.
    #[serde(default = "default_handoff")]
    pub handoff: String,
    /// Layers, lowest first (at least one).
    pub layers: Vec<Layer>,
    /// Overrides.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// Swaps.
    #[serde(default)]
    pub swaps: Vec<Swap>,
    /// Minutes a page waits for an acknowledgement before it goes to the
    /// next person of the rotation; default 15.
    #[serde(default = "default_escalate")]
    pub escalate_after_minutes: u32,
}

fn default_zone() -> String {
    "Asia/Tokyo".into()
}
fn default_handoff() -> String {
    "09:00".into()
}
fn default_escalate() -> u32 {
    15
}

/// One shift: `member` on call over `[start, end)`, from the shift of local
/// date `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// The principal on call.
    pub member: String,
    /// The local date of the daily shift this piece belongs to.
    pub date: String,
    /// Start (RFC 3339 UTC).
    pub start: String,
    /// End, exclusive (RFC 3339 UTC).
    pub end: String,
}

/// A checked schedule: zone, handoff and dates parsed.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    tz: TimeZone,
    handoff: Time,
    layers: Vec<(Vec<String>, Date, Vec<Weekday>)>,
    overrides: Vec<(String, Timestamp, Timestamp)>,
    swaps: Vec<(Date, Date)>,
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// Parse a local date `YYYY-MM-DD`; the error names `field`.
pub(crate) fn parse_date(field: &str, s: &str) -> Result<Date, String> {
    s.parse::<Date>()
        .map_err(|_| format!("{field}: `{s}` is not a date: write YYYY-MM-DD"))
}

/// Parse an RFC 3339 instant; the error names `field`.
pub(crate) fn parse_instant(field: &str, s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>().map_err(|_| {
        format!("{field}: `{s}` is not an RFC 3339 instant: write e.g. 2026-03-29T09:00:00Z")
    })
}

/// An instant as stored: RFC 3339 in UTC, whole seconds.
pub(crate) fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Schedule {
    /// Check the schedule: the zone is an IANA name, the handoff `HH:MM`,
    /// every layer has members and a start date, weekdays and dates parse,
    /// every override ends after it starts.
    ///
    /// Errors: a sentence naming the field (`layers[1].start`) and how to fix it.
    pub(crate) fn resolve(&self) -> Result<Resolved, String> {
        let ok_name = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok_name {
            return Err("name: use 1-64 characters of a-z, 0-9, - and _".into());
        }
        let tz = TimeZone::get(&self.zone).map_err(|_| {
            format!(
                "zone: `{}` is not an IANA time zone name: write e.g. Asia/Tokyo or Europe/Berlin",
                self.zone
            )
        })?;
        let handoff = Time::strptime("%H:%M", &self.handoff)
            .map_err(|_| format!("handoff: `{}` is not HH:MM (e.g. 09:00)", self.handoff))?;
        if self.layers.is_empty() {
            return Err("layers: a schedule needs at least one layer of members".into());
        }
        let mut layers = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            if l.members.is_empty() || l.members.iter().any(|m| m.is_empty()) {
                return Err(format!(
                    "layers[{i}].members: name at least one principal, none empty"
                ));
            }
            let start = parse_date(&format!("layers[{i}].start"), &l.start)?;
            let mut days = Vec::new();
            for (j, w) in l.weekdays.iter().enumerate() {
                days.push(weekday(w).ok_or_else(|| {
                    format!(
                        "layers[{i}].weekdays[{j}]: `{w}` is not a weekday: write monday ... sunday"
                    )
                })?);
            }
            layers.push((l.members.clone(), start, days));
        }
        let mut overrides = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            let s = parse_instant(&format!("overrides[{i}].start"), &o.start)?;
            let e = parse_instant(&format!("overrides[{i}].end"), &o.end)?;
            if e <= s || o.member.is_empty() {
                return Err(format!(
                    "overrides[{i}]: name a member and end after the start"
                ));
            }
            overrides.push((o.member.clone(), s, e));
        }
        let mut swaps = Vec::new();
        for (i, w) in self.swaps.iter().enumerate() {
            swaps.push((
                parse_date(&format!("swaps[{i}].first"), &w.first)?,
                parse_date(&format!("swaps[{i}].second"), &w.second)?,
            ));
        }
        if self.escalate_after_minutes == 0 {
            return Err("escalate_after_minutes: at least 1".into());
        }
        Ok(Resolved {
            tz,
            handoff,
            layers,
            overrides,
            swaps,
        })
    }
}

impl Resolved {
    /// The instant the shift of local date `d` starts.
    fn handoff_at(&self, d: Date) -> Result<Timestamp, String> {
        self.tz
            .to_ambiguous_timestamp(DateTime::from_parts(d, self.handoff))
            .compatible()
            .map_err(|e| format!("{d}: the handoff time does not resolve ({e})"))
    }

    /// The member of the layers for local date `d`, before swaps.
    fn layered(&self, d: Date) -> Option<String> {
        for (members, start, days) in self.layers.iter().rev() {
            if d < *start || (!days.is_empty() && !days.contains(&d.weekday())) {
                continue;
            }
            // Days covered since the start (a day not covered does not
            // advance the rotation).
            let total = (d - *start).get_days() as i64;
            let covered = if days.is_empty() {
                total
            } else {
                let weeks = total / 7;
                let mut n = weeks * days.len() as i64;
                let mut x = *start + (weeks * 7).days();
                while x < d {
                    if days.contains(&x.weekday()) {
                        n += 1;
                    }
                    x = x.tomorrow().ok()?;
                }
                n
            };
            let i = covered.rem_euclid(members.len() as i64) as usize;
            return Some(members[i].clone());
        }
        None
    }

    /// The member for local date `d`: layered, then swapped.
    fn member(&self, d: Date) -> Option<String> {
        let mut day = d;
        for (a, b) in &self.swaps {
            if day == *a {
                day = *b;
            } else if day == *b {
                day = *a;
            }
        }
        self.layered(day)
    }

    /// The local date whose shift holds instant `t`.
    fn date_of(&self, t: Timestamp) -> Result<Date, String> {
        let d = self.tz.to_datetime(t).date();
        if t < self.handoff_at(d)? {
            d.yesterday().map_err(|e| e.to_string())
        } else {
            Ok(d)
        }
    }

    /// The shifts of `days` local dates from `from`, overrides applied,
    /// in time order. Days nobody covers give no shift.
    pub(crate) fn shifts(&self, from: Date, days: u32) -> Result<Vec<Shift>, String> {
        let mut base = Vec::new();
        let mut d = from;
        for _ in 0..days {
            let next = d.tomorrow().map_err(|e| e.to_string())?;
            if let Some(m) = self.member(d) {
                base.push((m, d, self.handoff_at(d)?, self.handoff_at(next)?));
            }
            d = next;
        }
        let mut out: Vec<(String, Date, Timestamp, Timestamp)> = Vec::new();
        for (m, d, s, e) in base {
            // Cut the pieces of [s, e) that overrides cover.
            let mut pieces = vec![(m, s, e)];
            for (om, os, oe) in &self.overrides {
                let mut next = Vec::new();
                for (pm, ps, pe) in pieces {
                    if *oe <= ps || *os >= pe {
                        next.push((pm, ps, pe));
                        continue;
                    }
                    if ps < *os {
                        next.push((pm.clone(), ps, *os));
                    }
                    next.push((om.clone(), ps.max(*os), pe.min(*oe)));
                    if *oe < pe {
                        next.push((pm, *oe, pe));
                    }
                }
                pieces = next;
            }
            for (pm, ps, pe) in pieces {
                // Join a piece to the one before when the same member holds
                // it on the same day (an override by the one on call).
                if let Some(last) = out.last_mut()
                    && last.0 == pm
                    && last.1 == d
                    && last.3 == ps
                {
                    last.3 = pe;
                    continue;
                }
                out.push((pm, d, ps, pe));
            }
        }
        Ok(out
            .into_iter()
            .map(|(member, d, s, e)| Shift {
                member,
                date: d.to_string(),
                start: utc(s),
                end: utc(e),
            })
            .collect())
    }

    /// Who is on call at instant `t` (past or future), if anyone.
    pub(crate) fn on_call_at(&self, t: Timestamp) -> Result<Option<String>, String> {
        let d = self.date_of(t)?;
        let shifts = self.shifts(d, 1)?;
        let at = utc(t);
        Ok(shifts
            .into_iter()
            .find(|s| s.start.as_str() <= at.as_str() && at.as_str() < s.end.as_str())
            .map(|s| s.member))
    }

    /// The rotation's order from `member` on: the people to escalate to
    /// (the next day's and later people of the highest layer holding `t`),
    /// without repeats, `member` excluded.
    pub(crate) fn escalation_after(&self, t: Timestamp, member: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let Ok(mut d) = self.date_of(t) else {
            return out;
        };
        for _ in 0..31 {
            let Ok(next) = d.tomorrow() else { break };
            d = next;
            if let Some(m) = self.member(d)
                && m != member
                && !out.contains(&m)
            {
                out.push(m);
            }
        }
        out
    }
}
