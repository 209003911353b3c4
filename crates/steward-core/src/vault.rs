//! The vault: ingest (sealing per subject), export (N7.1, N7.2, N8.1, N8.2),
//! erasure by crypto-shredding (N8.8), subject listing and lookup.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use serde::Serialize;
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, NewRecord, Purpose, RecordId, SubjectId};
use steward_policy::{Action, DecisionRequest, RequestContext};
use steward_store::{ChangeSet, RecordRow, RegistryTable};

use crate::authorize::{ManagementAction, Target};
use crate::gate::{AccessRequest, new_request_id, now_ts, record_ref, token};
use crate::identity::resolve::BatchResolver;
use crate::rows::row_json;
use crate::{CoreError, Steward};

/// What an ingest stored.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct IngestSummary {
    /// Records stored.
    pub stored: u64,
    /// Records refused by the closed schema.
    pub rejected: u64,
    /// Lines skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Records stored per category.
    pub by_category: BTreeMap<String, u64>,
    /// New subjects created.
    pub new_subjects: u64,
    /// Seconds taken.
    pub elapsed_secs: f64,
    /// Records stored per second.
    pub records_per_sec: f64,
}

/// The result of an export.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExportSummary {
    /// The opaque subject id, if the identifier matched one.
    pub subject: Option<String>,
    /// Records exported.
    pub record_count: u64,
    /// Per category.
    pub categories: BTreeMap<String, u64>,
    /// The ZIP written.
    pub path: String,
    /// The audit entry recording it.
    pub audit_index: u64,
    /// Records of an erased subject kept under a legal hold, which this
    /// export does not hold (N3.7; issue 18, item 6): how many, why, until.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<crate::HeldNotice>,
}

/// The receipt of an erasure (N8.8).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ErasureReceipt {
    /// Receipt id.
    pub receipt_id: String,
    /// The opaque subject id (never the identifier).
    pub subject: String,
    /// Records made unreadable by destroying the data key.
    pub records_unreadable: u64,
    /// When (RFC 3339 UTC).
    pub erased_at: String,
    /// The audit entry recording it.
    pub audit_index: u64,
    /// Records kept under a legal hold (N3.7), per category and kind, with
    /// the reason and the dates they go ([`Steward::erase_with_holds`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retained: Vec<crate::RetainedRecords>,
    /// Where and from when the erasure holds (issue 13 item 1): unreadable
    /// in the live store now; unrecoverable from every copy once the key
    /// schedule destroys the KEK generation that wrapped the data key, on
    /// the date given. `None` on receipts of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee: Option<crate::erasure::ErasureGuarantee>,
}

/// One subject in a listing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubjectSummary {
    /// Opaque id.
    pub subject: String,
    /// Home region.
    pub region: String,
    /// Whether erased.
    pub erased: bool,
    /// Records per category.
    pub records: BTreeMap<String, u64>,
    /// Identifiers (`kind:value`), decrypted through the gate; empty unless asked.
    pub identifiers: Vec<String>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Record ids: ms timestamp in the high bits, 21 low bits from a counter that
/// starts at a random point: unique and increasing within a process.
struct IdGen {
    last: i64,
    node: i64,
}

impl IdGen {
    fn new() -> Self {
        let mut r = [0u8; 2];
        rand::rng().fill_bytes(&mut r);
        IdGen {
            last: 0,
            node: i64::from(u16::from_le_bytes(r) & 0x3FF),
        }
    }
    fn next(&mut self) -> RecordId {
        // ms << 21 | node (10 random bits per writer) << 11 | counter (11 bits).
        // Two concurrent writers collide only if they drew the same node id
        // (1 in 1,024) and write in the same millisecond; the store's unique
        // key then refuses the batch (nothing half-stored) and it can be retried.
        let cand = (now_ms() << 21) | (self.node << 11);
        self.last = if cand > self.last {
            cand
        } else if self.last & 0x7FF == 0x7FF {
            self.last + (1 << 21) - 0x7FF
        } else {
            self.last + 1
        };
        RecordId(self.last)
    }
}

impl Steward {
    /// Decide an ingest batch: the principal must be allowed to ingest every
    /// category the batch holds (N3.1, N1.3).
    fn decide_ingest(
        &self,
        principal: &str,
        categories: &std::collections::BTreeSet<Category>,
    ) -> Result<EntryDraft, CoreError> {
        let p = self.principal(principal)?;
        let mut d = steward_policy::Decision {
            allowed: true,
            policy_ids: vec![],
            clause_ids: vec![],
            reason: String::new(),
            basis: steward_policy::DecisionBasis::Permit,
            justification: None,
        };
        for c in categories {
            let one = self.policy.decide(&DecisionRequest {
                principal: &p,
                action: Action::Ingest,
                subject: None,
                category: Some(*c),
                organisation: None,
                kind: None,
                purpose: Some(Purpose::ProvideServices),
                context: RequestContext::new(self.clock.today()),
            });
            if !one.allowed {
                d = one;
                break;
            }
            for id in one.policy_ids {
                if !d.policy_ids.contains(&id) {
                    d.policy_ids.push(id);
                }
            }
            for id in one.clause_ids {
                if !d.clause_ids.contains(&id) {
                    d.clause_ids.push(id);
                }
            }
        }
        let entry = self.decision_entry(
            &d,
            "ingest",
            &p.name,
            Some(Purpose::ProvideServices),
            0,
            Resource::new(ResourceKind::Batch),
        );
        if !d.allowed {
            return Err(self.record_denial(d, entry));
        }
        Ok(entry)
    }

    /// Store records as `principal` (an internal service; the CLI uses
    /// `ingest`). Records are sealed under their subject's data key (created
    /// and wrapped on first sight, N5.2) and committed in transactions of
    /// `config.ingest_batch` records, each with one audit entry naming the
    /// batch's record ids. `progress` is called with the records stored so far.
    ///
    /// Errors: [`CoreError::Denied`] when policy does not let the principal
    /// ingest; storage errors (the failing batch leaves nothing behind;
    /// earlier batches stay stored and were acknowledged by `progress`).
    pub fn ingest(
        &self,
        principal: &str,
        records: Vec<NewRecord>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<IngestSummary, CoreError> {
        self.ingest_in(principal, None, records, progress)
    }

    /// The home region of new subjects of an ingest call (`None`: the
    /// first), after checking that every record's product is served. N1.1:
    /// the products a deployment serves are configuration (each region's
    /// `products`); a record of another product is refused before anything
    /// of the call is stored.
    fn ingest_home(&self, region: Option<&str>, records: &[NewRecord]) -> Result<usize, CoreError> {
        if let Some(r) = records.iter().find(|r| {
            let p = r.product().as_str();
            !self
                .regions
                .iter()
                .any(|g| g.config.products.iter().any(|x| x == p))
        }) {
            return Err(CoreError::Input(format!(
                "product `{}` is not served by any configured region: add it to a region's `products` in the configuration, or tag the records with a served product (N1.1)",
                r.product()
            )));
        }
        match region {
            Some(name) => self.region_index(name),
            None => Ok(0),
        }
    }

    /// [`Steward::ingest`] with the home region of *new* subjects named
    /// (`None`: the first region). Records of a subject who already exists go
    /// to that subject's home region, whatever `region` says: a subject's
    /// records, keys and audit entries are written only to their region's
    /// store (N4.1). A batch that spans regions commits once per region.
    /// The organisation is the principal's, if it acts for exactly one
    /// ([`Steward::ingest_for`]).
    pub fn ingest_in(
        &self,
        principal: &str,
        region: Option<&str>,
        records: Vec<NewRecord>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<IngestSummary, CoreError> {
        self.ingest_for(principal, region, None, records, progress)
    }

    /// [`Steward::ingest_in`] for the records of organisation
    /// `organisation` (N1.2; issue 15 item 2): tenant-scoped identifiers
    /// (usernames, device ids, by configuration others) are found and
    /// indexed in that organisation's namespace, so another organisation's
    /// user of the same name is another subject. `None`: the ingesting
    /// principal's organisation if it acts for exactly one, else the
    /// deployment's own namespace (refused when `[identity]
    /// require_tenant` is set). Each record resolves against the store and
    /// the identifiers pending in its batch; a batch whose new identifier
    /// another writer indexed first is resolved again and retried (item
    /// 3); subjects a record shows to be one person are merged (item 4).
    ///
    /// Errors: [`CoreError::Input`] for an organisation that does not exist
    /// or that the principal does not act for; as [`Steward::ingest`].
    pub fn ingest_for(
        &self,
        principal: &str,
        region: Option<&str>,
        organisation: Option<&str>,
        records: Vec<NewRecord>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<IngestSummary, CoreError> {
        let start = Instant::now();
        let new_home = self.ingest_home(region, &records)?;
        let tenant = self.ingest_tenant(&self.principal(principal)?, organisation)?;
        self.check_tenant_given(tenant.as_deref(), &records)?;
        let mut summary = IngestSummary::default();
        let mut resolver = BatchResolver::new(self, tenant, new_home, self.clock.now_ms());
        let mut ids = IdGen::new();
        let batch_size = self.config.ingest_batch.max(1);
        for batch in records.chunks(batch_size) {
            let categories = batch.iter().map(|r| r.kind().category()).collect();
            let allow = self.decide_ingest(principal, &categories)?;
            let mut attempt = 0;
            loop {
                match self.ingest_batch(batch, &allow, &mut resolver, &mut ids, &mut summary) {
                    Err(BatchError::Clash) if attempt < 3 => attempt += 1,
                    Err(BatchError::Clash) => {
                        return Err(CoreError::Store(steward_store::StoreError::IdentifierClash));
                    }
                    // Issue 21: another writer drew one of the batch's record
                    // ids in the same millisecond; draw a new writer id and
                    // seal the batch again (ids are bound in each record's AAD).
                    Err(BatchError::IdClash) if attempt < 3 => {
                        attempt += 1;
                        ids = IdGen::new();
                    }
                    Err(BatchError::IdClash) => {
                        return Err(CoreError::Store(steward_store::StoreError::RecordIdClash));
                    }
                    Err(BatchError::Core(e)) => return Err(e),
                    Ok(()) => break,
                }
            }
            progress(summary.stored);
        }
        summary.elapsed_secs = start.elapsed().as_secs_f64();
        summary.records_per_sec = if summary.elapsed_secs > 0.0 {
            summary.stored as f64 / summary.elapsed_secs
        } else {
            0.0
        };
        Ok(summary)
    }

    /// Seal and commit one batch (one transaction per region it touches).
    /// A clash on a blind-index key at the first region's commit (another
    /// writer indexed a new identifier first) is `BatchError::Clash`:
    /// nothing of the batch was stored, and resolving it again finds the
    /// subject that won.
    fn ingest_batch(
        &self,
        batch: &[NewRecord],
        allow: &EntryDraft,
        resolver: &mut BatchResolver<'_>,
        ids: &mut IdGen,
        summary: &mut IngestSummary,
    ) -> Result<(), BatchError> {
        let mut sets: Vec<ChangeSet> = (0..self.regions.len())
            .map(|_| ChangeSet::default())
            .collect();
        let mut by_cat = [0u64; 5];
        let stored_at = self.clock.now_ms();
        for rec in batch {
            let (home, sk) = match resolver.resolve(rec, &mut sets) {
                Ok(x) => x,
                Err(e) => {
                    resolver.rolled_back();
                    return Err(BatchError::Core(e));
                }
            };
            let category = rec.kind().category();
            let plain = match serde_json::to_vec(&RecordBody {
                fields: rec.fields(),
                occurred_at: rec.occurred_at(),
            }) {
                Ok(p) => p,
                Err(e) => {
                    resolver.rolled_back();
                    return Err(BatchError::Core(CoreError::Input(format!(
                        "a record's fields could not be written as JSON ({e}): nothing of the batch was stored; give fields as a JSON object of strings, numbers and booleans"
                    ))));
                }
            };
            let mut row = RecordRow {
                id: ids.next(),
                subject: sk.subject(),
                category: Cow::Borrowed(category.as_str()),
                kind: Cow::Borrowed(rec.kind().as_str()),
                product: Cow::Borrowed(rec.product().as_str()),
                region: Cow::Owned(self.regions[home].config.name.clone()),
                key_version: sk.key_version(),
                stored_at_ms: stored_at,
                sealed: Vec::new(),
            };
            row.sealed = sk.seal_record(&row, &plain)?;
            sets[home].records.push(row);
            by_cat[usize::from(category.code() - 1)] += 1;
        }
        let mut first = true;
        for (r, mut cs) in sets.into_iter().enumerate() {
            if cs.records.is_empty() && cs.subjects.is_empty() && cs.identifiers.is_empty() {
                continue;
            }
            let n = cs.records.len() as u64;
            let mut entry = allow.clone();
            entry.region = token(&self.regions[r].config.name);
            let mut res = Resource::new(ResourceKind::Batch).count(n);
            if let (Some(first), Some(last)) = (cs.records.first(), cs.records.last()) {
                res = res.record(record_ref(first.id)).record(record_ref(last.id));
            }
            entry.resource = res;
            cs.audit.push(entry);
            if let Err(e) = self.rstore(r)?.commit(cs) {
                // The failed region's part left nothing behind: forget subjects created in it.
                resolver.rolled_back();
                return Err(match e {
                    steward_store::StoreError::IdentifierClash if first => BatchError::Clash,
                    steward_store::StoreError::RecordIdClash if first => BatchError::IdClash,
                    e => BatchError::Core(e.into()),
                });
            }
            first = false;
            summary.stored += n;
        }
        summary.new_subjects += resolver.minted;
        let links = std::mem::take(&mut resolver.links);
        resolver.committed();
        for l in links {
            self.merge_linked(l)?;
        }
        for (c, v) in Category::ALL.iter().zip(by_cat) {
            if v > 0 {
                *summary
                    .by_category
                    .entry(c.as_str().to_owned())
                    .or_default() += v;
            }
        }
        Ok(())
    }

    /// Erase a subject by crypto-shredding (N8.8), through the gate as
    /// `principal`: the subject's wrapped data key and identifiers are
    /// deleted in the same transaction as the audit entries, so every copy of
    /// their records (backups included, once the KEK that wrapped a backup's
    /// keys is retired) can no longer be opened; rows are swept by
    /// [`Steward::sweep`]. The receipt is stored and returned.
    ///
    /// `obligation` names the recorded legal obligation (the erasure request, N3.7).
    pub fn erase(
        &self,
        principal: &str,
        purpose: Purpose,
        subject: &str,
        obligation: Option<&str>,
    ) -> Result<ErasureReceipt, CoreError> {
        let (resolved, _) = self.resolve(subject)?;
        let Some(crate::gate::Located { region, id }) = resolved else {
            return Err(CoreError::Input(
                "--subject matches no data subject (already erased, or never stored)".into(),
            ));
        };
        let count: u64 = self
            .rstore(region)?
            .record_counts(id)?
            .iter()
            .map(|(_, n)| n)
            .sum();
        let mut rid = [0u8; 8];
        rand::rng().fill_bytes(&mut rid);
        let receipt_id = format!("erasure-{}", hex::encode(rid));
        let size_before = self.rstore(region)?.audit_size()?;
        let now = self.clock.now();
        let mut receipt = ErasureReceipt {
            receipt_id: receipt_id.clone(),
            subject: id.to_string(),
            records_unreadable: count,
            erased_at: self.clock.rfc3339(),
            // The decision is the first entry of the gate's commit.
            audit_index: size_before,
            retained: vec![],
            guarantee: Some(self.erasure_guarantee(region, id, now)?),
        };
        let mut cs = ChangeSet {
            shred: vec![id],
            ..Default::default()
        };
        cs.registry.push((
            RegistryTable::ErasureReceipts,
            receipt_id.clone(),
            row_json(&receipt)?,
        ));
        cs.audit.push(EntryDraft {
            action: token("crypto_shred"),
            clause_ids: vec![token("N8.8")],
            decision: AuditDecision::Done,
            policy_ids: vec![],
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: Some(token(purpose.as_str())),
            reason: None,
            region: token(&self.config.home_region().name),
            request_id: token(&new_request_id()),
            resource: Resource::new(ResourceKind::Erasure)
                .subject(SubjectRef::new(id.0 as u64))
                .count(count)
                .id(token(&receipt_id)),
            time: now_ts(),
        });
        let req = AccessRequest::new(principal, Action::Erase, id.to_string())
            .purpose(purpose)
            .obligation(obligation);
        let opened = self.gate(&req, Some(cs))?;
        receipt.audit_index = opened.audit_index;
        // Answers to earlier access/export requests are copies in clear (N8.8).
        self.delete_request_exports(id)?;
        self.forget_request_identifiers(id)?;
        Ok(receipt)
    }

    /// Delete the rows of erased subjects (their data is already unreadable).
    pub fn sweep(&self) -> Result<u64, CoreError> {
        let mut n = 0;
        for r in 0..self.regions.len() {
            n += self.rstore(r)?.sweep_shredded()?;
        }
        Ok(n)
    }

    /// Find subjects by identifier through the blind index (`steward find`).
    /// Returns opaque ids only.
    pub fn find(&self, identifier: &str) -> Result<Option<SubjectId>, CoreError> {
        Ok(self.resolve(identifier)?.0.map(|l| l.id))
    }

    /// List subjects with record counts per category. When `identifiers` is
    /// set, each subject's identifiers are decrypted through the gate as
    /// `principal` for `comply` (one audited decision per subject).
    pub fn subjects(
        &self,
        principal: &str,
        identifiers: bool,
    ) -> Result<Vec<SubjectSummary>, CoreError> {
        let mut rows = Vec::new();
        for r in 0..self.regions.len() {
            rows.extend(self.rstore(r)?.subjects()?.into_iter().map(|s| (r, s)));
        }
        let obligation = if identifiers {
            Some(
                self.record_obligation(
                    principal,
                    "data_subject_request",
                    "operator-listing-of-identifiers",
                )?
                .id,
            )
        } else {
            None
        };
        let mut out = Vec::with_capacity(rows.len());
        for (region, s) in rows {
            let records = self
                .rstore(region)?
                .record_counts(s.id)?
                .into_iter()
                .collect();
            let mut ids = Vec::new();
            if identifiers && s.erased_at_ms.is_none() {
                let req = AccessRequest::new(principal, Action::Export, s.id.to_string())
                    .category(Category::Account)
                    .purpose(Purpose::Comply)
                    .obligation(obligation.as_deref());
                let opened = self.gate(&req, None)?;
                if opened.opens_records() {
                    ids = opened.open_identifiers(self.rstore(region)?.identifiers(s.id)?);
                }
            }
            out.push(SubjectSummary {
                subject: s.id.to_string(),
                region: s.region,
                erased: s.erased_at_ms.is_some(),
                records,
                identifiers: ids,
            });
        }
        Ok(out)
    }

    /// Re-wrap every subject's data key under a new KEK version (N5.2)
    /// without re-encrypting records. Returns (new version, keys re-wrapped).
    /// `principal` is decided by policy for `keys_rotate` and `protect`
    /// (audited, fail closed): security staff, a service, or the configured
    /// operator. Errors: [`CoreError::Denied`].
    pub fn rotate_keys(&self, principal: &str) -> Result<(u32, u64), CoreError> {
        self.authorize_management(
            principal,
            ManagementAction::KeysRotate,
            Target::named("keys"),
        )?;
        let version = self.keyring.rotate()?;
        let mut n = 0;
        for r in 0..self.regions.len() {
            let keys = self.rstore(r)?.wrapped_keys()?;
            let mut cs = ChangeSet::default();
            for k in keys {
                cs.keys.push(self.keyring.rewrap(k)?);
            }
            let rn = cs.keys.len() as u64;
            // Hold keys too (N3.7): a retired KEK must not strand held records.
            let rn = rn + self.rewrap_hold_keys(r, &mut cs)?;
            let mut e = crate::gate::system_entry(
                "keys_rotate",
                &format!("kek-v{version}"),
                "",
                self.policy.version(),
            );
            e.principal = token(principal);
            e.clause_ids = vec![token("N5.2")];
            e.region = token(&self.regions[r].config.name);
            e.resource = Resource::new(ResourceKind::Key)
                .id(token(&format!("kek-v{version}")))
                .count(rn);
            cs.audit.push(e);
            self.rstore(r)?.commit(cs)?;
            n += rn;
        }
        Ok((version, n))
    }

    /// Retire a KEK version: refused while any data key is still wrapped under it.
    /// Decided like [`Steward::rotate_keys`] (N5.2).
    pub fn retire_kek(&self, principal: &str, version: u32) -> Result<(), CoreError> {
        self.authorize_management(
            principal,
            ManagementAction::KeysRetire,
            Target::named("keys"),
        )?;
        let mut still = 0;
        for r in 0..self.regions.len() {
            still += self
                .rstore(r)?
                .wrapped_keys()?
                .iter()
                .filter(|k| k.kek_version == version)
                .count();
        }
        still += self.hold_keys_under(version)?;
        if still > 0 {
            return Err(CoreError::Input(format!(
                "{still} data keys are still wrapped under KEK version {version}; run `steward keys rotate` first"
            )));
        }
        self.keyring.retire(version)?;
        let mut e = crate::gate::system_entry(
            "keys_retire",
            &format!("kek-v{version}"),
            "",
            self.policy.version(),
        );
        e.principal = token(principal);
        e.clause_ids = vec![token("N5.2")];
        e.resource = Resource::new(ResourceKind::Key).id(token(&format!("kek-v{version}")));
        self.store()?.commit(ChangeSet {
            audit: vec![e],
            ..Default::default()
        })?;
        Ok(())
    }

    /// The keyring's KEK versions.
    pub fn keks(&self) -> Vec<steward_crypto::KekInfo> {
        self.keyring.keks()
    }
}

/// Why a batch did not commit.
enum BatchError {
    /// A blind-index clash at the first commit: resolve again and retry.
    Clash,
    /// A record id already stored (issue 21): new ids, seal again, retry.
    IdClash,
    /// Any other error: the ingest stops.
    Core(CoreError),
}

impl From<CoreError> for BatchError {
    fn from(e: CoreError) -> Self {
        BatchError::Core(e)
    }
}

/// The sealed body of a record: `{"fields":{…},"occurred_at":…}`.
#[derive(Serialize)]
struct RecordBody<'a> {
    fields: &'a steward_domain::Fields,
    occurred_at: Option<&'a str>,
}
