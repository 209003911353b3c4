//! Privacy staff's identity reports (issue 15): subjects whose identifiers
//! are confusable with each other (item 1, Unicode UTS #39 skeletons), and
//! subjects that have no identifier row (item 3: nobody can find them by
//! a request; repair by merging them, item 4). Decided by the pack as
//! [`ManagementAction::IdentityReport`] (`dsr_handle`, privacy staff) and
//! audited; the reports name opaque subject ids and kinds, never values.

use std::collections::BTreeMap;

use serde::Serialize;
use steward_audit::{Resource, ResourceKind};
use steward_store::ChangeSet;

use crate::authorize::{ManagementAction, Target};
use crate::gate::{system_entry, token};
use crate::{CoreError, Steward};

/// Subjects with identifiers of one kind that look alike.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfusableGroup {
    /// The identifier kind (`username`).
    pub kind: String,
    /// The subjects (opaque ids, sorted), two or more.
    pub subjects: Vec<String>,
}

impl Steward {
    /// Groups of live subjects (within one region and namespace) whose
    /// identifiers of one kind have equal confusable skeletons (UTS #39
    /// section 4: `pаypal` with a Cyrillic `а` and `paypal`): candidates
    /// for a request to review and merge, as `by` (privacy staff).
    /// Opening the identifiers is recorded (`identity_confusables`).
    ///
    /// Errors: [`CoreError::Denied`]; store errors.
    pub fn confusable_identifiers(&self, by: &str) -> Result<Vec<ConfusableGroup>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::IdentityReport,
            Target::named("confusables"),
        )?;
        let mut groups: BTreeMap<(usize, String, [u8; 32]), Vec<String>> = BTreeMap::new();
        let mut opened = 0u64;
        for r in 0..self.regions.len() {
            let subjects = self.rstore(r)?.subjects()?;
            for s in subjects.iter().filter(|s| s.erased_at_ms.is_none()) {
                let tenant = self.subject_tenant(r, s.id)?;
                for (kind, d) in self.confusable_digests(r, s.id, tenant.as_deref())? {
                    groups
                        .entry((r, kind.as_str().to_owned(), d))
                        .or_default()
                        .push(s.id.to_string());
                }
                opened += 1;
            }
        }
        let mut out: Vec<ConfusableGroup> = groups
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|((_, kind, _), mut subjects)| {
                subjects.sort();
                ConfusableGroup { kind, subjects }
            })
            .collect();
        out.sort();
        self.report_entry(by, "identity_confusables", opened)?;
        Ok(out)
    }

    /// Live subjects that have no identifier row (opaque ids, sorted): no
    /// request can find them, so their records would be missed by an
    /// access or an erasure (issue 15 item 3). Repair: merge each into the
    /// subject of the same person ([`Steward::merge_subjects`]). As `by`
    /// (privacy staff); audited.
    ///
    /// Errors: [`CoreError::Denied`]; store errors.
    pub fn subjects_without_identifier(&self, by: &str) -> Result<Vec<String>, CoreError> {
        self.authorize_management(
            by,
            ManagementAction::IdentityReport,
            Target::named("orphans"),
        )?;
        let mut out = Vec::new();
        let mut seen = 0u64;
        for r in 0..self.regions.len() {
            let subjects = self.rstore(r)?.subjects()?;
            for s in subjects.iter().filter(|s| s.erased_at_ms.is_none()) {
                seen += 1;
                if self.rstore(r)?.identifiers(s.id)?.is_empty() {
                    out.push(s.id.to_string());
                }
            }
        }
        out.sort();
        self.report_entry(by, "identity_orphans", seen)?;
        Ok(out)
    }

    fn report_entry(&self, by: &str, action: &str, count: u64) -> Result<(), CoreError> {
        let mut e = system_entry(action, "subjects", "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N7.2")];
        e.resource = Resource::new(ResourceKind::Subject).count(count);
        self.store()?.commit(ChangeSet {
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }
}
