//! Caches of what a decision builds and can reuse: Cedar contexts (per day,
//! purpose and facts) and prepared principals (uid and entity store, per
//! principal name, checked against the principal's every field).
//!
//! A cached value is used only when everything it is made from is equal, so
//! it is always the value that would be built: a principal whose record
//! changes (revoked, team or kind changed, training renewed) misses and is
//! built anew. Grants, cases and obligations are facts of the request's
//! context, never cached with the principal.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cedar_policy::{Context, Entities, EntityUid};
use steward_domain::{CaseKind, ObligationKind, Principal, ProcessorService, Purpose};

/// Most prepared principals kept (a few KiB each); the cache is emptied
/// when a new principal finds it full. Above the 10,000 principals the
/// benchmark loads (docs/benchmarks.md section 4).
const MAX_PRINCIPALS: usize = 16_384;
/// Most contexts kept for one day; the cache is emptied when it is full.
const MAX_CONTEXTS: usize = 4096;

/// Everything a Cedar context is made of besides the day: the purpose and
/// the facts the gate established (see `RequestContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ContextKey {
    pub purpose: Purpose,
    pub open_case: bool,
    pub case_kind: Option<CaseKind>,
    pub legal: bool,
    pub obligation_kind: Option<ObligationKind>,
    pub covers: bool,
    pub grant: bool,
    pub incident: bool,
    pub processor_service: Option<ProcessorService>,
    pub assigned: bool,
    pub engagement: bool,
    pub aggregate: bool,
    pub operator: bool,
}

/// The boolean attributes of the Cedar context, in the order
/// [`ContextKey::bool_fact`] reads them: the one list the context is built
/// from (`engine::inputs`) and guards read (`guard`).
pub(crate) const CONTEXT_BOOLS: [&str; 9] = [
    "open_case_for_subject",
    "legal_obligation_recorded",
    "obligation_covers_category",
    "grant_for_subject",
    "incident_for_subject",
    "case_assigned_to_principal",
    "engagement_covers",
    "aggregate_only",
    "configured_operator",
];

/// The string attributes of the Cedar context (besides a disclosure's),
/// in the order [`ContextKey::str_fact`] reads them (`""`: none).
pub(crate) const CONTEXT_STRS: [&str; 4] = [
    "purpose",
    "case_kind",
    "obligation_kind",
    "processor_service",
];

impl ContextKey {
    /// The value of `context.<CONTEXT_BOOLS[i]>`.
    pub fn bool_fact(&self, i: usize) -> Option<bool> {
        Some(match i {
            0 => self.open_case,
            1 => self.legal,
            2 => self.covers,
            3 => self.grant,
            4 => self.incident,
            5 => self.assigned,
            6 => self.engagement,
            7 => self.aggregate,
            8 => self.operator,
            _ => return None,
        })
    }

    /// The value of `context.<CONTEXT_STRS[i]>`.
    pub fn str_fact(&self, i: usize) -> Option<&'static str> {
        Some(match i {
            0 => self.purpose.as_str(),
            1 => self.case_kind.map(|c| c.as_str()).unwrap_or(""),
            2 => self.obligation_kind.map(|o| o.as_str()).unwrap_or(""),
            3 => self.processor_service.map(|p| p.as_str()).unwrap_or(""),
            _ => return None,
        })
    }
}

/// Contexts of one day, by [`ContextKey`].
#[derive(Default)]
pub(crate) struct ContextCache {
    inner: RwLock<DayContexts>,
}

#[derive(Default)]
struct DayContexts {
    day: i64,
    slots: HashMap<ContextKey, Context>,
}

impl ContextCache {
    /// The context of `day` and `key`, built by `build` on a miss.
    pub fn get_or_build<E>(
        &self,
        day: i64,
        key: ContextKey,
        build: impl FnOnce() -> Result<Context, E>,
    ) -> Result<Context, E> {
        {
            let r = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if r.day == day
                && let Some(c) = r.slots.get(&key)
            {
                return Ok(c.clone());
            }
        }
        let context = build()?;
        let mut w = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if w.day != day || w.slots.len() >= MAX_CONTEXTS {
            w.day = day;
            w.slots.clear();
        }
        w.slots.insert(key, context.clone());
        Ok(context)
    }
}

/// What a decision needs of one principal, built once: the principal as it
/// was when built (to tell a change), its Cedar uid and an entity store
/// holding only its entity (a decision clones it and adds the resource:
/// cheaper than building a store of both).
pub(crate) struct PreparedPrincipal {
    /// The principal the rest was built from.
    pub principal: Principal,
    /// `Steward::Principal::"<name>"`.
    pub uid: EntityUid,
    /// An entity store holding only the principal's entity.
    pub entities: Entities,
}

/// Prepared principals, by name. An entry is used only while the principal
/// is equal, field by field, to the one it was built from: a principal
/// whose record changes (team, kind, dates, organisations, revoked) is
/// built anew and replaces its entry. The cache belongs to one
/// [`PolicyEngine`](crate::PolicyEngine), so loading a pack starts empty.
#[derive(Default)]
pub(crate) struct PrincipalCache {
    inner: RwLock<HashMap<String, Arc<PreparedPrincipal>>>,
}

impl PrincipalCache {
    /// The prepared `p`, built by `build` when absent or changed.
    pub fn get_or_build<E>(
        &self,
        p: &Principal,
        build: impl FnOnce() -> Result<PreparedPrincipal, E>,
    ) -> Result<Arc<PreparedPrincipal>, E> {
        {
            let r = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some(cached) = r.get(p.name.as_str()) {
                // INVARIANT: a prepared principal is used only for an equal principal.
                if cached.principal == *p {
                    return Ok(Arc::clone(cached));
                }
            }
        }
        let prepared = Arc::new(build()?);
        let mut w = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if w.len() >= MAX_PRINCIPALS && !w.contains_key(p.name.as_str()) {
            w.clear();
        }
        w.insert(p.name.clone(), Arc::clone(&prepared));
        Ok(prepared)
    }

    /// How many principals are prepared.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}
