//! Reports by API and CLI (N8.5 "staff report suspected incidents through
//! several channels"): the report's text is sealed as a
//! `communications.support` record of the reporter's subject (username
//! `principal:<name>`, minted on first use and found again by the blind
//! index), in the same transaction as the incident row and its audit entry
//! when that subject lives in the primary region.

use std::borrow::Cow;

use steward_audit::{Resource, ResourceKind};
use steward_domain::{
    Category, Fields, IdentifierKind, IncidentKind, Kind, NewRecord, Product, ReportChannel,
    SubjectIdentifier,
};
use steward_store::{ChangeSet, RecordRow};

use super::{Incident, SealedReport, instant};
use crate::authorize::ManagementAction;
use crate::entry::{record_ref, token};
use crate::intake::new_record_id;
use crate::{CoreError, Steward};

/// The longest report text accepted, in bytes.
pub const MAX_REPORT_BYTES: usize = 64 * 1024;

/// The kind report texts are sealed as.
const REPORT_KIND: &str = "communications.support";

/// A report by API or CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// What is suspected.
    pub kind: IncidentKind,
    /// `api` or `cli` (email and detectors have their own entry points).
    pub channel: ReportChannel,
    /// What the reporter says (Service Data: sealed, never logged).
    pub text: String,
    /// When the provider became aware (RFC 3339); default: now.
    pub aware_at: Option<String>,
}

impl Steward {
    /// Report a suspected incident (N8.5) as principal `by`, decided as
    /// [`ManagementAction::IncidentReport`] (staff and services may report),
    /// and page the on-call of the awareness time.
    ///
    /// Errors: [`CoreError::Input`] for an empty or over-long text, a bad
    /// instant, or a channel other than `api`/`cli`; [`CoreError::Denied`]
    /// (audited); storage errors (nothing stored).
    pub fn report_incident(&self, by: &str, r: &NewReport) -> Result<Incident, CoreError> {
        if !matches!(r.channel, ReportChannel::Api | ReportChannel::Cli) {
            return Err(CoreError::Input(format!(
                "channel: `{}` reports come through their own entry point; use api or cli",
                r.channel
            )));
        }
        if r.text.trim().is_empty() || r.text.len() > MAX_REPORT_BYTES {
            return Err(CoreError::Input(format!(
                "text: say what happened, in 1 to {MAX_REPORT_BYTES} bytes"
            )));
        }
        let aware = match &r.aware_at {
            Some(s) => instant("aware_at", s)?,
            None => self.jiff_now(),
        };
        let mut inc = self.new_incident(r.kind, r.channel, by, aware);
        let e = self.incident_decision(
            by,
            ManagementAction::IncidentReport,
            &inc.id,
            "incident_report",
        )?;
        let ident = SubjectIdentifier::new(IdentifierKind::Username, &format!("principal:{by}"))
            .map_err(|e| CoreError::Input(format!("reporter: {e}")))?;
        let mut fields = Fields::new();
        fields.insert("case_id".into(), inc.id.as_str().into());
        fields.insert("channel".into(), r.channel.as_str().into());
        fields.insert("subject_line".into(), "incident report".into());
        fields.insert("body".into(), r.text.as_str().into());
        fields.insert("occurred_at".into(), inc.aware_at.as_str().into());
        let (home, cs, sealed) = self.seal_report(&ident, fields)?;
        inc.report = Some(sealed);
        if home == 0 {
            self.commit_incident(&inc, None, e, cs)?;
        } else {
            // The subject lives in another region: its record commits
            // there first (N4.1), the incident in the primary region.
            self.rstore(home)?.commit(cs)?;
            self.commit_incident(&inc, None, e, ChangeSet::default())?;
        }
        self.page_on_call(&inc.id, by, "opened")
    }

    /// Seal `fields` as a report record of the subject of `ident` (found
    /// by its blind index in any region, else minted in the primary one).
    /// Returns the home region, the change set (subject, key, identifier,
    /// record and the ingest audit entry) and where it is sealed.
    fn seal_report(
        &self,
        ident: &SubjectIdentifier,
        fields: Fields,
    ) -> Result<(usize, ChangeSet, SealedReport), CoreError> {
        // The deployment's own namespace, under any live key version.
        let blind = self.blind_in(ident, None)?;
        let mut found = None;
        for r in 0..self.regions.len() {
            if let Some((id, _)) = self.find_indexed(r, ident, None)? {
                found = Some((r, id));
                break;
            }
        }
        let mut cs = ChangeSet::default();
        let stored_at = self.clock.now_ms();
        let (home, key) = match found {
            Some((r, id)) => (
                r,
                self.sealing_key(r, id)?
                    .ok_or_else(|| CoreError::Integrity {
                        record: id.to_string(),
                        reason: "the reporter's subject has an index entry but no data key".into(),
                    })?,
            ),
            None => (0, self.mint_subject(&mut cs, 0, ident, blind, stored_at)?),
        };
        let kind: Kind = REPORT_KIND
            .parse()
            .map_err(|e| CoreError::Config(format!("{REPORT_KIND}: {e}")))?;
        let rec = NewRecord::new(
            kind,
            Some(ident.clone()),
            Product::CloudPlatform,
            None,
            fields,
        )
        .map_err(|e| CoreError::Input(format!("{REPORT_KIND}: {e}")))?;
        let rid = new_record_id();
        let plain = serde_json::to_vec(&serde_json::json!({
            "fields": rec.fields(),
            "occurred_at": rec.occurred_at(),
        }))
        .map_err(|e| CoreError::Input(e.to_string()))?;
        let mut row = RecordRow {
            id: rid,
            subject: key.subject(),
            category: Cow::Borrowed(Category::Communications.as_str()),
            kind: Cow::Borrowed(kind.as_str()),
            product: Cow::Borrowed(Product::CloudPlatform.as_str()),
            region: Cow::Owned(self.regions[home].config.name.clone()),
            key_version: key.key_version(),
            stored_at_ms: stored_at,
            sealed: Vec::new(),
        };
        row.sealed = key.seal_record(&row, &plain)?;
        cs.records.push(row);
        let mut entry = crate::entry::system_entry(
            "incident_report_sealed",
            "incident",
            "",
            self.policy.version(),
        );
        entry.clause_ids = vec![token("N8.5"), token("N2.5")];
        entry.region = token(&self.regions[home].config.name);
        entry.resource = Resource::new(ResourceKind::Batch)
            .count(1)
            .record(record_ref(rid))
            .subject(steward_audit::SubjectRef::new(key.subject().0 as u64));
        cs.audit.push(entry);
        let sealed = SealedReport {
            subject: key.subject().to_string(),
            record: rid.to_string(),
        };
        Ok((home, cs, sealed))
    }
}
