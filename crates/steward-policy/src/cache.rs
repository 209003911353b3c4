//! Caches of what a decision builds and can reuse: Cedar contexts (per day,
//! purpose and facts) and entity stores holding a principal's entity (per
//! principal, by content).
//!
//! Both are keyed by everything the cached value is made from, so a cached
//! value is always the value that would be built: a principal whose record
//! changes (revoked, training renewed) simply misses and is built anew.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::RwLock;

use cedar_policy::{Context, Entities};
use steward_domain::{CaseKind, ObligationKind, Principal, ProcessorService, Purpose};

/// Most principal entities kept; the cache is emptied when it is full.
const MAX_PRINCIPALS: usize = 4096;
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

/// Entity stores holding only the principal's entity, by principal content.
/// A decision clones one and adds the resource: cheaper than building a
/// store of both (the transitive closure of the principal is kept).
#[derive(Default)]
pub(crate) struct PrincipalCache {
    inner: RwLock<HashMap<u64, (Principal, Entities)>>,
}

fn key(p: &Principal) -> u64 {
    let mut h = DefaultHasher::new();
    p.name.hash(&mut h);
    p.kind.hash(&mut h);
    p.teams.hash(&mut h);
    p.confidentiality_signed_on.hash(&mut h);
    p.training_expires_on.hash(&mut h);
    p.engagement_ends_on.hash(&mut h);
    p.subject.hash(&mut h);
    p.organisations.hash(&mut h);
    p.revoked.hash(&mut h);
    h.finish()
}

impl PrincipalCache {
    /// The entity store of `p`, built by `build` on a miss.
    pub fn get_or_build<E>(
        &self,
        p: &Principal,
        build: impl FnOnce() -> Result<Entities, E>,
    ) -> Result<Entities, E> {
        let k = key(p);
        {
            let r = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some((cached, entity)) = r.get(&k) {
                // INVARIANT: a store is returned only for an equal principal.
                if cached == p {
                    return Ok(entity.clone());
                }
            }
        }
        let entity = build()?;
        let mut w = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if w.len() >= MAX_PRINCIPALS {
            w.clear();
        }
        w.insert(k, (p.clone(), entity.clone()));
        Ok(entity)
    }
}
