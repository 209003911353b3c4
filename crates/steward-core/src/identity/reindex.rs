//! Re-indexing existing blind-index entries (issue 15 items 1 and 2):
//! once per store, at open, every live subject's identifier rows are
//! opened, normalised by today's rules and indexed in the subject's
//! namespace (its organisation for tenant-scoped kinds), in one audited
//! transaction; two subjects the new normalisation shows to be one person
//! are merged. And the adoption of a subject of the deployment's own
//! namespace into an organisation when it becomes one of its users.

use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{SubjectId, SubjectIdentifier};
use steward_store::{ChangeSet, RegistryGuard, RegistryTable, StoreError};

use super::resolve::Link;
use crate::gate::{Located, system_entry, token};
use crate::{CoreError, Steward};

/// The version of the identifier index: 2 is normalised (NFKC, case per
/// kind, canonical IP) and tenant-scoped (issue 15).
const INDEX_VERSION: &str = "2";

/// The tenancy-table key of a store's index version.
const INDEX_KEY: &str = "index:version";

impl Steward {
    /// Re-index every region's identifier rows once (issue 15 items 1 and
    /// 2), at open: a store whose index version is older gets its rows
    /// re-indexed in one transaction with an audit entry
    /// (`identifiers_reindex`, principal `steward`, the count); a store
    /// another process migrated meanwhile is left alone (a guard on the
    /// version row). Subjects that turn out to be one person are merged.
    ///
    /// Errors: store errors; [`CoreError::Integrity`] for a row that does
    /// not open.
    pub(crate) fn migrate_identifier_index(&self) -> Result<(), CoreError> {
        for r in 0..self.regions.len() {
            let now = self
                .rstore(r)?
                .registry_get(RegistryTable::Tenancy, INDEX_KEY)?;
            if now.as_deref() == Some(INDEX_VERSION) {
                continue;
            }
            let mut cs = ChangeSet::default();
            let mut changed = 0;
            let mut links = Vec::new();
            let subjects = self.rstore(r)?.subjects()?;
            for s in subjects.iter().filter(|s| s.erased_at_ms.is_none()) {
                let tenant = self.subject_tenant(r, s.id)?;
                let re = self.reindex_subject(r, s.id, tenant.as_deref(), &mut cs)?;
                changed += re.changed;
                links.extend(re.clashes.into_iter().map(|keep| Link {
                    region: r,
                    keep,
                    other: s.id,
                }));
            }
            cs.guards.push(RegistryGuard {
                table: RegistryTable::Tenancy,
                id: INDEX_KEY.into(),
                expected: now,
            });
            cs.registry.push((
                RegistryTable::Tenancy,
                INDEX_KEY.into(),
                INDEX_VERSION.into(),
            ));
            if changed > 0 {
                let mut e = system_entry(
                    "identifiers_reindex",
                    "identifiers",
                    "",
                    self.policy.version(),
                );
                e.clause_ids = vec![token("N7.2"), token("N1.2")];
                e.region = token(&self.regions[r].config.name);
                e.resource = Resource::new(ResourceKind::Subject).count(changed);
                cs.audit.push(e);
            }
            match self.rstore(r)?.commit(cs) {
                Ok(_) => {}
                Err(StoreError::GuardConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            for l in links {
                self.merge_linked(l)?;
            }
        }
        Ok(())
    }

    /// The subject a new user of `org` is for (issue 15 item 2): the one
    /// `identifier` names in `org`'s namespace, else one of the
    /// deployment's own namespace, adopted into `org`: its tenant-scoped
    /// identifiers re-indexed in `org`'s namespace, in `cs` (to commit with
    /// the user, the subject living in the primary region) or committed
    /// now with an audit entry (another region).
    ///
    /// Errors: [`CoreError::Input`] when the identifier names no subject,
    /// or one of another organisation.
    pub(crate) fn subject_for_user(
        &self,
        org: &str,
        identifier: &str,
        cs: &mut ChangeSet,
    ) -> Result<SubjectId, CoreError> {
        let none = || {
            CoreError::Input(
                "subject: the identifier matches no data subject; ingest an account record for it first".into(),
            )
        };
        let candidates = SubjectIdentifier::candidates(identifier)
            .map_err(|e| CoreError::Input(format!("subject: {e}")))?;
        for tenant in [Some(org), None] {
            for c in &candidates {
                let Some(at) = self.find_blind(c, tenant)? else {
                    continue;
                };
                match self.subject_tenant(at.region, at.id)? {
                    Some(t) if t == org => return Ok(at.id),
                    Some(_) => {
                        return Err(CoreError::Input(
                            "subject: this data subject belongs to another organisation".into(),
                        ));
                    }
                    None => return self.adopt(at, org, cs),
                }
            }
        }
        Err(none())
    }

    fn find_blind(
        &self,
        ident: &SubjectIdentifier,
        tenant: Option<&str>,
    ) -> Result<Option<Located>, CoreError> {
        for region in 0..self.regions.len() {
            if let Some((id, _)) = self.find_indexed(region, ident, tenant)? {
                return Ok(Some(Located { region, id }));
            }
        }
        Ok(None)
    }

    fn adopt(&self, at: Located, org: &str, cs: &mut ChangeSet) -> Result<SubjectId, CoreError> {
        let mut own = ChangeSet::default();
        let target = if at.region == 0 { cs } else { &mut own };
        let re = self.reindex_subject(at.region, at.id, Some(org), target)?;
        target.registry.push(Self::tenant_row(at.id, org)?);
        let mut e = system_entry(
            "identifiers_reindex",
            &format!("organisation:{org}"),
            "",
            self.policy.version(),
        );
        e.clause_ids = vec![token("N1.2")];
        e.region = token(&self.regions[at.region].config.name);
        e.resource = Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(at.id.0 as u64))
            .count(re.changed);
        target.audit.push(e);
        if at.region != 0 {
            self.rstore(at.region)?.commit(own)?;
        }
        Ok(at.id)
    }
}
