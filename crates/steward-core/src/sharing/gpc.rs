//! Global Privacy Control (GPC; <https://privacycg.github.io/gpc-spec/>;
//! issue 19 item 6). The server reads `Sec-GPC: 1` on every authenticated
//! request of a data subject and calls [`Steward::record_gpc`], which
//! records the opt-out once (idempotent; one audit entry per change).
//!
//! The conflict rule between a stored consent and a GPC signal is
//! [`GPC_RULE`]; each time it is applied or overridden, the disclosure's
//! audit entry names it (`gpc:applied`, `gpc:overridden_by:cns_…`) and
//! the ledger row of an allowed disclosure carries the overriding consent.

use serde::{Deserialize, Serialize};
use steward_domain::PrincipalKind;
use steward_store::{ChangeSet, RegistryTable};

use super::now_ms;
use crate::entry::{system_entry, token};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

/// The conflict rule between a stored consent and a GPC signal.
///
/// The GPC specification makes the signal "a valid do-not-sell-or-share
/// request" (§1, §3: under CCPA/CPRA a "user-enabled global privacy
/// control"), and lets a site honour a later, more specific choice the
/// person made with that site (§3.1 notes that a person may grant an
/// exception to a specific site). So:
///
/// 1. **GPC prevails** over every consent given before the signal was
///    first received, and over consents that name no recipient: the
///    consent basis is refused (state `gpc`, policy
///    `disclosure-consent-gpc-opt-out`, N6.4).
/// 2. A consent given **explicitly after** the signal was first received,
///    **for a named recipient**, by a method other than GPC (console, API,
///    email), is honoured for that recipient: the override is recorded in
///    the disclosure's audit entry and ledger row.
/// 3. The signal is never a consent (`method gpc` is refused when giving
///    one), and its absence later is not a withdrawal of the opt-out.
pub const GPC_RULE: &str = "GPC prevails over consents given before the signal and over consents naming no recipient; a consent given explicitly after the signal for a named recipient, by console, API or email, overrides it for that recipient, and the override is recorded (GPC specification §3)";

/// A subject's GPC opt-out, as stored in `gpc_signals` (key: `sub_` id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpcSignal {
    /// The subject (opaque id).
    pub subject: String,
    /// When the signal was first received, ms since the epoch.
    pub first_seen_ms: i64,
}

impl Steward {
    /// The GPC opt-out of subject `sub`, if one was received.
    pub fn gpc_signal(&self, sub: &str) -> Result<Option<GpcSignal>, CoreError> {
        Ok(
            match self.store()?.registry_get(RegistryTable::GpcSignals, sub)? {
                Some(b) => Some(parse_row(RegistryTable::GpcSignals, sub, &b)?),
                None => None,
            },
        )
    }

    /// A request of principal `by` carried `Sec-GPC: 1`: for a data
    /// subject, record their opt-out of consent-based disclosure (N6.4,
    /// GPC). Idempotent: only the first signal is stored and audited
    /// (`gpc_opt_out`); later ones change nothing. Other principals'
    /// signals are not about a data subject and are ignored. Returns
    /// whether this call recorded it.
    pub fn record_gpc(&self, by: &str) -> Result<bool, CoreError> {
        let p = self.principal(by)?;
        let (PrincipalKind::DataSubject, Some(subject), false) = (p.kind, p.subject, p.revoked)
        else {
            return Ok(false);
        };
        let sub = subject.to_string();
        if self.gpc_signal(&sub)?.is_some() {
            return Ok(false);
        }
        let row = GpcSignal {
            subject: sub.clone(),
            first_seen_ms: now_ms(self),
        };
        let mut e = system_entry("gpc_opt_out", "gpc_signals", "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N6.4")];
        e.resource = e
            .resource
            .subject(steward_audit::SubjectRef::new(subject.0 as u64));
        let committed = self.store()?.commit(ChangeSet {
            registry: vec![(RegistryTable::GpcSignals, sub.clone(), row_json(&row)?)],
            audit: vec![e],
            guards: vec![steward_store::RegistryGuard {
                table: RegistryTable::GpcSignals,
                id: sub,
                expected: None,
            }],
            ..Default::default()
        });
        match committed {
            Ok(_) => Ok(true),
            // Another request recorded it first: idempotent.
            Err(steward_store::StoreError::GuardConflict { .. }) => Ok(false),
            Err(e) => Err(CoreError::AuditUnavailable(e.to_string())),
        }
    }
}
