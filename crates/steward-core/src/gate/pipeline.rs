//! The one pipeline every access runs:
//!
//! 1. **Authenticate**: load the principal (revoked principals are denied
//!    by policy on their next request, N5.5).
//! 2. **Resolve** the subject: a live subject through the blind index
//!    (never a clear column; an identifier matching nobody is decided as
//!    the empty subject `sub_none`), an erased subject's held records by
//!    its `sub_` id.
//! 3. **Context** (`context.rs`): support case (N3.5), legal obligation
//!    (N3.7), cross-region processing (N4.2).
//! 4. **Decide** with Cedar; no purpose → denied (N3).
//! 5. **Checks** (`checks/`): one ordered list, the first refusal wins.
//! 6. **Record** the decision (allow or deny) as an audit entry, with the
//!    transfer it registers (N4.4) and the access's own changes.
//! 7. **Commit** in the subject's home region (N4.1), one transaction; if
//!    it fails nothing is opened or changed (fail closed).
//! 8. **Open** only then, for an allowed access that reveals data.

use steward_audit::{Resource, ResourceKind, SubjectRef};
use steward_domain::{Principal, SubjectId, SubjectIdentifier};
use steward_policy::{Action, Decision, DecisionRequest};
use steward_store::{ChangeSet, StoreError};

use super::TransferMechanism;
use super::ask::DisclosureAsk;
use super::checks::{self, Access, SharingFacts};
use super::keys::{Opener, open_row};
use super::{AccessRequest, Located, Opened, OpenedRecord, denied, new_request_id, token};
use crate::{CoreError, Steward};

/// What an access opens once allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::gate) enum Target {
    /// A live subject's data, with the subject's data key.
    Live,
    /// Records kept under a legal hold after an erasure (N3.7), with the
    /// hold key; decided as a `read`.
    Held,
}

/// The subject an access is about.
pub(in crate::gate) struct Resolved {
    pub subject: Option<SubjectId>,
    /// The subject's home region (this node's when there is no subject).
    pub home: usize,
    /// How many subjects the identifier matched, when more than one: it
    /// is decided as matching none, and only an allowed principal is told
    /// it is ambiguous (issue 14 item 8: a refusal does not depend on what
    /// exists).
    ambiguous: Option<usize>,
}

/// The pipeline up to the checks: who, about whom, and the final decision.
pub(in crate::gate) struct Decided {
    pub principal: Principal,
    pub action: Action,
    pub resolved: Resolved,
    pub processing: usize,
    pub decision: Decision,
    pub transfer: Option<TransferMechanism>,
    /// For a disclosure: the facts decided on and what they rest on.
    pub sharing: Option<SharingFacts>,
}

impl Steward {
    /// Load an authenticated principal by name. Unknown names are an error;
    /// revoked principals load with `revoked = true` and are denied by policy
    /// (N5.5: revocation takes effect on the next request).
    pub fn principal(&self, name: &str) -> Result<Principal, CoreError> {
        let (body, revoked) = self.store_read()?.principal(name)?.ok_or_else(|| {
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
    ///
    /// Errors: [`CoreError::Input`] for a malformed identifier, or one that
    /// matches more than one subject (ask this only after the caller was
    /// allowed: the gate itself decides first, [`Self::resolve_all`]).
    pub(crate) fn resolve(&self, arg: &str) -> Result<(Option<Located>, Vec<[u8; 32]>), CoreError> {
        let (found, blinds) = self.resolve_all(arg)?;
        match found.len() {
            0 | 1 => Ok((found.first().copied(), blinds)),
            n => Err(ambiguous(n)),
        }
    }

    /// Every subject an identifier argument names, and the blind-index
    /// references to record.
    pub(crate) fn resolve_all(
        &self,
        arg: &str,
    ) -> Result<(Vec<Located>, Vec<[u8; 32]>), CoreError> {
        if let Ok(id) = arg.parse::<SubjectId>() {
            for region in 0..self.regions.len() {
                if let Some(s) = self
                    .rstore_read(region)?
                    .subject(id)?
                    .filter(|s| s.erased_at_ms.is_none())
                {
                    return Ok((vec![Located { region, id: s.id }], vec![]));
                }
            }
            return Ok((vec![], vec![]));
        }
        let candidates = SubjectIdentifier::candidates(arg)
            .map_err(|e| CoreError::Input(format!("--subject: {e}")))?;
        let mut blinds = Vec::new();
        let mut found: Vec<Located> = Vec::new();
        // Issue 15 item 2: a tenant-scoped identifier is looked for in the
        // deployment's namespace and every organisation's.
        let mut keyed = Vec::new();
        for c in &candidates {
            for b in self.blinds_everywhere(c)? {
                keyed.push((c, b));
            }
        }
        for (c, b) in keyed {
            for region in 0..self.regions.len() {
                // The store guard goes before the index entry is checked.
                let hit = self.rstore_read(region)?.subject_by_blind(&b)?;
                if let Some(id) = hit {
                    // Issue 13 item 6: a tampered index entry fails loudly.
                    self.check_index_entry(region, id, &b, c)?;
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
            blinds.push(self.blind_in(c, None)?);
        }
        Ok((found, blinds))
    }

    /// The one subject an identifier names, before a decision: `None` when
    /// it names none or more than one (the gate then decides, and tells
    /// only an allowed principal that it is ambiguous, issue 14 item 8).
    pub(crate) fn find_before_gate(
        &self,
        identifier: &str,
    ) -> Result<Option<SubjectId>, CoreError> {
        let (found, _) = self.resolve_all(identifier)?;
        Ok(match found.as_slice() {
            [one] => Some(one.id),
            _ => None,
        })
    }

    /// Step 2: the subject of `req` for `target`.
    fn resolve_target(
        &self,
        req: &AccessRequest,
        target: Target,
        processing: usize,
    ) -> Result<Resolved, CoreError> {
        match target {
            Target::Live => {
                let (found, _) = self.resolve_all(&req.subject)?;
                let located = match found.len() {
                    0 | 1 => found.first().copied(),
                    _ => None,
                };
                Ok(Resolved {
                    subject: located.map(|l| l.id),
                    home: located.map(|l| l.region).unwrap_or(processing),
                    ambiguous: (found.len() > 1).then_some(found.len()),
                })
            }
            Target::Held => {
                let id: SubjectId = req.subject.parse().map_err(|_| {
                    CoreError::Input(
                        "--subject: held records are found by the erased subject's sub_ id (on the erasure receipt), not by an identifier".into(),
                    )
                })?;
                let mut home = processing;
                for r in 0..self.regions.len() {
                    let store = self.rstore_read(r)?;
                    if store.hold_key(id)?.is_some() || store.subject(id)?.is_some() {
                        home = r;
                        break;
                    }
                }
                Ok(Resolved {
                    subject: Some(id),
                    home,
                    ambiguous: None,
                })
            }
        }
    }

    /// Steps 1 to 5: authenticate, resolve, context, decide, checks. For a
    /// disclosure (`ask`), the context carries its basis, recipient kind
    /// and the consent and grant states (N6.2-N6.4).
    pub(in crate::gate) fn decide_access(
        &self,
        req: &AccessRequest,
        target: Target,
        presume_obligation: bool,
        ask: Option<&DisclosureAsk>,
    ) -> Result<Decided, CoreError> {
        if let Some(k) = req.kind
            && req.category != Some(k.category())
        {
            return Err(CoreError::Input(format!(
                "kind: `{k}` is a kind of category {}, and the request names {}: drop --category or name {} (N2)",
                k.category(),
                req.category.map(|c| c.as_str()).unwrap_or("no category"),
                k.category()
            )));
        }
        let principal = self.principal(&req.principal)?;
        let processing = self.processing_index();
        let resolved = self.resolve_target(req, target, processing)?;
        let (subject, home) = (resolved.subject, resolved.home);
        let action = match target {
            Target::Live => req.action,
            Target::Held => Action::Read,
        };
        let (mut ctx, justification) =
            self.context_for(&principal, req, subject, home, processing)?;
        // Only for `predecide_presuming_obligation`, which records nothing:
        // the data subject request's obligation about this subject.
        if presume_obligation {
            ctx.legal_obligation_recorded = true;
            ctx.obligation_kind = Some(steward_domain::ObligationKind::DataSubjectRequest);
            ctx.obligation_covers_category = true;
        }
        let sharing = match ask {
            Some(ask) => Some(checks::disclosure_facts(
                self, &principal, req, ask, subject,
            )?),
            None => None,
        };
        ctx.disclosure = sharing.as_ref().map(|s| s.facts);
        // An identifier that matches no subject is decided as the empty
        // subject `sub_none`: the access is still decided and audited, and it
        // opens nothing (an empty export, N7.2).
        let subject_str = subject
            .map(|s| s.to_string())
            .unwrap_or_else(|| "sub_none".to_owned());
        let mut decision = self.policy.decide(&DecisionRequest {
            principal: &principal,
            action,
            subject: Some(&subject_str),
            category: req.category,
            organisation: req.organisation.as_deref(),
            kind: req.kind,
            purpose: req.purpose,
            context: ctx,
        });
        let access = Access {
            principal: &principal,
            req,
            action,
            subject,
            home,
            processing,
            held: target == Target::Held,
            disclosure: ask,
        };
        let transfer = checks::run(self, &access, &mut decision)?;
        // Issue 17 item 1: the verified justification goes with the
        // decision (and from there into its audit entry).
        if decision.allowed {
            decision.justification = justification;
        }
        // An ambiguous identifier is named as such only to a principal the
        // decision allows; a refusal is recorded as for any subject.
        if let (Some(n), true) = (resolved.ambiguous, decision.allowed) {
            return Err(ambiguous(n));
        }
        Ok(Decided {
            principal,
            action,
            resolved,
            processing,
            decision,
            transfer,
            sharing,
        })
    }

    /// The whole pipeline: steps 1 to 5, then record the decision with
    /// `extra` (only when allowed) and the transfer it registers, commit
    /// in the home region (fail closed), and open.
    fn run_pipeline(
        &self,
        req: &AccessRequest,
        target: Target,
        extra: Option<ChangeSet>,
    ) -> Result<Opened, CoreError> {
        let Decided {
            principal,
            action,
            resolved: Resolved { subject, home, .. },
            processing,
            decision,
            transfer,
            ..
        } = self.decide_access(req, target, false, None)?;
        // Step 6: record.
        let request_id = new_request_id();
        let mut resource = Resource::new(match action {
            Action::Export => ResourceKind::Export,
            Action::Erase => ResourceKind::Erasure,
            _ => ResourceKind::Subject,
        });
        if let Some(s) = subject {
            resource = resource.subject(SubjectRef::new(s.0 as u64));
        }
        // The subject by its opaque id only, never a blind-index prefix: a
        // prefix outlives the erasure and lets anyone holding the blind-index
        // key confirm a guessed identifier (issue 13, item 3). An identifier
        // that matches nobody is recorded as no subject.
        if target == Target::Held {
            resource = resource.id(token("legal_hold"));
        }
        resource = self.access_ids(resource, req.category, home, processing, transfer.as_ref());
        if let Some(k) = req.kind {
            resource = resource.id(token(&format!("kind:{k}")));
        }
        // N3.8: the justification the access cited, by Steward-made id.
        for j in decision.justification.iter().flat_map(|j| j.split(',')) {
            resource = resource.id(token(&format!("justification:{j}")));
        }
        let mut entry = self.decision_entry(
            &decision,
            action.as_str(),
            &principal.name,
            req.purpose,
            home,
            resource,
        );
        // The same id as the transfer row this access may register.
        entry.request_id = token(&request_id);
        let cs = if decision.allowed {
            extra.unwrap_or_default()
        } else {
            ChangeSet::default()
        };
        let audit_index = self.commit_access(
            cs,
            entry,
            &decision,
            CommitAt {
                home,
                processing,
                subject,
                category: req.category,
                request_id: &request_id,
                transfer: transfer.as_ref(),
            },
        )?;
        // Step 8: open.
        let sealer: Option<Opener> = match (subject, target, action) {
            (Some(s), Target::Held, _) => self.hold_opener(home, s)?,
            (
                Some(s),
                Target::Live,
                Action::Read | Action::Export | Action::AdminView | Action::AdminLegalAccess,
            ) => self.subject_opener(home, s)?,
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

    /// The gate for a live subject's data: the pipeline (module docs) for
    /// `req`; for an allowed access that reveals data, the returned
    /// [`Opened`] opens the subject's records.
    ///
    /// `extra` is appended to the same audit transaction as the decision (the
    /// record of what the access then did, e.g. an erasure's shredding).
    ///
    /// Errors: [`CoreError::Denied`] naming the failed condition (audited);
    /// [`CoreError::AuditUnavailable`] when the decision cannot be recorded —
    /// then nothing is decrypted or changed (fail closed).
    pub fn gate(&self, req: &AccessRequest, extra: Option<ChangeSet>) -> Result<Opened, CoreError> {
        self.run_pipeline(req, Target::Live, extra)
    }

    /// Read a subject's records through the gate (`steward read`). The
    /// `sub_` id of an erased subject whose records an erasure kept under a
    /// legal hold reads those, as [`Steward::read_held`] (N3.7: `comply`
    /// only, against a recorded obligation; issue 18, item 6).
    pub fn read(&self, req: &AccessRequest) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        // N6.3: a third-party app's read is a disclosure to it.
        if let Some(out) = self.app_read(req)? {
            return Ok(out);
        }
        if !self.held_notice(&req.subject)?.is_empty() {
            return self.read_held(req);
        }
        let opened = self.gate(req, None)?;
        let records = match opened.subject {
            Some(s) => {
                let mut rows = self
                    .rstore_read(opened.region)?
                    .records(s, req.category.map(|c| c.as_str()))?;
                // Issue 17 items 4, 5: a read decided for one kind opens
                // that kind only.
                if let Some(k) = req.kind {
                    rows.retain(|r| r.kind == k.as_str());
                }
                opened.open_rows(rows)?
            }
            None => vec![],
        };
        Ok((opened, records))
    }

    /// Read the records an erasure kept under a legal hold (N3.7), for
    /// `comply` only, against a recorded legal obligation: the gate for held
    /// records. `req.subject` must be the erased subject's `sub_` id (on the
    /// erasure receipt: their identifiers were erased); `req.category`
    /// optionally narrows the read. Decided by the same policy as
    /// [`Steward::read`] (action `read`) and the same checks, the first of
    /// which refuses any purpose but `comply` (policy id
    /// `legal-hold-comply-only`); a processing restriction or objection
    /// recorded for the subject applies too (N7.2). The decision, allow or
    /// deny, is recorded in the subject's region before the hold key is
    /// unwrapped (fail closed). Returns the decision and the held records
    /// (none once the sweep deleted them).
    ///
    /// Errors: [`CoreError::Input`] when `req.subject` is not a `sub_` id;
    /// [`CoreError::Denied`] (audited); [`CoreError::AuditUnavailable`].
    pub fn read_held(&self, req: &AccessRequest) -> Result<(Opened, Vec<OpenedRecord>), CoreError> {
        let opened = self.run_pipeline(req, Target::Held, None)?;
        let mut records = Vec::new();
        if let (Some(o), Some(id)) = (&opened.sealer, opened.subject) {
            for h in self.rstore_read(opened.region)?.held_records(id)? {
                if req
                    .category
                    .is_some_and(|c| c.as_str() != h.record.category)
                    || req.kind.is_some_and(|k| k.as_str() != h.record.kind)
                {
                    continue;
                }
                records.push(open_row(&o.key, h.record)?);
            }
        }
        Ok((opened, records))
    }

    /// The decision the gate will make for `req` on a live subject (steps
    /// 1 to 5, nothing recorded): whether it is allowed. An effect that
    /// needs work before its commit (an erasure's holds, a rectification)
    /// asks first, then runs [`Steward::gate`] with its changes.
    pub(crate) fn predecide(&self, req: &AccessRequest) -> Result<bool, CoreError> {
        Ok(self
            .decide_access(req, Target::Live, false, None)?
            .decision
            .allowed)
    }

    /// [`Steward::predecide`] as if `req` cited a recorded obligation about
    /// its subject that its principal may cite: whether opening a data
    /// subject request's obligation would let the access through, asked
    /// before that obligation is recorded (issue 18, item 8: a refused
    /// export or erasure records no obligation). Nothing is recorded.
    pub(crate) fn predecide_presuming_obligation(
        &self,
        req: &AccessRequest,
    ) -> Result<bool, CoreError> {
        Ok(self
            .decide_access(req, Target::Live, true, None)?
            .decision
            .allowed)
    }

    /// Record the gate's denial of `req` (after [`Steward::predecide`] said
    /// no) and return it as the error.
    pub(crate) fn deny_through_gate<T>(&self, req: &AccessRequest) -> Result<T, CoreError> {
        self.gate(req, None)?;
        // The gate allowed what the policy had just denied: the pack or the
        // registries changed in between. Nothing was changed; ask again.
        Err(CoreError::Input(
            "the policy decision changed while the request was prepared; nothing was changed: retry the request".into(),
        ))
    }
}

/// The refusal of an identifier that matches `n` subjects.
fn ambiguous(n: usize) -> CoreError {
    CoreError::Input(format!(
        "--subject matches {n} subjects; name the identifier kind (e.g. username:VALUE or billing_account:VALUE) or give the sub_ id"
    ))
}

/// Where an access is committed: its regions, subject and category, the
/// request id its audit entry and transfer row share, and the transfer
/// mechanism it relies on (N4.4), if any.
pub(super) struct CommitAt<'a> {
    pub home: usize,
    pub processing: usize,
    pub subject: Option<SubjectId>,
    pub category: Option<steward_domain::Category>,
    pub request_id: &'a str,
    pub transfer: Option<&'a TransferMechanism>,
}

impl Steward {
    /// Steps 6 and 7 of every access (the pipeline's and a disclosure's):
    /// the transfer's register row when the access relies on a mechanism
    /// (N4.4) and the audit entry go in with `cs`, committed in the
    /// subject's home region's log (N4.1). Fail closed: when the commit
    /// fails nothing is opened ([`CoreError::AuditUnavailable`]). Returns
    /// the entry's audit index; a refusal returns its (recorded) denial.
    pub(super) fn commit_access(
        &self,
        mut cs: ChangeSet,
        entry: steward_audit::EntryDraft,
        decision: &Decision,
        at: CommitAt<'_>,
    ) -> Result<u64, CoreError> {
        if let (Some(m), Some(s)) = (at.transfer, at.subject) {
            cs.registry.push(self.transfer_row(
                m,
                at.home,
                at.processing,
                s,
                at.category,
                at.request_id,
            )?);
        }
        cs.audit.insert(0, entry);
        // Group commit (issue 21 item 2): concurrent accesses of the region
        // share one transaction and one fsync; each is answered only once
        // its own entry is durable.
        let committed = self
            .commit_grouped(at.home, cs)
            .map_err(|e| CoreError::AuditUnavailable(e.to_string()))?;
        let audit_index = committed.audit_indexes.first().copied().unwrap_or(0);
        if !decision.allowed {
            return Err(denied(decision.clone(), Some(audit_index)));
        }
        Ok(audit_index)
    }
}
