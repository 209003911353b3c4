//! The record step's shapes: audit entries of decisions, denials and
//! system operations, request ids and tokens.

use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Principal, Purpose, SubjectId};
use steward_policy::{Decision, DecisionBasis};
use steward_store::ChangeSet;

use super::Denied;
use crate::entry::{new_request_id, now_ts, token};
use crate::{CoreError, Steward};

/// The error of a denied decision whose entry is at `audit_index`.
pub(crate) fn denied(d: Decision, audit_index: Option<u64>) -> CoreError {
    CoreError::Denied(Box::new(Denied {
        reason: d.reason,
        policy_ids: d.policy_ids,
        clause_ids: d.clause_ids,
        audit_index,
    }))
}

impl Steward {
    /// The audit entry recording policy decision `d` (allow or deny, the
    /// deciding policies and clauses, the basis of a denial) of `action` by
    /// `principal` for `purpose`, for region `region`'s log, under a new
    /// request id and the running pack's version. One shape for every
    /// decision Steward records.
    pub(crate) fn decision_entry(
        &self,
        d: &Decision,
        action: &str,
        principal: &str,
        purpose: Option<Purpose>,
        region: usize,
        resource: Resource,
    ) -> EntryDraft {
        EntryDraft {
            action: token(action),
            clause_ids: d.clause_ids.iter().map(|c| token(c)).collect(),
            decision: if d.allowed {
                AuditDecision::Allow
            } else {
                AuditDecision::Deny
            },
            policy_ids: d.policy_ids.iter().map(|c| token(c)).collect(),
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: purpose.map(|p| token(p.as_str())),
            reason: if d.allowed {
                None
            } else {
                Some(token(&format!("{:?}", d.basis).to_lowercase()))
            },
            region: token(&self.regions[region].config.name),
            request_id: token(&new_request_id()),
            resource,
            time: now_ts(),
        }
    }

    /// Append `entry`, the record of a denied decision `d`, to the primary
    /// region's log (fail closed) and return the [`CoreError::Denied`].
    pub(crate) fn record_denial(&self, d: Decision, entry: EntryDraft) -> CoreError {
        match self.store().and_then(|mut st| {
            st.commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))
        }) {
            Ok(c) => denied(d, c.audit_indexes.first().copied()),
            Err(e) => e,
        }
    }

    /// Refuse `principal` a request Steward decides outside the policy pack
    /// (who may open a data subject request for whom, N7.2, N6.5): the
    /// refusal is appended to the audit log as a `deny` under policy id
    /// `policy_id` (fail closed) and returned as [`CoreError::Denied`]
    /// naming `reason` (no identifier: the subject is the opaque id).
    pub(crate) fn refuse(
        &self,
        principal: &Principal,
        action: &str,
        subject: Option<SubjectId>,
        policy_id: &str,
        clause: &str,
        reason: String,
    ) -> CoreError {
        let mut resource = Resource::new(ResourceKind::Subject);
        if let Some(s) = subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        let d = Decision {
            allowed: false,
            policy_ids: vec![policy_id.to_owned()],
            clause_ids: vec![clause.to_owned()],
            reason,
            basis: DecisionBasis::Forbid,
            justification: None,
        };
        let entry = self.decision_entry(&d, action, &principal.name, None, 0, resource);
        self.record_denial(d, entry)
    }
}
