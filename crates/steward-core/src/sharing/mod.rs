//! Sharing under the notice (issue 19; N6.2-N6.7, N8.4, N8.9): who may
//! receive Service Data, on which basis, and the records that prove it.
//!
//! - `recipients.rs`: the registry of recipients (third-party apps,
//!   subprocessors, affiliates, authorities, other controllers), with the
//!   subprocessors' registered categories, data-centre locations and the
//!   change notice whose lead time must pass before they receive (N6.6, N8.9).
//! - `grants.rs`: third-party app grants (N6.3): an organisation's
//!   administrator grants an app scopes (category x purpose), optionally for
//!   named users; the organisation's app admin policy (trusted, limited,
//!   blocked); revocation and the grant review.
//! - `consent.rs`: the consent ledger (N6.4).
//! - `gpc.rs`: Global Privacy Control signals and the conflict rule.
//! - `ledger.rs`: the disclosure ledger rows, the APPI provision record
//!   (N8.4, JSON and CSV), the subject's disclosures, the retention sweep.
//!
//! A disclosure itself is a gate entry point (`gate/disclose.rs`): the
//! subject is resolved, the consent and grant states are established
//! (`gate/checks/consent.rs`, `gate/checks/app_grant.rs`) and go to the
//! policy decision (`70-disclosures.cedar`), the checks run (processing
//! restriction, the recipient's registration, lead time, categories and
//! transfer mechanism: `gate/checks/recipient.rs`), and the ledger row is
//! committed with the decision's audit entry in one `ChangeSet` before the
//! records are opened for the recipient.

mod consent;
mod gpc;
mod grants;
mod ledger;
mod recipients;

use serde::{Deserialize, Serialize};

pub use consent::{Consent, ConsentDecision, NewConsent};
pub use gpc::{GPC_RULE, GpcSignal};
pub use grants::{AppGrant, GrantReview, NewGrant, Scope};
pub use ledger::{DisclosureRow, ProvisionRecord, ProvisionRow};
pub use recipients::{NewRecipient, Recipient};

pub(crate) use consent::consent_state;
pub(crate) use grants::grant_state;
pub(crate) use ledger::{LedgerFacts, ledger_row};

use crate::Steward;

/// `[sharing]` configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SharingConfig {
    /// Days between registering a subprocessor (its change notice to
    /// customers) and the first day it may receive anything (N6.6, N8.9).
    /// Default 30.
    pub subprocessor_lead_days: u32,
    /// Days a disclosure ledger row is kept before the sweep deletes it
    /// (N8.4: APPI art. 29-30 and its rules keep provision records three
    /// years). Default 1096 (three years).
    pub ledger_retention_days: u32,
}

impl Default for SharingConfig {
    fn default() -> Self {
        SharingConfig {
            subprocessor_lead_days: 30,
            ledger_retention_days: 1096,
        }
    }
}

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The current time of every sharing decision and record, ms since the
/// Unix epoch: the one place this module reads "now" (the services' clock,
/// which tests set).
pub(crate) fn now_ms(st: &Steward) -> i64 {
    st.clock.now_ms()
}

/// `ms` since the epoch as RFC 3339 UTC.
pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A new opaque id with `prefix` (`rcp`, `dsc`, `cns`, `grt`).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", &crate::entry::new_request_id()[4..])
}

/// The notice version in force: the effective day of the policy pack that
/// encodes the notice (N6.8; `pack.toml` `effective`), `YYYY-MM-DD`. The
/// one source of the version that consents record and that
/// `/.well-known/gpc.json` serves as `lastUpdate`.
impl Steward {
    /// The version (effective day, `YYYY-MM-DD`) of the notice in force:
    /// the policy pack's effective day (N6.8).
    pub fn notice_version(&self) -> String {
        self.policy.effective().to_string()
    }
}
