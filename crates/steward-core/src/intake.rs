//! Email intake of data subject requests (N7.4): `steward intake email`.
//!
//! [`Steward::intake_email`] takes one raw RFC 5322 message and ends it in
//! exactly one of two ways, recorded in the `email_intake` ledger:
//!
//! * **a request** in `received` ([`Steward::open_request`], channel
//!   [`Channel::Email`] naming the stored message): the type comes from the
//!   keyword classification of [`steward_ingest::email`];
//! * **a recorded rejection** with a reason code and a reason in plain words:
//!   `empty`, `too_large`, `not_a_message` (unreadable), `no_sender` (no
//!   usable `From` address: nobody to answer or verify), `unclassified`
//!   ("could not tell which request": no request words, or words of several
//!   types), `objection_purpose` (an objection naming no purpose Steward can
//!   tell, N3), `not_opened` (the request could not be opened; the reason
//!   says why).
//!
//! **Exactly once.** A message's identity is its `Message-ID`, or the SHA-256
//! of its bytes when it has none; the ledger row is keyed by `eml_` and the
//! first 32 hex digits of HMAC-SHA-256 of that identity under the blind-index
//! key, so the ledger never holds a Message-ID in clear. The row is written
//! with a compare-and-set guard (it must not exist), in the same transaction
//! as the stored message: a second run, or a second process at the same
//! time, finds it and takes nothing. A run killed between storing the message
//! and opening the request leaves the row in state `taking`; the next run
//! over the same message resumes it, and finds a request it already opened
//! (by the stored message's record id) rather than opening a second.
//!
//! **The message is Service Data** (N2.5): whenever it has a sender address,
//! its body, subject line, sender, recipients, Message-ID, date and
//! attachment list (names, types, sizes; never contents) are stored as one
//! `communications.email` record sealed under the sender's data key, also
//! for unclassified messages, so an operator can answer them through the
//! gate. **An unknown sender's message** is kept the same way under a new
//! subject for that sender (found by the sender's address through the blind
//! index, erasable like any subject); the request is opened naming no
//! subject, so it is `unverified` and never executed automatically. A sender
//! is *matched* only when their address finds a subject that holds Service
//! Data other than communications (an account, billing, configuration or
//! usage record): a subject known only from mail they sent is no identity
//! to verify against. A matched sender's request waits for a one-time code
//! to their registered contact. Messages without a usable sender address
//! (and unreadable ones) are rejected and not stored: there is no data
//! subject to keep them for.
//!
//! Nothing here logs, prints or returns an address, a name, a subject line
//! or a body: [`IntakeEntry`] holds opaque ids, counts and Steward's own
//! keywords and reasons.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{
    Category, Fields, IdentifierKind, Kind, NewRecord, Product, Purpose, RecordId, RequestType,
    SubjectId, SubjectIdentifier,
};
use steward_ingest::email::{self, EmailError, EmailMessage};
use steward_store::{ChangeSet, RecordRow, RegistryGuard, RegistryTable, StoreError};

use crate::authorize::{ManagementAction, Target};
use crate::dsr::{Channel, NewRequestDetails, RequestFilter};
use crate::gate::{new_request_id, now_ts, record_ref, token};
use crate::{CoreError, Steward};

/// How long (seconds) a `taking` ledger row belongs to the run that wrote
/// it; after that a later run over the same message resumes it.
pub const STALE_AFTER_SECS: i64 = 300;

/// The kind every message taken in is stored as (N2.5, N7.4).
pub const INTAKE_KIND: &str = "communications.email";

/// Where a ledger row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeState {
    /// The message is stored; the request is being opened (a run that was
    /// interrupted here is resumed by the next run over the same message).
    Taking,
    /// Ended as a data subject request ([`IntakeEntry::request`]).
    Request,
    /// Ended as a recorded rejection ([`IntakeEntry::reason`]).
    Rejected,
    /// Ended as an incident report ([`IntakeEntry::incident`], N8.5).
    Incident,
}

/// One row of the email intake ledger (`email_intake` registry, N7.4). No
/// Service Data: opaque ids, counts, Steward's keywords and reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeEntry {
    /// `eml_` + 32 hex digits: keyed hash of the message's identity.
    pub key: String,
    /// What the identity is: `message_id`, or `sha256` (of the raw bytes,
    /// for a message without a usable Message-ID).
    pub identity: String,
    /// Where it stands.
    pub state: IntakeState,
    /// When it was first taken (RFC 3339 UTC).
    pub taken_at: String,
    /// When the current attempt at a `taking` row started (RFC 3339 UTC): a
    /// later run resumes the row only once this is [`STALE_AFTER_SECS`] old,
    /// so it never races a run that is still working on it.
    pub attempt_at: String,
    /// The principal that took it in.
    pub by: String,
    /// The raw message's size in bytes.
    pub size: u64,
    /// Attachments listed (names, types and sizes are in the stored record).
    pub attachments: u64,
    /// The stored message (`rec_…`, kind `communications.email`), if stored.
    pub record: Option<String>,
    /// The subject it is stored under (`sub_…`), if stored.
    pub subject: Option<String>,
    /// Whether the sender's address found a subject holding Service Data
    /// other than communications (see the module documentation).
    pub sender_matched: bool,
    /// The request type the message was classified as, if any.
    pub request_type: Option<RequestType>,
    /// The classification's reason (which of Steward's keywords matched where).
    pub classification: Option<String>,
    /// The request opened (`dsr_…`), when it ended as a request.
    pub request: Option<String>,
    /// The request is unverified: the sender matched no subject, so it is
    /// never executed automatically.
    pub unverified: bool,
    /// Rejection code: `empty`, `too_large`, `not_a_message`, `no_sender`,
    /// `unclassified`, `objection_purpose`, `not_opened`.
    pub reason_code: Option<String>,
    /// Rejection reason in plain words (never Service Data).
    pub reason: Option<String>,
    /// The incident opened (`inc_…`), when the message was an incident
    /// report (`steward incidents intake`, N8.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

impl IntakeEntry {
    /// A message being taken now (`at`, RFC 3339): the ledger row written
    /// before anything else, with no outcome yet.
    pub(crate) fn taking(key: String, identity: &str, by: &str, size: usize, at: String) -> Self {
        IntakeEntry {
            key,
            identity: identity.into(),
            state: IntakeState::Taking,
            taken_at: at.clone(),
            attempt_at: at,
            by: by.into(),
            size: size as u64,
            attachments: 0,
            record: None,
            subject: None,
            sender_matched: false,
            request_type: None,
            classification: None,
            request: None,
            unverified: false,
            reason_code: None,
            reason: None,
            incident: None,
        }
    }

    /// Whether the message is sealed in the store and its outcome final (a
    /// request or a recorded rejection): its file may then be deleted or
    /// moved (`steward intake email --after-seal`, issue 13 item 5). A
    /// message not stored (no sender, unreadable) or still being taken in is not.
    pub fn is_sealed(&self) -> bool {
        self.record.is_some() && self.state != IntakeState::Taking
    }
}

/// What [`Steward::intake_email`] did with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeOutcome {
    /// `true` when this call took the message in; `false` when an earlier
    /// call (or another process) already had: `entry` is that outcome and
    /// nothing new was stored (exactly once).
    pub taken: bool,
    /// The ledger row.
    pub entry: IntakeEntry,
}

/// Words that name the purpose an objection is to (N3), English and German,
/// matched case-insensitively anywhere in the subject or body.
const OBJECTION_PURPOSES: &[(Purpose, &[&str])] = &[
    (
        Purpose::Recommendations,
        &[
            "marketing",
            "recommendation",
            "newsletter",
            "werbung",
            "empfehlung",
        ],
    ),
    (
        Purpose::MaintainImprove,
        &["improve", "product improvement", "verbesser"],
    ),
    (
        Purpose::InternalReporting,
        &[
            "reporting",
            "analytics",
            "statistic",
            "statistik",
            "auswertung",
        ],
    ),
];

fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// A record id of the vault's shape: ms since the epoch in the high bits,
/// 21 random bits below (unique key; a collision fails the commit whole).
pub(crate) fn new_record_id() -> RecordId {
    let mut b = [0u8; 4];
    rand::rng().fill_bytes(&mut b);
    RecordId((now_ms() << 21) | i64::from(u32::from_le_bytes(b) & 0x1F_FFFF))
}

/// The fields of the `communications.email` record of message `m` from
/// `sender` (N7.4): addresses, subject line, body, Message-ID, the
/// attachments' names, types and sizes (never their content), the date.
fn email_fields(sender: &SubjectIdentifier, m: &EmailMessage) -> Fields {
    let mut fields = Fields::new();
    fields.insert("from_email".into(), sender.value().into());
    if !m.to.is_empty() {
        fields.insert("to".into(), m.to.join(", ").into());
    }
    if let Some(s) = &m.subject {
        fields.insert("subject_line".into(), s.as_str().into());
    }
    fields.insert("body".into(), m.body.as_str().into());
    if let Some(id) = &m.message_id {
        fields.insert("message_id".into(), id.as_str().into());
    }
    if !m.attachments.is_empty() {
        let list: Vec<serde_json::Value> = m
                .attachments
                .iter()
                .map(|a| {
                    serde_json::json!({"name": a.name, "content_type": a.content_type, "size": a.size})
                })
                .collect();
        fields.insert(
            "attachments".into(),
            serde_json::Value::Array(list).to_string().into(),
        );
    }
    if let Some(d) = &m.date {
        fields.insert("occurred_at".into(), d.as_str().into());
    }
    fields
}

pub(crate) fn email_reason(e: &EmailError) -> String {
    match e {
        EmailError::Empty { .. } => "the message is empty".into(),
        EmailError::TooLarge { limit, .. } => format!(
            "the message is over the {limit}-byte (25 MiB) limit: ask the sender to send attachments as a link"
        ),
        _ => "not an RFC 5322 message: no header field at its start".into(),
    }
}

/// The objection's purpose, when the message's words name exactly one.
fn objection_purpose(m: &EmailMessage) -> Result<Purpose, String> {
    let text = format!("{}\n{}", m.subject.as_deref().unwrap_or(""), m.body).to_lowercase();
    let found: Vec<Purpose> = OBJECTION_PURPOSES
        .iter()
        .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(p, _)| *p)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err("an objection, but the message names no purpose Steward can tell (marketing, product improvement, reporting; N3): answer the sender asking which".into()),
        many => Err(format!(
            "an objection naming several purposes ({}): open one request per purpose by hand",
            many.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

impl Steward {
    /// The ledger key of a message: `eml_` + the first 32 hex digits of
    /// HMAC-SHA-256(blind-index key, `steward-email-intake` 0x00 kind 0x00
    /// value). While a blind-index key rotation is under way (issue 13
    /// item 3), a row already under the previous version's key is found
    /// under it; otherwise the key is the current version's.
    ///
    /// Errors: the blind-index key or the store cannot be read.
    pub(crate) fn intake_key(&self, kind: &str, value: &[u8]) -> Result<String, CoreError> {
        let keys = self.blind_keys()?;
        let current = intake_key_under(keys.current.bytes(), kind, value);
        if let Some(old) = &keys.previous {
            let before = intake_key_under(old.bytes(), kind, value);
            let held = self
                .store()?
                .registry_get(RegistryTable::EmailIntake, &before)?;
            if held.is_some() {
                return Ok(before);
            }
        }
        Ok(current)
    }

    /// Every row of the email intake ledger, by key (N7.4).
    pub fn intake_entries(&self) -> Result<Vec<IntakeEntry>, CoreError> {
        self.store()?
            .registry_list(RegistryTable::EmailIntake)?
            .into_iter()
            .map(|(id, body)| {
                serde_json::from_str(&body).map_err(|e| {
                    CoreError::Store(StoreError::Corrupt(format!("email_intake/{id}: {e}")))
                })
            })
            .collect()
    }

    /// Take one email in (N7.4): parse it, store it encrypted, and open a
    /// data subject request in `received` or record a rejection with a
    /// reason, exactly once per message (see the module documentation).
    ///
    /// `by` is the principal doing the intake (the CLI uses the `ingest`
    /// service): it must exist and not be revoked, and policy must let it
    /// ingest communications (N3.1). `raw` is the message as received.
    ///
    /// Errors: [`CoreError::Input`] for an unknown or revoked `by`;
    /// [`CoreError::Denied`] when policy does not let `by` store
    /// communications (audited); storage errors (nothing of the failing
    /// step is stored; the next call resumes). A bad *message* is not an
    /// error: it is a recorded rejection.
    pub fn intake_email(&self, by: &str, raw: &[u8]) -> Result<IntakeOutcome, CoreError> {
        let principal = self.acting(by)?;
        let parsed = email::parse("message", raw);
        let (identity, key) = match &parsed {
            Ok(EmailMessage {
                message_id: Some(id),
                ..
            }) => ("message_id", self.intake_key("message_id", id.as_bytes())?),
            _ => {
                let digest = Sha256::digest(raw);
                ("sha256", self.intake_key("sha256", &digest)?)
            }
        };
        let existing = self
            .store()?
            .registry_get(RegistryTable::EmailIntake, &key)?;
        if let Some(body) = existing {
            let entry: IntakeEntry = serde_json::from_str(&body).map_err(|e| {
                CoreError::Store(StoreError::Corrupt(format!("email_intake/{key}: {e}")))
            })?;
            if entry.state != IntakeState::Taking {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            }
            // A row another run is still working on, or an interrupted one.
            let started = time::OffsetDateTime::parse(
                &entry.attempt_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|t| t.unix_timestamp())
            .unwrap_or(0);
            let now = self.clock.unix_seconds();
            let Ok(m) = &parsed else {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            };
            if now - started < STALE_AFTER_SECS {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            }
            // Interrupted: take the row over (compare-and-set, so only one
            // later run resumes it), then finish it.
            let mut entry = entry;
            entry.attempt_at = self.clock.rfc3339();
            let fresh =
                serde_json::to_string(&entry).map_err(|e| CoreError::Input(e.to_string()))?;
            let cs = ChangeSet {
                registry: vec![(RegistryTable::EmailIntake, key.clone(), fresh.clone())],
                guards: vec![RegistryGuard {
                    table: RegistryTable::EmailIntake,
                    id: key.clone(),
                    expected: Some(body),
                }],
                audit: vec![self.intake_audit(&entry, 0)],
                ..Default::default()
            };
            match self.store()?.commit(cs) {
                Ok(_) => {}
                Err(StoreError::GuardConflict { .. }) => return self.already_taken(&key),
                Err(e) => return Err(e.into()),
            }
            let entry = self.open_for(by, m, entry, fresh)?;
            return Ok(IntakeOutcome { taken: true, entry });
        }

        let mut entry =
            IntakeEntry::taking(key.clone(), identity, by, raw.len(), self.clock.rfc3339());
        let m = match parsed {
            Ok(m) => m,
            Err(e) => return self.reject_unstored(entry, e.name(), email_reason(&e)),
        };
        entry.attachments = m.attachments.len() as u64;
        entry.classification = Some(m.classification.reason.clone());
        entry.request_type = m.classification.request_type;
        let sender = m
            .from
            .as_ref()
            .and_then(|s| SubjectIdentifier::new(IdentifierKind::Email, &s.address).ok());
        let Some(sender) = sender else {
            return self.reject_unstored(
                entry,
                "no_sender",
                "the message has no usable sender address (From): nobody to answer or verify"
                    .into(),
            );
        };
        // Decide the outcome before storing, so the store and the ledger row
        // (final for a rejection) go in one transaction.
        match m.classification.request_type {
            None => {
                entry.state = IntakeState::Rejected;
                entry.reason_code = Some("unclassified".into());
                entry.reason = Some(m.classification.reason.clone());
            }
            Some(RequestType::Objection) => {
                if let Err(why) = objection_purpose(&m) {
                    entry.state = IntakeState::Rejected;
                    entry.reason_code = Some("objection_purpose".into());
                    entry.reason = Some(why);
                }
            }
            Some(_) => {}
        }
        let (entry, body) = match self.store_message(&principal, &sender, &m, entry)? {
            Stored::Written(entry, body) => (entry, body),
            Stored::AlreadyTaken(entry) => {
                return Ok(IntakeOutcome {
                    taken: false,
                    entry,
                });
            }
        };
        if entry.state == IntakeState::Rejected {
            return Ok(IntakeOutcome { taken: true, entry });
        }
        let entry = self.open_for(by, &m, entry, body)?;
        Ok(IntakeOutcome { taken: true, entry })
    }

    /// Record a rejection of a message that is not stored (unreadable, or
    /// no sender): the ledger row and its audit entry, guarded.
    pub(crate) fn reject_unstored(
        &self,
        mut entry: IntakeEntry,
        code: &str,
        reason: String,
    ) -> Result<IntakeOutcome, CoreError> {
        entry.state = IntakeState::Rejected;
        entry.reason_code = Some(code.into());
        entry.reason = Some(reason);
        let body = serde_json::to_string(&entry).map_err(|e| CoreError::Input(e.to_string()))?;
        let cs = ChangeSet {
            registry: vec![(RegistryTable::EmailIntake, entry.key.clone(), body)],
            guards: vec![RegistryGuard {
                table: RegistryTable::EmailIntake,
                id: entry.key.clone(),
                expected: None,
            }],
            audit: vec![self.intake_audit(&entry, 0)],
            ..Default::default()
        };
        match self.store()?.commit(cs) {
            Ok(_) => Ok(IntakeOutcome { taken: true, entry }),
            Err(StoreError::GuardConflict { .. }) => self.already_taken(&entry.key),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn already_taken(&self, key: &str) -> Result<IntakeOutcome, CoreError> {
        let body = self
            .store()?
            .registry_get(RegistryTable::EmailIntake, key)?
            .ok_or_else(|| {
                CoreError::Store(StoreError::Corrupt(format!(
                    "email_intake/{key}: a concurrent intake holds the row but it is gone"
                )))
            })?;
        let entry = serde_json::from_str(&body).map_err(|e| {
            CoreError::Store(StoreError::Corrupt(format!("email_intake/{key}: {e}")))
        })?;
        Ok(IntakeOutcome {
            taken: false,
            entry,
        })
    }

    /// The audit entry of an intake step (N7.4): the ledger key, the
    /// outcome and reason code, the stored record and subject by opaque id.
    pub(crate) fn intake_audit(&self, entry: &IntakeEntry, region: usize) -> EntryDraft {
        let mut res = Resource::new(ResourceKind::Record)
            .id(token(&entry.key))
            .id(token(&format!(
                "outcome:{}",
                match entry.state {
                    IntakeState::Taking => "taking",
                    IntakeState::Request => "request",
                    IntakeState::Rejected => "rejected",
                    IntakeState::Incident => "incident",
                }
            )));
        if let Some(code) = &entry.reason_code {
            res = res.id(token(&format!("reason:{code}")));
        }
        if let Some(t) = entry.request_type {
            res = res.id(token(&format!("type:{}", t.as_str())));
        }
        if let Some(r) = &entry.request {
            res = res.id(token(r));
        }
        if let Some(i) = &entry.incident {
            res = res.id(token(i));
        }
        if let Some(r) = entry
            .record
            .as_deref()
            .and_then(|r| r.strip_prefix("rec_"))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
        {
            res = res.record(steward_audit::RecordRef::new(r));
        }
        if let Some(s) = entry
            .subject
            .as_deref()
            .and_then(|s| s.parse::<SubjectId>().ok())
        {
            res = res.subject(SubjectRef::new(s.0 as u64));
        }
        EntryDraft {
            action: token("email_intake"),
            clause_ids: vec![token("N7.4")],
            decision: AuditDecision::Done,
            policy_ids: vec![],
            policy_version: token(self.policy.version()),
            principal: token(&entry.by),
            purpose: Some(token(Purpose::Comply.as_str())),
            reason: entry.reason_code.as_deref().map(token),
            region: token(&self.regions[region].config.name),
            request_id: token(&new_request_id()),
            resource: res,
            time: now_ts(),
        }
    }

    /// Seal the message as a `communications.email` record of the sender's
    /// subject (new for an unknown sender) and write the ledger row, in one
    /// transaction when the subject lives in the primary region.
    pub(crate) fn store_message(
        &self,
        principal: &steward_domain::Principal,
        sender: &SubjectIdentifier,
        m: &EmailMessage,
        mut entry: IntakeEntry,
    ) -> Result<Stored, CoreError> {
        // N3.1: the intake principal must be allowed to store communications
        // (a denial is audited at once; the allowed decision is committed
        // with the message below).
        let (_, decision) =
            self.decide_management(principal, ManagementAction::EmailIntake, Target::named(""))?;

        // Mail names no organisation: the deployment's namespace (issue 15).
        let mut found = None;
        for r in 0..self.regions.len() {
            if let Some((id, _)) = self.find_indexed(r, sender, None)? {
                found = Some((r, id));
                break;
            }
        }
        let mut cs = ChangeSet::default();
        let stored_at = self.clock.now_ms();
        let (home, key) = match found {
            Some((r, id)) => {
                entry.sender_matched = self
                    .rstore(r)?
                    .record_counts(id)?
                    .iter()
                    .any(|(c, n)| c != Category::Communications.as_str() && *n > 0);
                let key = self
                    .sealing_key(r, id)?
                    .ok_or_else(|| CoreError::Integrity {
                        record: id.to_string(),
                        reason: "subject has an index entry but no data key".into(),
                    })?;
                (r, key)
            }
            // An unknown sender: a new subject for their address, in the
            // primary region, found again by the blind index (N7.4).
            None => {
                let blind = self.blind_in(sender, None)?;
                (0, self.mint_subject(&mut cs, 0, sender, blind, stored_at)?)
            }
        };
        let (sid, key_version) = (key.subject(), key.key_version());

        let kind: Kind = INTAKE_KIND
            .parse()
            .map_err(|e| CoreError::Config(format!("{INTAKE_KIND}: {e}")))?;
        let fields = email_fields(sender, m);
        let rec = NewRecord::new(
            kind,
            Some(sender.clone()),
            Product::CloudPlatform,
            m.date.clone(),
            fields,
        )
        .map_err(|e| CoreError::Input(format!("{INTAKE_KIND}: {e}")))?;
        let rid = new_record_id();
        let plain = serde_json::to_vec(&serde_json::json!({
            "fields": rec.fields(),
            "occurred_at": rec.occurred_at(),
        }))
        .map_err(|e| CoreError::Input(e.to_string()))?;
        let mut row = RecordRow {
            id: rid,
            subject: sid,
            category: Cow::Borrowed(Category::Communications.as_str()),
            kind: Cow::Borrowed(kind.as_str()),
            product: Cow::Borrowed(Product::CloudPlatform.as_str()),
            region: Cow::Owned(self.regions[home].config.name.clone()),
            key_version,
            stored_at_ms: stored_at,
            sealed: Vec::new(),
        };
        row.sealed = key.seal_record(&row, &plain)?;
        cs.records.push(row);
        let mut decision = decision;
        decision.region = token(&self.regions[home].config.name);
        decision.resource = Resource::new(ResourceKind::Batch)
            .count(1)
            .record(record_ref(rid))
            .record(record_ref(rid));
        cs.audit.push(decision);

        entry.record = Some(rid.to_string());
        entry.subject = Some(sid.to_string());
        let body = serde_json::to_string(&entry).map_err(|e| CoreError::Input(e.to_string()))?;
        let ledger = |cs: &mut ChangeSet| {
            cs.registry
                .push((RegistryTable::EmailIntake, entry.key.clone(), body.clone()));
            cs.guards.push(RegistryGuard {
                table: RegistryTable::EmailIntake,
                id: entry.key.clone(),
                expected: None,
            });
        };
        if home == 0 {
            ledger(&mut cs);
            cs.audit.push(self.intake_audit(&entry, 0));
            match self.store()?.commit(cs) {
                Ok(_) => {}
                Err(StoreError::GuardConflict { .. }) => {
                    return Ok(Stored::AlreadyTaken(self.already_taken(&entry.key)?.entry));
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            // The subject lives in another region: the record commits there,
            // the ledger in the primary region (a crash between leaves a
            // sealed copy that the next run stores again).
            self.rstore(home)?.commit(cs)?;
            let mut l = ChangeSet::default();
            ledger(&mut l);
            l.audit.push(self.intake_audit(&entry, 0));
            match self.store()?.commit(l) {
                Ok(_) => {}
                Err(StoreError::GuardConflict { .. }) => {
                    return Ok(Stored::AlreadyTaken(self.already_taken(&entry.key)?.entry));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Stored::Written(entry, body))
    }

    /// Open the request of a stored message (or find the one an interrupted
    /// run opened) and finish the ledger row.
    fn open_for(
        &self,
        by: &str,
        m: &EmailMessage,
        mut entry: IntakeEntry,
        before: String,
    ) -> Result<IntakeEntry, CoreError> {
        let channel = Channel::Email {
            record: entry.record.clone(),
        };
        let Some(request_type) = entry.request_type else {
            return Err(CoreError::Integrity {
                record: entry.key.clone(),
                reason: "an intake in state taking has no request type".into(),
            });
        };
        // A request an interrupted run already opened for this stored message.
        let earlier = match &entry.record {
            Some(_) => self
                .requests(RequestFilter::default())?
                .into_iter()
                .find(|r| r.channel == channel),
            None => None,
        };
        let opened = match earlier {
            Some(r) => Ok(r),
            None => {
                let identifier = match (&m.from, entry.sender_matched) {
                    (Some(s), true) => Some(format!("email:{}", s.address)),
                    _ => None,
                };
                let details = NewRequestDetails {
                    purpose: if request_type == RequestType::Objection {
                        objection_purpose(m).ok()
                    } else {
                        None
                    },
                    ..Default::default()
                };
                self.open_request(by, identifier.as_deref(), request_type, channel, details)
            }
        };
        match opened {
            Ok(r) => {
                entry.state = IntakeState::Request;
                entry.request = Some(r.id.to_string());
                entry.unverified = r.subject.is_none();
            }
            Err(CoreError::Input(why)) => {
                entry.state = IntakeState::Rejected;
                entry.reason_code = Some("not_opened".into());
                entry.reason = Some(format!("the request could not be opened: {why}"));
            }
            Err(e) => return Err(e),
        }
        let body = serde_json::to_string(&entry).map_err(|e| CoreError::Input(e.to_string()))?;
        let cs = ChangeSet {
            registry: vec![(RegistryTable::EmailIntake, entry.key.clone(), body)],
            guards: vec![RegistryGuard {
                table: RegistryTable::EmailIntake,
                id: entry.key.clone(),
                expected: Some(before),
            }],
            audit: vec![self.intake_audit(&entry, 0)],
            ..Default::default()
        };
        match self.store()?.commit(cs) {
            Ok(_) => Ok(entry),
            Err(StoreError::GuardConflict { .. }) => Ok(self.already_taken(&entry.key)?.entry),
            Err(e) => Err(e.into()),
        }
    }
}

pub(crate) enum Stored {
    Written(IntakeEntry, String),
    AlreadyTaken(IntakeEntry),
}

/// The ledger key of a message under blind-index key `key` (see
/// [`Steward::intake_key`]).
pub(crate) fn intake_key_under(key: &[u8; 32], kind: &str, value: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"steward-email-intake\0");
    mac.update(kind.as_bytes());
    mac.update(b"\0");
    mac.update(value);
    let tag = mac.finalize().into_bytes();
    format!("eml_{}", hex::encode(&tag[..16]))
}
