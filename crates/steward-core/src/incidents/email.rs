//! Incident reports by email (N8.5 "several channels"): the email intake's
//! exactly-once ledger (`intake.rs`, N7.4) reused. Each message is taken
//! once (keyed by a keyed hash of its Message-ID, else of its bytes, in a
//! namespace of its own so the same message may also be a data subject
//! request), sealed as a `communications.email` record of its sender's
//! subject in the same transaction as the ledger row, and ends as one
//! incident, or as a recorded rejection with a reason (unreadable, empty,
//! too large, no sender). A run interrupted between storing the message
//! and opening the incident is resumed by the next run over the same
//! message, which finds the incident by its stored record.

use sha2::{Digest, Sha256};
use steward_domain::{IdentifierKind, IncidentKind, ReportChannel, SubjectIdentifier};
use steward_ingest::email::{self, EmailMessage};
use steward_store::{ChangeSet, RegistryGuard, RegistryTable, StoreError};

use super::SealedReport;
use crate::authorize::ManagementAction;
use crate::intake::{
    IntakeEntry, IntakeOutcome, IntakeState, STALE_AFTER_SECS, Stored, email_reason,
};
use crate::rows::{parse_row, row_json};
use crate::{CoreError, Steward};

impl Steward {
    /// Take one email in as an incident report (N8.5), exactly once, as
    /// principal `by` (the CLI uses the `ingest` service: policy must let
    /// it store communications and report incidents). A bad message is a
    /// recorded rejection, not an error.
    ///
    /// Errors: [`CoreError::Input`] for an unknown `by`; [`CoreError::Denied`]
    /// (audited); storage errors (the next run resumes).
    pub fn intake_incident_email(&self, by: &str, raw: &[u8]) -> Result<IntakeOutcome, CoreError> {
        let principal = self.acting(by)?;
        let parsed = email::parse("message", raw);
        let (identity, key) = match &parsed {
            Ok(EmailMessage {
                message_id: Some(id),
                ..
            }) => (
                "message_id",
                self.intake_key("incident_message_id", id.as_bytes())?,
            ),
            _ => (
                "sha256",
                self.intake_key("incident_sha256", &Sha256::digest(raw))?,
            ),
        };
        if let Some(body) = self
            .store()?
            .registry_get(RegistryTable::EmailIntake, &key)?
        {
            let entry: IntakeEntry = parse_row(RegistryTable::EmailIntake, &key, &body)?;
            let stale = self.jiff_now().as_second()
                - entry
                    .attempt_at
                    .parse::<jiff::Timestamp>()
                    .map(|t| t.as_second())
                    .unwrap_or(0)
                >= STALE_AFTER_SECS;
            if entry.state != IntakeState::Taking || !stale || entry.record.is_none() {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            }
            let entry = self.finish_incident_email(by, entry, body)?;
            return Ok(IntakeOutcome { taken: true, entry });
        }
        let entry = IntakeEntry::taking(key, identity, by, raw.len(), super::now(self));
        let m = match parsed {
            Ok(m) => m,
            Err(e) => return self.reject_unstored(entry, e.name(), email_reason(&e)),
        };
        let sender = m
            .from
            .as_ref()
            .and_then(|s| SubjectIdentifier::new(IdentifierKind::Email, &s.address).ok());
        let Some(sender) = sender else {
            return self.reject_unstored(
                entry,
                "no_sender",
                "the message has no usable sender address (From): nobody reported it".into(),
            );
        };
        let mut entry = entry;
        entry.attachments = m.attachments.len() as u64;
        let (entry, body) = match self.store_message(&principal, &sender, &m, entry)? {
            Stored::Written(entry, body) => (entry, body),
            Stored::AlreadyTaken(entry) => {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            }
        };
        let entry = self.finish_incident_email(by, entry, body)?;
        Ok(IntakeOutcome { taken: true, entry })
    }

    /// Open the incident of a stored message (or find the one an
    /// interrupted run opened), finish the ledger row, page the on-call.
    fn finish_incident_email(
        &self,
        by: &str,
        mut entry: IntakeEntry,
        before: String,
    ) -> Result<IntakeEntry, CoreError> {
        let (Some(record), Some(subject)) = (entry.record.clone(), entry.subject.clone()) else {
            return Err(CoreError::Integrity {
                record: entry.key.clone(),
                reason: "an intake row in state taking names no stored message".into(),
            });
        };
        let earlier = self
            .incident_rows()?
            .into_iter()
            .find(|i| i.report.as_ref().is_some_and(|r| r.record == record));
        let (id, fresh) = match earlier {
            Some(i) => (i.id, false),
            None => {
                let aware = self.jiff_now();
                let mut inc =
                    self.new_incident(IncidentKind::Other, ReportChannel::Email, by, aware);
                inc.report = Some(SealedReport { subject, record });
                let e = self.incident_decision(
                    by,
                    ManagementAction::IncidentReport,
                    &inc.id,
                    "incident_report",
                )?;
                self.commit_incident(&inc, None, e, ChangeSet::default())?;
                (inc.id, true)
            }
        };
        entry.state = IntakeState::Incident;
        entry.incident = Some(id.clone());
        let mut audit = self.intake_audit(&entry, 0);
        audit.action = crate::entry::token("incident_email_intake");
        audit.clause_ids = vec![crate::entry::token("N8.5")];
        let cs = ChangeSet {
            registry: vec![(
                RegistryTable::EmailIntake,
                entry.key.clone(),
                row_json(&entry)?,
            )],
            guards: vec![RegistryGuard {
                table: RegistryTable::EmailIntake,
                id: entry.key.clone(),
                expected: Some(before),
            }],
            audit: vec![audit],
            ..Default::default()
        };
        match self.store()?.commit(cs) {
            Ok(_) => {}
            Err(StoreError::GuardConflict { .. }) => {
                return Ok(self.already_taken(&entry.key)?.entry);
            }
            Err(e) => return Err(e.into()),
        }
        if fresh {
            self.page_on_call(&id, by, "opened")?;
        }
        Ok(entry)
    }
}
