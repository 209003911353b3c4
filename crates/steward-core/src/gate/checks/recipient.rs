//! The recipient of a disclosure, checked after an allowing decision:
//! an app receives only for itself (N6.3); a subprocessor receives nothing
//! before its change notice's lead time has passed, and only the
//! categories it is registered for (N6.6, N8.9); data of an EEA, UK or
//! Swiss region goes to a recipient outside that zone only under a
//! transfer mechanism on record (N4.4).

use steward_domain::{PrincipalKind, RecipientKind};
use steward_store::RegistryTable;

use super::{Access, Verdict};
use crate::gate::TransferMechanism;
use crate::rows::parse_row;
use crate::sharing::{now_ms, rfc3339};
use crate::transfer_zone::in_transfer_zone;
use crate::{CoreError, Steward};

/// Pass, or refuse naming the recipient rule that failed.
pub(super) fn check(st: &Steward, a: &Access<'_>) -> Result<Verdict, CoreError> {
    let Some(ask) = a.disclosure else {
        return Ok(Verdict::Pass);
    };
    let r = &ask.recipient;
    if a.principal.kind == PrincipalKind::ThirdPartyApp
        && r.principal.as_deref() != Some(a.principal.name.as_str())
    {
        return Ok(Verdict::Refuse {
            policy_id: "app-receives-for-itself",
            clause_ids: &["N6.3"],
            reason: format!(
                "a third-party app receives Service Data only for itself, and {} is another recipient (N6.3)",
                r.id
            ),
        });
    }
    if r.kind == RecipientKind::Subprocessor {
        let from = r.receives_from_ms.unwrap_or(i64::MAX);
        if now_ms(st) < from {
            return Ok(Verdict::Refuse {
                policy_id: "subprocessor-lead-time",
                clause_ids: &["N6.6", "N8.9"],
                reason: format!(
                    "subprocessor {} receives nothing before the lead time of its change notice to customers has passed, on {} (N6.6, N8.9)",
                    r.id,
                    rfc3339(from)
                ),
            });
        }
        if !a.req.category.is_some_and(|c| r.categories.contains(&c)) {
            return Ok(Verdict::Refuse {
                policy_id: "subprocessor-categories",
                clause_ids: &["N6.6"],
                reason: format!(
                    "subprocessor {} is registered to receive only {}, and this disclosure is {} (N6.6)",
                    r.id,
                    r.categories
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.req
                        .category
                        .map(|c| c.as_str())
                        .unwrap_or("every category")
                ),
            });
        }
    }
    let home = st.regions[a.home].config.clone();
    if in_transfer_zone(&home.country) && !in_transfer_zone(&r.country) {
        let found = st
            .store_read()?
            .registry_list(RegistryTable::TransferMechanisms)?
            .into_iter()
            .map(|(k, b)| parse_row::<TransferMechanism>(RegistryTable::TransferMechanisms, &k, &b))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .any(|m| m.from_region == home.name && m.to_country == r.country);
        if !found {
            return Ok(Verdict::Refuse {
                policy_id: "recipient-transfer-mechanism",
                clause_ids: &["N4.4"],
                reason: format!(
                    "recipient {} is in {}, outside the EEA, the UK and Switzerland, and no transfer mechanism is on record for region {} to {} (N4.4)",
                    r.id, r.country, home.name, r.country
                ),
            });
        }
    }
    Ok(Verdict::Pass)
}
