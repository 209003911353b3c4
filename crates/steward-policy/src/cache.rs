//! Caches of what a decision builds and can reuse: Cedar contexts (per day,
//! purpose and flags) and entity stores holding a principal's entity (per
//! principal, by content).
//!
//! Both are keyed by everything the cached value is made from, so a cached
//! value is always the value that would be built: a principal whose record
//! changes (revoked, training renewed) simply misses and is built anew.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::RwLock;

use cedar_policy::{Context, Entities};
use steward_domain::{Principal, Purpose};

/// Most principal entities kept; the cache is emptied when it is full.
const MAX_PRINCIPALS: usize = 4096;
const PURPOSES: usize = Purpose::ALL.len();

/// Contexts of one day: one slot per (purpose, open case, legal obligation,
/// aggregate only, configured operator).
#[derive(Default)]
pub(crate) struct ContextCache {
    inner: RwLock<DayContexts>,
}

#[derive(Default)]
struct DayContexts {
    day: i64,
    slots: Vec<Option<Context>>,
}

/// The slot of a (purpose, flags) combination.
fn slot(purpose: Purpose, flags: [bool; 4]) -> usize {
    let p = Purpose::ALL.iter().position(|&x| x == purpose).unwrap_or(0);
    p * SLOTS_PER_PURPOSE
        + usize::from(flags[0]) * 8
        + usize::from(flags[1]) * 4
        + usize::from(flags[2]) * 2
        + usize::from(flags[3])
}

/// 2^4 flag combinations per purpose.
const SLOTS_PER_PURPOSE: usize = 16;

impl ContextCache {
    /// The context of `day`, `purpose` and `flags`, built by `build` on a miss.
    pub fn get_or_build<E>(
        &self,
        day: i64,
        purpose: Purpose,
        flags: [bool; 4],
        build: impl FnOnce() -> Result<Context, E>,
    ) -> Result<Context, E> {
        let i = slot(purpose, flags);
        {
            let r = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if r.day == day
                && let Some(Some(c)) = r.slots.get(i)
            {
                return Ok(c.clone());
            }
        }
        let context = build()?;
        let mut w = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if w.day != day || w.slots.len() != PURPOSES * SLOTS_PER_PURPOSE {
            w.day = day;
            w.slots = vec![None; PURPOSES * SLOTS_PER_PURPOSE];
        }
        if let Some(s) = w.slots.get_mut(i) {
            *s = Some(context.clone());
        }
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
