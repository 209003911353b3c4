//! The checks every entry point runs after an allowing policy decision, in
//! one ordered list ([`CHECKS`]). Each is one small function in its own
//! file with the [`Check`] signature; the first refusal turns the decision
//! into a denial (recorded like any other) and the later checks do not run.
//!
//! To add a check: write `checks/<name>.rs` with one
//! `pub(super) fn check(&Steward, &Access) -> Result<Verdict, CoreError>`
//! and add it to [`CHECKS`] where it belongs in the order.
//!
//! A disclosure (N6.2-N6.7) also needs facts the policy decides on, which
//! these files establish before the decision ([`disclosure_facts`]): the
//! subject's consent and Global Privacy Control signal (`consent.rs`,
//! N6.4) and the recipient app's grant (`app_grant.rs`, N6.3). After an
//! allowing decision, `recipient.rs` checks the recipient itself
//! (subprocessor lead time and categories, N6.6; the transfer mechanism for
//! its country, N4.4; an app receives only for itself, N6.3).

mod app_grant;
mod consent;
mod legal_hold;
mod processing_restriction;
mod recipient;
pub use processing_restriction::ProcessingRestriction;
mod transfer_mechanism;

use steward_domain::{Principal, SubjectId};
use steward_policy::{Action, Decision, DecisionBasis, DisclosureFacts};

use super::AccessRequest;
use super::TransferMechanism;
use super::ask::DisclosureAsk;
use crate::{CoreError, Steward};

/// Actions that hand Service Data to the requester: restricted by a data
/// subject's restriction (N7.2), and transfers when they cross a zone (N4.4).
fn moves_data(a: Action) -> bool {
    matches!(
        a,
        Action::Read
            | Action::Export
            | Action::AdminView
            | Action::AdminLegalAccess
            | Action::Disclose
    )
}

/// What a check sees: the access as the pipeline resolved it.
pub(in crate::gate) struct Access<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The request as asked.
    pub req: &'a AccessRequest,
    /// The action decided (a held-record read is a `read`).
    pub action: Action,
    /// The subject, if the identifier resolved to one.
    pub subject: Option<SubjectId>,
    /// The subject's home region (index).
    pub home: usize,
    /// The region this node processes in (index).
    pub processing: usize,
    /// Records kept under a legal hold after an erasure (N3.7).
    pub held: bool,
    /// For a disclosure: its basis and recipient.
    pub disclosure: Option<&'a DisclosureAsk>,
}

/// A disclosure's facts for the policy decision, and what they rest on.
#[derive(Debug, Clone)]
pub(in crate::gate) struct SharingFacts {
    /// Basis, recipient kind, consent and grant states.
    pub facts: DisclosureFacts,
    /// The grant or consent the disclosure would rest on.
    pub allowed_by: Option<String>,
    /// `Some(true)`: GPC applied; `Some(false)`: overridden by `allowed_by`.
    pub gpc_applied: Option<bool>,
}

/// Establish a disclosure's facts (N6.3, N6.4) before its decision.
pub(in crate::gate) fn disclosure_facts(
    st: &Steward,
    principal: &Principal,
    req: &AccessRequest,
    ask: &DisclosureAsk,
    subject: Option<SubjectId>,
) -> Result<SharingFacts, CoreError> {
    let consent = consent::facts(st, req, ask, subject)?;
    let (grant, grant_id) = app_grant::facts(st, principal, req, ask, subject)?;
    let allowed_by = match ask.basis {
        steward_domain::DisclosureBasis::Consent => consent.consent.clone(),
        steward_domain::DisclosureBasis::ThirdPartyService => grant_id,
        _ => req.obligation_id.clone(),
    };
    Ok(SharingFacts {
        facts: DisclosureFacts {
            basis: ask.basis,
            recipient_kind: ask.recipient.kind,
            consent: consent.state,
            grant,
        },
        allowed_by,
        gpc_applied: consent.gpc_applied,
    })
}

/// A check's answer.
pub(in crate::gate) enum Verdict {
    /// Nothing to say.
    Pass,
    /// Allowed as a transfer under this mechanism (N4.4): the pipeline
    /// registers the transfer in the decision's commit.
    Transfer(TransferMechanism),
    /// Refused: the deciding policy id, its clauses and the reason.
    Refuse {
        policy_id: &'static str,
        clause_ids: &'static [&'static str],
        reason: String,
    },
}

/// The signature of a check.
pub(in crate::gate) type Check = fn(&Steward, &Access<'_>) -> Result<Verdict, CoreError>;

/// Every check, in the order every entry point runs them.
pub(in crate::gate) const CHECKS: [(&str, Check); 4] = [
    ("legal_hold", legal_hold::check),
    ("processing_restriction", processing_restriction::check),
    ("transfer_mechanism", transfer_mechanism::check),
    ("recipient", recipient::check),
];

/// Run [`CHECKS`] on an allowed `decision` (nothing runs on a denial):
/// a refusal overrides it (basis `forbid`); returns the transfer mechanism
/// the access relies on, if any.
pub(in crate::gate) fn run(
    st: &Steward,
    access: &Access<'_>,
    decision: &mut Decision,
) -> Result<Option<TransferMechanism>, CoreError> {
    let mut transfer = None;
    for (_, check) in CHECKS {
        if !decision.allowed {
            break;
        }
        match check(st, access)? {
            Verdict::Pass => {}
            Verdict::Transfer(m) => transfer = Some(m),
            Verdict::Refuse {
                policy_id,
                clause_ids,
                reason,
            } => {
                decision.allowed = false;
                decision.basis = DecisionBasis::Forbid;
                decision.policy_ids = vec![policy_id.into()];
                decision.clause_ids = clause_ids.iter().map(|c| (*c).to_owned()).collect();
                decision.reason = reason;
                transfer = None;
            }
        }
    }
    Ok(transfer)
}
