//! What a read or an export meets after an erasure kept records under a
//! legal hold (N3.7, N8.8; issue 18, item 6): how many, of which kind, why,
//! and until when. Metadata of the held rows and the retention rules only:
//! nothing is opened here.

use std::collections::BTreeMap;

use serde::Serialize;
use steward_domain::{Kind, SubjectId};

use crate::{CoreError, Steward};

/// Records of one kind kept under a legal hold after the subject's erasure.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HeldNotice {
    /// Category (`billing`).
    pub category: String,
    /// Kind (`billing.charge`).
    pub kind: String,
    /// How many records of the kind are held now.
    pub count: u64,
    /// Why: the retention rule's reason (configuration `retention_periods`),
    /// or `legal hold` when no rule names one any more.
    pub reason: String,
    /// `YYYY-MM-DD` (UTC): the day the first of them goes.
    pub first_until: String,
    /// `YYYY-MM-DD` (UTC): the day the last of them goes.
    pub until: String,
    /// How to reach them: `comply` only, against a recorded legal
    /// obligation, by the erased subject's `sub_` id (N3.7).
    pub how: String,
}

fn day(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

impl Steward {
    /// The records kept under a legal hold for `subject`, per kind (empty
    /// when `subject` is not the `sub_` id of an erased subject with held
    /// records: a live subject has none, and an erased subject's other
    /// identifiers no longer resolve).
    ///
    /// Errors: [`CoreError::Store`]-like errors of reading the regions.
    pub fn held_notice(&self, subject: &str) -> Result<Vec<HeldNotice>, CoreError> {
        let Ok(id) = subject.parse::<SubjectId>() else {
            return Ok(vec![]);
        };
        for region in 0..self.regions.len() {
            let store = self.rstore_read(region)?;
            let Some(s) = store.subject(id)? else {
                continue;
            };
            if s.erased_at_ms.is_none() {
                return Ok(vec![]);
            }
            // (category, kind) -> (count, first until, last until)
            let mut groups: BTreeMap<(String, String), (u64, i64, i64)> = BTreeMap::new();
            for h in store.held_records(id)? {
                let g = groups
                    .entry((h.record.category.to_string(), h.record.kind.to_string()))
                    .or_insert((0, i64::MAX, i64::MIN));
                g.0 += 1;
                g.1 = g.1.min(h.until_ms);
                g.2 = g.2.max(h.until_ms);
            }
            return Ok(groups
                .into_iter()
                .map(|((category, kind), (count, first, last))| {
                    let reason = kind
                        .parse::<Kind>()
                        .ok()
                        .and_then(|k| self.config.retention_periods.rule_for(k))
                        .and_then(|(_, r)| r.reason.clone())
                        .unwrap_or_else(|| "legal hold".into());
                    HeldNotice {
                        category,
                        kind,
                        count,
                        reason,
                        first_until: day(first),
                        until: day(last),
                        how: format!(
                            "read for comply with a recorded legal obligation, by the subject id {id}"
                        ),
                    }
                })
                .collect());
        }
        Ok(vec![])
    }
}
