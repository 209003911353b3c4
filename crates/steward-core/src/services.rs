//! Principals (N5.5), support cases (N3.5), legal obligations (N3.7), and the
//! audit log's verification, proofs and search.

use serde::{Deserialize, Serialize};
use steward_audit::{
    Head, LogVerifier, StoredCheckpoint, StoredEntry, VerifierKey, VerifyFailure, VerifyReport,
};
use steward_audit::{Resource, ResourceKind};
use steward_crypto::blind_index;
use steward_domain::{Principal, SubjectIdentifier};
use steward_store::{ChangeSet, RegistryTable};

use crate::gate::{system_entry, token};
use crate::{CoreError, Steward};

/// An open or closed support case about a subject (N3.5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SupportCase {
    /// Case id.
    pub id: String,
    /// The subject (opaque id).
    pub subject: String,
    /// `open` or `closed`.
    pub status: String,
    /// Who opened it.
    pub opened_by: String,
}

/// A recorded legal obligation (N3.7, N6.5d).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LegalObligation {
    /// Id.
    pub id: String,
    /// `legal_request`, `government_request`, `record_keeping` or `data_subject_request`.
    pub kind: String,
    /// External reference (docket number, statute).
    pub reference: String,
    /// Who recorded it.
    pub recorded_by: String,
}

/// The outcome of `audit verify`.
#[derive(Debug)]
pub enum VerifyOutcome {
    /// Everything verified.
    Ok(VerifyReport),
    /// The first bad index and what is wrong.
    Failed(VerifyFailure),
}

fn valid_name(name: &str) -> Result<(), CoreError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(CoreError::Input(format!(
            "principal name must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got {} characters)",
            name.chars().count()
        )));
    }
    Ok(())
}

impl Steward {
    /// The principal acting on a management command: it must exist and not be
    /// revoked (N5.5: revocation takes effect on the next request, for
    /// management as for reads).
    pub(crate) fn acting(&self, by: &str) -> Result<Principal, CoreError> {
        let p = self.principal(by)?;
        if p.revoked {
            return Err(CoreError::Input(format!(
                "principal `{by}` is revoked and may not act (N5.5)"
            )));
        }
        Ok(p)
    }

    /// Add or replace a principal (N5.5), recorded in the audit log. A revoked
    /// principal cannot be re-added under the same name: revocation is final,
    /// so the audit trail of that name stays unambiguous.
    ///
    /// `by` is decided by policy for `manage_principals` and `protect`
    /// (audited, fail closed): security staff, or the configured operator
    /// (policy `bootstrap-operator`). Errors: [`CoreError::Denied`] naming
    /// the condition; [`CoreError::Input`] for a bad or revoked name.
    pub fn add_principal(&self, by: &str, p: &Principal) -> Result<(), CoreError> {
        valid_name(&p.name)?;
        let actor = self.acting(by)?;
        self.authorize_system(
            &actor,
            steward_policy::Action::ManagePrincipals,
            steward_domain::Purpose::Protect,
            "principals",
        )?;
        self.put_principal(by, p)
    }

    /// Store a principal and its audit entry, for a caller that has decided
    /// the change already (tenancy: an administrator adding a user of their
    /// organisation is decided there, N6.5).
    pub(crate) fn put_principal(&self, by: &str, p: &Principal) -> Result<(), CoreError> {
        valid_name(&p.name)?;
        self.acting(by)?;
        if let Some((_, true)) = self.store()?.principal(&p.name)? {
            return Err(CoreError::Input(format!(
                "principal `{}` was revoked; revocation is final (N5.5): add the person under a new name",
                p.name
            )));
        }
        let mut e = system_entry("principal_add", &p.name, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5")];
        self.store()?.commit(ChangeSet {
            principals: vec![(
                p.name.clone(),
                serde_json::to_string(p).unwrap_or_default(),
                p.revoked,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// Revoke a principal: every request from the next one on is denied (N5.5).
    /// `by` is decided by policy for `manage_principals` and `protect`
    /// (audited, fail closed). Errors: [`CoreError::Denied`]; [`CoreError::Input`].
    pub fn revoke_principal(&self, by: &str, name: &str) -> Result<(), CoreError> {
        let actor = self.acting(by)?;
        self.authorize_system(
            &actor,
            steward_policy::Action::ManagePrincipals,
            steward_domain::Purpose::Protect,
            "principals",
        )?;
        let mut p = self.principal(name)?;
        p.revoked = true;
        let mut e = system_entry("principal_revoke", name, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N5.5")];
        self.store()?.commit(ChangeSet {
            principals: vec![(
                p.name.clone(),
                serde_json::to_string(&p).unwrap_or_default(),
                true,
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// All principals.
    pub fn principals(&self) -> Result<Vec<Principal>, CoreError> {
        let rows = self.store()?.principals()?;
        rows.into_iter()
            .map(|(name, body, revoked)| {
                let mut p: Principal = serde_json::from_str(&body).map_err(|e| {
                    CoreError::Store(steward_store::StoreError::Corrupt(format!(
                        "principal {name}: {e}"
                    )))
                })?;
                p.revoked = revoked;
                Ok(p)
            })
            .collect()
    }

    /// Open a support case about a subject (N3.5): support staff may then read
    /// the subject's account and communications for `assist` citing the case.
    pub fn open_case(&self, by: &str, subject: &str) -> Result<SupportCase, CoreError> {
        self.acting(by)?;
        let (located, _) = self.resolve(subject)?;
        let id = located
            .map(|l| l.id)
            .ok_or_else(|| CoreError::Input("--subject matches no data subject".into()))?;
        let case = SupportCase {
            id: format!("case-{}", &crate::gate::new_request_id()[4..]),
            subject: id.to_string(),
            status: "open".into(),
            opened_by: by.into(),
        };
        let mut e = system_entry("case_open", &case.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.5")];
        e.resource = Resource::new(ResourceKind::Subject)
            .id(token(&case.id))
            .subject(steward_audit::SubjectRef::new(id.0 as u64));
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::SupportCases,
                case.id.clone(),
                serde_json::to_string(&case).unwrap_or_default(),
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(case)
    }

    /// Close a support case: reads citing it are denied from then on.
    pub fn close_case(&self, by: &str, case_id: &str) -> Result<(), CoreError> {
        self.acting(by)?;
        let body = self
            .store()?
            .registry_get(RegistryTable::SupportCases, case_id)?
            .ok_or_else(|| CoreError::Input(format!("no support case `{case_id}`")))?;
        let mut case: SupportCase =
            serde_json::from_str(&body).map_err(|e| CoreError::Input(e.to_string()))?;
        case.status = "closed".into();
        let mut e = system_entry("case_close", &case.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.5")];
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::SupportCases,
                case.id.clone(),
                serde_json::to_string(&case).unwrap_or_default(),
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// Record a legal obligation (N3.7) that `comply` reads may cite.
    pub fn record_obligation(
        &self,
        by: &str,
        kind: &str,
        reference: &str,
    ) -> Result<LegalObligation, CoreError> {
        self.acting(by)?;
        if ![
            "legal_request",
            "government_request",
            "record_keeping",
            "data_subject_request",
        ]
        .contains(&kind)
        {
            return Err(CoreError::Input(format!(
                "obligation kind `{kind}`: expected legal_request, government_request, record_keeping or data_subject_request"
            )));
        }
        let ob = LegalObligation {
            id: format!("obligation-{}", &crate::gate::new_request_id()[4..]),
            kind: kind.into(),
            reference: reference.into(),
            recorded_by: by.into(),
        };
        let mut e = system_entry("obligation_record", &ob.id, "", self.policy.version());
        e.principal = token(by);
        e.clause_ids = vec![token("N3.7")];
        self.store()?.commit(ChangeSet {
            registry: vec![(
                RegistryTable::LegalObligations,
                ob.id.clone(),
                serde_json::to_string(&ob).unwrap_or_default(),
            )],
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(ob)
    }

    /// Erasure receipts stored so far (N8.8).
    pub fn receipts(&self) -> Result<Vec<crate::ErasureReceipt>, CoreError> {
        let mut out = Vec::new();
        for r in 0..self.regions.len() {
            out.extend(
                self.rstore(r)?
                    .registry_list(RegistryTable::ErasureReceipts)?
                    .into_iter()
                    .filter_map(|(_, b)| serde_json::from_str(&b).ok()),
            );
        }
        Ok(out)
    }

    /// Recompute the whole audit log: every leaf hash, the hash chain, every
    /// checkpoint's signature and root, and the head row. Reports the first bad
    /// index and what is wrong there.
    ///
    /// Every region's log is verified; the report adds up their entries and
    /// checkpoints (root and size are the primary region's). A failure names
    /// the region.
    pub fn audit_verify(&self) -> Result<VerifyOutcome, CoreError> {
        let mut total: Option<VerifyReport> = None;
        for r in 0..self.regions.len() {
            match self.audit_verify_region(r)? {
                VerifyOutcome::Ok(rep) => match &mut total {
                    None => total = Some(rep),
                    Some(t) => {
                        t.entries += rep.entries;
                        t.checkpoints_verified += rep.checkpoints_verified;
                    }
                },
                VerifyOutcome::Failed(mut f) => {
                    if self.regions.len() > 1 {
                        f.what = format!("region {}: {}", self.regions[r].config.name, f.what);
                    }
                    return Ok(VerifyOutcome::Failed(f));
                }
            }
        }
        total
            .map(VerifyOutcome::Ok)
            .ok_or_else(|| CoreError::Config("no regions".into()))
    }

    /// Verify one region's audit log.
    pub fn audit_verify_region(&self, region: usize) -> Result<VerifyOutcome, CoreError> {
        let key =
            VerifierKey::parse(&self.verifier_key).map_err(|e| CoreError::Input(e.to_string()))?;
        let store = self.rstore(region)?;
        let cps: Vec<StoredCheckpoint> = store
            .checkpoints()?
            .into_iter()
            .map(|(size, note)| StoredCheckpoint { size, note })
            .collect();
        let (size, root) = store.audit_head()?;
        let mut v = LogVerifier::new(&cps, Some(Head { size, root }), &key);
        let mut failure = None;
        store.audit_scan(0, u64::MAX, &mut |row| {
            if let Err(f) = v.push(&StoredEntry {
                index: row.index,
                bytes: row.entry,
                leaf_hash: row.leaf_hash,
            }) {
                failure = Some(f);
                return false;
            }
            true
        })?;
        if let Some(f) = failure {
            return Ok(VerifyOutcome::Failed(f));
        }
        Ok(match v.finish() {
            Ok(r) => VerifyOutcome::Ok(r),
            Err(f) => VerifyOutcome::Failed(f),
        })
    }

    fn leaf_hashes(&self, to: u64) -> Result<Vec<[u8; 32]>, CoreError> {
        let mut leaves = Vec::new();
        self.store()?.audit_scan(0, to, &mut |row| {
            leaves.push(steward_audit::leaf_hash(&row.entry));
            true
        })?;
        Ok(leaves)
    }

    /// An inclusion proof (RFC 9162 §2.1.3) of entry `index` in the tree of the
    /// latest checkpoint that covers it: (entry bytes, checkpoint note, proof).
    pub fn audit_prove_inclusion(
        &self,
        index: u64,
    ) -> Result<(Vec<u8>, String, Vec<[u8; 32]>), CoreError> {
        let cps = self.store()?.checkpoints()?;
        let (size, note) = cps
            .into_iter()
            .rev()
            .find(|(s, _)| *s > index)
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "no checkpoint covers index {index} yet: run `steward audit checkpoint`"
                ))
            })?;
        let leaves = self.leaf_hashes(size)?;
        let proof = steward_audit::inclusion_proof(&leaves, index, size)
            .map_err(|e| CoreError::Input(e.to_string()))?;
        let mut entry = Vec::new();
        self.store()?.audit_scan(index, index + 1, &mut |row| {
            entry = row.entry;
            false
        })?;
        Ok((entry, note, proof))
    }

    /// A consistency proof (RFC 9162 §2.1.4) between two checkpointed sizes:
    /// (old note, new note, proof).
    pub fn audit_prove_consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<(String, String, Vec<[u8; 32]>), CoreError> {
        let cps = self.store()?.checkpoints()?;
        let find = |s: u64| {
            cps.iter()
                .find(|(size, _)| *size == s)
                .map(|(_, n)| n.clone())
                .ok_or_else(|| {
                    CoreError::Input(format!(
                        "no checkpoint of size {s}; sizes are: {}",
                        cps.iter()
                            .map(|c| c.0.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        };
        let (o, n) = (find(old)?, find(new)?);
        let leaves = self.leaf_hashes(new)?;
        let proof = steward_audit::consistency_proof(&leaves, old, new)
            .map_err(|e| CoreError::Input(e.to_string()))?;
        Ok((o, n, proof))
    }

    /// Cut a signed checkpoint now.
    pub fn audit_checkpoint(&self) -> Result<u64, CoreError> {
        let mut size = 0;
        for r in 0..self.regions.len() {
            let s = self.rstore(r)?.cut_checkpoint()?;
            if r == 0 {
                size = s;
            }
        }
        Ok(size)
    }

    /// Search the audit log. A subject identifier filter is resolved through
    /// the blind index; entries are matched by opaque subject id or blind-index
    /// reference, never by clear identifiers.
    pub fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<String>, CoreError> {
        let mut subject_ref: Option<String> = None;
        let mut blind_refs: Vec<String> = Vec::new();
        if let Some(s) = &filter.subject {
            let (located, _) = self.resolve(s)?;
            subject_ref = located.map(|l| l.id.to_string());
            if let Ok(cands) = SubjectIdentifier::candidates(s) {
                blind_refs = cands
                    .iter()
                    .map(|c| hex::encode(&blind_index(&self.blind_key, c)[..16]))
                    .collect();
            }
        }
        let mut out = Vec::new();
        for region in 0..self.regions.len() {
            self.rstore(region)?.audit_scan(0, u64::MAX, &mut |row| {
                let Ok(e) = steward_audit::AuditEntry::decode(&row.entry) else {
                    return true;
                };
                let v: serde_json::Value = serde_json::from_slice(&row.entry).unwrap_or_default();
                let ok = filter
                    .principal
                    .as_ref()
                    .is_none_or(|p| e.principal.as_str() == p)
                    && filter
                        .purpose
                        .as_ref()
                        .is_none_or(|p| e.purpose.as_ref().map(|t| t.as_str()) == Some(p.as_str()))
                    && filter
                        .decision
                        .as_ref()
                        .is_none_or(|d| v["decision"].as_str() == Some(d.as_str()))
                    && filter
                        .action
                        .as_ref()
                        .is_none_or(|a| e.action.as_str() == a)
                    && filter
                        .since
                        .as_ref()
                        .is_none_or(|t| e.time.as_str() >= t.as_str())
                    && filter
                        .until
                        .as_ref()
                        .is_none_or(|t| e.time.as_str() < t.as_str())
                    && (filter.subject.is_none() || {
                        let subs = v["resource"]["subjects"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        let blinds = v["resource"]["blind_indexes"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        subject_ref
                            .as_ref()
                            .is_some_and(|s| subs.iter().any(|x| x.as_str() == Some(s)))
                            || blinds.iter().any(|b| {
                                b.as_str()
                                    .is_some_and(|b| blind_refs.iter().any(|r| r == b))
                            })
                    });
                if ok {
                    out.push(String::from_utf8_lossy(&row.entry).into_owned());
                }
                true
            })?;
        }
        Ok(out)
    }
}

/// Filters of `steward audit search`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Principal name.
    pub principal: Option<String>,
    /// Purpose key.
    pub purpose: Option<String>,
    /// `allow`, `deny` or `done`.
    pub decision: Option<String>,
    /// Action name.
    pub action: Option<String>,
    /// RFC 3339 lower bound (inclusive).
    pub since: Option<String>,
    /// RFC 3339 upper bound (exclusive).
    pub until: Option<String>,
    /// A subject identifier (resolved through the blind index).
    pub subject: Option<String>,
}
