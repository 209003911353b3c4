//! The context step: what the decision knows besides principal, action,
//! subject and purpose (N3.5 support case, N3.7 legal obligation, N4.2
//! cross-region processing), and the ids every access decision's audited
//! resource carries.

use steward_audit::Resource;
use steward_domain::{CaseStatus, Category, IncidentState, Principal, SubjectId};
use steward_policy::RequestContext;
use steward_store::RegistryTable;

use super::TransferMechanism;
use super::{AccessRequest, token};
use crate::cases::SupportCase;
use crate::rows::parse_row;
use crate::{CoreError, Steward};

/// The two fields of an incident row (`crate::incidents::Incident`) that
/// decide whether a read may cite it, typed: its state (a closed scale) and
/// the subjects it names. A view, not the whole row, because the incident
/// workflow depends on the gate (through intake and requests), so the gate
/// cannot import its types without a module circle.
#[derive(serde::Deserialize)]
struct IncidentCitation {
    state: IncidentState,
    #[serde(default)]
    subjects: Vec<String>,
}

impl Steward {
    /// The decision context of `req` about `subject`, whose home region is
    /// `home`, processed in region `processing`, and the justification it
    /// cites as verified (issue 17 item 1, N3.8): is the cited support case
    /// open and about this subject, and of which kind (N3.5)? Does the
    /// cited legal obligation apply to this principal and subject, of which
    /// kind, covering the category (N3.7)? Does the cited need-to-know
    /// grant name this principal, subject, purpose and category, unexpired
    /// (N5.5)? Is the subject's data in another region than this node's
    /// (N4.2)? For a processor (issue 17 item 4, N6.6): the service of its
    /// subprocessor registration, whether the cited case is assigned to it,
    /// and whether a current engagement of it covers the subject. The
    /// justification is `case:<id>`, `obligation:<id>`, `grant:<id>`,
    /// `incident:<id>`, `engagement:<id>` for each that holds,
    /// comma-separated; `None` if none.
    pub(in crate::gate) fn context_for(
        &self,
        principal: &Principal,
        req: &AccessRequest,
        subject: Option<SubjectId>,
        home: usize,
        processing: usize,
    ) -> Result<(RequestContext, Option<String>), CoreError> {
        let mut ctx = RequestContext::new(self.clock.today());
        let mut cited: Vec<String> = Vec::new();
        // The processor the cited open case is assigned to (N6.6).
        let mut assignee: Option<String> = None;
        if let (Some(case), Some(subject)) = (&req.case_id, subject) {
            let body = self
                .store_read()?
                .registry_get(RegistryTable::SupportCases, case)?;
            if let Some(body) = body {
                // The typed row (a case recorded before kinds existed is
                // `account`); a row that does not parse is a named error.
                let c: SupportCase = parse_row(RegistryTable::SupportCases, case, &body)?;
                if c.subject == subject.to_string() && c.status == CaseStatus::Open {
                    ctx.open_case_for_subject = true;
                    ctx.case_kind = Some(c.kind);
                    assignee = c.assignee;
                    cited.push(format!("case:{case}"));
                }
            }
        }
        // Issue 17 item 4 (N6.6): a processor's registration, the case
        // assigned to it, its current engagement.
        let pf = self.processor_facts(principal.kind, req, subject, assignee.as_deref())?;
        ctx.processor_service = pf.service;
        ctx.case_assigned_to_principal = pf.assigned;
        ctx.engagement_covers = pf.engagement.is_some();
        if let Some(e) = pf.engagement {
            cited.push(format!("engagement:{e}"));
        }
        if let Some(ob) = &req.obligation_id
            // N3.7: recorded, citable by this principal, about this subject.
            && let Some(ob) = self.obligation_applies(ob, &req.principal, subject)?
        {
            ctx.legal_obligation_recorded = true;
            ctx.obligation_kind = ob.kind();
            // Issue 17 item 3: a read names a category the obligation covers.
            ctx.obligation_covers_category = req
                .category
                .is_some_and(|c| ob.categories.is_empty() || ob.categories.contains(&c));
            cited.push(format!("obligation:{}", ob.id));
        }
        if let Some(g) = &req.grant_id
            && self.grant_applies(g, &req.principal, subject, req.purpose, req.category)?
        {
            ctx.grant_for_subject = true;
            cited.push(format!("grant:{g}"));
        }
        if let (Some(inc), Some(subject)) = (&req.incident_id, subject)
            && let Some(body) = self
                .store_read()?
                .registry_get(RegistryTable::Incidents, inc)?
        {
            // N8.5, N3.8: an incident that is not closed and names this
            // subject (`Steward::add_incident_subject`).
            let i: IncidentCitation = parse_row(RegistryTable::Incidents, inc, &body)?;
            let names = i.subjects.contains(&subject.to_string());
            if names && i.state != IncidentState::Closed {
                ctx.incident_for_subject = true;
                cited.push(format!("incident:{inc}"));
            }
        }
        // N4.2: the subject's data lives in another region than this node's.
        ctx.cross_region = home != processing;
        Ok((ctx, (!cited.is_empty()).then(|| cited.join(","))))
    }

    /// The ids every access decision's resource carries besides the
    /// subject: the category read, where a cross-region access was
    /// processed (N4.2), and the transfer mechanism relied on (N4.4).
    pub(in crate::gate) fn access_ids(
        &self,
        mut resource: Resource,
        category: Option<Category>,
        home: usize,
        processing: usize,
        transfer: Option<&TransferMechanism>,
    ) -> Resource {
        if let Some(c) = category {
            resource = resource.id(token(&format!("category:{c}")));
        }
        if home != processing {
            resource = resource.id(token(&format!(
                "processed_in:{}",
                self.regions[processing].config.name
            )));
        }
        if let Some(m) = transfer {
            resource = resource.id(token(&format!("transfer_mechanism:{}", m.id)));
        }
        resource
    }
}
