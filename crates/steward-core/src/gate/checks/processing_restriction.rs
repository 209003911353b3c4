//! N7.2 "control": a restriction of processing or an objection to a
//! purpose, recorded by a data subject request (`crate::dsr`, the
//! `processing_restrictions` registry), overrides an allowing decision.

use serde::{Deserialize, Serialize};
use steward_domain::{PrincipalKind, Purpose};
use steward_store::{RegistryTable, StoreError};

use super::{Access, Verdict, moves_data};
use crate::{CoreError, Steward};

/// The processing restriction or objection recorded for the subject that
/// forbids this access, if any. A restricted subject's data is read,
/// exported or disclosed only for `comply` and `protect` (policy id
/// `dsr-restriction`); an objected purpose is not used at all
/// (`dsr-objection`). The subject's own access is never blocked.
pub(super) fn check(st: &Steward, a: &Access<'_>) -> Result<Verdict, CoreError> {
    let Some(subject) = a.subject else {
        return Ok(Verdict::Pass);
    };
    if a.principal.kind == PrincipalKind::DataSubject && a.principal.subject == Some(subject) {
        return Ok(Verdict::Pass);
    }
    let Some(body) = st
        .store_read()?
        .registry_get(RegistryTable::ProcessingRestrictions, &subject.to_string())?
    else {
        return Ok(Verdict::Pass);
    };
    let row: ProcessingRestriction = serde_json::from_str(&body).map_err(|_| {
        CoreError::Store(StoreError::Corrupt(format!(
            "data subject request {subject}: the processing restriction is not what Steward wrote"
        )))
    })?;
    let purpose = a.req.purpose;
    if let Some(p) = purpose.filter(|p| row.objections.contains(p)) {
        return Ok(Verdict::Refuse {
            policy_id: "dsr-objection",
            clause_ids: &["N7.2"],
            reason: format!(
                "the data subject objected to processing for {} (data subject request); it is not used for that purpose (N7.2)",
                p.as_str()
            ),
        });
    }
    if row.restricted
        && moves_data(a.action)
        && !matches!(purpose, Some(Purpose::Comply | Purpose::Protect))
    {
        return Ok(Verdict::Refuse {
            policy_id: "dsr-restriction",
            clause_ids: &["N7.2"],
            reason: "processing of this subject's data is restricted by a data subject request: only comply and protect remain allowed (N7.2)".into(),
        });
    }
    Ok(Verdict::Pass)
}

/// A processing restriction or objection of one subject (N7.2 "control"),
/// as stored in the `processing_restrictions` registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingRestriction {
    /// The subject (`sub_…`).
    pub subject: String,
    /// Processing restricted: reads, exports and disclosures only for
    /// `comply` and `protect` (and the subject's own access).
    pub restricted: bool,
    /// Purposes objected to: no processing for them.
    pub objections: Vec<Purpose>,
    /// The requests that recorded this.
    pub requests: Vec<String>,
}
