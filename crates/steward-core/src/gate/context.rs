//! The context step: what the decision knows besides principal, action,
//! subject and purpose (N3.5 support case, N3.7 legal obligation, N4.2
//! cross-region processing), and the ids every access decision's audited
//! resource carries.

use serde_json::Value;
use steward_audit::Resource;
use steward_domain::{Category, SubjectId};
use steward_policy::RequestContext;
use steward_store::RegistryTable;

use super::TransferMechanism;
use super::{AccessRequest, token};
use crate::rows::parse_row;
use crate::{CoreError, Steward};

impl Steward {
    /// The decision context of `req` about `subject`, whose home region is
    /// `home`, processed in region `processing`: is the cited support case
    /// open and about this subject (N3.5)? Is the cited legal obligation
    /// recorded (N3.7)? Is the subject's data in another region than this
    /// node's (N4.2)?
    pub(in crate::gate) fn context_for(
        &self,
        req: &AccessRequest,
        subject: Option<SubjectId>,
        home: usize,
        processing: usize,
    ) -> Result<RequestContext, CoreError> {
        let mut ctx = RequestContext::new(self.clock.today());
        let store = self.store()?;
        if let (Some(case), Some(subject)) = (&req.case_id, subject)
            && let Some(body) = store.registry_get(RegistryTable::SupportCases, case)?
        {
            let v: Value = parse_row(RegistryTable::SupportCases, case, &body)?;
            ctx.open_case_for_subject = v["subject"].as_str() == Some(&subject.to_string())
                && v["status"].as_str() == Some("open");
        }
        if let Some(ob) = &req.obligation_id {
            drop(store);
            // N3.7: recorded, citable by this principal, about this subject.
            ctx.legal_obligation_recorded = self.obligation_applies(ob, &req.principal, subject)?;
        }
        // N4.2: the subject's data lives in another region than this node's.
        ctx.cross_region = home != processing;
        Ok(ctx)
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
