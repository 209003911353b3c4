//! Rectification: a corrected record replaces the old one in one
//! audited commit.

use crate::gate::{AccessRequest, Located, new_request_id, now_ts, record_ref, token};
use crate::{CoreError, Steward};
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Fields, Kind, Purpose, RecordId};
use steward_policy::Action;
use steward_store::ChangeSet;

use super::new_record_id;

impl Steward {
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
}
