//! Configuration (TOML). Every setting has a working default, so no file is needed.

pub mod clocks;
pub mod incidents;

pub use crate::transfer_zone::in_transfer_zone;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::CoreError;

/// The controller's identity, shown on every export (N8.1) with the contact
/// for requests about rights (N8.10).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Controller {
    /// Legal entity.
    pub entity: String,
    /// Registered address.
    pub address: String,
    /// Representative.
    pub representative: String,
    /// Contact for requests about rights (N8.10).
    pub contact_email: String,
}

impl Default for Controller {
    fn default() -> Self {
        Controller {
            entity: "Klustr.io K.K.".into(),
            address: "1-1 Example-cho, Chiyoda-ku, Tokyo, Japan".into(),
            representative: "Representative Director, Klustr.io K.K.".into(),
            contact_email: "privacy@klustr.io".into(),
        }
    }
}

/// A storage region (N4.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Region name, e.g. `jp`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country of the data centre, e.g. `JP`.
    pub country: String,
    /// Store location: a SQLite file path relative to the data directory.
    #[serde(default)]
    pub store: Option<String>,
    /// Products served from this region (N1.1, N4.1).
    #[serde(default = "default_products")]
    pub products: Vec<String>,
}

fn default_products() -> Vec<String> {
    steward_domain::Product::ALL
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect()
}

/// Audit log settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Checkpoint origin line (c2sp.org/tlog-checkpoint).
    pub origin: String,
    /// Signing key name in checkpoints.
    pub key_name: String,
    /// Cut a checkpoint every this many entries...
    pub checkpoint_every: u64,
    /// ... or this many seconds.
    pub checkpoint_every_secs: u64,
    /// The checkpoint signing key file (Ed25519, 0600), which must lie
    /// outside the data directory; created on first use. Default:
    /// `$XDG_CONFIG_HOME/steward/checkpoint-signing.key`, else
    /// `~/.config/steward/checkpoint-signing.key`.
    pub signing_key_file: Option<PathBuf>,
    /// The log's verifier key, pinned (`<key name>+<8 hex>+<base64>`, as
    /// `steward audit verifier-key` prints it): `audit verify` checks every
    /// checkpoint against it, not against a key read from a file. When unset,
    /// the signing key file's public key is used and `audit verify` says so.
    pub checkpoint_verifier_key: Option<String>,
    /// Witnesses that cosign the log's checkpoints (c2sp.org/tlog-witness).
    pub witnesses: Vec<WitnessConfig>,
    /// How long to wait for a witness (ms).
    pub witness_timeout_ms: u64,
}

/// A witness of the audit log (c2sp.org/tlog-witness).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Its submission prefix, e.g. `http://witness.example:7380`
    /// (`/add-checkpoint` is appended).
    pub url: String,
    /// Its cosigning key, pinned: `<name>+<8 hex>+<base64(0x04 || key)>`
    /// (c2sp.org/tlog-cosignature), as `steward witness` prints it.
    pub key: String,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            origin: "steward.klustr.io/audit".into(),
            key_name: "steward-audit".into(),
            checkpoint_every: 1000,
            checkpoint_every_secs: 60,
            signing_key_file: None,
            checkpoint_verifier_key: None,
            witnesses: Vec::new(),
            witness_timeout_ms: 3000,
        }
    }
}

impl AuditConfig {
    /// The checkpoint signing key file: `signing_key_file`, else
    /// `$XDG_CONFIG_HOME/steward/checkpoint-signing.key`, else
    /// `$HOME/.config/steward/checkpoint-signing.key`.
    ///
    /// # Errors
    /// [`CoreError::Config`] when none can be found.
    pub fn signing_key_path(&self) -> Result<PathBuf, CoreError> {
        if let Some(p) = &self.signing_key_file {
            return Ok(p.clone());
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".config"))
            })
            .ok_or_else(|| {
                CoreError::Config(
                    "audit.signing_key_file is not set and there is no $XDG_CONFIG_HOME or $HOME: set it to a path outside the data directory".into(),
                )
            })?;
        Ok(base.join("steward").join("checkpoint-signing.key"))
    }
}

/// Steward's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The controller (N8.1, N8.10).
    pub controller: Controller,
    /// Regions (N4.1); the default is one region in Japan.
    pub regions: Vec<RegionConfig>,
    /// Retention per category (N8.8), e.g. `billing = "7 years"`.
    pub retention: BTreeMap<String, String>,
    /// Machine-readable retention periods per category and kind, and legal
    /// holds (N8.8, N3.7): see [`crate::RetentionRules`]. Entries given
    /// override the defaults key by key.
    #[serde(default)]
    pub retention_periods: crate::RetentionRules,
    /// Data subject requests: deadlines per jurisdiction, one-time codes
    /// (`[dsr]`, see [`DsrConfig`]).
    #[serde(default)]
    pub dsr: DsrConfig,
    /// Identifiers: which kinds are tenant-scoped, whether ingest must name
    /// an organisation (`[identity]`, issue 15 item 2; see
    /// [`crate::IdentityConfig`]).
    #[serde(default)]
    pub identity: crate::IdentityConfig,
    /// Incidents and on-call (`[incidents]`, N8.5, N5.1): the schedule,
    /// the regulators' clocks, the route table, role rules, detectors.
    #[serde(default)]
    pub incidents: incidents::IncidentsConfig,
    /// The keyring file (key-encryption keys), relative to the data directory.
    pub keyring_file: PathBuf,
    /// The blind-index (HMAC) key file, apart from the keyring (issue 13
    /// item 3): relative to the data directory unless absolute. Default
    /// `blind-index/keys.json`. A keyring written before holds the key
    /// itself: it is moved here at open and removed from the keyring.
    pub blind_index_key_file: PathBuf,
    /// The principal the command-line operator acts as.
    pub operator: String,
    /// Audit log settings.
    pub audit: AuditConfig,
    /// Records per ingest transaction.
    pub ingest_batch: usize,
    /// How often a new key-encryption key generation becomes current, every
    /// live data key re-wrapped under it (`steward keys rotate --if-due`;
    /// issue 13 item 1): a duration such as `1d`, `12h`, `7d`. Default `1d`.
    pub kek_rotation: String,
    /// How long a generation is kept after it stops being current, before
    /// its material is destroyed (so backups of that period stay
    /// restorable): `0s` destroys it at the rotation that replaces it.
    /// Default `0s`. An erasure is unrecoverable from every copy (backups,
    /// PostgreSQL's dead rows and WAL) once the generation that wrapped the
    /// data key is destroyed: `created + kek_rotation + kek_retire_after`.
    pub kek_retire_after: String,
    /// How long this process keeps its claim on a key-encryption key
    /// generation after it saw a newer one (a batch may still commit keys
    /// wrapped under it): no other process retires that generation before
    /// (issue 13 item 2). A duration; default `60s`.
    pub kek_generation_grace: String,
    /// The region where this Steward node processes requests (N4.2); default:
    /// the first region. Reading a subject of another region is a
    /// cross-region read: only centralised operations may, and it is recorded.
    pub processing_region: Option<String>,
    /// Connect to a PostgreSQL store that is not on a loopback address
    /// without TLS (N5.3 requires TLS there: a store URL without
    /// `sslmode=require` or stricter is refused at open unless this is
    /// `true`). Default `false`.
    pub allow_plaintext_store: bool,
    /// Sharing (`[sharing]`, N6.6, N8.4): the subprocessor lead time and
    /// how long disclosure ledger rows are kept. See
    /// [`crate::sharing::SharingConfig`].
    #[serde(default)]
    pub sharing: crate::sharing::SharingConfig,
}

impl Default for Config {
    fn default() -> Self {
        let mut retention = BTreeMap::new();
        retention.insert(
            "account".into(),
            "while the account exists, then 30 days".into(),
        );
        retention.insert(
            "billing".into(),
            "7 years (financial record-keeping, N3.7)".into(),
        );
        retention.insert(
            "configuration".into(),
            "while the resource exists, then 30 days".into(),
        );
        retention.insert("usage".into(), "180 days".into());
        retention.insert("communications".into(), "3 years".into());
        Config {
            controller: Controller::default(),
            regions: vec![RegionConfig {
                name: "jp".into(),
                country: "JP".into(),
                store: None,
                products: default_products(),
            }],
            retention,
            keyring_file: PathBuf::from("keys/keyring.json"),
            blind_index_key_file: PathBuf::from("blind-index/keys.json"),
            dsr: DsrConfig::default(),
            identity: crate::IdentityConfig::default(),
            incidents: incidents::IncidentsConfig::default(),
            retention_periods: crate::RetentionRules::default(),
            sharing: crate::sharing::SharingConfig::default(),
            operator: "operator".into(),
            audit: AuditConfig::default(),
            ingest_batch: 10_000,
            kek_rotation: "1d".into(),
            kek_retire_after: "0s".into(),
            kek_generation_grace: "60s".into(),
            processing_region: None,
            allow_plaintext_store: false,
        }
    }
}

impl Config {
    /// Load from a TOML file. Errors name the file, the line and the key.
    pub fn load(path: &Path) -> Result<Config, CoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CoreError::Config(format!("{}: cannot read: {e}", path.display())))?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parse TOML text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Config, CoreError> {
        let cfg: Config =
            toml::from_str(text).map_err(|e| CoreError::Config(format!("{source}: {e}")))?;
        if cfg.regions.is_empty() {
            return Err(CoreError::Config(format!(
                "{source}: `regions` must name at least one region (N4.1)"
            )));
        }
        for r in &cfg.regions {
            for p in &r.products {
                p.parse::<steward_domain::Product>()
                    .map_err(|e| CoreError::Config(format!("{source}: region {}: {e}", r.name)))?;
            }
        }
        cfg.identity.validate(source)?;
        for c in cfg.retention.keys() {
            c.parse::<steward_domain::Category>()
                .map_err(|e| CoreError::Config(format!("{source}: retention: {e}")))?;
        }
        let mut names = std::collections::BTreeSet::new();
        for r in &cfg.regions {
            if r.name.is_empty()
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CoreError::Config(format!(
                    "{source}: region name `{}` must be letters, digits, - or _",
                    r.name
                )));
            }
            if !names.insert(r.name.clone()) {
                return Err(CoreError::Config(format!(
                    "{source}: region `{}` is named twice",
                    r.name
                )));
            }
            if r.country.len() != 2 || !r.country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(CoreError::Config(format!(
                    "{source}: region {}: country `{}` must be an ISO 3166-1 alpha-2 code such as JP or DE",
                    r.name, r.country
                )));
            }
        }
        if let Some(p) = &cfg.processing_region
            && !names.contains(p)
        {
            return Err(CoreError::Config(format!(
                "{source}: processing_region `{p}` is not one of the regions"
            )));
        }
        cfg.dsr.validate(source)?;
        let rotation = parse_period(&cfg.kek_rotation)
            .map_err(|e| CoreError::Config(format!("{source}: kek_rotation: {e}")))?;
        if rotation == time::Duration::ZERO {
            return Err(CoreError::Config(format!(
                "{source}: kek_rotation must be longer than 0 (e.g. \"1d\")"
            )));
        }
        parse_period(&cfg.kek_retire_after)
            .map_err(|e| CoreError::Config(format!("{source}: kek_retire_after: {e}")))?;
        parse_period(&cfg.kek_generation_grace)
            .map_err(|e| CoreError::Config(format!("{source}: kek_generation_grace: {e}")))?;
        if cfg.ingest_batch == 0 {
            return Err(CoreError::Config(format!(
                "{source}: ingest_batch must be at least 1"
            )));
        }
        Ok(cfg)
    }

    /// The region where this node processes requests (N4.2).
    pub fn processing(&self) -> &RegionConfig {
        self.processing_region
            .as_ref()
            .and_then(|p| self.regions.iter().find(|r| &r.name == p))
            .unwrap_or_else(|| self.home_region())
    }

    /// The home region for new subjects: the first region.
    pub fn home_region(&self) -> &RegionConfig {
        // INVARIANT: `parse` and `default` guarantee at least one region.
        &self.regions[0]
    }
}

/// A duration of the key schedule: a whole number and a unit, `s`, `m`,
/// `h`, `d` or `w` (`1d`, `12h`, `0s`).
///
/// Errors: a message naming the value and the expected form.
pub fn parse_period(s: &str) -> Result<time::Duration, String> {
    let bad = || {
        format!(
            "`{}` is not a duration: give a whole number and a unit s, m, h, d or w, e.g. \"1d\"",
            s.chars().take(40).collect::<String>()
        )
    };
    let t = s.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    if !(0..=36_500 * 86_400).contains(&n) {
        return Err(bad());
    }
    Ok(match unit {
        's' => time::Duration::seconds(n),
        'm' => time::Duration::minutes(n),
        'h' => time::Duration::hours(n),
        'd' => time::Duration::days(n),
        'w' => time::Duration::weeks(n),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default_with_a_japan_region_n4_1() {
        let c = Config::parse("", "x.toml").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.home_region().country, "JP");
    }

    /// Issue 13 item 1: the key schedule's durations, checked at load.
    #[test]
    fn key_schedule_durations_parse_and_bad_ones_are_named_issue13_item1() {
        let c = Config::parse(
            "kek_rotation = \"12h\"\nkek_retire_after = \"2w\"\n",
            "k.toml",
        )
        .unwrap();
        assert_eq!(parse_period(&c.kek_rotation), Ok(time::Duration::hours(12)));
        assert_eq!(
            parse_period(&c.kek_retire_after),
            Ok(time::Duration::days(14))
        );
        assert_eq!(Config::default().kek_rotation, "1d");
        for (text, key) in [
            ("kek_rotation = \"1x\"", "kek_rotation"),
            ("kek_rotation = \"0s\"", "kek_rotation"),
            ("kek_retire_after = \"-1d\"", "kek_retire_after"),
        ] {
            let e = Config::parse(text, "k.toml").unwrap_err().to_string();
            assert!(e.contains("k.toml") && e.contains(key), "{e}");
        }
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = Config::parse(
            "[controller]\nentity = \"A\"\nemail = \"x\"\n",
            "steward.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("steward.toml") && e.contains("email") && e.contains("line 3"),
            "{e}"
        );
    }
}

// ------------------------------------------- data subject requests (`[dsr]`)

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
/// lease_secs = 30                 # an execution's lease; renewed every third of it
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
    /// How long an execution's lease runs, in seconds (default 30; issue 21
    /// item 5): the executing node renews it every third of this while the
    /// execution runs, and another node (or this one after a restart) may
    /// take over a request whose lease has expired. Between 3 and 3,600.
    pub lease_secs: u64,
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
            lease_secs: 30,
        }
    }
}

impl DsrConfig {
    /// Check the settings; `source` names the file in errors.
    ///
    /// Errors: [`CoreError::Config`] naming the key when a period or limit is
    /// 0, `interrupted_after_secs` is outside 60 to 31,536,000, or
    /// `lease_secs` is outside 3 to 3,600.
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
        // A heartbeat every third of the lease: at least a second between
        // renewals; at most an hour before a dead node's request is taken over.
        if !(3..=3_600).contains(&self.lease_secs) {
            return Err(CoreError::Config(format!(
                "{source}: dsr.lease_secs must be between 3 and 3600 seconds (default 30): an execution's lease is renewed every third of it, and another node takes over a request whose lease expired"
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
