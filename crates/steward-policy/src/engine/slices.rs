//! The engine's policy slices: per (action, purpose, principal kind,
//! revocation, resource category), the policies of the pack that can apply
//! to such a request (see [`crate::slice`] for what "can apply" means).
//!
//! There are 24 actions x 8 purposes x 10 kinds x 2 x 6 categories (the
//! five and none) = 23,040 combinations, most never asked: a slice is built
//! on first use and kept, and slices with the same policies share one
//! [`PolicySet`]. Building a slice is a scan of the pack's pins (no Cedar
//! parsing); loading a pack builds none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cedar_policy::{ActionConstraint, EntityUid, Policy, PolicySet};
use steward_domain::{Category, PrincipalKind, Purpose};

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

/// The slices of one pack.
pub(super) struct Slices {
    // The pack's policies with their pins, in pack order.
    pinned: Vec<(Policy, Pins)>,
    // INVARIANT: ancestors[a.index()] are the action groups of action `a`
    // in the schema, and uids[a.index()] its uid.
    ancestors: Vec<Vec<EntityUid>>,
    uids: Vec<EntityUid>,
    // INVARIANT: built[key.index()], once set, holds exactly the policies
    // of `pinned` that `admits(key)` keeps.
    built: Vec<OnceLock<Arc<PolicySet>>>,
    // Built sets by the positions of their policies in `pinned`: equal
    // slices share one set.
    shared: Mutex<HashMap<Vec<usize>, Arc<PolicySet>>>,
}

impl Slices {
    pub(super) fn new(
        pinned: Vec<(Policy, Pins)>,
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

    /// The slice for `key`, built on first use.
    ///
    /// Errors: none for a loaded pack (a policy id twice in one set cannot
    /// happen: the pack's ids are unique); the message otherwise.
    pub(super) fn get(&self, key: SliceKey) -> Result<Arc<PolicySet>, String> {
        let cell = self
            .built
            .get(key.index())
            .ok_or("no policy slice for the request")?;
        if let Some(set) = cell.get() {
            return Ok(Arc::clone(set));
        }
        let members = self.members(key);
        let set = {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            match shared.get(&members) {
                Some(set) => Arc::clone(set),
                None => {
                    let mut set = PolicySet::new();
                    for &i in &members {
                        if let Some((p, _)) = self.pinned.get(i) {
                            set.add(p.clone()).map_err(|e| format!("slicing: {e}"))?;
                        }
                    }
                    let set = Arc::new(set);
                    shared.insert(members, Arc::clone(&set));
                    set
                }
            }
        };
        Ok(Arc::clone(cell.get_or_init(|| set)))
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
            .filter(|(_, (p, pins))| {
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
