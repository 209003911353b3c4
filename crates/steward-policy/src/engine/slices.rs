//! The engine's policy slices: per (action, purpose, principal kind,
//! revocation, resource category), the policies of the pack that can apply
//! to such a request (see [`crate::slice`] for what "can apply" means).
//!
//! There are 24 actions x 8 purposes x 10 kinds x 2 x 6 categories (the
//! five and none) = 23,040 combinations, most never asked: a slice is built
//! on first use and kept, and slices with the same policies share one
//! [`PolicySet`]. Building a slice is a scan of the pack's pins (no Cedar
//! parsing); loading a pack builds none.
//!
//! Within a slice, a request's guards ([`crate::guard`]) may rule out more
//! of its policies: the slice keeps one narrowed set per combination of
//! ruled-out members met so far (a bit mask over its members, for slices of
//! up to 64 policies; a larger slice is evaluated whole).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use cedar_policy::{ActionConstraint, EntityUid, Policy, PolicySet};
use steward_domain::{Category, PrincipalKind, Purpose};

use crate::guard::{Guard, Known};
use crate::request::Action;
use crate::slice::Pins;

const PURPOSES: usize = Purpose::ALL.len();
const KINDS: usize = PrincipalKind::ALL.len();
/// The five categories, and none.
const CATEGORIES: usize = Category::ALL.len() + 1;
/// Every combination a slice is kept for.
pub(super) const SLICES: usize = Action::ALL.len() * PURPOSES * KINDS * 2 * CATEGORIES;

/// What a slice is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct SliceKey {
    pub action: Action,
    pub purpose: Purpose,
    pub kind: PrincipalKind,
    pub revoked: bool,
    pub category: Option<Category>,
}

impl SliceKey {
    /// The key's position in `0..SLICES`: a mixed-radix number of the
    /// positions of its parts in their closed vocabularies.
    fn index(self) -> usize {
        let pos = |found: Option<usize>| found.unwrap_or(0);
        let p = pos(Purpose::ALL.iter().position(|&x| x == self.purpose));
        let k = pos(PrincipalKind::ALL.iter().position(|&x| x == self.kind));
        let c = match self.category {
            None => 0,
            Some(c) => 1 + pos(Category::ALL.iter().position(|&x| x == c)),
        };
        ((((self.action.index() * PURPOSES + p) * KINDS + k) * 2 + usize::from(self.revoked))
            * CATEGORIES)
            + c
    }
}

/// Most narrowed sets one slice keeps; emptied when full.
const MAX_NARROWED: usize = 256;

/// One built slice.
struct Slice {
    // Positions in `pinned` of its policies, ascending.
    members: Vec<usize>,
    // Every member.
    whole: Arc<PolicySet>,
    // (bit in the mask, position in `pinned`) of the members with a guard;
    // empty when the slice has more than 64 members.
    guarded: Vec<(u32, usize)>,
    // The slice less the members whose bits are set, by mask.
    narrowed: RwLock<HashMap<u64, Arc<PolicySet>>>,
}

/// The slices of one pack.
pub(super) struct Slices {
    // The pack's policies with their pins and guards, in pack order.
    pinned: Vec<(Policy, Pins, Option<Guard>)>,
    // INVARIANT: ancestors[a.index()] are the action groups of action `a`
    // in the schema, and uids[a.index()] its uid.
    ancestors: Vec<Vec<EntityUid>>,
    uids: Vec<EntityUid>,
    // INVARIANT: built[key.index()], once set, holds exactly the policies
    // of `pinned` that `admits(key)` keeps. Boxed: an empty cell is 16
    // bytes, not a slice's (about 120), and most of the 23,040 stay empty.
    built: Vec<OnceLock<Box<Slice>>>,
    // Built sets by the positions of their policies in `pinned`: equal
    // slices share one set.
    shared: Mutex<HashMap<Vec<usize>, Arc<PolicySet>>>,
}

impl Slices {
    pub(super) fn new(
        pinned: Vec<(Policy, Pins, Option<Guard>)>,
        ancestors: Vec<Vec<EntityUid>>,
        uids: Vec<EntityUid>,
    ) -> Self {
        Slices {
            pinned,
            ancestors,
            uids,
            built: (0..SLICES).map(|_| OnceLock::new()).collect(),
            shared: Mutex::new(HashMap::new()),
        }
    }

    /// The policies to evaluate for a request of `key` whose known facts
    /// are `known`: the slice for `key` (built on first use) less the
    /// members its guards rule out.
    ///
    /// Errors: none for a loaded pack (a policy id twice in one set cannot
    /// happen: the pack's ids are unique); the message otherwise.
    pub(super) fn get(&self, key: SliceKey, known: &Known<'_>) -> Result<Arc<PolicySet>, String> {
        let cell = self
            .built
            .get(key.index())
            .ok_or("no policy slice for the request")?;
        let slice = match cell.get() {
            Some(s) => s,
            None => {
                let built = Box::new(self.build(key)?);
                cell.get_or_init(|| built)
            }
        };
        let mut mask = 0u64;
        for &(bit, i) in &slice.guarded {
            if let Some((_, _, Some(g))) = self.pinned.get(i)
                && g.rules_out(known)
            {
                mask |= 1 << bit;
            }
        }
        if mask == 0 {
            return Ok(Arc::clone(&slice.whole));
        }
        {
            let r = slice.narrowed.read().unwrap_or_else(|e| e.into_inner());
            if let Some(set) = r.get(&mask) {
                return Ok(Arc::clone(set));
            }
        }
        let left: Vec<usize> = slice
            .members
            .iter()
            .enumerate()
            .filter(|(bit, _)| mask & (1 << bit) == 0)
            .map(|(_, &i)| i)
            .collect();
        let set = self.shared_set(left)?;
        let mut w = slice.narrowed.write().unwrap_or_else(|e| e.into_inner());
        if w.len() >= MAX_NARROWED {
            w.clear();
        }
        w.insert(mask, Arc::clone(&set));
        Ok(set)
    }

    /// The whole slice for `key`.
    #[cfg(test)]
    pub(super) fn whole(&self, key: SliceKey) -> Result<Arc<PolicySet>, String> {
        Ok(Arc::clone(&self.build(key)?.whole))
    }

    fn build(&self, key: SliceKey) -> Result<Slice, String> {
        let members = self.members(key);
        let guarded = if members.len() <= 64 {
            members
                .iter()
                .enumerate()
                .filter(|(_, i)| matches!(self.pinned.get(**i), Some((_, _, Some(_)))))
                .map(|(bit, &i)| (bit as u32, i))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Slice {
            whole: self.shared_set(members.clone())?,
            members,
            guarded,
            narrowed: RwLock::new(HashMap::new()),
        })
    }

    /// The set of the policies at `members`, shared with every slice of
    /// the same members.
    fn shared_set(&self, members: Vec<usize>) -> Result<Arc<PolicySet>, String> {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = shared.get(&members) {
            return Ok(Arc::clone(set));
        }
        let mut set = PolicySet::new();
        for &i in &members {
            if let Some((p, _, _)) = self.pinned.get(i) {
                set.add(p.clone()).map_err(|e| format!("slicing: {e}"))?;
            }
        }
        let set = Arc::new(set);
        shared.insert(members, Arc::clone(&set));
        Ok(set)
    }

    /// The positions in `pinned` of the policies that can apply to `key`.
    pub(super) fn members(&self, key: SliceKey) -> Vec<usize> {
        let a = key.action.index();
        let (Some(uid), Some(ancestors)) = (self.uids.get(a), self.ancestors.get(a)) else {
            return Vec::new();
        };
        let category = key.category.map(|c| c.as_str()).unwrap_or("");
        self.pinned
            .iter()
            .enumerate()
            .filter(|(_, (p, pins, _))| {
                let action_matches = match p.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(x) => x == *uid,
                    ActionConstraint::In(list) => {
                        list.iter().any(|x| x == uid || ancestors.contains(x))
                    }
                };
                action_matches
                    && pins.admits(
                        key.purpose.as_str(),
                        key.kind.as_str(),
                        key.revoked,
                        category,
                    )
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// How many distinct sets have been built.
    #[cfg(test)]
    pub(super) fn distinct(&self) -> usize {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_its_own_index() {
        let mut seen = vec![false; SLICES];
        for action in Action::ALL {
            for purpose in Purpose::ALL {
                for kind in PrincipalKind::ALL {
                    for revoked in [false, true] {
                        for category in
                            std::iter::once(None).chain(Category::ALL.into_iter().map(Some))
                        {
                            let i = SliceKey {
                                action,
                                purpose,
                                kind,
                                revoked,
                                category,
                            }
                            .index();
                            assert!(i < SLICES);
                            assert!(!seen[i], "index {i} twice");
                            seen[i] = true;
                        }
                    }
                }
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
