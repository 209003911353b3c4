//! Deadlines per jurisdiction and the `[dsr]` configuration (N7.2).

use super::*;
/// A jurisdiction whose deadline rules apply to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// GDPR (EEA), UK GDPR and the Swiss FADP: one month, extendable once
    /// by two further months with a recorded reason (GDPR Art. 12(3)).
    Gdpr,
    /// Japan's APPI: "without delay" (Art. 33), with a configurable target.
    Appi,
}

impl Jurisdiction {
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Gdpr => "gdpr",
            Jurisdiction::Appi => "appi",
        }
    }
}

/// Deadlines and verification settings of data subject requests
/// (`[dsr]` in `steward.toml`; every setting has a default).
///
/// ```toml
/// [dsr]
/// default_jurisdiction = "gdpr"   # subjects whose home region is neither EEA/UK/CH nor JP
/// gdpr_months = 1                 # due one calendar month after receipt (clamped to month end)
/// gdpr_extension_months = 2       # one extension, with a recorded reason
/// appi_target_days = 14           # APPI: without delay; this is the target
/// code_ttl_secs = 900             # a one-time code expires after 15 minutes
/// code_max_attempts = 5           # ... and after 5 wrong attempts
/// interrupted_after_secs = 900    # in_progress this long at start: failed, "interrupted"
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DsrConfig {
    /// The jurisdiction of subjects whose home region's country is neither
    /// in the EEA, the UK or Switzerland (GDPR) nor Japan (APPI).
    pub default_jurisdiction: Jurisdiction,
    /// GDPR: calendar months from receipt to the deadline (default 1).
    pub gdpr_months: u32,
    /// GDPR: further months one extension adds (default 2).
    pub gdpr_extension_months: u32,
    /// APPI: target days from receipt (default 14).
    pub appi_target_days: u32,
    /// Lifetime of a one-time verification code, in seconds (default 900).
    pub code_ttl_secs: u64,
    /// Wrong codes allowed before verification locks (default 5).
    pub code_max_attempts: u32,
    /// A request found `in_progress` for longer than this many seconds by
    /// [`Steward::resume_in_progress`] is marked failed, `interrupted`
    /// (default 900).
    pub interrupted_after_secs: u64,
}

impl Default for DsrConfig {
    fn default() -> Self {
        DsrConfig {
            default_jurisdiction: Jurisdiction::Gdpr,
            gdpr_months: 1,
            gdpr_extension_months: 2,
            appi_target_days: 14,
            code_ttl_secs: 900,
            code_max_attempts: 5,
            interrupted_after_secs: 900,
        }
    }
}

impl DsrConfig {
    /// Check the settings; `source` names the file in errors.
    ///
    /// Errors: [`CoreError::Config`] naming the key when a period or limit is
    /// 0, or `interrupted_after_secs` is outside 60 to 31,536,000.
    pub fn validate(&self, source: &str) -> Result<(), CoreError> {
        for (key, v) in [
            ("gdpr_months", u64::from(self.gdpr_months)),
            ("appi_target_days", u64::from(self.appi_target_days)),
            ("code_ttl_secs", self.code_ttl_secs),
            ("code_max_attempts", u64::from(self.code_max_attempts)),
        ] {
            if v == 0 {
                return Err(CoreError::Config(format!(
                    "{source}: dsr.{key} must be at least 1"
                )));
            }
        }
        // A running execution is never younger than a minute when it is
        // checked; a year bounds the wait (and the conversion to seconds).
        if !(60..=31_536_000).contains(&self.interrupted_after_secs) {
            return Err(CoreError::Config(format!(
                "{source}: dsr.interrupted_after_secs must be between 60 (a minute) and 31536000 (a year)"
            )));
        }
        if self.gdpr_months + self.gdpr_extension_months > 12 {
            return Err(CoreError::Config(format!(
                "{source}: dsr.gdpr_months + dsr.gdpr_extension_months must be at most 12"
            )));
        }
        Ok(())
    }

    /// The deadline of a request received on `received` under `j`,
    /// extended or not. GDPR: `gdpr_months` calendar months later (plus
    /// `gdpr_extension_months` when extended), the day clamped to the end
    /// of a shorter month (received 31 January: due 28 or 29 February).
    /// APPI: `appi_target_days` days later (no extension).
    pub fn due_on(&self, j: Jurisdiction, received: Date, extended: bool) -> Date {
        match j {
            Jurisdiction::Gdpr => add_months(
                received,
                self.gdpr_months
                    + if extended {
                        self.gdpr_extension_months
                    } else {
                        0
                    },
            ),
            Jurisdiction::Appi => received
                .checked_add(Duration::days(i64::from(self.appi_target_days)))
                .unwrap_or(Date::MAX),
        }
    }
}

/// `d` plus `months` calendar months, the day clamped to the month's last day.
pub fn add_months(d: Date, months: u32) -> Date {
    let zero_based = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1;
    let target = zero_based + i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u8::try_from(target.rem_euclid(12) + 1).unwrap_or(12);
    let Ok(month) = time::Month::try_from(month) else {
        return Date::MAX;
    };
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(Date::MAX)
}
