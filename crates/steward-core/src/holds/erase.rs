//! Erasure with legal holds: records under a running retention
//! duty move to a per-subject hold key before the subject key is shredded.

use crate::gate::{AccessRequest, Located, new_request_id, now_ts, record_ref, token};
use crate::vault::ErasureReceipt;
use crate::{CoreError, Steward};
use rand::RngCore;
use std::collections::BTreeMap;
use steward_audit::{Decision as AuditDecision, EntryDraft, Resource, ResourceKind, SubjectRef};
use steward_domain::{Category, Kind, Purpose, RecordId};
use steward_policy::Action;
use steward_store::{ChangeSet, HeldRecordRow, RecordRow, RegistryTable};

use super::{MAX_IDS_IN_ENTRY, RetainedRecords, RetentionRule, date_of, rfc3339, to_ms};
use crate::rows::row_json;

impl Steward {
    /// The records of subject `id` (in region `region`) that an erasure at
    /// `now_at` (ms since the epoch) keeps under a legal hold (N3.7): those
    /// whose kind's rule has `legal_hold` and a period that ends after
    /// `now_at`, each with its end (ms), the rule's key and the rule.
    #[allow(clippy::type_complexity)]
    fn records_to_hold(
        &self,
        region: usize,
        id: steward_domain::SubjectId,
        now_at: i64,
    ) -> Result<Vec<(RecordRow, i64, String, RetentionRule)>, CoreError> {
        let rules = &self.config.retention_periods;
        // Categories that some hold rule covers: only their records are read.
        let mut hold_categories: Vec<Category> = Vec::new();
        for kind in steward_domain::all_kinds() {
            if let Some((_, r)) = rules.rule_for(kind)
                && r.legal_hold
                && r.period.is_some()
                && !hold_categories.contains(&kind.category())
            {
                hold_categories.push(kind.category());
            }
        }
        // (row, until, rule key, rule)
        let mut to_hold: Vec<(RecordRow, i64, String, RetentionRule)> = Vec::new();
        for c in &hold_categories {
            for row in self.rstore(region)?.records(id, Some(c.as_str()))? {
                let Ok(kind) = row.kind.parse::<Kind>() else {
                    continue;
                };
                let Some((key, rule)) = rules.rule_for(kind) else {
                    continue;
                };
                let Some(period) = rule.period.filter(|_| rule.legal_hold) else {
                    continue;
                };
                let until = period.expiry_ms(row.stored_at_ms);
                if until > now_at {
                    to_hold.push((row, until, key.to_owned(), rule.clone()));
                }
            }
        }
        Ok(to_hold)
    }

    /// Erase a data subject by crypto-shredding (N8.8), honouring legal
    /// holds (N3.7), through the gate as `principal` for `comply` against the
    /// recorded legal obligation `obligation` (the erasure request).
    ///
    /// `subject` is an identifier argument (`root`, `ann@example.com`) or a
    /// `sub_` id. `now` (UTC) is the instant the holds are computed against:
    /// a record of a category or kind whose [`RetentionRule`] has
    /// `legal_hold` and whose `stored time + period` is after `now` is
    /// **kept**: re-sealed under a new per-subject hold key (a fresh DEK
    /// wrapped by the KEK, stored apart from the subject's DEK; the AAD still
    /// binds record id, subject, category and the hold key's version). In the
    /// same commit as the gate's decision and its audit entries, the
    /// subject's DEK and identifiers are deleted: every other record of the
    /// subject no longer opens, while held ones open through
    /// [`Steward::read_held`] for `comply` only, until the retention sweep
    /// deletes each at the end of its period.
    ///
    /// The receipt (stored, and returned) lists the kept records per
    /// category and kind with count, reason and the dates they go;
    /// `records_unreadable` counts the others.
    ///
    /// Errors: [`CoreError::Input`] when `subject` matches nobody (already
    /// erased, or never stored); [`CoreError::Denied`] (audited);
    /// [`CoreError::AuditUnavailable`] when the commit fails: then nothing
    /// was changed (fail closed); [`CoreError::Integrity`] when a record to
    /// hold does not open.
    pub fn erase_with_holds(
        &self,
        principal: &str,
        subject: &str,
        obligation: Option<&str>,
    ) -> Result<ErasureReceipt, CoreError> {
        self.erase_for(principal, subject, Purpose::Comply, obligation)
    }

    /// A user's erasure of their own data (N7.2, issue 17 item 6), decided
    /// by the gate as `erase` for `provide_services` (policy
    /// `subject-own-erase`) and done exactly as [`Steward::erase_with_holds`]
    /// does it: legal holds keep what they must (N3.7), the rest is
    /// crypto-shredded (N8.8). An administrator's restriction (N6.5e) is
    /// checked by the caller, before the gate.
    pub(crate) fn erase_own(&self, user: &str, subject: &str) -> Result<ErasureReceipt, CoreError> {
        self.erase_for(user, subject, Purpose::ProvideServices, None)
    }

    /// The erasure of [`Steward::erase_with_holds`] for `purpose`.
    fn erase_for(
        &self,
        principal: &str,
        subject: &str,
        purpose: Purpose,
        obligation: Option<&str>,
    ) -> Result<ErasureReceipt, CoreError> {
        let now = self.clock.now();
        let (resolved, _) = self.resolve(subject)?;
        let Some(Located { region, id }) = resolved else {
            return Err(CoreError::Input(
                "--subject matches no data subject (already erased, or never stored)".into(),
            ));
        };
        let req = AccessRequest::new(principal, Action::Erase, id.to_string())
            .purpose(purpose)
            .obligation(obligation);
        if !self.predecide(&req)? {
            return self.deny_through_gate(&req);
        }
        let to_hold = self.records_to_hold(region, id, to_ms(now))?;
        let total: u64 = self
            .rstore(region)?
            .record_counts(id)?
            .iter()
            .map(|(_, n)| n)
            .sum();
        let mut cs = ChangeSet {
            shred: vec![id],
            ..Default::default()
        };
        // Re-seal the held records under a new hold key, before the subject's
        // DEK goes (inside the gate: plaintext never leaves it).
        let mut groups: BTreeMap<(String, String), RetainedRecords> = BTreeMap::new();
        let mut held_refs: Vec<RecordId> = Vec::new();
        let (rows, meta): (Vec<RecordRow>, Vec<_>) = to_hold
            .into_iter()
            .map(|(row, until, key, rule)| (row, (until, key, rule)))
            .unzip();
        let held_rows = self.hold_records(region, id, rows, &mut cs)?;
        for (row, (until, key, rule)) in held_rows.into_iter().zip(meta) {
            let g = groups
                .entry((row.category.to_string(), row.kind.to_string()))
                .or_insert_with(|| RetainedRecords {
                    category: row.category.to_string(),
                    kind: row.kind.to_string(),
                    count: 0,
                    reason: rule.reason.clone().unwrap_or_default(),
                    rule: key.clone(),
                    period: rule.period.map(|p| p.to_string()).unwrap_or_default(),
                    first_until: date_of(until),
                    until: date_of(until),
                });
            g.count += 1;
            let d = date_of(until);
            if d < g.first_until {
                g.first_until = d.clone();
            }
            if d > g.until {
                g.until = d;
            }
            held_refs.push(row.id);
            cs.held.push(HeldRecordRow {
                record: row,
                until_ms: until,
            });
        }
        let held = held_refs.len() as u64;
        let mut rid = [0u8; 8];
        rand::rng().fill_bytes(&mut rid);
        let receipt_id = format!("erasure-{}", hex::encode(rid));
        let size_before = self.rstore(region)?.audit_size()?;
        let mut receipt = ErasureReceipt {
            receipt_id: receipt_id.clone(),
            subject: id.to_string(),
            records_unreadable: total.saturating_sub(held),
            erased_at: rfc3339(now),
            // The decision is the first entry of the gate's commit.
            audit_index: size_before,
            retained: groups.into_values().collect(),
            guarantee: Some(self.erasure_guarantee(region, id, now)?),
        };
        cs.registry.push((
            RegistryTable::ErasureReceipts,
            receipt_id.clone(),
            row_json(&receipt)?,
        ));
        let region_name = self.regions[region].config.name.clone();
        let entry = |action: &str, clauses: &[&str], resource: Resource| EntryDraft {
            action: token(action),
            clause_ids: clauses.iter().map(|c| token(c)).collect(),
            decision: AuditDecision::Done,
            policy_ids: vec![],
            policy_version: token(self.policy.version()),
            principal: token(principal),
            purpose: Some(token(purpose.as_str())),
            reason: None,
            region: token(&region_name),
            request_id: token(&new_request_id()),
            resource,
            time: now_ts(),
        };
        if held > 0 {
            // N3.7: which records are kept, by reference only.
            let mut res = Resource::new(ResourceKind::Record)
                .subject(SubjectRef::new(id.0 as u64))
                .count(held)
                .id(token(&receipt_id));
            for r in &receipt.retained {
                res = res.id(token(&format!("{}:{}", r.kind, r.count)));
            }
            if held_refs.len() <= MAX_IDS_IN_ENTRY {
                for r in &held_refs {
                    res = res.record(record_ref(*r));
                }
            }
            cs.audit.push(entry("legal_hold", &["N3.7", "N8.8"], res));
        }
        cs.audit.push(entry(
            "crypto_shred",
            &["N8.8"],
            Resource::new(ResourceKind::Erasure)
                .subject(SubjectRef::new(id.0 as u64))
                .count(receipt.records_unreadable)
                .id(token(&receipt_id)),
        ));
        let opened = self.gate(&req, Some(cs))?;
        receipt.audit_index = opened.audit_index;
        // Answers to earlier access/export requests are copies in clear (N8.8).
        self.delete_request_exports(id)?;
        self.forget_request_identifiers(id)?;
        Ok(receipt)
    }
}
