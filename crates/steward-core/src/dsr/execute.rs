//! Approval and execution of a request through the gate, exactly once (N7.2).

use super::lease::{Liveness, lease_end};
use super::*;
use crate::rows::{parse_row, row_json};

/// Where [`Steward::approve_until`] stops (test support for takeovers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halt {
    /// It runs to the end.
    Never,
    /// Right after `in_progress` is committed.
    AfterStart,
    /// After the effect, before `completed`.
    AfterEffect,
}

impl Steward {
    /// Approve and execute request `id` as privacy-team principal `by`.
    ///
    /// Only a verified (or failed, for a retry) request executes, under the
    /// policy version pinned at receipt. An administrator's restriction
    /// (N6.5e) rejects a self-service erasure or rectification, naming the
    /// restriction. The state goes to `in_progress` first (committed and
    /// audited, guarded: of two concurrent approvals exactly one proceeds),
    /// then the request runs through the gate as `by` for `comply`, citing
    /// a legal obligation recorded for the request (N3.7): access and export
    /// store the ZIP sealed under the subject's data key in the subject's
    /// region (any node serves it: [`Steward::request_result`]); erasure
    /// crypto-shreds (N8.8)
    /// honouring legal holds; rectification writes the corrected record;
    /// restriction and objection are recorded and honoured by the gate.
    /// Then `completed` with the result, or `failed` naming the region and
    /// store when anything failed (never `completed`). A retry re-runs it:
    /// a stored result is reused, an erasure already done is found by its
    /// receipt and not repeated, and the result is always of the request's
    /// type.
    ///
    /// Several nodes (issue 21 item 5): the execution holds a lease in the
    /// store (taken atomically before `in_progress`, renewed every third of
    /// `dsr.lease_secs`, ended by the commit that completes or fails it); a
    /// request `in_progress` whose lease expired (its node stopped) is taken
    /// over by this call on any node, as a new attempt, and finished once.
    ///
    /// Errors: [`CoreError::Conflict`] when the request is executing (its
    /// lease is live), final, or was changed concurrently; [`CoreError::Input`] when it is
    /// not verified, `by` is not privacy staff, or the policy version
    /// differs; [`CoreError::Denied`] for a restriction (the request is
    /// then rejected); the execution's error after recording `failed`.
    pub fn approve(&self, id: &str, by: &str) -> Result<Request, CoreError> {
        self.approve_until(id, by, Halt::Never)
    }

    /// Test support for several nodes on one store (issue 21 item 5):
    /// `approve` as a node that stops part-way, its lease left to expire
    /// (not renewed, not released). `after_effect`: it stops after the
    /// effect (the erasure committed, the export stored) and before
    /// `completed`; else right after `in_progress` is committed. Another
    /// node takes the request over once the lease has expired.
    ///
    /// Errors: as [`Steward::approve`].
    #[doc(hidden)]
    pub fn approve_and_stop(
        &self,
        id: &str,
        by: &str,
        after_effect: bool,
    ) -> Result<(), CoreError> {
        let halt = if after_effect {
            Halt::AfterEffect
        } else {
            Halt::AfterStart
        };
        self.approve_until(id, by, halt).map(|_| ())
    }

    /// [`Steward::approve`], stopping where `halt` says.
    fn approve_until(&self, id: &str, by: &str, halt: Halt) -> Result<Request, CoreError> {
        let now = self.clock.now();
        let p = self.acting(by)?;
        // Decided by the pack (`dsr_handle`, privacy staff) and audited.
        self.authorize_dsr_handling(&p, id)?;
        let (before, mut req) = self.load_request(id)?;
        let Some((takeover, subject)) = self.admit(&before, &mut req, by, now)? else {
            return Err(CoreError::Input(format!(
                "request {id} names no data subject"
            )));
        };
        // The legal obligation the gate's `comply` decisions cite (N3.7),
        // recorded in the same commit as `in_progress`.
        let mut extra = ChangeSet::default();
        let obligation = match &req.obligation {
            Some(o) => o.clone(),
            None => {
                let ob = LegalObligation::of_request(&req.id, by, &subject);
                extra.registry.push((
                    RegistryTable::LegalObligations,
                    ob.id.to_string(),
                    row_json(&ob)?,
                ));
                let mut e = system_entry("obligation_record", &ob.id, "", self.policy.version());
                e.principal = token(by);
                e.clause_ids = vec![token("N3.7")];
                extra.audit.push(e);
                req.obligation = Some(ob.id.to_string());
                ob.id.into()
            }
        };
        req.attempts += 1;
        req.reason = None;
        let attempt = req.attempts;
        // From before `in_progress` is committed until this returns, this
        // process's own resume pass leaves the request alone.
        let _executing = Executing::start(&self.executing, &req.id);
        // The lease (issue 21 item 5): of two nodes, exactly one takes it.
        let Some(lease) = self.acquire_lease(id)? else {
            return Err(CoreError::Conflict(format!(
                "request {id} is being executed by another node (its lease is held): it is executed once"
            )));
        };
        let note = if takeover {
            format!("execution {attempt} started, taking over an expired lease")
        } else {
            format!("execution {attempt} started")
        };
        let step = Step {
            action: "dsr_in_progress",
            by,
            clause: "N7.2",
            note,
        };
        if let Err(e) = self.transition(
            Some(&before),
            &mut req,
            RequestState::InProgress,
            step,
            now,
            extra,
        ) {
            self.release_lease(id, &lease);
            return Err(e);
        }
        if halt == Halt::AfterStart {
            return Ok(req);
        }
        let running = row_json(&req)?;
        let (outcome, held) =
            self.with_lease(id, lease, || self.execute(&req, by, &subject, &obligation));
        if halt == Halt::AfterEffect {
            return outcome.map(|_| req);
        }
        let (result, mut effect) = match outcome {
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
                    lease_end(id, &held),
                )?;
                return Err(e);
            }
        };
        if req.request_type == RequestType::Erasure {
            // The subject is erased: its identifier's HMAC goes too (issue
            // 13, item 3; the erasure forgot the subject's other requests').
            req.identifier_ref = None;
        }
        req.result = Some(result);
        // Ends the lease, guarded on the body this execution last held: a
        // node that lost it to a takeover does not complete.
        let end = lease_end(id, &held);
        effect.delete_registry.extend(end.delete_registry);
        effect.guards.extend(end.guards);
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

    /// Whether request `req` (read as `before`) may execute now: verified
    /// or failed (a retry), or `in_progress` with an expired lease (a
    /// takeover, issue 21 item 5); under the policy version it was received
    /// under; not forbidden by an administrator's restriction (N6.5e; then
    /// rejected). Returns whether it is a takeover and the subject, or
    /// `None` when it names no subject.
    ///
    /// Errors: as [`Steward::approve`].
    fn admit(
        &self,
        before: &str,
        req: &mut Request,
        by: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<(bool, String)>, CoreError> {
        let id = req.id.to_string();
        let takeover = match req.state {
            RequestState::Verified | RequestState::Failed => false,
            RequestState::InProgress => match self.liveness(req, now)? {
                Liveness::Expired => true,
                Liveness::Running => {
                    return Err(CoreError::Conflict(format!(
                        "request {id} is in_progress and its executor's lease is live: it is executed once (a node that stopped loses its lease after dsr.lease_secs, then approve takes it over)"
                    )));
                }
                Liveness::Unleased(_) => {
                    return Err(CoreError::Conflict(format!(
                        "request {id} is in_progress: it is executed once"
                    )));
                }
            },
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
        };
        if req.policy_version != self.policy.version() {
            return Err(CoreError::Input(format!(
                "request {id} was received under policy version {} and executes under it, but this Steward runs policy version {}: execute it on a node running {}",
                req.policy_version,
                self.policy.version(),
                req.policy_version
            )));
        }
        let Some(subject) = req.subject.clone() else {
            return Ok(None);
        };
        // N6.5e: an administrator's restriction rejects a self-service
        // erasure or rectification (checked when the execution first
        // started; a takeover continues it).
        if !takeover && let Some(why) = self.restriction_against(req, &subject)? {
            req.reason = Some(why.clone());
            let idx = self.transition(
                Some(before),
                req,
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
        Ok(Some((takeover, subject)))
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
    ) -> Result<(RequestResult, ChangeSet), CoreError> {
        match req.request_type {
            RequestType::Access | RequestType::Export => {
                // Sealed under the subject's data key in the subject's
                // region (issue 21 item 5): any node serves it, the erasure
                // shreds it (N8.8). Stored by an earlier execution (a node
                // that stopped before `completed`): reused, not exported
                // again.
                let records = match self.stored_result(req)? {
                    Some(n) => n,
                    None => self.export_result(req, by, subject, obligation)?,
                };
                let path = super::results::result_location(&req.id);
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
                let r = self.erase_with_holds(by, subject, Some(obligation))?;
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
                    Some(b) => parse_row(RegistryTable::ProcessingRestrictions, subject, b)?,
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
                if !row.requests.iter().any(|r| req.id == *r) {
                    row.requests.push(req.id.to_string());
                }
                Ok((
                    result,
                    ChangeSet {
                        registry: vec![(
                            RegistryTable::ProcessingRestrictions,
                            subject.to_owned(),
                            row_json(&row)?,
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
        let plain = self.open_for_request(r, s, RequestSealed::Corrections(&req.id), &bytes)?;
        serde_json::from_slice(&plain).map_err(|_| corrupt(&req.id, "details.corrections_sealed"))
    }
}
