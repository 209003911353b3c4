//! Merging two subjects that turn out to be one person (issue 15 item 4):
//! when a record names two identifiers of two subjects (an email subject
//! an early request made, and the account), and by hand by privacy staff
//! (decided by the pack as [`ManagementAction::SubjectsMerge`]). One
//! audited transaction: the records re-sealed under the kept subject's
//! data key, the identifiers moved, the other subject crypto-shredded, and
//! the data subject requests about it moved to the kept subject (N7.2: a
//! request by any identifier reaches all of the person's data).

use serde::Serialize;
use steward_audit::{EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::SubjectId;
use steward_store::{ChangeSet, RegistryField, RegistryGuard, RegistryQuery, RegistryTable};

use super::resolve::Link;
use crate::authorize::{ManagementAction, Target};
use crate::dsr::Request;
use crate::gate::{Located, system_entry, token};
use crate::rows::parse_row;
use crate::{CoreError, Steward};

/// The receipt of a merge.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergeReceipt {
    /// The subject that stays (opaque id).
    pub kept: String,
    /// The subject merged into it and crypto-shredded (opaque id).
    pub merged: String,
    /// Records re-sealed under the kept subject's data key.
    pub records_moved: u64,
    /// Identifier rows moved to the kept subject.
    pub identifiers_moved: u64,
    /// Data subject requests that now name the kept subject.
    pub requests_moved: u64,
    /// The audit entry recording the merge.
    pub audit_index: u64,
}

impl Steward {
    /// Merge the subject `other` names into the one `keep` names (each a
    /// `sub_` id or an identifier naming one subject), as `by`: decided by
    /// the pack first ([`ManagementAction::SubjectsMerge`], `dsr_handle`:
    /// privacy staff, N7.2), the decision committed with the merge.
    ///
    /// Errors: [`CoreError::Denied`]; [`CoreError::Input`] when either
    /// names no live subject, both name the same one, they live in two
    /// regions or two organisations' namespaces, both are users, or
    /// `other` has records under a legal hold.
    pub fn merge_subjects(
        &self,
        by: &str,
        keep: &str,
        other: &str,
    ) -> Result<MergeReceipt, CoreError> {
        // Decided before anything is resolved: a refusal does not depend
        // on what exists (issue 14 item 8).
        let principal = self.principal(by)?;
        let (_, decision) = self.decide_management(
            &principal,
            ManagementAction::SubjectsMerge,
            Target::named("subjects"),
        )?;
        let k = self.located(keep, "keep")?;
        let o = self.located(other, "other")?;
        self.merge_located(by, k, o, Some(decision))
    }

    fn located(&self, arg: &str, what: &str) -> Result<Located, CoreError> {
        self.resolve(arg)?.0.ok_or_else(|| {
            CoreError::Input(format!(
                "{what}: names no live data subject (give a sub_ id or an identifier)"
            ))
        })
    }

    /// Merge the two subjects an ingested record linked (issue 15 item 4),
    /// as Steward: the user (if one is) is kept. Subjects of two
    /// organisations' namespaces, or two users, are left apart: the
    /// confusable and orphan reports show them to privacy staff.
    pub(crate) fn merge_linked(&self, l: Link) -> Result<(), CoreError> {
        let (mut keep, mut other) = (l.keep, l.other);
        if self.organisation_of_subject(other)?.is_some() {
            if self.organisation_of_subject(keep)?.is_some() {
                return Ok(());
            }
            std::mem::swap(&mut keep, &mut other);
        }
        if self.subject_tenant(l.region, keep)? != self.subject_tenant(l.region, other)? {
            return Ok(());
        }
        let at = |id| Located {
            region: l.region,
            id,
        };
        self.merge_located("steward", at(keep), at(other), None)
            .map(|_| ())
    }

    fn merge_located(
        &self,
        by: &str,
        keep: Located,
        other: Located,
        decision: Option<EntryDraft>,
    ) -> Result<MergeReceipt, CoreError> {
        if keep.id == other.id {
            return Err(CoreError::Input(
                "keep and other name the same subject: nothing to merge".into(),
            ));
        }
        if keep.region != other.region {
            return Err(CoreError::Input(format!(
                "{} and {} live in two regions (N4.1): a subject's data stays in its region; they cannot be merged",
                keep.id, other.id
            )));
        }
        let region = keep.region;
        let tenant = self.subject_tenant(region, keep.id)?;
        if tenant != self.subject_tenant(region, other.id)? {
            return Err(CoreError::Input(format!(
                "{} and {} belong to two organisations (N1.2): they are two people",
                keep.id, other.id
            )));
        }
        if self.organisation_of_subject(other.id)?.is_some() {
            return Err(CoreError::Input(format!(
                "{} is a user of an organisation: keep it (give it as keep) instead",
                other.id
            )));
        }
        let mut cs = ChangeSet::default();
        cs.audit.extend(decision);
        let m = self.merge_into(region, keep.id, other.id, tenant.as_deref(), &mut cs)?;
        let mut moved = 0;
        if region == 0 {
            moved = self.move_requests(other.id, keep.id, &mut cs)?;
        }
        let mut e = system_entry(
            "subjects_merge",
            &keep.id.to_string(),
            "",
            self.policy.version(),
        );
        e.principal = token(by);
        e.clause_ids = vec![token("N7.2"), token("N8.8")];
        e.region = token(&self.regions[region].config.name);
        e.resource = Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(keep.id.0 as u64))
            .subject(SubjectRef::new(other.id.0 as u64))
            .count(m.records);
        cs.audit.push(e);
        let committed = self.rstore(region)?.commit(cs)?;
        if region != 0 {
            let mut cs = ChangeSet::default();
            moved = self.move_requests(other.id, keep.id, &mut cs)?;
            if moved > 0 {
                let mut e = system_entry(
                    "dsr_subject_merge",
                    &keep.id.to_string(),
                    "",
                    self.policy.version(),
                );
                e.clause_ids = vec![token("N7.2")];
                e.resource = Resource::new(ResourceKind::Subject)
                    .subject(SubjectRef::new(keep.id.0 as u64))
                    .count(moved);
                cs.audit.push(e);
                self.store()?.commit(cs)?;
            }
        }
        Ok(MergeReceipt {
            kept: keep.id.to_string(),
            merged: other.id.to_string(),
            records_moved: m.records,
            identifiers_moved: m.identifiers,
            requests_moved: moved,
            audit_index: committed.audit_indexes.last().copied().unwrap_or(0),
        })
    }

    /// Push to `cs` the requests about `from` rewritten to name `to`
    /// (guarded: a request changed meanwhile fails the commit).
    fn move_requests(
        &self,
        from: SubjectId,
        to: SubjectId,
        cs: &mut ChangeSet,
    ) -> Result<u64, CoreError> {
        let want = from.to_string();
        let mut n = 0;
        for (id, body) in self.store()?.registry_find(
            RegistryTable::Requests,
            RegistryQuery::Equals(RegistryField::Subject, &want),
        )? {
            let mut r: Request = parse_row(RegistryTable::Requests, &id, &body)?;
            if r.subject.as_deref() != Some(want.as_str()) {
                continue;
            }
            r.subject = Some(to.to_string());
            let new = serde_json::to_string(&r).map_err(|e| CoreError::Input(e.to_string()))?;
            cs.registry.push((RegistryTable::Requests, id.clone(), new));
            cs.guards.push(RegistryGuard {
                table: RegistryTable::Requests,
                id,
                expected: Some(body),
            });
            n += 1;
        }
        Ok(n)
    }
}
