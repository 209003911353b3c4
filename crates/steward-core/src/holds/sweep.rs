//! Retention sweep and the hold keys it and key rotation reach.

use crate::gate::{system_entry, token};
use crate::{CoreError, Steward};
use steward_audit::{Resource, ResourceKind};
use steward_domain::{Kind, RecordId};
use steward_store::ChangeSet;

use super::{RegionSweep, SWEEP_PAGE, SweepReport, rfc3339, to_ms};

impl Steward {
    /// Delete what has expired (N8.8): every live record whose `stored time +
    /// period` (its kind's [`RetentionRule`], else its category's) is at or
    /// before `now` (UTC), and every held record whose hold has ended (N3.7).
    /// Categories and kinds without a period are never deleted for age.
    ///
    /// `principal` is decided by the pack first
    /// ([`ManagementAction::RetentionSweep`], `retention_sweep` for
    /// `protect`: privacy staff, services), a denial audited; what is
    /// deleted is decided by the configuration, not by the caller. Each region commits its
    /// deletions with one system audit entry (`retention_sweep`, N8.8)
    /// giving the counts per kind, in one transaction. With `dry_run`
    /// nothing is deleted or recorded, and the report gives what would be.
    ///
    /// Errors: an unknown or revoked principal; storage errors (a region
    /// whose commit fails keeps all its records; regions before it stay swept).
    pub fn retention_sweep(
        &self,
        principal: &str,
        dry_run: bool,
    ) -> Result<SweepReport, CoreError> {
        let now = self.clock.now();
        let (actor, decision) = self.decide_retention_sweep(principal)?; // N8.8
        let now_at = to_ms(now);
        let rules = &self.config.retention_periods;
        // Candidates: stored no later than now minus the shortest period.
        let shortest = rules
            .entries()
            .filter_map(|(_, r)| r.period)
            .map(|p| p.lower_bound_days())
            .min();
        let mut report = SweepReport {
            dry_run,
            at: rfc3339(now),
            ..Default::default()
        };
        for r in 0..self.regions.len() {
            let mut rs = RegionSweep {
                region: self.regions[r].config.name.clone(),
                ..Default::default()
            };
            let mut cs = ChangeSet::default();
            if let Some(days) = shortest {
                let before = now_at.saturating_sub(days.saturating_mul(86_400_000));
                let mut after = RecordId(i64::MIN);
                loop {
                    let page = self
                        .rstore(r)?
                        .records_stored_before(before, after, SWEEP_PAGE)?;
                    let full = page.len() == SWEEP_PAGE;
                    for m in page {
                        after = m.id;
                        let Ok(kind) = m.kind.parse::<Kind>() else {
                            continue;
                        };
                        let Some(period) = rules.rule_for(kind).and_then(|(_, r)| r.period) else {
                            continue;
                        };
                        if period.expiry_ms(m.stored_at_ms) <= now_at {
                            *rs.by_category.entry(m.category.to_string()).or_default() += 1;
                            *rs.by_kind.entry(m.kind.to_string()).or_default() += 1;
                            rs.deleted += 1;
                            cs.delete_records.push(m.id);
                        }
                    }
                    if !full {
                        break;
                    }
                }
            }
            for m in self.rstore(r)?.held_due(now_at)? {
                *rs.by_category.entry(m.category.to_string()).or_default() += 1;
                *rs.by_kind.entry(m.kind.to_string()).or_default() += 1;
                rs.deleted += 1;
                rs.held_deleted += 1;
                cs.delete_held.push(m.id);
            }
            if !dry_run {
                let mut e = system_entry("retention_sweep", "records", "", self.policy.version());
                e.principal = token(&actor.name);
                crate::authorize::stamp(&mut e, &decision, crate::ManagementAction::RetentionSweep);
                e.region = token(&rs.region);
                let mut res = Resource::new(ResourceKind::Record).count(rs.deleted);
                for (k, n) in &rs.by_kind {
                    res = res.id(token(&format!("{k}:{n}")));
                }
                if rs.held_deleted > 0 {
                    res = res.id(token(&format!("held:{}", rs.held_deleted)));
                }
                e.resource = res;
                cs.audit.push(e);
                let committed = self.rstore(r)?.commit(cs)?;
                rs.audit_index = committed.audit_indexes.first().copied();
            }
            report.deleted += rs.deleted;
            report.held_deleted += rs.held_deleted;
            for (k, n) in &rs.by_category {
                *report.by_category.entry(k.clone()).or_default() += n;
            }
            for (k, n) in &rs.by_kind {
                *report.by_kind.entry(k.clone()).or_default() += n;
            }
            report.regions.push(rs);
        }
        Ok(report)
    }

    /// Re-wrap every hold key of region `r` under the current KEK into `cs`
    /// (N5.2: key rotation covers hold keys too). Returns how many.
    pub(crate) fn rewrap_hold_keys(&self, r: usize, cs: &mut ChangeSet) -> Result<u64, CoreError> {
        let keys = self.rstore(r)?.hold_keys()?;
        let n = keys.len() as u64;
        for k in keys {
            cs.hold_keys.push(self.keyring.rewrap(k)?);
        }
        Ok(n)
    }

    /// How many hold keys, in all regions, are wrapped under KEK `version`
    /// (retiring it would make held records unreadable, N3.7).
    pub(crate) fn hold_keys_under(&self, version: u32) -> Result<usize, CoreError> {
        let mut n = 0;
        for r in 0..self.regions.len() {
            n += self
                .rstore(r)?
                .hold_keys()?
                .iter()
                .filter(|k| k.kek_version == version)
                .count();
        }
        Ok(n)
    }
}
