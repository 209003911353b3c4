//! Configuration (TOML). Every setting has a working default, so no file is needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            origin: "steward.klustr.io/audit".into(),
            key_name: "steward-audit".into(),
            checkpoint_every: 1000,
            checkpoint_every_secs: 60,
        }
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
    /// (`[dsr]`, see [`crate::dsr::DsrConfig`]).
    #[serde(default)]
    pub dsr: crate::dsr::DsrConfig,
    /// The keyring file, relative to the data directory.
    pub keyring_file: PathBuf,
    /// The principal the command-line operator acts as.
    pub operator: String,
    /// Audit log settings.
    pub audit: AuditConfig,
    /// Records per ingest transaction.
    pub ingest_batch: usize,
    /// The region where this Steward node processes requests (N4.2); default:
    /// the first region. Reading a subject of another region is a
    /// cross-region read: only centralised operations may, and it is recorded.
    pub processing_region: Option<String>,
    /// Connect to a PostgreSQL store that is not on a loopback address
    /// without TLS (N5.3 requires TLS there: a store URL without
    /// `sslmode=require` or stricter is refused at open unless this is
    /// `true`). Default `false`.
    pub allow_plaintext_store: bool,
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
            dsr: crate::dsr::DsrConfig::default(),
            retention_periods: crate::RetentionRules::default(),
            operator: "operator".into(),
            audit: AuditConfig::default(),
            ingest_batch: 10_000,
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

/// Whether a country is in the EEA, the UK or Switzerland: Service Data
/// leaving this zone needs a transfer mechanism on record (N4.4).
pub fn in_transfer_zone(country: &str) -> bool {
    const ZONE: [&str; 33] = [
        // EU member states
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        // EEA members outside the EU
        "IS", "LI", "NO", // The UK and Switzerland
        "GB", "CH", "UK",
    ];
    ZONE.contains(&country)
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
