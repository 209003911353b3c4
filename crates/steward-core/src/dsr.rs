//! Data subject requests (DSR, N7.1-N7.4, N8.8): the request lifecycle,
//! deadlines per jurisdiction, identity verification by one-time code, and
//! execution through the gate, exactly once.
//!
//! A request is one JSON row of the `dsr_requests` registry in the primary
//! region's store, keyed `dsr_` and 16 hex digits. It names the subject by
//! opaque id (`sub_…`) and the identifier it was asked under by its blind
//! index (HMAC-SHA-256, hex): **never** an identifier, a name or an address
//! in clear. Every transition is one commit holding the new row, guarded by
//! compare-and-set on the row as read ([`steward_store::RegistryGuard`]),
//! and its audit entry, so two racing transitions never both apply.
//!
//! Lifecycle ([`RequestState`]): `received -> verified -> in_progress ->
//! completed | rejected`, and `failed` when execution could not finish (the
//! region and store named in the reason); `approve` of a failed request
//! re-runs it idempotently. `in_progress` is committed *before* any effect,
//! so a crash leaves a trace: [`Steward::resume_in_progress`] marks requests
//! left `in_progress` for longer than `dsr.interrupted_after_secs` as failed
//! with reason `interrupted` (they are never re-run by themselves; approve
//! them again, which is idempotent). The CLI `steward requests …` commands
//! call it on start.
//!
//! Policy version (issue 6): the policy pack version in force at receipt is
//! pinned in the request. Steward loads one pack at a time, so a request is
//! executed only by a Steward running that same version; otherwise `approve`
//! is refused naming both versions and the request stays as it was, to be
//! executed by a node that runs the pinned pack.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use steward_audit::{BlindIndexRef, Resource, ResourceKind, SubjectRef};
use steward_domain::{
    Fields, Principal, PrincipalKind, Purpose, RecordId, RequestState, RequestType, SubjectId,
};
use steward_store::{ChangeSet, RegistryGuard, RegistryTable, StoreError};
use time::{Date, Duration, OffsetDateTime};

use crate::gate::{system_entry, token};
use crate::{CoreError, LegalObligation, Steward};

// ------------------------------------------------------------ configuration

/// A jurisdiction whose deadline rules apply to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// GDPR (EEA), UK GDPR and the Swiss FADP: one month, extendable once
    /// by two further months with a recorded reason (GDPR Art. 12(3)).
    Gdpr,
    /// Japan's APPI: "without delay" (Art. 33), with a configurable target.
    Appi,
}

impl Jurisdiction {
    /// The snake_case key.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Gdpr => "gdpr",
            Jurisdiction::Appi => "appi",
        }
    }
}

/// Deadlines and verification settings of data subject requests
/// (`[dsr]` in `steward.toml`; every setting has a default).
///
/// ```toml
/// [dsr]
/// default_jurisdiction = "gdpr"   # subjects whose home region is neither EEA/UK/CH nor JP
/// gdpr_months = 1                 # due one calendar month after receipt (clamped to month end)
/// gdpr_extension_months = 2       # one extension, with a recorded reason
/// appi_target_days = 14           # APPI: without delay; this is the target
/// code_ttl_secs = 900             # a one-time code expires after 15 minutes
/// code_max_attempts = 5           # ... and after 5 wrong attempts
/// interrupted_after_secs = 900    # in_progress this long at start: failed, "interrupted"
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DsrConfig {
    /// The jurisdiction of subjects whose home region's country is neither
    /// in the EEA, the UK or Switzerland (GDPR) nor Japan (APPI).
    pub default_jurisdiction: Jurisdiction,
    /// GDPR: calendar months from receipt to the deadline (default 1).
    pub gdpr_months: u32,
    /// GDPR: further months one extension adds (default 2).
    pub gdpr_extension_months: u32,
    /// APPI: target days from receipt (default 14).
    pub appi_target_days: u32,
    /// Lifetime of a one-time verification code, in seconds (default 900).
    pub code_ttl_secs: u64,
    /// Wrong codes allowed before verification locks (default 5).
    pub code_max_attempts: u32,
    /// A request found `in_progress` for longer than this many seconds by
    /// [`Steward::resume_in_progress`] is marked failed, `interrupted`
    /// (default 900).
    pub interrupted_after_secs: u64,
}

impl Default for DsrConfig {
    fn default() -> Self {
        DsrConfig {
            default_jurisdiction: Jurisdiction::Gdpr,
            gdpr_months: 1,
            gdpr_extension_months: 2,
            appi_target_days: 14,
            code_ttl_secs: 900,
            code_max_attempts: 5,
            interrupted_after_secs: 900,
        }
    }
}

impl DsrConfig {
    /// Check the settings; `source` names the file in errors.
    ///
    /// Errors: [`CoreError::Config`] naming the key when a period or limit is
    /// 0, or `interrupted_after_secs` is outside 60 to 31,536,000.
    pub fn validate(&self, source: &str) -> Result<(), CoreError> {
        for (key, v) in [
            ("gdpr_months", u64::from(self.gdpr_months)),
            ("appi_target_days", u64::from(self.appi_target_days)),
            ("code_ttl_secs", self.code_ttl_secs),
            ("code_max_attempts", u64::from(self.code_max_attempts)),
        ] {
            if v == 0 {
                return Err(CoreError::Config(format!(
                    "{source}: dsr.{key} must be at least 1"
                )));
            }
        }
        // A running execution is never younger than a minute when it is
        // checked; a year bounds the wait (and the conversion to seconds).
        if !(60..=31_536_000).contains(&self.interrupted_after_secs) {
            return Err(CoreError::Config(format!(
                "{source}: dsr.interrupted_after_secs must be between 60 (a minute) and 31536000 (a year)"
            )));
        }
        if self.gdpr_months + self.gdpr_extension_months > 12 {
            return Err(CoreError::Config(format!(
                "{source}: dsr.gdpr_months + dsr.gdpr_extension_months must be at most 12"
            )));
        }
        Ok(())
    }

    /// The deadline of a request received on `received` under `j`,
    /// extended or not. GDPR: `gdpr_months` calendar months later (plus
    /// `gdpr_extension_months` when extended), the day clamped to the end
    /// of a shorter month (received 31 January: due 28 or 29 February).
    /// APPI: `appi_target_days` days later (no extension).
    pub fn due_on(&self, j: Jurisdiction, received: Date, extended: bool) -> Date {
        match j {
            Jurisdiction::Gdpr => add_months(
                received,
                self.gdpr_months
                    + if extended {
                        self.gdpr_extension_months
                    } else {
                        0
                    },
            ),
            Jurisdiction::Appi => received
                .checked_add(Duration::days(i64::from(self.appi_target_days)))
                .unwrap_or(Date::MAX),
        }
    }
}

/// `d` plus `months` calendar months, the day clamped to the month's last day.
pub fn add_months(d: Date, months: u32) -> Date {
    let zero_based = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1;
    let target = zero_based + i64::from(months);
    let year = i32::try_from(target.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u8::try_from(target.rem_euclid(12) + 1).unwrap_or(12);
    let Ok(month) = time::Month::try_from(month) else {
        return Date::MAX;
    };
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(Date::MAX)
}

// ------------------------------------------------------------------ records

/// How a request came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    /// The HTTP API (`POST /v1/requests`).
    Api,
    /// The command line (`steward requests open`), run by an operator.
    Cli,
    /// An email to the privacy contact (N7.4, `steward intake email`).
    Email {
        /// The id of the stored message (communications Service Data,
        /// encrypted), if it was stored.
        record: Option<String>,
    },
}

/// Where identity verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Nobody to verify against: the sender matches no registered contact.
    /// Such a request is recorded but never fulfilled automatically.
    Unverified,
    /// A one-time code can be sent to the registered contact.
    Pending,
    /// A code was sent and not yet entered.
    CodeSent,
    /// Verified.
    Verified,
    /// Too many wrong codes: locked; an operator may reject the request.
    Locked,
}

/// Identity verification of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The state.
    pub state: VerificationState,
    /// `authenticated_subject`, `operator`, `administrator` or `one_time_code`.
    pub method: Option<String>,
    /// Who verified: a principal name, or `registered_contact` for a code.
    pub verified_by: Option<String>,
    /// When (RFC 3339 UTC).
    pub verified_at: Option<String>,
}

/// A deadline extension (GDPR only, once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// The new deadline (YYYY-MM-DD).
    pub until: String,
    /// The reason recorded (given by the operator; no identifiers).
    pub reason: String,
    /// Who extended.
    pub by: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// What a request asks beyond its type, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetails {
    /// Objection: the purpose objected to (N3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// Rectification: the record to correct (`rec_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Rectification: the corrected fields, sealed under the subject's data
    /// key (AES-256-GCM, AAD `steward-dsr-corrections` and the request id),
    /// base64. Never in clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrections_sealed: Option<String>,
}

/// What a request asks beyond its type, as given to [`Steward::open_request`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewRequestDetails {
    /// Objection: the purpose objected to (required for an objection).
    pub purpose: Option<Purpose>,
    /// Rectification: the record to correct (required for a rectification
    /// of a known subject).
    pub record: Option<RecordId>,
    /// Rectification: the corrected fields (validated against the record's
    /// closed schema when executed, N1.3).
    pub corrections: Option<Fields>,
}

/// The outcome of an executed request, tagged by the request's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RequestResult {
    /// Access (N7.2, N7.3): the ZIP written for the subject.
    Access {
        /// The ZIP (0600) in `<data_dir>/requests/`.
        path: String,
        /// Records in it.
        records: u64,
    },
    /// Export, portability (N7.1, N7.2): the ZIP written for the subject.
    Export {
        /// The ZIP (0600) in `<data_dir>/requests/`.
        path: String,
        /// Records in it.
        records: u64,
    },
    /// Erasure (N8.8): the erasure receipt.
    Erasure {
        /// The receipt id (`erasure-…`).
        receipt_id: String,
        /// Records made unreadable.
        records_unreadable: u64,
        /// Records kept under a legal hold (listed on the receipt, N3.7).
        #[serde(default)]
        records_retained: u64,
    },
    /// Rectification (N7.2): the corrected record.
    Rectification {
        /// The new record's id.
        record_id: String,
    },
    /// Restriction of processing recorded (the gate honours it).
    Restriction {
        /// Always true: the restriction is on record.
        recorded: bool,
    },
    /// Objection to a purpose recorded (the gate honours it).
    Objection {
        /// The purpose objected to.
        purpose: Purpose,
    },
}

/// One transition in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (RFC 3339 UTC).
    pub at: String,
    /// The state after the transition.
    pub state: RequestState,
    /// Who made it (principal name, or `registered_contact`, or `steward`).
    pub by: String,
    /// What happened, in plain words (never Service Data).
    pub note: String,
}

/// A data subject request as stored in the `dsr_requests` registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Id, `dsr_` and 16 hex digits.
    pub id: String,
    /// The type.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Where it stands.
    pub state: RequestState,
    /// The subject (opaque `sub_…`), or `None` for a sender who matches no subject.
    pub subject: Option<String>,
    /// The subject's home region.
    pub subject_region: Option<String>,
    /// The blind index (HMAC-SHA-256, hex) of the identifier the request was
    /// made under; never the identifier.
    pub identifier_ref: Option<String>,
    /// The principal who asked (a data subject's user, an operator, an
    /// administrator, or the intake service for an email).
    pub requester: String,
    /// How it came in.
    pub channel: Channel,
    /// When received (RFC 3339 UTC).
    pub received_at: String,
    /// Whose deadline rules apply.
    pub jurisdiction: Jurisdiction,
    /// The deadline (YYYY-MM-DD); moved by an extension.
    pub due_on: String,
    /// The extension, if granted.
    pub extension: Option<Extension>,
    /// The policy pack version in force at receipt: the request executes under it.
    pub policy_version: String,
    /// Identity verification.
    pub verification: Verification,
    /// What is asked beyond the type.
    pub details: RequestDetails,
    /// The legal obligation recorded for it (N3.7), once executing.
    pub obligation: Option<String>,
    /// The outcome, once completed.
    pub result: Option<RequestResult>,
    /// Why rejected or failed.
    pub reason: Option<String>,
    /// Executions started.
    pub attempts: u32,
    /// Every transition.
    pub history: Vec<HistoryEntry>,
}

impl Request {
    /// The deadline as a date.
    pub fn due_date(&self) -> Result<Date, CoreError> {
        parse_date(&self.due_on).ok_or_else(|| corrupt(&self.id, "due_on"))
    }

    /// Overdue on `today`: not final and past its deadline.
    pub fn overdue_on(&self, today: Date) -> bool {
        !self.state.is_final() && self.due_date().is_ok_and(|d| today > d)
    }
}

/// Which requests [`Steward::requests`] lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Only requests past their deadline and not completed or rejected.
    pub overdue: bool,
    /// Only requests in this state.
    pub state: Option<RequestState>,
}

/// A one-time code row of the `dsr_verifications` registry: a keyed hash
/// (HMAC-SHA-256 under the blind-index key) of the code, never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CodeRow {
    request: String,
    code_hmac: Option<String>,
    expires_at_ms: i64,
    attempts: u32,
    max_attempts: u32,
    sent_at: String,
}

/// A processing restriction or objection of one subject (N7.2 "control"),
/// as stored in the `processing_restrictions` registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingRestriction {
    /// The subject (`sub_…`).
    pub subject: String,
    /// Processing restricted: reads, exports and disclosures only for
    /// `comply` and `protect` (and the subject's own access).
    pub restricted: bool,
    /// Purposes objected to: no processing for them.
    pub objections: Vec<Purpose>,
    /// The requests that recorded this.
    pub requests: Vec<String>,
}

pub use crate::outbox::{CodeMessage, CodeSender, OutboxSender};

// ------------------------------------------------------------------ helpers

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn fmt_date(d: Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn corrupt(id: &str, what: &str) -> CoreError {
    CoreError::Store(StoreError::Corrupt(format!(
        "data subject request {id}: {what} is not what Steward wrote"
    )))
}

/// Check that a new request's details fit its type: an objection names a
/// purpose and only an objection does; only a rectification names a record
/// and corrections.
fn check_details(request_type: RequestType, details: &NewRequestDetails) -> Result<(), CoreError> {
    match request_type {
        RequestType::Objection if details.purpose.is_none() => {
            return Err(CoreError::Input(
                "an objection names the purpose objected to: give --purpose (N3)".into(),
            ));
        }
        RequestType::Objection => {}
        _ if details.purpose.is_some() => {
            return Err(CoreError::Input(
                "purpose: only an objection names a purpose".into(),
            ));
        }
        _ => {}
    }
    if request_type != RequestType::Rectification
        && (details.record.is_some() || details.corrections.is_some())
    {
        return Err(CoreError::Input(
            "record and corrections: only a rectification names them".into(),
        ));
    }
    Ok(())
}

fn new_id() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill(&mut b);
    format!("dsr_{}", hex::encode(b))
}

/// Request ids as Steward makes them: `dsr_` and 16 lowercase hex digits.
fn valid_request_id(id: &str) -> Result<(), CoreError> {
    let ok = id.len() == 20
        && id.starts_with("dsr_")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CoreError::Input(
            "request id: expected `dsr_` and 16 lowercase hex digits, as `steward requests list` shows".into(),
        ))
    }
}

/// Parse a record id as Steward prints it: `rec_` and 16 hex digits.
///
/// Errors: [`CoreError::Input`] naming the expected shape.
pub fn parse_record_id(s: &str) -> Result<RecordId, CoreError> {
    s.strip_prefix("rec_")
        .filter(|h| h.len() == 16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .map(|v| RecordId(v as i64))
        .ok_or_else(|| {
            CoreError::Input("record id: expected `rec_` and 16 hex digits, as exports show".into())
        })
}

/// A request id counted in [`Steward`]'s executions running in this
/// process, for as long as this value lives (a count, since two threads
/// may try the same request at once and only one wins).
struct Executing<'a> {
    set: &'a std::sync::Mutex<std::collections::HashMap<String, u32>>,
    id: String,
}

impl<'a> Executing<'a> {
    fn start(set: &'a std::sync::Mutex<std::collections::HashMap<String, u32>>, id: &str) -> Self {
        if let Ok(mut s) = set.lock() {
            *s.entry(id.to_owned()).or_default() += 1;
        }
        Executing {
            set,
            id: id.to_owned(),
        }
    }
}

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock()
            && let Some(n) = s.get_mut(&self.id)
        {
            *n -= 1;
            if *n == 0 {
                s.remove(&self.id);
            }
        }
    }
}

fn free_text(what: &str, s: &str) -> Result<String, CoreError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 500 || t.chars().any(char::is_control) {
        return Err(CoreError::Input(format!(
            "{what}: give 1 to 500 characters on one line (say why, without names, addresses or other identifiers)"
        )));
    }
    Ok(t.to_owned())
}

/// How [`Steward::transition`] records a change.
struct Step<'a> {
    action: &'a str,
    by: &'a str,
    clause: &'a str,
    note: String,
}

impl Steward {
    /// The one-time code's keyed hash: HMAC-SHA-256 under the blind-index
    /// key, bound to the request id.
    fn code_hmac(&self, request: &str) -> Result<Hmac<Sha256>, CoreError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.blind_key[..])
            .map_err(|e| CoreError::Config(format!("blind-index key: {e}")))?;
        mac.update(b"steward-dsr-code\0");
        mac.update(request.as_bytes());
        mac.update(b"\0");
        Ok(mac)
    }

    /// Load a request and the exact body it was read from (for the guard).
    fn load_request(&self, id: &str) -> Result<(String, Request), CoreError> {
        valid_request_id(id)?;
        let body = self
            .store()?
            .registry_get(RegistryTable::Requests, id)?
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "no data subject request `{id}`: see `steward requests list`"
                ))
            })?;
        let req: Request = serde_json::from_str(&body).map_err(|_| corrupt(id, "the row"))?;
        Ok((body, req))
    }

    /// Commit `req` as the new row, guarded on `before` (the body read, or
    /// `None` for a new request), with its audit entry and `extra`.
    fn transition(
        &self,
        before: Option<&str>,
        req: &mut Request,
        state: RequestState,
        step: Step<'_>,
        now: OffsetDateTime,
        mut extra: ChangeSet,
    ) -> Result<u64, CoreError> {
        req.state = state;
        req.history.push(HistoryEntry {
            at: rfc3339(now),
            state,
            by: step.by.to_owned(),
            note: step.note,
        });
        let mut e = system_entry(step.action, &req.id, "", self.policy.version());
        e.principal = token(step.by);
        e.clause_ids = vec![token(step.clause)];
        let mut res = Resource::new(ResourceKind::Subject)
            .id(token(&req.id))
            .id(token(&format!("type:{}", req.request_type.as_str())))
            .id(token(&format!("state:{}", state.as_str())));
        if let Some(s) = req
            .subject
            .as_deref()
            .and_then(|s| s.parse::<SubjectId>().ok())
        {
            res = res.subject(SubjectRef::new(s.0 as u64));
        }
        if let Some(b) = req
            .identifier_ref
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| BlindIndexRef::new(b[..16.min(b.len())].to_vec()).ok())
        {
            res = res.blind_index(b);
        }
        e.resource = res;
        e.region = token(&self.config.home_region().name);
        let body = serde_json::to_string(&*req).map_err(|e| CoreError::Input(e.to_string()))?;
        extra
            .registry
            .push((RegistryTable::Requests, req.id.clone(), body));
        extra.guards.push(RegistryGuard {
            table: RegistryTable::Requests,
            id: req.id.clone(),
            expected: before.map(str::to_owned),
        });
        extra.audit.insert(0, e);
        match self.store()?.commit(extra) {
            Ok(c) => Ok(c.audit_indexes.first().copied().unwrap_or(0)),
            Err(StoreError::GuardConflict { .. }) => Err(CoreError::Conflict(format!(
                "data subject request {} was changed by someone else at the same time (now: read it again with `steward requests show {}`); nothing was done by this call",
                req.id, req.id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The jurisdiction of a subject living in region `region` (index),
    /// or of the processing region when the subject is unknown.
    fn jurisdiction_of(&self, region: Option<usize>) -> Jurisdiction {
        let country = match region.and_then(|r| self.regions.get(r)) {
            Some(r) => r.config.country.as_str(),
            None => self.config.processing().country.as_str(),
        };
        if crate::config::in_transfer_zone(country) {
            Jurisdiction::Gdpr
        } else if country == "JP" {
            Jurisdiction::Appi
        } else {
            self.config.dsr.default_jurisdiction
        }
    }

    /// Open a data subject request (N7.2, N7.4) at the current time: see
    /// [`Steward::open_request_at`].
    pub fn open_request(
        &self,
        by: &str,
        identifier: Option<&str>,
        request_type: RequestType,
        channel: Channel,
        details: NewRequestDetails,
    ) -> Result<Request, CoreError> {
        self.open_request_at(
            by,
            identifier,
            request_type,
            channel,
            details,
            OffsetDateTime::now_utc(),
        )
    }

    /// Open a data subject request received at `now`, as principal `by`
    /// (who must exist and not be revoked).
    ///
    /// `identifier` is how the request names its subject (`username:ann`,
    /// an email address, `sub_…`; for an email, the sender's address), or
    /// `None` when it names nobody. It is resolved through the blind index
    /// and then dropped: the request keeps the opaque subject id and the
    /// blind index only. The deadline follows the jurisdiction of the
    /// subject's home region ([`DsrConfig`]); the policy version in force
    /// is pinned.
    ///
    /// Verification: a data subject's own user, privacy-team staff and an
    /// administrator of the subject's organisation (API or CLI) verify the
    /// request at once (recorded); an email request whose sender matched a
    /// subject waits for a one-time code ([`Steward::send_verification`]);
    /// a request matching no subject is recorded `unverified` and is never
    /// executed.
    ///
    /// Errors: [`CoreError::Input`] for details that do not fit the type
    /// (an objection needs a purpose; a rectification a record and its
    /// corrections), for an identifier that matches several subjects, and
    /// when `by` may not open a request for that subject.
    pub fn open_request_at(
        &self,
        by: &str,
        identifier: Option<&str>,
        request_type: RequestType,
        channel: Channel,
        details: NewRequestDetails,
        now: OffsetDateTime,
    ) -> Result<Request, CoreError> {
        let p = self.acting(by)?;
        let id = new_id();
        check_details(request_type, &details)?;
        let rect = request_type == RequestType::Rectification;
        let (located, blinds) = match identifier {
            Some(i) if !i.trim().is_empty() => self.resolve(i.trim())?,
            _ => (None, vec![]),
        };
        let subject = located.map(|l| l.id);
        let email = matches!(channel, Channel::Email { .. });
        // Who may open a request for this subject, verified at once (recorded).
        let at_once = self.verified_at_once(&p, by, subject, email)?;
        if rect && subject.is_some() && (details.record.is_none() || details.corrections.is_none())
        {
            return Err(CoreError::Input(
                "a rectification names the record to correct (--record rec_…) and the corrected fields (--fields JSON)".into(),
            ));
        }
        let mut stored = RequestDetails {
            purpose: details.purpose,
            record: details.record.map(|r| r.to_string()),
            corrections_sealed: None,
        };
        if let (Some(c), Some(l)) = (&details.corrections, located) {
            // The corrections are Service Data: sealed under the subject's data key.
            let plain = serde_json::to_vec(c).map_err(|e| CoreError::Input(e.to_string()))?;
            let sealed = self.seal_corrections(l.region, l.id, &id, &plain)?;
            stored.corrections_sealed =
                Some(base64::engine::general_purpose::STANDARD.encode(sealed));
        }
        let jurisdiction = self.jurisdiction_of(located.map(|l| l.region));
        let due = self.config.dsr.due_on(jurisdiction, now.date(), false);
        let verification = Verification {
            state: match (at_once, subject) {
                (Some(_), _) => VerificationState::Verified,
                (None, Some(_)) if email => VerificationState::Pending,
                _ => VerificationState::Unverified,
            },
            method: at_once.map(str::to_owned),
            verified_by: at_once.map(|_| by.to_owned()),
            verified_at: at_once.map(|_| rfc3339(now)),
        };
        let mut req = Request {
            id: id.clone(),
            request_type,
            state: RequestState::Received,
            subject: subject.map(|s| s.to_string()),
            subject_region: located.map(|l| self.regions[l.region].config.name.clone()),
            identifier_ref: blinds.first().map(hex::encode),
            requester: by.to_owned(),
            channel: channel.clone(),
            received_at: rfc3339(now),
            jurisdiction,
            due_on: fmt_date(due),
            extension: None,
            policy_version: self.policy.version().to_owned(),
            verification,
            details: stored,
            obligation: None,
            result: None,
            reason: None,
            attempts: 0,
            history: vec![],
        };
        let how = match &channel {
            Channel::Api => "api",
            Channel::Cli => "cli",
            Channel::Email { .. } => "email",
        };
        let note = format!(
            "received by {how}; {} deadline {}{}",
            jurisdiction.as_str(),
            req.due_on,
            if subject.is_none() {
                "; matches no data subject: unverified, never executed automatically"
            } else {
                ""
            }
        );
        let clause = if email { "N7.4" } else { "N7.2" };
        let state = if at_once.is_some() {
            RequestState::Verified
        } else {
            RequestState::Received
        };
        if at_once.is_some() {
            req.history.push(HistoryEntry {
                at: rfc3339(now),
                state: RequestState::Received,
                by: by.to_owned(),
                note,
            });
            let m = at_once.unwrap_or_default();
            self.transition(
                None,
                &mut req,
                state,
                Step {
                    action: "dsr_open",
                    by,
                    clause,
                    note: format!("verified at once ({m})"),
                },
                now,
                ChangeSet::default(),
            )?;
        } else {
            self.transition(
                None,
                &mut req,
                state,
                Step {
                    action: "dsr_open",
                    by,
                    clause,
                    note,
                },
                now,
                ChangeSet::default(),
            )?;
        }
        Ok(req)
    }

    /// Whether principal `p` (named `by`) opening a request about `subject`
    /// verifies it at once, and how (`authenticated_subject`, `operator`,
    /// `administrator`); `None`: it waits for verification. `email`: the
    /// request came by email (N7.4), never verified at once.
    ///
    /// Errors: [`CoreError::Denied`] (audited) when `p` may not open a
    /// request for this subject (N7.2, N6.5).
    fn verified_at_once(
        &self,
        p: &Principal,
        by: &str,
        subject: Option<SubjectId>,
        email: bool,
    ) -> Result<Option<&'static str>, CoreError> {
        Ok(match (p.kind, subject) {
            (PrincipalKind::DataSubject, s) => {
                if s.is_none() || p.subject != s || email {
                    return Err(self.refuse(
                        &p,
                        "dsr_open",
                        s,
                        "dsr-requester",
                        "N7.2",
                        "a data subject opens requests about their own data only (N7.2)".into(),
                    ));
                }
                Some("authenticated_subject")
            }
            (_, _) if email => None,
            (_, Some(_)) if self.may_handle_requests(&p) => Some("operator"),
            (_, None) if self.may_handle_requests(&p) => None,
            (PrincipalKind::CustomerAdmin | PrincipalKind::Reseller, Some(s)) => {
                match self.organisation_of_subject(s)? {
                    Some(org) if p.organisations.contains(&org) => Some("administrator"),
                    _ => {
                        return Err(self.refuse(
                            &p,
                            "dsr_open",
                            Some(s),
                            "dsr-requester",
                            "N6.5",
                            "an administrator opens requests only for users of the organisations they manage (N6.5)".into(),
                        ));
                    }
                }
            }
            (_, s) => {
                return Err(self.refuse(
                    &p,
                    "dsr_open",
                    s,
                    "dsr-requester",
                    "N7.2",
                    format!(
                        "principal `{by}` may not open a data subject request for this subject: the subject opens their own, privacy staff or the subject's organisation's administrator open one on their behalf (N7.2)"
                    ),
                ));
            }
        })
    }

    /// One request by id.
    ///
    /// Errors: [`CoreError::Input`] for a malformed or unknown id.
    pub fn request(&self, id: &str) -> Result<Request, CoreError> {
        Ok(self.load_request(id)?.1)
    }

    /// Requests matching `filter`, oldest first, overdue judged today (UTC).
    pub fn requests(&self, filter: RequestFilter) -> Result<Vec<Request>, CoreError> {
        self.requests_at(filter, OffsetDateTime::now_utc())
    }

    /// [`Steward::requests`] with overdue judged on `now`'s date.
    pub fn requests_at(
        &self,
        filter: RequestFilter,
        now: OffsetDateTime,
    ) -> Result<Vec<Request>, CoreError> {
        let rows = self.store()?.registry_list(RegistryTable::Requests)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, body) in rows {
            let r: Request = serde_json::from_str(&body).map_err(|_| corrupt(&id, "the row"))?;
            if filter.state.is_some_and(|s| s != r.state) {
                continue;
            }
            if filter.overdue && !r.overdue_on(now.date()) {
                continue;
            }
            out.push(r);
        }
        out.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Send a one-time code for an email request to its registered
    /// contact, through the default outbox ([`OutboxSender`] in
    /// `<data_dir>/outbox`).
    pub fn send_verification(&self, id: &str) -> Result<Request, CoreError> {
        let sender = OutboxSender {
            dir: self.data_dir.join("outbox"),
        };
        self.send_verification_with(id, &sender, OffsetDateTime::now_utc())
    }

    /// Send a one-time code for request `id` at `now` through `sender`.
    ///
    /// The code is 8 digits from the operating system's CSPRNG (via
    /// `rand::rng`), stored only as a keyed hash with its expiry
    /// (`dsr.code_ttl_secs`) and attempt limit (`dsr.code_max_attempts`).
    /// It goes to the registered contact: the email identifier whose blind
    /// index the request was made under (the sender's address matched it),
    /// opened from the subject's sealed identifiers; it is never logged or
    /// stored in clear. Sending again replaces the previous code and keeps
    /// the attempts already used.
    ///
    /// Errors: [`CoreError::Input`] when the request is not waiting for a
    /// code (verified, unverified sender, locked, final) or has no email
    /// contact; the sender's error (the code is then on record but unsent:
    /// send again).
    pub fn send_verification_with(
        &self,
        id: &str,
        sender: &dyn CodeSender,
        now: OffsetDateTime,
    ) -> Result<Request, CoreError> {
        let (before, mut req) = self.load_request(id)?;
        if req.state != RequestState::Received
            || !matches!(
                req.verification.state,
                VerificationState::Pending | VerificationState::CodeSent
            )
        {
            return Err(CoreError::Input(format!(
                "request {id} is not waiting for a verification code (state {}, verification {:?})",
                req.state.as_str(),
                req.verification.state
            )));
        }
        let contact = self.registered_contact(&req)?;
        let code = format!("{:08}", rand::rng().random_range(0..100_000_000u32));
        let mut mac = self.code_hmac(id)?;
        mac.update(code.as_bytes());
        let hash = hex::encode(mac.finalize().into_bytes());
        let old = self
            .store()?
            .registry_get(RegistryTable::Verifications, id)?;
        let attempts = old
            .as_deref()
            .and_then(|b| serde_json::from_str::<CodeRow>(b).ok())
            .map(|r| r.attempts)
            .unwrap_or(0);
        let expires_at = now + Duration::seconds(self.config.dsr.code_ttl_secs as i64);
        let row = CodeRow {
            request: id.to_owned(),
            code_hmac: Some(hash),
            expires_at_ms: ms(expires_at),
            attempts,
            max_attempts: self.config.dsr.code_max_attempts,
            sent_at: rfc3339(now),
        };
        req.verification.state = VerificationState::CodeSent;
        // The new code replaces the old one: so does its message.
        crate::outbox::delete_messages(&self.data_dir, id)?;
        let extra = ChangeSet {
            registry: vec![(
                RegistryTable::Verifications,
                id.to_owned(),
                serde_json::to_string(&row).unwrap_or_default(),
            )],
            guards: vec![RegistryGuard {
                table: RegistryTable::Verifications,
                id: id.to_owned(),
                expected: old,
            }],
            ..Default::default()
        };
        self.transition(
            Some(&before),
            &mut req,
            RequestState::Received,
            Step {
                action: "dsr_code_sent",
                by: "steward",
                clause: "N7.4",
                note: "one-time code sent to the registered contact".into(),
            },
            now,
            extra,
        )?;
        sender.send(&CodeMessage {
            to: &contact,
            from: &self.config.controller.contact_email,
            request_id: id,
            code: &code,
            expires_at,
        })?;
        Ok(req)
    }

    /// The registered email contact of an email request: the subject's
    /// email identifier under the request's blind index, opened with the
    /// subject's data key. Never logged.
    fn registered_contact(&self, req: &Request) -> Result<String, CoreError> {
        let none = || {
            CoreError::Input(format!(
                "request {} has no registered email contact to send a code to",
                req.id
            ))
        };
        let (Some(s), Some(region), Some(blind)) = (
            req.subject.as_deref(),
            req.subject_region.as_deref(),
            req.identifier_ref.as_deref(),
        ) else {
            return Err(none());
        };
        let s: SubjectId = s.parse().map_err(|_| corrupt(&req.id, "subject"))?;
        let r = self.region_index(region)?;
        // The gate records the opening before it opens (fail closed).
        let v = self
            .open_registered_email(r, s, blind, &req.id)?
            .ok_or_else(none)?;
        String::from_utf8(v).map_err(|_| corrupt(&req.id, "contact"))
    }

    /// Delete the files answering access and export requests about
    /// `subject` (`<data-dir>/requests/dsr_….zip`): Service Data in clear
    /// that must not outlive the subject's erasure (N8.8), and the outbox
    /// messages of requests about it (issue 13 item 5). Returns how many
    /// files went. Called by the erasure paths after their commit.
    pub(crate) fn delete_request_exports(&self, subject: SubjectId) -> Result<u64, CoreError> {
        let dir = self.data_dir.join("requests");
        let want = subject.to_string();
        let mut n = 0;
        for (id, body) in self.store()?.registry_list(RegistryTable::Requests)? {
            let Ok(r) = serde_json::from_str::<Request>(&body) else {
                continue;
            };
            if r.subject.as_deref() != Some(want.as_str()) {
                continue;
            }
            // Issue 13 item 5: its one-time-code messages, with the address.
            n += crate::outbox::delete_messages(&self.data_dir, &id)?;
            let f = dir.join(format!("{id}.zip"));
            match std::fs::remove_file(&f) {
                Ok(()) => n += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(CoreError::Io {
                        path: f.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(n)
    }

    /// Verify request `id` with the one-time code entered, now.
    pub fn verify(&self, id: &str, code: &str) -> Result<Request, CoreError> {
        self.verify_at(id, code, OffsetDateTime::now_utc())
    }

    /// Verify request `id` with `code` at `now`: a match within the code's
    /// lifetime verifies the request (recorded, audited) and spends the
    /// code; a wrong code uses one attempt (audited), and the last allowed
    /// wrong attempt locks verification.
    ///
    /// Errors: [`CoreError::Input`] naming what is wrong: no code sent,
    /// the code expired (send a new one), the code does not match (attempts
    /// left), verification locked.
    pub fn verify_at(
        &self,
        id: &str,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<Request, CoreError> {
        let (before, mut req) = self.load_request(id)?;
        if req.verification.state == VerificationState::Locked {
            return Err(CoreError::Input(format!(
                "request {id}: verification is locked after too many wrong codes; the request stays unverified"
            )));
        }
        if req.state != RequestState::Received
            || req.verification.state != VerificationState::CodeSent
        {
            return Err(CoreError::Input(format!(
                "request {id} has no code to enter (state {}): send one first",
                req.state.as_str()
            )));
        }
        let vbefore = self
            .store()?
            .registry_get(RegistryTable::Verifications, id)?
            .ok_or_else(|| corrupt(id, "the code row"))?;
        let mut row: CodeRow =
            serde_json::from_str(&vbefore).map_err(|_| corrupt(id, "the code row"))?;
        let Some(hash) = row.code_hmac.clone() else {
            return Err(CoreError::Input(format!(
                "request {id} has no code to enter: send one first"
            )));
        };
        if ms(now) > row.expires_at_ms {
            return Err(CoreError::Input(format!(
                "request {id}: the code expired; send a new one"
            )));
        }
        let mut mac = self.code_hmac(id)?;
        mac.update(code.trim().as_bytes());
        let expected = hex::decode(&hash).map_err(|_| corrupt(id, "the code hash"))?;
        let guard = RegistryGuard {
            table: RegistryTable::Verifications,
            id: id.to_owned(),
            expected: Some(vbefore),
        };
        if mac.verify_slice(&expected).is_ok() {
            row.code_hmac = None;
            req.verification = Verification {
                state: VerificationState::Verified,
                method: Some("one_time_code".into()),
                verified_by: Some("registered_contact".into()),
                verified_at: Some(rfc3339(now)),
            };
            self.transition(
                Some(&before),
                &mut req,
                RequestState::Verified,
                Step {
                    action: "dsr_verify",
                    by: "registered_contact",
                    clause: "N7.4",
                    note: "verified by one-time code".into(),
                },
                now,
                ChangeSet {
                    registry: vec![(
                        RegistryTable::Verifications,
                        id.to_owned(),
                        serde_json::to_string(&row).unwrap_or_default(),
                    )],
                    guards: vec![guard],
                    ..Default::default()
                },
            )?;
            // Issue 13 item 5: the code is spent; its message goes.
            crate::outbox::delete_messages(&self.data_dir, id)?;
            return Ok(req);
        }
        row.attempts += 1;
        let left = row.max_attempts.saturating_sub(row.attempts);
        if left == 0 {
            row.code_hmac = None;
            req.verification.state = VerificationState::Locked;
        }
        self.transition(
            Some(&before),
            &mut req,
            RequestState::Received,
            Step {
                action: "dsr_verify_failed",
                by: "registered_contact",
                clause: "N7.4",
                note: format!("wrong code ({} of {})", row.attempts, row.max_attempts),
            },
            now,
            ChangeSet {
                registry: vec![(
                    RegistryTable::Verifications,
                    id.to_owned(),
                    serde_json::to_string(&row).unwrap_or_default(),
                )],
                guards: vec![guard],
                ..Default::default()
            },
        )?;
        Err(CoreError::Input(if left == 0 {
            format!("request {id}: the code does not match; verification is now locked")
        } else {
            format!("request {id}: the code does not match; {left} attempts left")
        }))
    }

    /// Reject request `id` as privacy-team principal `by`, with a reason
    /// (recorded in the request; the audit entry records the rejection).
    ///
    /// Errors: [`CoreError::Denied`] (audited) when the pack does not let
    /// `by` handle requests (`dsr_handle`: privacy staff); [`CoreError::Input`] when the
    /// reason is empty or too long, or the request is final or executing.
    pub fn reject(&self, id: &str, by: &str, reason: &str) -> Result<Request, CoreError> {
        let p = self.acting(by)?;
        // Decided by the pack (`dsr_handle`, privacy staff) and audited.
        self.authorize_dsr_handling(&p, id)?;
        let reason = free_text("--reason", reason)?;
        let (before, mut req) = self.load_request(id)?;
        if req.state.is_final() || req.state == RequestState::InProgress {
            return Err(CoreError::Conflict(format!(
                "request {id} is {} and cannot be rejected",
                req.state.as_str()
            )));
        }
        req.reason = Some(reason);
        self.transition(
            Some(&before),
            &mut req,
            RequestState::Rejected,
            Step {
                action: "dsr_reject",
                by,
                clause: "N7.2",
                note: "rejected with a reason".into(),
            },
            OffsetDateTime::now_utc(),
            ChangeSet::default(),
        )?;
        Ok(req)
    }

    /// Extend request `id`'s deadline (GDPR only, once) now: see
    /// [`Steward::extend_at`].
    pub fn extend(&self, id: &str, by: &str, reason: &str) -> Result<Request, CoreError> {
        self.extend_at(id, by, reason, OffsetDateTime::now_utc())
    }

    /// Extend request `id`'s deadline by `dsr.gdpr_extension_months`
    /// (counted from receipt, clamped to month end), once, with a recorded
    /// reason, as privacy-team principal `by`.
    ///
    /// Errors: [`CoreError::Input`] for an APPI request (no extension:
    /// without delay), a second extension, a final request, or `by` not
    /// privacy staff.
    pub fn extend_at(
        &self,
        id: &str,
        by: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Request, CoreError> {
        let p = self.acting(by)?;
        // Decided by the pack (`dsr_handle`, privacy staff) and audited.
        self.authorize_dsr_handling(&p, id)?;
        let reason = free_text("--reason", reason)?;
        let (before, mut req) = self.load_request(id)?;
        if req.state.is_final() {
            return Err(CoreError::Conflict(format!(
                "request {id} is {}: nothing to extend",
                req.state.as_str()
            )));
        }
        if req.jurisdiction != Jurisdiction::Gdpr {
            return Err(CoreError::Input(format!(
                "request {id} falls under {}: it is answered without delay and has no extension",
                req.jurisdiction.as_str()
            )));
        }
        if req.extension.is_some() {
            return Err(CoreError::Input(format!(
                "request {id} was already extended once; GDPR allows one extension"
            )));
        }
        let received = parse_ts(&req.received_at).ok_or_else(|| corrupt(id, "received_at"))?;
        let until = self
            .config
            .dsr
            .due_on(req.jurisdiction, received.date(), true);
        req.due_on = fmt_date(until);
        req.extension = Some(Extension {
            until: req.due_on.clone(),
            reason,
            by: by.to_owned(),
            at: rfc3339(now),
        });
        let state = req.state;
        self.transition(
            Some(&before),
            &mut req,
            state,
            Step {
                action: "dsr_extend",
                by,
                clause: "N7.2",
                note: format!("deadline extended to {}", fmt_date(until)),
            },
            now,
            ChangeSet::default(),
        )?;
        Ok(req)
    }

    /// Mark requests left `in_progress` by a process that stopped as
    /// failed, now: see [`Steward::resume_in_progress_at`].
    pub fn resume_in_progress(&self) -> Result<Vec<String>, CoreError> {
        self.resume_in_progress_at(OffsetDateTime::now_utc())
    }

    /// Every request `in_progress` since more than
    /// `dsr.interrupted_after_secs` before `now` becomes `failed` with
    /// reason `interrupted` (audited): never stuck, and `approve` re-runs it
    /// idempotently. Returns their ids. Younger ones are left alone: another
    /// process may be executing them.
    pub fn resume_in_progress_at(&self, now: OffsetDateTime) -> Result<Vec<String>, CoreError> {
        let limit =
            Duration::seconds(self.config.dsr.interrupted_after_secs.min(31_536_000) as i64);
        let mut done = Vec::new();
        for r in self.requests_at(
            RequestFilter {
                state: Some(RequestState::InProgress),
                ..Default::default()
            },
            now,
        )? {
            let since = r
                .history
                .iter()
                .rev()
                .find(|h| h.state == RequestState::InProgress)
                .and_then(|h| parse_ts(&h.at));
            if since.is_some_and(|s| now - s < limit) {
                continue;
            }
            // Executing in this process right now (a long erasure or export):
            // not interrupted, whatever its age. Unsure (poisoned): leave it.
            let mine = self
                .executing
                .lock()
                .map(|s| s.contains_key(&r.id))
                .unwrap_or(true);
            if mine {
                continue;
            }
            let (before, mut req) = self.load_request(&r.id)?;
            if req.state != RequestState::InProgress {
                continue;
            }
            req.reason = Some(
                "interrupted: execution did not finish (the process stopped); approve it again to re-run it (idempotent)".into(),
            );
            match self.transition(
                Some(&before),
                &mut req,
                RequestState::Failed,
                Step {
                    action: "dsr_fail",
                    by: "steward",
                    clause: "N7.2",
                    note: "interrupted".into(),
                },
                now,
                ChangeSet::default(),
            ) {
                Ok(_) => done.push(req.id),
                Err(CoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Approve and execute request `id` as privacy-team principal `by`, now.
    pub fn approve(&self, id: &str, by: &str) -> Result<Request, CoreError> {
        self.approve_at(id, by, OffsetDateTime::now_utc())
    }

    /// Approve and execute request `id` as privacy-team principal `by`.
    ///
    /// Only a verified (or failed, for a retry) request executes, under the
    /// policy version pinned at receipt. An administrator's restriction
    /// (N6.5e) rejects a self-service erasure or rectification, naming the
    /// restriction. The state goes to `in_progress` first (committed and
    /// audited, guarded: of two concurrent approvals exactly one proceeds),
    /// then the request runs through the gate as `by` for `comply`, citing
    /// a legal obligation recorded for the request (N3.7): access and export
    /// write a ZIP in `<data_dir>/requests/`; erasure crypto-shreds (N8.8)
    /// honouring legal holds; rectification writes the corrected record;
    /// restriction and objection are recorded and honoured by the gate.
    /// Then `completed` with the result, or `failed` naming the region and
    /// store when anything failed (never `completed`). A retry re-runs it:
    /// an export is written again, an erasure already done is found by its
    /// receipt and not repeated, and the result is always of the request's
    /// type.
    ///
    /// Errors: [`CoreError::Conflict`] when the request is executing,
    /// final, or was changed concurrently; [`CoreError::Input`] when it is
    /// not verified, `by` is not privacy staff, or the policy version
    /// differs; [`CoreError::Denied`] for a restriction (the request is
    /// then rejected); the execution's error after recording `failed`.
    pub fn approve_at(
        &self,
        id: &str,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<Request, CoreError> {
        let p = self.acting(by)?;
        // Decided by the pack (`dsr_handle`, privacy staff) and audited.
        self.authorize_dsr_handling(&p, id)?;
        let (before, mut req) = self.load_request(id)?;
        match req.state {
            RequestState::Verified | RequestState::Failed => {}
            RequestState::Received => {
                return Err(CoreError::Input(format!(
                    "request {id} is not verified ({}); {}",
                    match req.verification.state {
                        VerificationState::Unverified =>
                            "the sender matches no data subject, so it is never executed",
                        VerificationState::Locked => "verification is locked",
                        _ => "the requester has not confirmed the one-time code",
                    },
                    "an unverified request is not executed: verify it or reject it"
                )));
            }
            s => {
                return Err(CoreError::Conflict(format!(
                    "request {id} is {}: it is executed once",
                    s.as_str()
                )));
            }
        }
        if req.policy_version != self.policy.version() {
            return Err(CoreError::Input(format!(
                "request {id} was received under policy version {} and executes under it, but this Steward runs policy version {}: execute it on a node running {}",
                req.policy_version,
                self.policy.version(),
                req.policy_version
            )));
        }
        let subject = req
            .subject
            .clone()
            .ok_or_else(|| CoreError::Input(format!("request {id} names no data subject")))?;
        // N6.5e: an administrator's restriction rejects a self-service
        // erasure or rectification.
        if let Some(why) = self.restriction_against(&req, &subject)? {
            req.reason = Some(why.clone());
            let idx = self.transition(
                Some(&before),
                &mut req,
                RequestState::Rejected,
                Step {
                    action: "dsr_reject",
                    by,
                    clause: "N6.5e",
                    note: "rejected: administrator's restriction (N6.5e)".into(),
                },
                now,
                ChangeSet::default(),
            )?;
            return Err(CoreError::Denied(Box::new(crate::Denied {
                reason: why,
                policy_ids: vec!["admin-restriction".into()],
                clause_ids: vec!["N6.5e".into()],
                audit_index: Some(idx),
            })));
        }
        // The legal obligation the gate's `comply` decisions cite (N3.7),
        // recorded in the same commit as `in_progress`.
        let mut extra = ChangeSet::default();
        let obligation = match &req.obligation {
            Some(o) => o.clone(),
            None => {
                let ob = LegalObligation::of_request(&req.id, by, &subject);
                extra.registry.push((
                    RegistryTable::LegalObligations,
                    ob.id.clone(),
                    serde_json::to_string(&ob).unwrap_or_default(),
                ));
                let mut e = system_entry("obligation_record", &ob.id, "", self.policy.version());
                e.principal = token(by);
                e.clause_ids = vec![token("N3.7")];
                extra.audit.push(e);
                req.obligation = Some(ob.id.clone());
                ob.id
            }
        };
        req.attempts += 1;
        req.reason = None;
        let attempt = req.attempts;
        // From before `in_progress` is committed until this returns, this
        // process's own resume pass leaves the request alone.
        let _executing = Executing::start(&self.executing, &req.id);
        self.transition(
            Some(&before),
            &mut req,
            RequestState::InProgress,
            Step {
                action: "dsr_in_progress",
                by,
                clause: "N7.2",
                note: format!("execution {attempt} started"),
            },
            now,
            extra,
        )?;
        let running = serde_json::to_string(&req).unwrap_or_default();
        let (result, effect) = match self.execute(&req, by, &subject, &obligation, now) {
            Ok(x) => x,
            Err(e) => {
                let reason = format!(
                    "execution failed in region `{}` ({}): {e}",
                    req.subject_region.as_deref().unwrap_or("-"),
                    self.store_label(req.subject_region.as_deref())
                );
                req.reason = Some(reason);
                self.transition(
                    Some(&running),
                    &mut req,
                    RequestState::Failed,
                    Step {
                        action: "dsr_fail",
                        by,
                        clause: "N7.2",
                        note: format!("execution {attempt} failed"),
                    },
                    now,
                    ChangeSet::default(),
                )?;
                return Err(e);
            }
        };
        req.result = Some(result);
        self.transition(
            Some(&running),
            &mut req,
            RequestState::Completed,
            Step {
                action: "dsr_complete",
                by,
                clause: "N7.2",
                note: format!("execution {attempt} completed"),
            },
            now,
            effect,
        )?;
        Ok(req)
    }

    /// Where a region's store is, for failure reasons: the SQLite file
    /// name, or `postgres` and its host (never a password).
    fn store_label(&self, region: Option<&str>) -> String {
        let Some(r) = region.and_then(|n| self.regions.iter().find(|r| r.config.name == n)) else {
            return "store unknown".into();
        };
        match r.config.store.as_deref() {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                let host = u
                    .split_once("://")
                    .map(|(_, rest)| rest)
                    .map(|rest| rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest))
                    .and_then(|h| h.split(['/', '?']).next())
                    .unwrap_or("?");
                format!("store postgres {host}")
            }
            Some(p) => format!("store {p}"),
            None => format!("store {}.sqlite3", r.config.name),
        }
    }

    /// The administrator's restriction (N6.5e) that forbids this request,
    /// if it is a self-service erasure or rectification of a restricted user.
    fn restriction_against(
        &self,
        req: &Request,
        subject: &str,
    ) -> Result<Option<String>, CoreError> {
        let delete = match req.request_type {
            RequestType::Erasure => true,
            RequestType::Rectification => false,
            _ => return Ok(None),
        };
        let by_subject = matches!(req.channel, Channel::Email { .. })
            || self
                .principal(&req.requester)
                .is_ok_and(|p| p.kind == PrincipalKind::DataSubject);
        if !by_subject {
            return Ok(None);
        }
        let Ok(s) = subject.parse::<SubjectId>() else {
            return Ok(None);
        };
        let Some(org) = self.organisation_of_subject(s)? else {
            return Ok(None);
        };
        let Some(u) = self
            .users_of(&org)?
            .into_iter()
            .find(|u| u.subject == subject)
        else {
            return Ok(None);
        };
        let restricted = if delete {
            u.restrictions.delete
        } else {
            u.restrictions.edit
        };
        if !restricted {
            return Ok(None);
        }
        let what = if delete { "delete" } else { "edit" };
        Ok(Some(format!(
            "the organisation's administrator ({}) has restricted this user's ability to {what} their information (N6.5e)",
            u.restricted_by.as_deref().unwrap_or("an administrator")
        )))
    }

    /// Run the request's effect through the gate. Returns the result and
    /// any registry change to commit with `completed`.
    fn execute(
        &self,
        req: &Request,
        by: &str,
        subject: &str,
        obligation: &str,
        now: OffsetDateTime,
    ) -> Result<(RequestResult, ChangeSet), CoreError> {
        match req.request_type {
            RequestType::Access | RequestType::Export => {
                // The answer is Service Data in clear: a directory only the
                // owner can enter (0700); the files go with the subject's
                // erasure (`delete_request_exports`, N8.8).
                let dir = self.data_dir.join("requests");
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(&dir).map_err(|e| CoreError::Io {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                })?;
                let out = dir.join(format!("{}.zip", req.id));
                let s = self.export(by, Purpose::Comply, subject, &out, Some(obligation))?;
                let path = s.path;
                let records = s.record_count;
                Ok((
                    if req.request_type == RequestType::Access {
                        RequestResult::Access { path, records }
                    } else {
                        RequestResult::Export { path, records }
                    },
                    ChangeSet::default(),
                ))
            }
            RequestType::Erasure => {
                // Idempotent: an erasure already done (a retry after the
                // shredding committed) is found by its receipt.
                if let Some(r) = self.receipts()?.into_iter().find(|r| r.subject == subject) {
                    return Ok((
                        RequestResult::Erasure {
                            records_retained: r.retained.iter().map(|x| x.count).sum(),
                            receipt_id: r.receipt_id,
                            records_unreadable: r.records_unreadable,
                        },
                        ChangeSet::default(),
                    ));
                }
                // Crypto-shredding that keeps records under a legal hold (N3.7, N8.8).
                let r = self.erase_with_holds(by, subject, Some(obligation), now)?;
                Ok((
                    RequestResult::Erasure {
                        receipt_id: r.receipt_id,
                        records_unreadable: r.records_unreadable,
                        records_retained: r.retained.iter().map(|x| x.count).sum(),
                    },
                    ChangeSet::default(),
                ))
            }
            RequestType::Rectification => {
                let (Some(record), Some(sealed)) = (
                    req.details.record.as_deref(),
                    req.details.corrections_sealed.as_deref(),
                ) else {
                    return Err(CoreError::Input(format!(
                        "request {} names no record or corrections",
                        req.id
                    )));
                };
                let record =
                    parse_record_id(record).map_err(|_| corrupt(&req.id, "details.record"))?;
                let fields = self.request_corrections(req, subject, sealed)?;
                // A retry after the correction committed finds the old record
                // gone: it fails, naming that, rather than completing blind.
                let region = self.region_index(req.subject_region.as_deref().unwrap_or(""))?;
                if self.rstore(region)?.record(record)?.is_none() {
                    return Err(CoreError::Input(format!(
                        "record {record} is no longer stored (already corrected by an earlier execution, or erased): see the audit log's rectify entry for its replacement"
                    )));
                }
                let new = self.rectify(by, subject, record, fields, Some(obligation))?;
                Ok((
                    RequestResult::Rectification {
                        record_id: new.to_string(),
                    },
                    ChangeSet::default(),
                ))
            }
            RequestType::Restriction | RequestType::Objection => {
                let old = self
                    .store()?
                    .registry_get(RegistryTable::ProcessingRestrictions, subject)?;
                let mut row: ProcessingRestriction = match &old {
                    Some(b) => serde_json::from_str(b)
                        .map_err(|_| corrupt(&req.id, "the processing restriction"))?,
                    None => ProcessingRestriction {
                        subject: subject.to_owned(),
                        ..Default::default()
                    },
                };
                let result = if req.request_type == RequestType::Restriction {
                    row.restricted = true;
                    RequestResult::Restriction { recorded: true }
                } else {
                    let purpose = req
                        .details
                        .purpose
                        .ok_or_else(|| corrupt(&req.id, "details.purpose"))?;
                    if !row.objections.contains(&purpose) {
                        row.objections.push(purpose);
                    }
                    RequestResult::Objection { purpose }
                };
                if !row.requests.contains(&req.id) {
                    row.requests.push(req.id.clone());
                }
                Ok((
                    result,
                    ChangeSet {
                        registry: vec![(
                            RegistryTable::ProcessingRestrictions,
                            subject.to_owned(),
                            serde_json::to_string(&row).unwrap_or_default(),
                        )],
                        guards: vec![RegistryGuard {
                            table: RegistryTable::ProcessingRestrictions,
                            id: subject.to_owned(),
                            expected: old,
                        }],
                        ..Default::default()
                    },
                ))
            }
        }
    }

    /// Open a rectification's sealed corrections with the subject's data key.
    fn request_corrections(
        &self,
        req: &Request,
        subject: &str,
        sealed: &str,
    ) -> Result<Fields, CoreError> {
        let s: SubjectId = subject.parse().map_err(|_| corrupt(&req.id, "subject"))?;
        let r = self.region_index(req.subject_region.as_deref().unwrap_or(""))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| corrupt(&req.id, "details.corrections_sealed"))?;
        self.open_corrections(r, s, &req.id, &bytes)?
            .ok_or_else(|| corrupt(&req.id, "details.corrections_sealed"))
    }
}
