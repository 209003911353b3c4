//! The gate: the only code path that opens a record (ARCHITECTURE.md).
//!
//! authenticate principal -> resolve the subject by blind index -> decide by
//! policy -> append the decision to the audit log (fail closed) -> decrypt.
//!
//! Its entry points, all in this file:
//! - [`Steward::gate`]: every access to a live subject's data (read, export,
//!   erase, administrator powers, requests); [`Steward::read`] and the
//!   export and erasure code call it and open only what it returned.
//! - [`Steward::read_held`]: records kept under a legal hold after an
//!   erasure (N3.7), `comply` only.
//! - [`Steward::verify_records`]: integrity check that authenticates every
//!   ciphertext and drops the plaintext (counts only leave).
//! - `open_registered_email`: the email address a data subject request's
//!   one-time code is sent to (N7.4), opened after the opening is audited.
//!
//! Two effects need plaintext without it leaving Steward: an erasure under a
//! legal hold re-seals the held records under a hold key, and a
//! rectification merges corrected fields (holds.rs). Both are decided by
//! policy first (a denial is audited here), and the decision is committed
//! with the effect in one transaction.

use rand::RngCore;
use serde_json::Value;
use steward_audit::{
    BlindIndexRef, Decision as AuditDecision, EntryDraft, RecordRef, Resource, ResourceKind,
    SubjectRef, Timestamp, Token,
};
use steward_crypto::{RecordAad, SealedKey, Sealer, blind_index};
use steward_domain::{Category, Principal, Purpose, RecordId, SubjectId, SubjectIdentifier};
use steward_policy::{Action, Decision, DecisionBasis, DecisionRequest, RequestContext};
use steward_store::{ChangeSet, RecordRow, RegistryTable, StoreError};

use crate::transfers::{TransferCheck, TransferMechanism};
use crate::{CoreError, Steward, today};

/// A request to the gate.
#[derive(Debug, Clone)]
pub struct AccessRequest {
    /// The principal's name (authenticated by the caller's channel: the CLI
    /// operator's shell, or the API's token check).
    pub principal: String,
    /// What is asked.
    pub action: Action,
    /// The data subject, as an identifier argument (`root`, `ip:10.0.0.1`,
    /// `ann@example.com`, `sub_…`). Never logged: it is resolved to an opaque
    /// id and a blind-index reference before anything is recorded.
    pub subject: String,
    /// Restrict to one category.
    pub category: Option<Category>,
    /// The purpose of processing (N3). Required.
    pub purpose: Option<Purpose>,
    /// A support case id (N3.5).
    pub case_id: Option<String>,
    /// A recorded legal obligation id (N3.7, N6.5d).
    pub obligation_id: Option<String>,
    /// The customer organisation the subject belongs to (N1.2), as the
    /// caller established it from the tenancy registry; administrators and
    /// resellers are decided against it (N6.5). `None`: no organisation.
    pub organisation: Option<String>,
}

/// Why the gate said no: the condition that failed, the deciding policies and
/// their clauses, and where the denial sits in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The condition, in plain words.
    pub reason: String,
    /// Deciding policy ids.
    pub policy_ids: Vec<String>,
    /// Clause ids those policies carry.
    pub clause_ids: Vec<String>,
    /// The audit entry recording the denial.
    pub audit_index: Option<u64>,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)?;
        if !self.policy_ids.is_empty() {
            write!(f, " [policy {}]", self.policy_ids.join(", "))?;
        }
        if !self.clause_ids.is_empty() {
            write!(f, " [{}]", self.clause_ids.join(", "))?;
        }
        if let Some(i) = self.audit_index {
            write!(f, " (audit entry {i})")?;
        }
        Ok(())
    }
}

/// Where a subject lives: its home region (index into the configured
/// regions) and its opaque id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub region: usize,
    pub id: SubjectId,
}

/// Actions that hand Service Data to the requester (and so may transfer it, N4.4).
fn moves_data(a: Action) -> bool {
    matches!(
        a,
        Action::Read
            | Action::Export
            | Action::AdminView
            | Action::AdminLegalAccess
            | Action::Disclose
    )
}

/// One record opened by the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedRecord {
    /// Record id.
    pub id: RecordId,
    /// Category.
    pub category: String,
    /// Kind.
    pub kind: String,
    /// Product.
    pub product: String,
    /// Region.
    pub region: String,
    /// Ingest time, ms since the epoch.
    pub stored_at_ms: i64,
    /// The record body: `{"fields":{…},"occurred_at":…}`.
    pub body: Value,
}

/// What the gate hands back after an allowed access.
#[derive(Debug)]
pub struct Opened {
    /// The index of the subject's home region (N4.1).
    pub region: usize,
    /// The subject, if the identifier resolved to one.
    pub subject: Option<SubjectId>,
    /// The decision.
    pub decision: Decision,
    /// The audit entry recording it.
    pub audit_index: u64,
    /// The request id.
    pub request_id: String,
    pub(crate) sealer: Option<(Sealer, u32)>,
}

pub(crate) fn new_request_id() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    format!("req-{}", hex::encode(b))
}

pub(crate) fn token(s: &str) -> Token {
    // INVARIANT: callers pass Steward-made names; anything else becomes a safe placeholder.
    Token::new(s).unwrap_or_else(|_| Token::new("invalid-token").expect("literal token"))
}

pub(crate) fn now_ts() -> Timestamp {
    Timestamp::now()
        .unwrap_or_else(|_| Timestamp::parse("1970-01-01T00:00:00Z").expect("literal timestamp"))
}

/// An audit entry for an operation that is not a gate decision (bootstrap,
/// key operations, principal changes).
pub(crate) fn system_entry(action: &str, id: &str, _why: &str, policy_version: &str) -> EntryDraft {
    EntryDraft {
        action: token(action),
        clause_ids: vec![],
        decision: AuditDecision::Done,
        policy_ids: vec![],
        policy_version: token(policy_version),
        principal: token("steward"),
        purpose: None,
        reason: None,
        region: token("-"),
        request_id: token(&new_request_id()),
        resource: Resource::new(ResourceKind::Principal).id(token(id)),
        time: now_ts(),
    }
}

/// The error of a denied decision whose entry is at `audit_index`.
pub(crate) fn denied(d: Decision, audit_index: Option<u64>) -> CoreError {
    CoreError::Denied(Box::new(Denied {
        reason: d.reason,
        policy_ids: d.policy_ids,
        clause_ids: d.clause_ids,
        audit_index,
    }))
}

impl Steward {
    /// The audit entry recording policy decision `d` (allow or deny, the
    /// deciding policies and clauses, the basis of a denial) of `action` by
    /// `principal` for `purpose`, for region `region`'s log, under a new
    /// request id and the running pack's version. One shape for every
    /// decision Steward records.
    pub(crate) fn decision_entry(
        &self,
        d: &Decision,
        action: &str,
        principal: &str,
        purpose: Option<Purpose>,
        region: usize,
        resource: Resource,
    ) -> EntryDraft {
        EntryDraft {
            action: token(action),
            clause_ids: d.clause_ids.iter().map(|c| token(c)).collect(),
            decision: if d.allowed {
                AuditDecision::Allow
            } else {
                AuditDecision::Deny
            },
            policy_ids: d.policy_ids.iter().map(|c| token(c)).collect(),
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: purpose.map(|p| token(p.as_str())),
            reason: if d.allowed {
                None
            } else {
                Some(token(&format!("{:?}", d.basis).to_lowercase()))
            },
            region: token(&self.regions[region].config.name),
            request_id: token(&new_request_id()),
            resource,
            time: now_ts(),
        }
    }

    /// Append `entry`, the record of a denied decision `d`, to the primary
    /// region's log (fail closed) and return the [`CoreError::Denied`].
    pub(crate) fn record_denial(&self, d: Decision, entry: EntryDraft) -> CoreError {
        match self.store().and_then(|mut st| {
            st.commit(ChangeSet {
                audit: vec![entry],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))
        }) {
            Ok(c) => denied(d, c.audit_indexes.first().copied()),
            Err(e) => e,
        }
    }

    /// Refuse `principal` a request Steward decides outside the policy pack
    /// (who may open a data subject request for whom, N7.2, N6.5): the
    /// refusal is appended to the audit log as a `deny` under policy id
    /// `policy_id` (fail closed) and returned as [`CoreError::Denied`]
    /// naming `reason` (no identifier: the subject is the opaque id).
    pub(crate) fn refuse(
        &self,
        principal: &Principal,
        action: &str,
        subject: Option<SubjectId>,
        policy_id: &str,
        clause: &str,
        reason: String,
    ) -> CoreError {
        let mut resource = Resource::new(ResourceKind::Subject);
        if let Some(s) = subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        let d = Decision {
            allowed: false,
            policy_ids: vec![policy_id.to_owned()],
            clause_ids: vec![clause.to_owned()],
            reason,
            basis: DecisionBasis::Forbid,
        };
        let entry = self.decision_entry(&d, action, &principal.name, None, 0, resource);
        self.record_denial(d, entry)
    }

    /// Open a subject's registered email identifier (the one whose blind
    /// index is `blind_hex`) so that Steward can send the one-time code of
    /// data subject request `request_id` to it (N7.4; the DSR engine's
    /// verification, never shown to a principal). The access is appended to
    /// the audit log before the identifier is opened (fail closed): action
    /// `dsr_contact_open`, principal `steward`, purpose `comply`. Returns
    /// `None` when the subject has no such identifier or no data key.
    pub(crate) fn open_registered_email(
        &self,
        region: usize,
        s: SubjectId,
        blind_hex: &str,
        request_id: &str,
    ) -> Result<Option<Vec<u8>>, CoreError> {
        let Some(row) = self.rstore(region)?.identifiers(s)?.into_iter().find(|i| {
            hex::encode(i.blind) == blind_hex
                && i.kind == steward_domain::IdentifierKind::Email.as_str()
        }) else {
            return Ok(None);
        };
        let mut e = system_entry("dsr_contact_open", request_id, "", self.policy.version());
        e.clause_ids = vec![token("N7.4")];
        e.purpose = Some(token(Purpose::Comply.as_str()));
        e.region = token(&self.regions[region].config.name);
        e.resource = Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(s.0 as u64))
            .id(token(request_id));
        self.rstore(region)?
            .commit(ChangeSet {
                audit: vec![e],
                ..Default::default()
            })
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        let Some((sealer, _)) = self.subject_sealer(region, s)? else {
            return Ok(None);
        };
        let aad = steward_crypto::IdentifierAad {
            subject: s,
            kind: steward_domain::IdentifierKind::Email,
        }
        .to_bytes();
        Ok(Some(sealer.open(&aad, &row.sealed)?))
    }

    /// Load an authenticated principal by name. Unknown names are an error;
    /// revoked principals load with `revoked = true` and are denied by policy
    /// (N5.5: revocation takes effect on the next request).
    pub fn principal(&self, name: &str) -> Result<Principal, CoreError> {
        let (body, revoked) = self.store()?.principal(name)?.ok_or_else(|| {
            CoreError::Input(format!(
                "unknown principal `{name}`: add it with `steward principals add`"
            ))
        })?;
        let mut p: Principal = serde_json::from_str(&body)
            .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("principal {name}: {e}"))))?;
        p.revoked = revoked;
        Ok(p)
    }

    /// Resolve an identifier argument to a subject through the blind index of
    /// every region's store. Returns where the subject lives (if anywhere) and
    /// the blind-index references to record.
    pub(crate) fn resolve(&self, arg: &str) -> Result<(Option<Located>, Vec<[u8; 32]>), CoreError> {
        if let Ok(id) = arg.parse::<SubjectId>() {
            for region in 0..self.regions.len() {
                if let Some(s) = self
                    .rstore(region)?
                    .subject(id)?
                    .filter(|s| s.erased_at_ms.is_none())
                {
                    return Ok((Some(Located { region, id: s.id }), vec![]));
                }
            }
            return Ok((None, vec![]));
        }
        let candidates = SubjectIdentifier::candidates(arg)
            .map_err(|e| CoreError::Input(format!("--subject: {e}")))?;
        let mut blinds = Vec::new();
        let mut found: Vec<Located> = Vec::new();
        for c in &candidates {
            let b = blind_index(&self.blind_key, c);
            for region in 0..self.regions.len() {
                if let Some(id) = self.rstore(region)?.subject_by_blind(&b)? {
                    let l = Located { region, id };
                    if !found.contains(&l) {
                        found.push(l);
                    }
                    if !blinds.contains(&b) {
                        blinds.push(b);
                    }
                }
            }
        }
        if blinds.is_empty()
            && let Some(c) = candidates.first()
        {
            blinds.push(blind_index(&self.blind_key, c));
        }
        match found.len() {
            0 | 1 => Ok((found.first().copied(), blinds)),
            _ => Err(CoreError::Input(format!(
                "--subject matches {} subjects; name the identifier kind (e.g. username:VALUE or billing_account:VALUE) or give the sub_ id",
                found.len()
            ))),
        }
    }

    /// The ids every access decision's resource carries besides the
    /// subject: the category read, where a cross-region access was
    /// processed (N4.2), and the transfer mechanism relied on (N4.4).
    fn access_ids(
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

    pub(crate) fn context_for(
        &self,
        req: &AccessRequest,
        subject: Option<SubjectId>,
    ) -> Result<RequestContext, CoreError> {
        let mut ctx = RequestContext::new(today());
        let store = self.store()?;
        if let (Some(case), Some(subject)) = (&req.case_id, subject)
            && let Some(body) = store.registry_get(RegistryTable::SupportCases, case)?
        {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            ctx.open_case_for_subject = v["subject"].as_str() == Some(&subject.to_string())
                && v["status"].as_str() == Some("open");
        }
        if let Some(ob) = &req.obligation_id {
            drop(store);
            // N3.7: recorded, citable by this principal, about this subject.
            ctx.legal_obligation_recorded = self.obligation_applies(ob, &req.principal, subject)?;
        }
        Ok(ctx)
    }

    /// The gate. Authenticates `req.principal`, resolves the subject, decides
    /// by policy, appends the decision (allow or deny) to the audit log, and
    /// only then, for an allowed access, unwraps the subject's data key.
    ///
    /// `extra` is appended to the same audit transaction as the decision (the
    /// record of what the access then did, e.g. an erasure's shredding).
    ///
    /// Errors: [`CoreError::Denied`] naming the failed condition (audited);
    /// [`CoreError::AuditUnavailable`] when the decision cannot be recorded —
    /// then nothing is decrypted or changed (fail closed).
    pub fn gate(&self, req: &AccessRequest, extra: Option<ChangeSet>) -> Result<Opened, CoreError> {
        let principal = self.principal(&req.principal)?;
        let (located, blinds) = self.resolve(&req.subject)?;
        let subject = located.map(|l| l.id);
        let processing = self.processing_index();
        let home = located.map(|l| l.region).unwrap_or(processing);
        let mut ctx = self.context_for(req, subject)?;
        // N4.2: the subject's data lives in another region than this node's.
        ctx.cross_region = home != processing;
        // An identifier that matches no subject is decided as the empty
        // subject `sub_none`: the access is still decided and audited, and it
        // opens nothing (an empty export, N7.2).
        let subject_str = Some(
            subject
                .map(|s| s.to_string())
                .unwrap_or_else(|| "sub_none".to_owned()),
        );
        let mut decision = self.policy.decide(&DecisionRequest {
            principal: &principal,
            action: req.action,
            subject: subject_str.as_deref(),
            category: req.category,
            organisation: req.organisation.as_deref(),
            purpose: req.purpose,
            context: ctx,
        });
        // N7.2: a restriction of processing or an objection to a purpose
        // recorded by a data subject request (crate::dsr) overrides an allow.
        if let (true, Some(s)) = (decision.allowed, subject)
            && let Some((policy, reason)) =
                self.dsr_block(&principal, s, req.action, req.purpose)?
        {
            decision.allowed = false;
            decision.basis = steward_policy::DecisionBasis::Forbid;
            decision.policy_ids = vec![policy.into()];
            decision.clause_ids = vec!["N7.2".into()];
            decision.reason = reason;
        }
        // N4.4: Service Data that leaves the EEA, the UK or Switzerland needs a
        // transfer mechanism on record; the transfer is registered.
        let transfer = if decision.allowed && subject.is_some() && moves_data(req.action) {
            match self.transfer_check(home, processing)? {
                TransferCheck::NotATransfer => None,
                TransferCheck::Mechanism(m) => Some(m),
                TransferCheck::Refused(reason) => {
                    decision.allowed = false;
                    decision.basis = steward_policy::DecisionBasis::Forbid;
                    decision.policy_ids = vec!["transfer-mechanism-required".into()];
                    decision.clause_ids = vec!["N4.4".into()];
                    decision.reason = reason;
                    None
                }
            }
        } else {
            None
        };
        let request_id = new_request_id();
        let mut resource = Resource::new(match req.action {
            Action::Export => ResourceKind::Export,
            Action::Erase => ResourceKind::Erasure,
            _ => ResourceKind::Subject,
        });
        if let Some(s) = subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        for b in &blinds {
            if let Ok(r) = BlindIndexRef::new(b[..16].to_vec()) {
                resource = resource.blind_index(r);
            }
        }
        resource = self.access_ids(resource, req.category, home, processing, transfer.as_ref());
        let mut entry = self.decision_entry(
            &decision,
            req.action.as_str(),
            &principal.name,
            req.purpose,
            home,
            resource,
        );
        // The same id as the transfer row this access may register.
        entry.request_id = token(&request_id);
        let mut cs = if decision.allowed {
            extra.unwrap_or_default()
        } else {
            ChangeSet::default()
        };
        if let (Some(m), Some(s)) = (&transfer, subject) {
            cs.registry
                .push(self.transfer_row(m, home, processing, s, req.category, &request_id));
        }
        cs.audit.insert(0, entry);
        // Fail closed: if this commit fails, nothing below runs. The entry goes
        // to the subject's home region's log (N4.1).
        let committed = self
            .rstore(home)?
            .commit(cs)
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        let audit_index = committed.audit_indexes.first().copied().unwrap_or(0);
        if !decision.allowed {
            return Err(denied(decision, Some(audit_index)));
        }
        let sealer = match (subject, req.action) {
            (
                Some(s),
                Action::Read | Action::Export | Action::AdminView | Action::AdminLegalAccess,
            ) => self.subject_sealer(home, s)?,
            _ => None,
        };
        Ok(Opened {
            region: home,
            subject,
            decision,
            audit_index,
            request_id,
            sealer,
        })
    }

    /// Unwrap a subject's data key (gate-internal).
    pub(crate) fn subject_sealer(
        &self,
        region: usize,
        s: SubjectId,
    ) -> Result<Option<(Sealer, u32)>, CoreError> {
        let Some(k) = self.rstore(region)?.wrapped_key(s)? else {
            return Ok(None);
        };
        let dek = self.keyring.unwrap(
            s,
            &SealedKey {
                kek_version: k.kek_version,
                bytes: k.wrapped,
            },
        )?;
        Ok(Some((dek.sealer(), k.key_version)))
    }

    /// Integrity check of every region's store (after `steward copy`, or
    /// from time to time): unwrap each live subject's data key and
    /// authenticate every record's ciphertext against its AAD. Plaintext is
    /// dropped at once: nothing is returned or printed but counts. Recorded
    /// in each region's audit log. Returns (records that open, records of
    /// erased subjects, which stay unreadable by design).
    ///
    /// Errors: [`CoreError::Integrity`] naming the first record that does not open.
    pub fn verify_records(&self, principal: &str) -> Result<(u64, u64), CoreError> {
        let (mut opened, mut shredded) = (0, 0);
        for r in 0..self.regions.len() {
            let subjects = self.rstore(r)?.subjects()?;
            let (mut region_opened, mut region_shredded) = (0u64, 0u64);
            for s in subjects {
                let rows = self.rstore(r)?.records(s.id, None)?;
                match self.subject_sealer(r, s.id)? {
                    Some((sealer, _)) => {
                        for row in rows {
                            open_row(&sealer, row)?;
                            region_opened += 1;
                        }
                    }
                    None => region_shredded += rows.len() as u64,
                }
            }
            let mut e = system_entry("records_verify", "records", "", self.policy.version());
            e.principal = token(principal);
            e.clause_ids = vec![token("N5.2")];
            e.region = token(&self.regions[r].config.name);
            e.resource = Resource::new(ResourceKind::Record).count(region_opened);
            self.rstore(r)?.commit(ChangeSet {
                audit: vec![e],
                ..Default::default()
            })?;
            opened += region_opened;
            shredded += region_shredded;
        }
        Ok((opened, shredded))
    }

    /// Read a subject's records through the gate (`steward read`).
    pub fn read(&self, req: &AccessRequest) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let opened = self.gate(req, None)?;
        let records = match opened.subject {
            Some(s) => {
                let rows = self
                    .rstore(opened.region)?
                    .records(s, req.category.map(|c| c.as_str()))?;
                open_rows(&opened, rows)?
            }
            None => vec![],
        };
        Ok((opened, records))
    }
}

/// Open sealed rows with the sealer the gate handed out. Gate-internal.
pub(crate) fn open_rows(
    opened: &Opened,
    rows: Vec<RecordRow>,
) -> Result<Vec<OpenedRecord>, CoreError> {
    let Some((sealer, _)) = &opened.sealer else {
        return Ok(vec![]);
    };
    rows.into_iter().map(|r| open_row(sealer, r)).collect()
}

pub(crate) fn open_row(sealer: &Sealer, r: RecordRow) -> Result<OpenedRecord, CoreError> {
    let category: Category = r.category.parse().map_err(|_| CoreError::Integrity {
        record: r.id.to_string(),
        reason: "unknown category in storage".into(),
    })?;
    let aad = RecordAad {
        record: r.id,
        subject: r.subject,
        category,
        key_version: r.key_version,
    }
    .to_bytes();
    let plain = sealer
        .open(&aad, &r.sealed)
        .map_err(|e| CoreError::Integrity {
            record: r.id.to_string(),
            reason: e.to_string(),
        })?;
    let body: Value = serde_json::from_slice(&plain).map_err(|_| CoreError::Integrity {
        record: r.id.to_string(),
        reason: "body is not JSON".into(),
    })?;
    Ok(OpenedRecord {
        id: r.id,
        category: r.category.into_owned(),
        kind: r.kind.into_owned(),
        product: r.product.into_owned(),
        region: r.region.into_owned(),
        stored_at_ms: r.stored_at_ms,
        body,
    })
}

pub(crate) fn record_ref(id: RecordId) -> RecordRef {
    RecordRef::new(id.0 as u64)
}

/// Held records (N3.7): the gate for records kept under a legal hold after
/// an erasure, beside [`Steward::gate`].
impl Steward {
    /// Read the records an erasure kept under a legal hold (N3.7), for
    /// `comply` only, against a recorded legal obligation: the gate for held
    /// records. `req.subject` must be the erased subject's `sub_` id (on the
    /// erasure receipt: their identifiers were erased); `req.category`
    /// optionally narrows the read. Decided by the same policy as
    /// [`Steward::read`] (action `read`), and refused for any purpose but
    /// `comply` (policy id `legal-hold-comply-only`); the decision, allow or
    /// deny, is recorded in the subject's region before the hold key is
    /// unwrapped (fail closed). Returns the decision and the held records
    /// (none once the sweep deleted them).
    ///
    /// Errors: [`CoreError::Input`] when `req.subject` is not a `sub_` id;
    /// [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn read_held(&self, req: &AccessRequest) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let principal = self.principal(&req.principal)?;
        let id: SubjectId = req.subject.parse().map_err(|_| {
            CoreError::Input(
                "--subject: held records are found by the erased subject's sub_ id (on the erasure receipt), not by an identifier".into(),
            )
        })?;
        let processing = self.processing_index();
        let mut home = None;
        for r in 0..self.regions.len() {
            let store = self.rstore(r)?;
            if store.hold_key(id)?.is_some() || store.subject(id)?.is_some() {
                home = Some(r);
                break;
            }
        }
        let home = home.unwrap_or(processing);
        let mut ctx = self.context_for(req, Some(id))?;
        ctx.cross_region = home != processing;
        let subject_str = id.to_string();
        let mut decision = self.policy.decide(&DecisionRequest {
            principal: &principal,
            action: Action::Read,
            subject: Some(&subject_str),
            category: req.category,
            organisation: req.organisation.as_deref(),
            purpose: req.purpose,
            context: ctx,
        });
        if decision.allowed && req.purpose != Some(Purpose::Comply) {
            // N3.7: a hold keeps records for the legal duty alone.
            decision.allowed = false;
            decision.basis = DecisionBasis::Forbid;
            decision.policy_ids = vec!["legal-hold-comply-only".into()];
            decision.clause_ids = vec!["N3.7".into(), "N8.8".into()];
            decision.reason = "records kept under a legal hold after an erasure open only for comply, against a recorded legal obligation (N3.7)".into();
        }
        // N4.4: held records leaving the EEA, UK or Switzerland need a mechanism.
        let transfer = if decision.allowed {
            match self.transfer_check(home, processing)? {
                TransferCheck::NotATransfer => None,
                TransferCheck::Mechanism(m) => Some(m),
                TransferCheck::Refused(reason) => {
                    decision.allowed = false;
                    decision.basis = DecisionBasis::Forbid;
                    decision.policy_ids = vec!["transfer-mechanism-required".into()];
                    decision.clause_ids = vec!["N4.4".into()];
                    decision.reason = reason;
                    None
                }
            }
        } else {
            None
        };
        let request_id = new_request_id();
        let mut resource = Resource::new(ResourceKind::Subject)
            .subject(SubjectRef::new(id.0 as u64))
            .id(token("legal_hold"));
        resource = self.access_ids(resource, req.category, home, processing, transfer.as_ref());
        let mut cs = ChangeSet::default();
        if let Some(m) = &transfer {
            cs.registry
                .push(self.transfer_row(m, home, processing, id, req.category, &request_id));
        }
        let mut entry = self.decision_entry(
            &decision,
            Action::Read.as_str(),
            &principal.name,
            req.purpose,
            home,
            resource,
        );
        entry.request_id = token(&request_id);
        cs.audit.push(entry);
        // Fail closed: nothing is unwrapped unless the decision is recorded.
        let committed = self
            .rstore(home)?
            .commit(cs)
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        let audit_index = committed.audit_indexes.first().copied().unwrap_or(0);
        if !decision.allowed {
            return Err(denied(decision, Some(audit_index)));
        }
        let key = self.rstore(home)?.hold_key(id)?;
        let sealer: Option<(Sealer, u32)> = match key {
            Some(k) => Some((
                self.keyring
                    .unwrap(
                        id,
                        &SealedKey {
                            kek_version: k.kek_version,
                            bytes: k.wrapped,
                        },
                    )?
                    .sealer(),
                k.key_version,
            )),
            None => None,
        };
        let mut records = Vec::new();
        if let Some((s, _)) = &sealer {
            for h in self.rstore(home)?.held_records(id)? {
                if req
                    .category
                    .is_some_and(|c| c.as_str() != h.record.category)
                {
                    continue;
                }
                records.push(open_row(s, h.record)?);
            }
        }
        Ok((
            Opened {
                region: home,
                subject: Some(id),
                decision,
                audit_index,
                request_id,
                sealer,
            },
            records,
        ))
    }
}
