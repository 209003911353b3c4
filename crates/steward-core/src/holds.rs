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
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, Fields, Kind, Purpose, RecordId};
use steward_policy::Action;
use steward_store::{ChangeSet, HeldRecordRow, RecordRow, RegistryTable};
use time::{Date, Month, OffsetDateTime};

use crate::gate::{
    AccessRequest, Located, new_request_id, now_ts, record_ref, system_entry, token,
};
use crate::vault::ErasureReceipt;
use crate::{CoreError, Steward};

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

impl Steward {
    /// The records of subject `id` (in region `region`) that an erasure at
    /// `now_at` (ms since the epoch) keeps under a legal hold (N3.7): those
    /// whose kind's rule has `legal_hold` and a period that ends after
    /// `now_at`, each with its end (ms), the rule's key and the rule.
    #[allow(clippy::type_complexity)]
    fn records_to_hold(
        &self,
        region: usize,
        id: steward_domain::SubjectId,
        now_at: i64,
    ) -> Result<Vec<(RecordRow, i64, String, RetentionRule)>, CoreError> {
        let rules = &self.config.retention_periods;
        // Categories that some hold rule covers: only their records are read.
        let mut hold_categories: Vec<Category> = Vec::new();
        for kind in steward_domain::all_kinds() {
            if let Some((_, r)) = rules.rule_for(kind)
                && r.legal_hold
                && r.period.is_some()
                && !hold_categories.contains(&kind.category())
            {
                hold_categories.push(kind.category());
            }
        }
        // (row, until, rule key, rule)
        let mut to_hold: Vec<(RecordRow, i64, String, RetentionRule)> = Vec::new();
        for c in &hold_categories {
            for row in self.rstore(region)?.records(id, Some(c.as_str()))? {
                let Ok(kind) = row.kind.parse::<Kind>() else {
                    continue;
                };
                let Some((key, rule)) = rules.rule_for(kind) else {
                    continue;
                };
                let Some(period) = rule.period.filter(|_| rule.legal_hold) else {
                    continue;
                };
                let until = period.expiry_ms(row.stored_at_ms);
                if until > now_at {
                    to_hold.push((row, until, key.to_owned(), rule.clone()));
                }
            }
        }
        Ok(to_hold)
    }

    /// Erase a data subject by crypto-shredding (N8.8), honouring legal
    /// holds (N3.7), through the gate as `principal` for `comply` against the
    /// recorded legal obligation `obligation` (the erasure request).
    ///
    /// `subject` is an identifier argument (`root`, `ann@example.com`) or a
    /// `sub_` id. `now` (UTC) is the instant the holds are computed against:
    /// a record of a category or kind whose [`RetentionRule`] has
    /// `legal_hold` and whose `stored time + period` is after `now` is
    /// **kept**: re-sealed under a new per-subject hold key (a fresh DEK
    /// wrapped by the KEK, stored apart from the subject's DEK; the AAD still
    /// binds record id, subject, category and the hold key's version). In the
    /// same commit as the gate's decision and its audit entries, the
    /// subject's DEK and identifiers are deleted: every other record of the
    /// subject no longer opens, while held ones open through
    /// [`Steward::read_held`] for `comply` only, until the retention sweep
    /// deletes each at the end of its period.
    ///
    /// The receipt (stored, and returned) lists the kept records per
    /// category and kind with count, reason and the dates they go;
    /// `records_unreadable` counts the others.
    ///
    /// Errors: [`CoreError::Input`] when `subject` matches nobody (already
    /// erased, or never stored); [`CoreError::Denied`] (audited);
    /// [`CoreError::AuditUnavailable`] when the commit fails: then nothing
    /// was changed (fail closed); [`CoreError::Integrity`] when a record to
    /// hold does not open.
    pub fn erase_with_holds(
        &self,
        principal: &str,
        subject: &str,
        obligation: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<ErasureReceipt, CoreError> {
        let (resolved, _) = self.resolve(subject)?;
        let Some(Located { region, id }) = resolved else {
            return Err(CoreError::Input(
                "--subject matches no data subject (already erased, or never stored)".into(),
            ));
        };
        let req = AccessRequest::new(principal, Action::Erase, id.to_string())
            .purpose(Purpose::Comply)
            .obligation(obligation);
        if !self.predecide(&req)? {
            return self.deny_through_gate(&req);
        }
        let to_hold = self.records_to_hold(region, id, to_ms(now))?;
        let total: u64 = self
            .rstore(region)?
            .record_counts(id)?
            .iter()
            .map(|(_, n)| n)
            .sum();
        let mut cs = ChangeSet {
            shred: vec![id],
            ..Default::default()
        };
        // Re-seal the held records under a new hold key, before the subject's
        // DEK goes (inside the gate: plaintext never leaves it).
        let mut groups: BTreeMap<(String, String), RetainedRecords> = BTreeMap::new();
        let mut held_refs: Vec<RecordId> = Vec::new();
        let (rows, meta): (Vec<RecordRow>, Vec<_>) = to_hold
            .into_iter()
            .map(|(row, until, key, rule)| (row, (until, key, rule)))
            .unzip();
        let held_rows = self.hold_records(region, id, rows, &mut cs)?;
        for (row, (until, key, rule)) in held_rows.into_iter().zip(meta) {
            let g = groups
                .entry((row.category.to_string(), row.kind.to_string()))
                .or_insert_with(|| RetainedRecords {
                    category: row.category.to_string(),
                    kind: row.kind.to_string(),
                    count: 0,
                    reason: rule.reason.clone().unwrap_or_default(),
                    rule: key.clone(),
                    period: rule.period.map(|p| p.to_string()).unwrap_or_default(),
                    first_until: date_of(until),
                    until: date_of(until),
                });
            g.count += 1;
            let d = date_of(until);
            if d < g.first_until {
                g.first_until = d.clone();
            }
            if d > g.until {
                g.until = d;
            }
            held_refs.push(row.id);
            cs.held.push(HeldRecordRow {
                record: row,
                until_ms: until,
            });
        }
        let held = held_refs.len() as u64;
        let mut rid = [0u8; 8];
        rand::rng().fill_bytes(&mut rid);
        let receipt_id = format!("erasure-{}", hex::encode(rid));
        let size_before = self.rstore(region)?.audit_size()?;
        let mut receipt = ErasureReceipt {
            receipt_id: receipt_id.clone(),
            subject: id.to_string(),
            records_unreadable: total.saturating_sub(held),
            erased_at: rfc3339(now),
            // The decision is the first entry of the gate's commit.
            audit_index: size_before,
            retained: groups.into_values().collect(),
            guarantee: Some(self.erasure_guarantee(region, id, now)?),
        };
        cs.registry.push((
            RegistryTable::ErasureReceipts,
            receipt_id.clone(),
            serde_json::to_string(&receipt).unwrap_or_default(),
        ));
        let region_name = self.regions[region].config.name.clone();
        let entry = |action: &str, clauses: &[&str], resource: Resource| EntryDraft {
            action: token(action),
            clause_ids: clauses.iter().map(|c| token(c)).collect(),
            decision: AuditDecision::Done,
            policy_ids: vec![],
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: Some(token(Purpose::Comply.as_str())),
            reason: None,
            region: token(&region_name),
            request_id: token(&new_request_id()),
            resource,
            time: now_ts(),
        };
        if held > 0 {
            // N3.7: which records are kept, by reference only.
            let mut res = Resource::new(ResourceKind::Record)
                .subject(SubjectRef::new(id.0 as u64))
                .count(held)
                .id(token(&receipt_id));
            for r in &receipt.retained {
                res = res.id(token(&format!("{}:{}", r.kind, r.count)));
            }
            if held_refs.len() <= MAX_IDS_IN_ENTRY {
                for r in &held_refs {
                    res = res.record(record_ref(*r));
                }
            }
            cs.audit.push(entry("legal_hold", &["N3.7", "N8.8"], res));
        }
        cs.audit.push(entry(
            "crypto_shred",
            &["N8.8"],
            Resource::new(ResourceKind::Erasure)
                .subject(SubjectRef::new(id.0 as u64))
                .count(receipt.records_unreadable)
                .id(token(&receipt_id)),
        ));
        let opened = self.gate(&req, Some(cs))?;
        receipt.audit_index = opened.audit_index;
        // Answers to earlier access/export requests are copies in clear (N8.8).
        self.delete_request_exports(id)?;
        self.forget_request_identifiers(id)?;
        Ok(receipt)
    }

    /// Rectify a record (N7.2): through the gate as `principal` (action
    /// `rectify`; purpose `comply` against the recorded legal obligation
    /// `obligation` when one is given, e.g. privacy staff fulfilling a
    /// request, else `provide_services`, a data subject correcting their own
    /// account information, N6.5e), write a corrected record under a new id
    /// and delete the old one, in one commit with the decision and an audit
    /// entry naming both record ids (never values).
    ///
    /// `corrected_fields` are merged over the record's stored fields (a field
    /// given replaces the stored value, the others stay) and the result is
    /// checked against the kind's closed schema (N1.3): unknown fields and
    /// non-scalar values are refused before anything is decided. The
    /// corrected record keeps the kind, product, event time and stored time
    /// (retention still counts from the original ingest, N8.8). A new
    /// identifier value (an email, a username) is indexed to the subject, so
    /// requests by it reach the subject (N7.2).
    ///
    /// Returns the corrected record's id.
    ///
    /// Errors: [`CoreError::Input`] naming the field, the record that is not
    /// the subject's or not stored, or corrections that change nothing;
    /// [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`];
    /// [`CoreError::Store`] with a conflict when the record was changed by
    /// another writer meanwhile (nothing written).
    pub fn rectify(
        &self,
        principal: &str,
        subject: &str,
        record_id: RecordId,
        corrected_fields: Fields,
        obligation: Option<&str>,
    ) -> Result<RecordId, CoreError> {
        let (resolved, _) = self.resolve(subject)?;
        let Some(Located { region, id }) = resolved else {
            return Err(CoreError::Input(
                "--subject matches no data subject (erased, or never stored)".into(),
            ));
        };
        let Some(old) = self
            .rstore(region)?
            .record(record_id)?
            .filter(|r| r.subject == id)
        else {
            return Err(CoreError::Input(format!(
                "record {record_id} is not a stored record of this subject (already rectified or deleted?): list the subject's records and give a current record id"
            )));
        };
        let kind: Kind = old.kind.parse().map_err(|_| CoreError::Integrity {
            record: old.id.to_string(),
            reason: "unknown kind in storage".into(),
        })?;
        // N1.3: the closed schema, before anything is decided or opened.
        if corrected_fields.is_empty() {
            return Err(CoreError::Input(
                "no corrected fields given: name at least one field of the record and its corrected value".into(),
            ));
        }
        for (name, value) in &corrected_fields {
            if kind.field(name).is_none() {
                return Err(CoreError::Input(format!(
                    "field `{}` is not in the closed schema of {} (N1.3); the fields are: {}",
                    name.chars().take(64).collect::<String>(),
                    kind.as_str(),
                    kind.fields()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if value.is_object() || value.is_array() {
                return Err(CoreError::Input(format!(
                    "field `{name}` of {}: a value must be a string, number, boolean or null (N1.3)",
                    kind.as_str()
                )));
            }
        }
        let category = kind.category();
        let req = AccessRequest::new(principal, Action::Rectify, id.to_string())
            .category(category)
            .purpose(if obligation.is_some() {
                Purpose::Comply
            } else {
                Purpose::ProvideServices
            })
            .obligation(obligation);
        if !self.predecide(&req)? {
            return self.deny_through_gate(&req);
        }
        let new_id = new_record_id();
        let Some(rectified) =
            self.rectify_record(region, id, old, kind, &corrected_fields, new_id)?
        else {
            // The record was opened to compare: its allowed decision is
            // recorded all the same (nothing else is written), then refused.
            self.gate(&req, None)?;
            return Err(CoreError::Input(format!(
                "the corrected fields equal the stored ones of record {record_id}: nothing to rectify"
            )));
        };
        let mut cs = ChangeSet {
            records: vec![rectified.row],
            delete_records: vec![record_id],
            identifiers: rectified.identifiers,
            ..Default::default()
        };
        cs.audit.push(EntryDraft {
            action: token("rectification"),
            clause_ids: vec![token("N7.2")],
            decision: AuditDecision::Done,
            policy_ids: vec![],
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: req.purpose.map(|p| token(p.as_str())),
            reason: None,
            region: token(&self.regions[region].config.name),
            request_id: token(&new_request_id()),
            // The old record, then the corrected one; the changed field names
            // (schema names, never values).
            resource: {
                let mut r = Resource::new(ResourceKind::Record)
                    .subject(SubjectRef::new(id.0 as u64))
                    .record(record_ref(record_id))
                    .record(record_ref(new_id))
                    .id(token(&format!("supersedes:{record_id}")))
                    .id(token(&format!("corrected:{new_id}")));
                for k in &rectified.changed {
                    r = r.id(token(&format!("field:{k}")));
                }
                r
            },
            time: now_ts(),
        });
        self.gate(&req, Some(cs))?;
        Ok(new_id)
    }

    /// Delete what has expired (N8.8): every live record whose `stored time +
    /// period` (its kind's [`RetentionRule`], else its category's) is at or
    /// before `now` (UTC), and every held record whose hold has ended (N3.7).
    /// Categories and kinds without a period are never deleted for age.
    ///
    /// `principal` is decided by the pack first
    /// ([`ManagementAction::RetentionSweep`], `retention_sweep` for
    /// `protect`: privacy staff, services), a denial audited; what is
    /// deleted is decided by the configuration, not by the caller. Each region commits its
    /// deletions with one system audit entry (`retention_sweep`, N8.8)
    /// giving the counts per kind, in one transaction. With `dry_run`
    /// nothing is deleted or recorded, and the report gives what would be.
    ///
    /// Errors: an unknown or revoked principal; storage errors (a region
    /// whose commit fails keeps all its records; regions before it stay swept).
    pub fn retention_sweep(
        &self,
        principal: &str,
        dry_run: bool,
        now: OffsetDateTime,
    ) -> Result<SweepReport, CoreError> {
        let (actor, decision) = self.decide_retention_sweep(principal)?; // N8.8
        let now_at = to_ms(now);
        let rules = &self.config.retention_periods;
        // Candidates: stored no later than now minus the shortest period.
        let shortest = rules
            .entries()
            .filter_map(|(_, r)| r.period)
            .map(|p| p.lower_bound_days())
            .min();
        let mut report = SweepReport {
            dry_run,
            at: rfc3339(now),
            ..Default::default()
        };
        for r in 0..self.regions.len() {
            let mut rs = RegionSweep {
                region: self.regions[r].config.name.clone(),
                ..Default::default()
            };
            let mut cs = ChangeSet::default();
            if let Some(days) = shortest {
                let before = now_at.saturating_sub(days.saturating_mul(86_400_000));
                let mut after = RecordId(i64::MIN);
                loop {
                    let page = self
                        .rstore(r)?
                        .records_stored_before(before, after, SWEEP_PAGE)?;
                    let full = page.len() == SWEEP_PAGE;
                    for m in page {
                        after = m.id;
                        let Ok(kind) = m.kind.parse::<Kind>() else {
                            continue;
                        };
                        let Some(period) = rules.rule_for(kind).and_then(|(_, r)| r.period) else {
                            continue;
                        };
                        if period.expiry_ms(m.stored_at_ms) <= now_at {
                            *rs.by_category.entry(m.category.to_string()).or_default() += 1;
                            *rs.by_kind.entry(m.kind.to_string()).or_default() += 1;
                            rs.deleted += 1;
                            cs.delete_records.push(m.id);
                        }
                    }
                    if !full {
                        break;
                    }
                }
            }
            for m in self.rstore(r)?.held_due(now_at)? {
                *rs.by_category.entry(m.category.to_string()).or_default() += 1;
                *rs.by_kind.entry(m.kind.to_string()).or_default() += 1;
                rs.deleted += 1;
                rs.held_deleted += 1;
                cs.delete_held.push(m.id);
            }
            if !dry_run {
                let mut e = system_entry("retention_sweep", "records", "", self.policy.version());
                e.principal = token(&actor.name);
                crate::authorize::stamp(&mut e, &decision, crate::ManagementAction::RetentionSweep);
                e.region = token(&rs.region);
                let mut res = Resource::new(ResourceKind::Record).count(rs.deleted);
                for (k, n) in &rs.by_kind {
                    res = res.id(token(&format!("{k}:{n}")));
                }
                if rs.held_deleted > 0 {
                    res = res.id(token(&format!("held:{}", rs.held_deleted)));
                }
                e.resource = res;
                cs.audit.push(e);
                let committed = self.rstore(r)?.commit(cs)?;
                rs.audit_index = committed.audit_indexes.first().copied();
            }
            report.deleted += rs.deleted;
            report.held_deleted += rs.held_deleted;
            for (k, n) in &rs.by_category {
                *report.by_category.entry(k.clone()).or_default() += n;
            }
            for (k, n) in &rs.by_kind {
                *report.by_kind.entry(k.clone()).or_default() += n;
            }
            report.regions.push(rs);
        }
        Ok(report)
    }

    /// Re-wrap every hold key of region `r` under the current KEK into `cs`
    /// (N5.2: key rotation covers hold keys too). Returns how many.
    pub(crate) fn rewrap_hold_keys(&self, r: usize, cs: &mut ChangeSet) -> Result<u64, CoreError> {
        let keys = self.rstore(r)?.hold_keys()?;
        let n = keys.len() as u64;
        for k in keys {
            cs.hold_keys.push(self.keyring.rewrap(k)?);
        }
        Ok(n)
    }

    /// How many hold keys, in all regions, are wrapped under KEK `version`
    /// (retiring it would make held records unreadable, N3.7).
    pub(crate) fn hold_keys_under(&self, version: u32) -> Result<usize, CoreError> {
        let mut n = 0;
        for r in 0..self.regions.len() {
            n += self
                .rstore(r)?
                .hold_keys()?
                .iter()
                .filter(|k| k.kek_version == version)
                .count();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn periods_parse_strictly_n8_8() {
        assert_eq!(
            Period::parse("180d").unwrap(),
            Period {
                count: 180,
                unit: PeriodUnit::Days
            }
        );
        assert_eq!(Period::parse("7y").unwrap().to_string(), "7y");
        for bad in [
            "", "d", "180", "180x", "1.5y", "0d", "-5d", "7 years", "1001y",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Period::parse("0d").unwrap_err().contains("zero"));
        assert!(Period::parse("-5d").unwrap_err().contains("negative"));
    }

    #[test]
    fn calendar_arithmetic_clamps_to_the_month_end() {
        let p = |s| Period::parse(s).unwrap();
        // Dates worked out by hand.
        assert_eq!(
            p("1m").after(at("2024-01-31T10:00:00Z")).unwrap(),
            at("2024-02-29T10:00:00Z")
        );
        assert_eq!(
            p("1y").after(at("2024-02-29T00:00:00Z")).unwrap(),
            at("2025-02-28T00:00:00Z")
        );
        assert_eq!(
            p("7y").after(at("2024-03-15T12:00:00Z")).unwrap(),
            at("2031-03-15T12:00:00Z")
        );
        assert_eq!(
            p("180d").after(at("2024-01-01T00:00:00Z")).unwrap(),
            at("2024-06-29T00:00:00Z")
        );
        assert_eq!(
            p("2w").after(at("2024-12-25T00:00:00Z")).unwrap(),
            at("2025-01-08T00:00:00Z")
        );
    }
}
