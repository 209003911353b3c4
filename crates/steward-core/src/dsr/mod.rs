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
//! so a crash leaves a trace. An execution holds a lease in the store,
//! renewed by a heartbeat (`lease.rs`, issue 21 item 5): once a stopped
//! node's lease expires, `approve` on any node takes the request over, and
//! [`Steward::resume_in_progress`] marks it failed with reason
//! `interrupted` (a request without a lease row: after
//! `dsr.interrupted_after_secs`); they are never re-run by themselves.
//! The CLI `steward requests …` commands call it on start; `steward serve`
//! every minute. Access and export results are sealed in the store
//! (`results.rs`), so every node serves them.
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
use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{
    Fields, Principal, PrincipalKind, Purpose, RecordId, RequestId, RequestState, RequestType,
    SubjectId,
};
use steward_store::{
    ChangeSet, RegistryField, RegistryGuard, RegistryQuery, RegistryTable, StoreError,
};
use time::{Date, Duration, OffsetDateTime};

use crate::gate::{RequestSealed, system_entry, token};
use crate::rows::parse_row;
use crate::{CoreError, LegalObligation, Steward};

mod erasure;

mod execute;
mod lease;
mod records;
mod results;
mod sender;
mod verification;

pub use crate::config::{DsrConfig, Jurisdiction, add_months};
pub use crate::gate::ProcessingRestriction;
pub use lease::ExecutionLease;
pub use records::*;
pub use sender::*;

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

fn new_id() -> RequestId {
    RequestId::from_random(crate::gate::random_id_bits())
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
    /// key, bound to the request id; one per live key version, current
    /// first (a code sent before a rotation still verifies while it is
    /// under way; issue 13 item 3).
    fn code_hmacs(&self, request: &str) -> Result<Vec<Hmac<Sha256>>, CoreError> {
        let keys = self.blind_keys()?;
        let mut out = Vec::new();
        for k in keys.all() {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k.bytes())
                .map_err(|e| CoreError::Config(format!("blind-index key: {e}")))?;
            mac.update(b"steward-dsr-code\0");
            mac.update(request.as_bytes());
            mac.update(b"\0");
            out.push(mac);
        }
        Ok(out)
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
        let req: Request = parse_row(RegistryTable::Requests, id, &body)?;
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
        // No blind-index prefix of the identifier: it would outlive the
        // erasure and link the request to a guessed identifier (issue 13,
        // item 3); the row's `identifier_ref` is dropped at erasure.
        e.resource = res;
        e.region = token(&self.config.home_region().name);
        let body = serde_json::to_string(&*req).map_err(|e| CoreError::Input(e.to_string()))?;
        extra
            .registry
            .push((RegistryTable::Requests, req.id.to_string(), body));
        extra.guards.push(RegistryGuard {
            table: RegistryTable::Requests,
            id: req.id.to_string(),
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
        if crate::transfer_zone::in_transfer_zone(country) {
            Jurisdiction::Gdpr
        } else if country == "JP" {
            Jurisdiction::Appi
        } else {
            self.config.dsr.default_jurisdiction
        }
    }

    /// Open a data subject request (N7.2, N7.4), received at the clock's
    /// now ([`crate::Clock`]), as principal `by`
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
    pub fn open_request(
        &self,
        by: &str,
        identifier: Option<&str>,
        request_type: RequestType,
        channel: Channel,
        details: NewRequestDetails,
    ) -> Result<Request, CoreError> {
        let now = self.clock.now();
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
            let sealed =
                self.seal_for_request(l.region, l.id, RequestSealed::Corrections(&id), &plain)?;
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
                        p,
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
            (_, Some(_)) if self.may_handle_requests(p) => Some("operator"),
            (_, None) if self.may_handle_requests(p) => None,
            (PrincipalKind::CustomerAdmin | PrincipalKind::Reseller, Some(s)) => {
                match self.organisation_of_subject(s)? {
                    Some(org) if p.organisations.contains(&org) => Some("administrator"),
                    _ => {
                        return Err(self.refuse(
                            p,
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
                    p,
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

    /// Requests matching `filter`, oldest first, overdue judged on the
    /// clock's date (UTC).
    pub fn requests(&self, filter: RequestFilter) -> Result<Vec<Request>, CoreError> {
        let now = self.clock.now();
        // A state asked for is read through the table's `state` column
        // (issue 12); every row is still checked below.
        let rows = match filter.state {
            Some(s) => self.store()?.registry_find(
                RegistryTable::Requests,
                RegistryQuery::Equals(RegistryField::State, s.as_str()),
            )?,
            None => self.store()?.registry_list(RegistryTable::Requests)?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, body) in rows {
            let r: Request = parse_row(RegistryTable::Requests, &id, &body)?;
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
            self.clock.now(),
            ChangeSet::default(),
        )?;
        Ok(req)
    }

    /// Extend request `id`'s deadline by `dsr.gdpr_extension_months`
    /// (counted from receipt, clamped to month end), once, with a recorded
    /// reason, as privacy-team principal `by`.
    ///
    /// Errors: [`CoreError::Input`] for an APPI request (no extension:
    /// without delay), a second extension, a final request, or `by` not
    /// privacy staff.
    pub fn extend(&self, id: &str, by: &str, reason: &str) -> Result<Request, CoreError> {
        let now = self.clock.now();
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

    /// Every request `in_progress` whose execution stopped becomes `failed`
    /// with reason `interrupted` (audited): never stuck, and `approve`
    /// re-runs it idempotently. Stopped: its lease expired (issue 21 item
    /// 5; `dsr.lease_secs`), or, for a request without a lease row (started
    /// before leases existed), it is `in_progress` since more than
    /// `dsr.interrupted_after_secs` before the clock's now. Returns their
    /// ids. Requests this process is executing, or whose lease is live, are
    /// left alone.
    pub fn resume_in_progress(&self) -> Result<Vec<String>, CoreError> {
        let now = self.clock.now();
        let mut done = Vec::new();
        for r in self.requests(RequestFilter {
            state: Some(RequestState::InProgress),
            ..Default::default()
        })? {
            match self.liveness(&r, now)? {
                lease::Liveness::Expired | lease::Liveness::Unleased(true) => {}
                lease::Liveness::Running | lease::Liveness::Unleased(false) => continue,
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
                Ok(_) => done.push(req.id.into()),
                Err(CoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}
