//! Resolving an ingest batch's records to subjects (issue 15 item 3): each
//! record against the store *and* the identifiers pending in the same
//! batch, so that an account profile naming an email and a later record
//! whose subject is that email land in one subject; a new identifier that
//! names a subject through one of the record's other identifiers joins it
//! instead of minting another; two identifiers of one record that belong
//! to two subjects are a link, merged after the batch commits (item 4).

use std::collections::HashMap;

use steward_domain::{IdentifierKind, NewRecord, SubjectId, SubjectIdentifier};
use steward_store::ChangeSet;

use crate::gate::SealingKey;
use crate::{CoreError, Steward};

/// Two subjects one record showed to be one person: merged into `keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    /// The region of both subjects.
    pub region: usize,
    /// The subject that stays.
    pub keep: SubjectId,
    /// The subject merged into `keep`.
    pub other: SubjectId,
}

/// The state of one ingest call's resolution.
pub(crate) struct BatchResolver<'a> {
    st: &'a Steward,
    tenant: Option<String>,
    new_home: usize,
    stored_at: i64,
    /// Identifiers resolved so far: committed ones and this batch's pending ones.
    cache: HashMap<SubjectIdentifier, (usize, SealingKey)>,
    /// The identifiers cached for what this batch has not committed yet.
    pending: Vec<SubjectIdentifier>,
    /// Subjects minted in this batch.
    pub(crate) minted: u64,
    /// Subjects minted by this ingest (in its namespace).
    minted_ids: Vec<SubjectId>,
    /// Links found in this batch.
    pub(crate) links: Vec<Link>,
}

/// The identifiers a record names besides its subject (an account's email,
/// a billing contact's address), normalised; IP addresses stay
/// pseudonymous subjects of their own and link nothing.
fn secondaries(rec: &NewRecord) -> Vec<SubjectIdentifier> {
    let mut out: Vec<SubjectIdentifier> = Vec::new();
    for spec in rec.kind().fields() {
        let Some(ik) = spec.identifier else { continue };
        if ik == IdentifierKind::Ip {
            continue;
        }
        let Some(serde_json::Value::String(v)) = rec.fields().get(spec.name) else {
            continue;
        };
        if v.is_empty() || v == "-" {
            continue;
        }
        let Ok(s) = SubjectIdentifier::new(ik, v) else {
            continue;
        };
        if s != *rec.subject() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

impl<'a> BatchResolver<'a> {
    /// A resolver for an ingest into organisation `tenant`'s namespace,
    /// new subjects in region `new_home`, stored at `stored_at` (ms).
    pub(crate) fn new(
        st: &'a Steward,
        tenant: Option<String>,
        new_home: usize,
        stored_at: i64,
    ) -> Self {
        BatchResolver {
            st,
            tenant,
            new_home,
            stored_at,
            cache: HashMap::new(),
            pending: Vec::new(),
            minted: 0,
            minted_ids: Vec::new(),
            links: Vec::new(),
        }
    }

    /// The batch committed: its pending identifiers are now stored.
    pub(crate) fn committed(&mut self) {
        self.pending.clear();
        self.minted = 0;
        self.links.clear();
    }

    /// The batch did not commit: forget what it would have created.
    pub(crate) fn rolled_back(&mut self) {
        for i in self.pending.drain(..) {
            self.cache.remove(&i);
        }
        self.minted = 0;
        self.links.clear();
    }

    fn cache_pending(&mut self, ident: SubjectIdentifier, home: usize, sk: &SealingKey) {
        self.cache.insert(ident.clone(), (home, sk.clone()));
        self.pending.push(ident);
    }

    /// The subject `ident` names in this namespace: pending in the batch,
    /// or stored (its index entry checked, issue 13 item 6).
    fn known(
        &mut self,
        ident: &SubjectIdentifier,
    ) -> Result<Option<(usize, SealingKey)>, CoreError> {
        if let Some(x) = self.cache.get(ident) {
            return Ok(Some(x.clone()));
        }
        for r in 0..self.st.regions.len() {
            // Under any live key version (issue 13 item 3: a rotation
            // under way has not re-indexed every entry yet).
            let Some((id, _)) = self.st.find_indexed(r, ident, self.tenant.as_deref())? else {
                continue;
            };
            let Some(sk) = self.st.sealing_key(r, id)? else {
                return Err(CoreError::Integrity {
                    record: id.to_string(),
                    reason: "subject has an index entry but no data key".into(),
                });
            };
            self.cache.insert(ident.clone(), (r, sk.clone()));
            return Ok(Some((r, sk)));
        }
        Ok(None)
    }

    /// The subject of `rec` (found, joined through another identifier of
    /// the record, or minted) and its seal-only key; the identifier rows,
    /// subject and tenant rows it needs go to `sets` (one per region).
    pub(crate) fn resolve(
        &mut self,
        rec: &NewRecord,
        sets: &mut [ChangeSet],
    ) -> Result<(usize, SealingKey), CoreError> {
        let secs = secondaries(rec);
        let (home, sk) = match self.known(rec.subject())? {
            Some(x) => x,
            None => {
                // Joined through another identifier of the record, only
                // within the record's organisation (a global email of
                // another organisation's subject joins nothing, N1.2).
                let mut via = None;
                for s in &secs {
                    if let Some(x) = self.known(s)?
                        && self.same_tenant(x.0, x.1.subject())?
                    {
                        via = Some(x);
                        break;
                    }
                }
                let (home, sk) = match via {
                    Some((home, sk)) => {
                        let blind = self.st.blind_in(rec.subject(), self.tenant.as_deref())?;
                        sets[home].identifiers.push(sk.identifier_row(
                            blind,
                            rec.subject().kind(),
                            rec.subject().value(),
                        ));
                        (home, sk)
                    }
                    None => self.mint(rec.subject(), sets)?,
                };
                self.cache_pending(rec.subject().clone(), home, &sk);
                (home, sk)
            }
        };
        for s in secs {
            match self.known(&s)? {
                Some((_, o)) if o.subject() == sk.subject() => {}
                Some((r, o)) => {
                    let link = Link {
                        region: r,
                        keep: sk.subject(),
                        other: o.subject(),
                    };
                    if r == home && !self.links.contains(&link) {
                        self.links.push(link);
                    }
                }
                None => {
                    let blind = self.st.blind_in(&s, self.tenant.as_deref())?;
                    sets[home]
                        .identifiers
                        .push(sk.identifier_row(blind, s.kind(), s.value()));
                    self.cache_pending(s, home, &sk);
                }
            }
        }
        Ok((home, sk))
    }

    /// Whether subject `id` of region `region` is in this ingest's namespace.
    fn same_tenant(&self, region: usize, id: SubjectId) -> Result<bool, CoreError> {
        if self.minted_ids.contains(&id) {
            return Ok(true);
        }
        Ok(self.st.subject_tenant(region, id)? == self.tenant)
    }

    fn mint(
        &mut self,
        ident: &SubjectIdentifier,
        sets: &mut [ChangeSet],
    ) -> Result<(usize, SealingKey), CoreError> {
        let home = self.new_home;
        let blind = self.st.blind_in(ident, self.tenant.as_deref())?;
        let sk = self
            .st
            .mint_subject(&mut sets[home], home, ident, blind, self.stored_at)?;
        if let Some(t) = &self.tenant {
            sets[home]
                .registry
                .push(Steward::tenant_row(sk.subject(), t)?);
        }
        self.minted += 1;
        self.minted_ids.push(sk.subject());
        Ok((home, sk))
    }
}
