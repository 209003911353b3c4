//! Disclosure: a gate entry point like a read (N6.2-N6.7; issue 19 item 2).
//!
//! resolve the subject -> context with the disclosure's facts (basis,
//! recipient kind, consent state, grant state) -> decide (`disclose`) ->
//! checks (processing restriction, transfer mechanism, recipient) -> record
//! the decision and, when allowed, the ledger row (N8.4) and any transfer
//! row -> commit in the subject's home region, one `ChangeSet` -> open the
//! records for the recipient.

use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, DisclosureBasis, PrincipalKind, Purpose};
use steward_policy::Action;
use steward_store::ChangeSet;

use super::ask::DisclosureAsk;
use super::pipeline::{CommitAt, Decided, Resolved, Target};
use super::{AccessRequest, Opened, OpenedRecord, new_request_id, token};
use crate::sharing::{DisclosureRow, LedgerFacts, ledger_row};
use crate::{CoreError, Steward};

/// A request to disclose one subject's data to a registered recipient.
#[derive(Debug, Clone)]
pub struct DisclosureRequest {
    /// The principal disclosing (for a third-party app, the app itself).
    pub principal: String,
    /// The subject: an identifier argument or a `sub_` id (never logged).
    pub subject: String,
    /// The recipient's id (`rcp_…`).
    pub recipient: String,
    /// The basis (closed set, N6.2; there is no sale, N6.6).
    pub basis: DisclosureBasis,
    /// The purpose (N3).
    pub purpose: Purpose,
    /// One category, or `None` for all.
    pub category: Option<Category>,
    /// A recorded legal obligation (the legal basis, N6.7 via N3.7).
    pub obligation_id: Option<String>,
}

/// An allowed disclosure: its ledger row, the decision and the records
/// opened for the recipient.
#[derive(Debug)]
pub struct Disclosed {
    /// The ledger row committed with the audit entry (`None` when the
    /// identifier matched no subject: nothing was disclosed).
    pub disclosure: Option<DisclosureRow>,
    /// The decision and where it is recorded.
    pub opened: Opened,
    /// The records, opened.
    pub records: Vec<OpenedRecord>,
}

impl Steward {
    /// Disclose a subject's data to a registered recipient through the
    /// gate (module docs). The decision (allow or deny) is audited; an
    /// allowed disclosure's ledger row is committed in the same transaction
    /// as its audit entry, before anything is opened (fail closed). The
    /// audit entry names the recipient, the basis, and whether a Global
    /// Privacy Control signal was applied or overridden.
    ///
    /// Errors: [`CoreError::Input`] for an unknown recipient (nothing
    /// recorded); [`CoreError::Denied`] naming the failed condition
    /// (audited); [`CoreError::AuditUnavailable`].
    pub fn disclose(&self, d: &DisclosureRequest) -> Result<Disclosed, CoreError> {
        let recipient = self.recipient(&d.recipient)?;
        let organisation = self.organisation_of_identifier(&d.subject)?;
        let req = AccessRequest {
            category: d.category,
            purpose: Some(d.purpose),
            obligation_id: d.obligation_id.clone(),
            organisation,
            ..AccessRequest::new(&d.principal, Action::Disclose, &d.subject)
        };
        let ask = DisclosureAsk {
            basis: d.basis,
            recipient,
        };
        let decided = self.decide_access(&req, Target::Live, false, Some(&ask))?;
        self.record_disclosure(&req, &ask, decided)
    }

    /// Steps 6 to 8 of a disclosure: record, commit, open.
    fn record_disclosure(
        &self,
        req: &AccessRequest,
        ask: &DisclosureAsk,
        decided: Decided,
    ) -> Result<Disclosed, CoreError> {
        let Decided {
            principal,
            resolved: Resolved { subject, home, .. },
            processing,
            decision,
            transfer,
            sharing,
            ..
        } = decided;
        let request_id = new_request_id();
        let mut resource = Resource::new(ResourceKind::Subject)
            .id(token(&format!("recipient:{}", ask.recipient.id)))
            .id(token(&format!("basis:{}", ask.basis.as_str())));
        if let Some(s) = subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        // GPC: every application and override is on the record.
        match sharing.as_ref().and_then(|s| s.gpc_applied.map(|a| (a, s))) {
            Some((true, _)) if ask.basis == DisclosureBasis::Consent => {
                resource = resource.id(token("gpc:applied"));
            }
            Some((false, s)) if ask.basis == DisclosureBasis::Consent => {
                let by = s.allowed_by.as_deref().unwrap_or("-");
                resource = resource.id(token(&format!("gpc:overridden_by:{by}")));
            }
            _ => {}
        }
        resource = self.access_ids(resource, req.category, home, processing, transfer.as_ref());
        let mut entry = self.decision_entry(
            &decision,
            Action::Disclose.as_str(),
            &principal.name,
            req.purpose,
            home,
            resource,
        );
        entry.request_id = token(&request_id);
        let mut cs = ChangeSet::default();
        let mut rows = Vec::new();
        let mut row = None;
        if let (true, Some(s), Some(purpose)) = (decision.allowed, subject, req.purpose) {
            rows = self
                .rstore_read(home)?
                .records(s, req.category.map(|c| c.as_str()))?;
            let sharing = sharing.as_ref();
            let (t, id, body, r) = ledger_row(
                self,
                LedgerFacts {
                    request_id: &request_id,
                    basis: ask.basis,
                    recipient: &ask.recipient,
                    purpose,
                    category: req.category.map(|c| c.as_str()),
                    subject: s,
                    record_count: rows.len() as u64,
                    allowed_by: sharing.and_then(|s| s.allowed_by.clone()),
                    gpc_overridden_by: sharing
                        .filter(|s| s.gpc_applied == Some(false))
                        .and_then(|s| s.allowed_by.clone()),
                    principal: &principal.name,
                },
            )?;
            cs.registry.push((t, id, body));
            row = Some(r);
        }
        // The transfer row only with an allowed disclosure's ledger row.
        let audit_index = self.commit_access(
            cs,
            entry,
            &decision,
            CommitAt {
                home,
                processing,
                subject,
                category: req.category,
                request_id: &request_id,
                transfer: transfer.as_ref().filter(|_| decision.allowed),
            },
        )?;
        let opened = Opened {
            region: home,
            subject,
            decision,
            audit_index,
            request_id,
            sealer: match subject {
                Some(s) => self.subject_opener(home, s)?,
                None => None,
            },
        };
        let records = if subject.is_some() {
            opened.open_rows(rows)?
        } else {
            vec![]
        };
        Ok(Disclosed {
            disclosure: row,
            opened,
            records,
        })
    }

    /// N6.3: a third-party app's read is a disclosure to it on the
    /// third_party_service basis, decided with its grant. `None` for any
    /// other principal (the ordinary read runs).
    pub(super) fn app_read(
        &self,
        req: &AccessRequest,
    ) -> Result<Option<(Opened, Vec<OpenedRecord>)>, CoreError> {
        let p = self.principal(&req.principal)?;
        if p.kind != PrincipalKind::ThirdPartyApp {
            return Ok(None);
        }
        let recipient = self.recipient_of_principal(&p.name)?.ok_or_else(|| {
            CoreError::Input(format!(
                "third-party app `{}` is not registered as a recipient: register it with `steward recipients add --kind third_party_app --principal {}` (N6.3)",
                p.name, p.name
            ))
        })?;
        let Some(purpose) = req.purpose else {
            return Err(CoreError::Input(
                "purpose: a third-party app names the purpose it reads for (N3)".into(),
            ));
        };
        let d = self.disclose(&DisclosureRequest {
            principal: p.name.clone(),
            subject: req.subject.clone(),
            recipient: recipient.id,
            basis: DisclosureBasis::ThirdPartyService,
            purpose,
            category: req.category,
            obligation_id: None,
        })?;
        Ok(Some((d.opened, d.records)))
    }
}
