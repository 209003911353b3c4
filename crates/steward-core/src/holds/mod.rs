//! Legal holds, rectification and retention (N3.7, N7.2, N8.8, N1.3).
//!
//! - **Retention periods** ([`RetentionRules`], configuration key
//!   `retention_periods`): a machine-readable period per category and,
//!   optionally, per kind, some of them under a legal hold (a retention duty
//!   such as financial record-keeping, N3.7).
//! - **Erasure with holds** ([`Steward::erase_with_holds`]): crypto-shredding
//!   (N8.8) that first moves the records under a running retention duty to a
//!   separate per-subject *hold key*, so they still open, for `comply` only
//!   ([`Steward::read_held`]), until their period ends.
//! - **Rectification** ([`Steward::rectify`], N7.2): a corrected record
//!   replaces the old one in one audited commit.
//! - **Retention sweep** ([`Steward::retention_sweep`], N8.8): deletes what
//!   has expired, held records included once their hold has ended.
//!
//! Age is counted from a record's **stored time** (`records.stored_at`, the
//! ingest time in ms since the Unix epoch, kept in clear beside the sealed
//! body): the event time is inside the sealed body, and neither the sweep nor
//! an erasure may open records to find it. A record therefore expires at
//! `stored time + period` (calendar arithmetic for months and years, the day
//! clamped to the month's last day), and is deleted by the first sweep at or
//! after that instant.

use std::collections::BTreeMap;
use std::fmt;

use rand::RngCore;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use steward_domain::{Category, Kind, RecordId};
use time::{Date, Month, OffsetDateTime};

mod erase;
mod rectify;
mod sweep;

/// Held record ids named one by one in the erasure's audit entry, at most
/// (an entry is at most 64 KiB); beyond, the entry gives the count only.
const MAX_IDS_IN_ENTRY: usize = 1000;
/// Records read per page by the retention sweep.
const SWEEP_PAGE: usize = 10_000;

// ------------------------------------------------------------------ periods

/// The unit of a retention [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    /// Days (`d`): 24 hours each.
    Days,
    /// Weeks (`w`): 7 days.
    Weeks,
    /// Calendar months (`m`): the same day of a later month, clamped to its last day.
    Months,
    /// Calendar years (`y`): 12 calendar months.
    Years,
}

/// A retention period (N8.8): a whole number of days, weeks, calendar months
/// or calendar years, written `180d`, `26w`, `6m`, `7y`. At least 1; at most
/// 1,000 years' worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// How many units (1 or more).
    pub count: u32,
    /// The unit.
    pub unit: PeriodUnit,
}

impl Period {
    /// Parse `180d`, `26w`, `6m` or `7y`.
    ///
    /// Errors (plain words, for the caller to prefix with the key): not a
    /// number followed by d, w, m or y; zero; negative; longer than 1,000 years.
    pub fn parse(s: &str) -> Result<Period, String> {
        const HOW: &str = "write a whole number followed by d (days), w (weeks), m (months) or y (years), e.g. \"180d\" or \"7y\", or \"none\" for no age-based expiry";
        let t = s.trim();
        let shown: String = t.chars().take(40).collect();
        if t.starts_with('-') {
            return Err(format!(
                "`{shown}` is negative: a retention period must be at least 1 day; {HOW}"
            ));
        }
        let Some(last) = t.chars().last() else {
            return Err(format!("the period is empty: {HOW}"));
        };
        let unit = match last {
            'd' => PeriodUnit::Days,
            'w' => PeriodUnit::Weeks,
            'm' => PeriodUnit::Months,
            'y' => PeriodUnit::Years,
            _ => return Err(format!("`{shown}` has no unit: {HOW}")),
        };
        let digits = &t[..t.len() - 1];
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("`{shown}` is not a period: {HOW}"));
        }
        let count: u32 = digits
            .parse()
            .map_err(|_| format!("`{shown}` is too long: at most 1000y"))?;
        if count == 0 {
            return Err(format!(
                "`{shown}` is zero: a retention period must be at least 1 day (remove the entry or write \"none\" for no age-based expiry)"
            ));
        }
        let max = match unit {
            PeriodUnit::Days => 365_250,
            PeriodUnit::Weeks => 52_179,
            PeriodUnit::Months => 12_000,
            PeriodUnit::Years => 1_000,
        };
        if count > max {
            return Err(format!("`{shown}` is too long: at most 1000y"));
        }
        Ok(Period { count, unit })
    }

    /// `t` plus this period (UTC; months and years by the calendar, the day
    /// clamped to the month's last day, the time of day kept). `None` past
    /// the year 9999.
    pub fn after(self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match self.unit {
            PeriodUnit::Days => t.checked_add(time::Duration::days(i64::from(self.count))),
            PeriodUnit::Weeks => t.checked_add(time::Duration::weeks(i64::from(self.count))),
            PeriodUnit::Months => add_months(t, i64::from(self.count)),
            PeriodUnit::Years => add_months(t, 12 * i64::from(self.count)),
        }
    }

    /// When a record stored at `stored_ms` (ms since the Unix epoch) expires,
    /// in ms since the Unix epoch; `i64::MAX` when out of the calendar's range.
    pub fn expiry_ms(self, stored_ms: i64) -> i64 {
        from_ms(stored_ms)
            .and_then(|t| self.after(t))
            .map(to_ms)
            .unwrap_or(i64::MAX)
    }

    /// A lower bound of the period's length in days (a month is at least 28
    /// days, a year at least 365): `stored + period <= now` implies
    /// `stored <= now - lower_bound_days`.
    fn lower_bound_days(self) -> i64 {
        let n = i64::from(self.count);
        match self.unit {
            PeriodUnit::Days => n,
            PeriodUnit::Weeks => 7 * n,
            PeriodUnit::Months => 28 * n,
            PeriodUnit::Years => 365 * n,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = match self.unit {
            PeriodUnit::Days => 'd',
            PeriodUnit::Weeks => 'w',
            PeriodUnit::Months => 'm',
            PeriodUnit::Years => 'y',
        };
        write!(f, "{}{u}", self.count)
    }
}

fn add_months(t: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let d = t.date();
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    // The same day, or the month's last day (31 Jan + 1m = 28 or 29 Feb).
    let mut day = d.day();
    loop {
        if let Ok(date) = Date::from_calendar_date(year, month, day) {
            return Some(t.replace_date(date));
        }
        if day <= 28 {
            return None;
        }
        day -= 1;
    }
}

fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// `YYYY-MM-DD` (UTC) of a time in ms since the Unix epoch.
fn date_of(ms: i64) -> String {
    from_ms(ms)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|| "9999-12-31".into())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

// ------------------------------------------------------------ configuration

/// One retention rule: how long records of a category or kind are kept
/// (N8.8), and whether a retention duty keeps them through an erasure
/// (legal hold, N3.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    /// The period, counted from the record's stored time; `None`: no
    /// age-based expiry.
    pub period: Option<Period>,
    /// Records still within `period` are kept through an erasure, under a
    /// hold key, until the period ends (N3.7).
    pub legal_hold: bool,
    /// Why they are kept (shown on erasure receipts), e.g. `financial
    /// record-keeping (N3.7)`. Required with `legal_hold`.
    pub reason: Option<String>,
}

/// Machine-readable retention periods per category and per kind (N8.8, N3.7):
/// configuration key `retention_periods`.
///
/// ```toml
/// [retention_periods]
/// usage = "180d"                       # d, w, m (calendar months), y (calendar years)
/// "usage.metric" = "30d"               # a kind overrides its category
/// billing = { period = "7y", legal_hold = true, reason = "financial record-keeping (N3.7)" }
/// account = "none"                     # no age-based expiry
/// ```
///
/// Entries given override the defaults key by key; the defaults are usage
/// 180 days, communications 3 years, billing 7 years under a legal hold for
/// financial record-keeping (N3.7), and no age-based expiry for account and
/// configuration (the descriptive `retention` strings on exports say the
/// same). Errors name the key and how to fix it: an unknown category or
/// kind, a period that is not `<n>d|w|m|y`, zero or negative, an unknown
/// table key, a legal hold without a period or a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRules {
    rules: BTreeMap<String, RetentionRule>,
}

impl Default for RetentionRules {
    fn default() -> Self {
        let mut rules = BTreeMap::new();
        let p = |count, unit| Some(Period { count, unit });
        rules.insert(
            "usage".to_owned(),
            RetentionRule {
                period: p(180, PeriodUnit::Days),
                legal_hold: false,
                reason: None,
            },
        );
        rules.insert(
            "communications".to_owned(),
            RetentionRule {
                period: p(3, PeriodUnit::Years),
                legal_hold: false,
                reason: None,
            },
        );
        rules.insert(
            "billing".to_owned(),
            RetentionRule {
                period: p(7, PeriodUnit::Years),
                legal_hold: true,
                reason: Some("financial record-keeping (N3.7)".to_owned()),
            },
        );
        RetentionRules { rules }
    }
}

impl RetentionRules {
    /// The rule for records of `kind`: the kind's own entry, else its
    /// category's; with the key that gave it. `None`: kept without age limit.
    pub fn rule_for(&self, kind: Kind) -> Option<(&str, &RetentionRule)> {
        self.rules
            .get_key_value(kind.as_str())
            .or_else(|| self.rules.get_key_value(kind.category().as_str()))
            .map(|(k, r)| (k.as_str(), r))
    }

    /// Every entry, by key (`billing`, `usage.metric`).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &RetentionRule)> {
        self.rules.iter().map(|(k, r)| (k.as_str(), r))
    }

    /// Parse one entry; `value` is a period string or a table. Errors name
    /// `retention_periods.KEY` and how to fix it.
    fn parse_entry(key: &str, value: &Value) -> Result<RetentionRule, String> {
        let at = format!("retention_periods.{key}");
        if key.parse::<Category>().is_err() && key.parse::<Kind>().is_err() {
            let kinds: Vec<&str> = steward_domain::all_kinds().map(|k| k.as_str()).collect();
            return Err(format!(
                "{at}: `{}` is neither a category ({}) nor a kind ({}): name one of them",
                key.chars().take(64).collect::<String>(),
                Category::ALL.map(|c| c.as_str()).join(", "),
                kinds.join(", ")
            ));
        }
        let period_of = |s: &str, at: &str| -> Result<Option<Period>, String> {
            if s.trim() == "none" {
                Ok(None)
            } else {
                Period::parse(s).map(Some).map_err(|e| format!("{at}: {e}"))
            }
        };
        match value {
            Value::String(s) => Ok(RetentionRule {
                period: period_of(s, &at)?,
                legal_hold: false,
                reason: None,
            }),
            Value::Object(t) => {
                for k in t.keys() {
                    if !["period", "legal_hold", "reason"].contains(&k.as_str()) {
                        return Err(format!(
                            "{at}: unknown key `{}`: the keys are period, legal_hold and reason",
                            k.chars().take(64).collect::<String>()
                        ));
                    }
                }
                let period = match t.get("period") {
                    Some(Value::String(s)) => period_of(s, &format!("{at}.period"))?,
                    Some(_) => {
                        return Err(format!(
                            "{at}.period: must be a string such as \"7y\" or \"none\""
                        ));
                    }
                    None => {
                        return Err(format!(
                            "{at}: `period` is missing: add period = \"7y\" (or \"none\")"
                        ));
                    }
                };
                let legal_hold = match t.get("legal_hold") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(format!("{at}.legal_hold: must be true or false")),
                };
                let reason = match t.get("reason") {
                    None => None,
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                    Some(_) => {
                        return Err(format!(
                            "{at}.reason: must be a non-empty string such as \"financial record-keeping (N3.7)\""
                        ));
                    }
                };
                if legal_hold && period.is_none() {
                    return Err(format!(
                        "{at}: a legal hold needs a period (when does the duty end?): set period = \"7y\" or the duty's length"
                    ));
                }
                if legal_hold && reason.is_none() {
                    return Err(format!(
                        "{at}: a legal hold needs a reason, shown on erasure receipts: add reason = \"financial record-keeping (N3.7)\""
                    ));
                }
                Ok(RetentionRule {
                    period,
                    legal_hold,
                    reason,
                })
            }
            _ => Err(format!(
                "{at}: must be a period string such as \"180d\" or a table {{ period = \"7y\", legal_hold = true, reason = \"...\" }}"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for RetentionRules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Value>::deserialize(d)?;
        let mut out = RetentionRules::default();
        for (k, v) in raw {
            let rule = RetentionRules::parse_entry(&k, &v).map_err(D::Error::custom)?;
            out.rules.insert(k, rule);
        }
        Ok(out)
    }
}

impl Serialize for RetentionRules {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = serde_json::Map::new();
        for (k, r) in &self.rules {
            let period = r
                .period
                .map(|p| p.to_string())
                .unwrap_or_else(|| "none".into());
            let v = if !r.legal_hold && r.reason.is_none() {
                Value::String(period)
            } else {
                let mut t = serde_json::Map::new();
                t.insert("period".into(), Value::String(period));
                t.insert("legal_hold".into(), Value::Bool(r.legal_hold));
                if let Some(reason) = &r.reason {
                    t.insert("reason".into(), Value::String(reason.clone()));
                }
                Value::Object(t)
            };
            m.insert(k.clone(), v);
        }
        m.serialize(s)
    }
}

// ------------------------------------------------------------------ reports

/// Records an erasure kept under a legal hold (N3.7), per category and kind:
/// on the [`ErasureReceipt`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetainedRecords {
    /// Category (`billing`).
    pub category: String,
    /// Kind (`billing.charge`).
    pub kind: String,
    /// How many records are kept.
    pub count: u64,
    /// Why (the retention rule's reason).
    pub reason: String,
    /// The configuration entry that holds them (`billing` or `billing.charge`).
    pub rule: String,
    /// The period, e.g. `7y`, counted from each record's stored time.
    pub period: String,
    /// `YYYY-MM-DD` (UTC): the day the first of them goes (its hold ends).
    pub first_until: String,
    /// `YYYY-MM-DD` (UTC): the day the last of them goes; the retention
    /// sweep deletes each on or after its own day.
    pub until: String,
}

/// What a retention sweep deleted (or, in a dry run, would delete) in one region (N8.8).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RegionSweep {
    /// Region name.
    pub region: String,
    /// Records deleted (live and held).
    pub deleted: u64,
    /// Of them, records that were held after an erasure and whose hold ended.
    pub held_deleted: u64,
    /// Per category (held records included).
    pub by_category: BTreeMap<String, u64>,
    /// Per kind (held records included).
    pub by_kind: BTreeMap<String, u64>,
    /// The audit entry recording the sweep in this region (none in a dry run).
    pub audit_index: Option<u64>,
}

/// The result of [`Steward::retention_sweep`] (N8.8).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SweepReport {
    /// Nothing was deleted: the counts are what would have been.
    pub dry_run: bool,
    /// The instant expiry was computed against (RFC 3339 UTC).
    pub at: String,
    /// Records deleted in all regions.
    pub deleted: u64,
    /// Of them, held records whose hold ended.
    pub held_deleted: u64,
    /// Per category, all regions.
    pub by_category: BTreeMap<String, u64>,
    /// Per kind, all regions.
    pub by_kind: BTreeMap<String, u64>,
    /// Per region, in configuration order.
    pub regions: Vec<RegionSweep>,
}

// ----------------------------------------------------------------- services

fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

/// A new record id with the vault's layout (ms << 21 | 21 random bits): a
/// collision is refused by the store's unique key and nothing is written.
fn new_record_id() -> RecordId {
    let mut b = [0u8; 4];
    rand::rng().fill_bytes(&mut b);
    RecordId((now_ms() << 21) | i64::from(u32::from_le_bytes(b) & 0x1F_FFFF))
}

#[cfg(test)]
mod tests;
