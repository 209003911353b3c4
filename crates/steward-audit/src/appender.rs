//! [`Appender`]: builds each next entry of a stored log (index, prev,
//! canonical bytes, leaf hash) and keeps the compact range for the root.

use crate::checkpoint::Checkpoint;
use crate::entry::{DecodeError, EntryDraft};
use crate::merkle::{Hash, RootBuilder, leaf_hash};
use crate::verify::StoredEntry;

/// Why an entry could not be prepared or committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The entry breaks a constraint (index or count above `MAX_INDEX`).
    #[error("entry cannot be logged: {0}")]
    Invalid(#[from] DecodeError),
    /// A prepared entry was committed after another, or to another log.
    #[error("prepared entry {prepared} is stale: the log's next index is {next}; prepare it again")]
    Stale {
        /// The prepared entry's index.
        prepared: u64,
        /// The appender's next index.
        next: u64,
    },
    /// [`Appender::resume`] was given a last leaf hash for an empty tree or none for a non-empty one.
    #[error("resume needs the last leaf hash exactly when the tree is not empty (size {size})")]
    ResumeMismatch {
        /// The tree size given.
        size: u64,
    },
}

/// An entry ready to store: its index, canonical bytes and leaf hash. Write it
/// in the append's transaction, then [`Appender::commit`] it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedEntry {
    index: u64,
    prev: Option<Hash>,
    bytes: Vec<u8>,
    leaf_hash: Hash,
}

impl PreparedEntry {
    /// The entry's index (the row's index column).
    pub fn index(&self) -> u64 {
        self.index
    }
    /// The canonical JSON bytes (the row's bytes column).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// `SHA-256(0x00 || bytes)` (the row's leaf hash column, and the next entry's `prev`).
    pub fn leaf_hash(&self) -> Hash {
        self.leaf_hash
    }
    /// The row as [`StoredEntry`].
    pub fn to_stored(&self) -> StoredEntry {
        StoredEntry {
            index: self.index,
            bytes: self.bytes.clone(),
            leaf_hash: self.leaf_hash,
        }
    }
    /// The row as [`StoredEntry`], without copying.
    pub fn into_stored(self) -> StoredEntry {
        StoredEntry {
            index: self.index,
            bytes: self.bytes,
            leaf_hash: self.leaf_hash,
        }
    }
}

/// The writer's state: the next index, the previous leaf hash and the compact
/// range of the tree, so each append is O(1) amortised and the current root
/// O(log n). Fail-closed use with storage:
///
/// 1. `let p = appender.prepare(draft)?` (no state change);
/// 2. write `p.index()`, `p.bytes()`, `p.leaf_hash()` and the new head
///    (size `p.index() + 1`, root from [`root_after`](Self::root_after)) in one
///    transaction;
/// 3. only if it commits, `appender.commit(&p)?`. If it fails, drop `p`: the
///    access the entry records must not happen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appender {
    tree: RootBuilder,
    // INVARIANT: prev.is_some() == (tree.size() > 0), the last leaf hash.
    prev: Option<Hash>,
}

impl Appender {
    /// The appender of an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resumes an existing log from its compact range (stored, or rebuilt with
    /// [`RootBuilder::from_leaf_hashes`] over the stored leaf hashes) and its
    /// last entry's leaf hash (`None` exactly when the log is empty).
    ///
    /// # Errors
    /// [`AppendError::ResumeMismatch`].
    pub fn resume(tree: RootBuilder, last_leaf_hash: Option<Hash>) -> Result<Self, AppendError> {
        if last_leaf_hash.is_some() != (tree.size() > 0) {
            return Err(AppendError::ResumeMismatch { size: tree.size() });
        }
        Ok(Self {
            tree,
            prev: last_leaf_hash,
        })
    }

    /// The index the next entry gets (= the current size).
    pub fn next_index(&self) -> u64 {
        self.tree.size()
    }

    /// The current root (over all committed entries).
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The compact range, to store beside the head row.
    pub fn tree(&self) -> &RootBuilder {
        &self.tree
    }

    /// The last committed leaf hash (`None` for an empty log).
    pub fn last_leaf_hash(&self) -> Option<Hash> {
        self.prev
    }

    /// Builds the next entry from `draft` without changing state.
    ///
    /// # Errors
    /// [`AppendError::Invalid`] when the entry breaks
    /// [`AuditEntry::validate`] (index or `resource.count` over `MAX_INDEX`).
    pub fn prepare(&self, draft: EntryDraft) -> Result<PreparedEntry, AppendError> {
        let index = self.next_index();
        let entry = draft.into_entry(index, self.prev);
        entry.validate()?;
        let bytes = entry.to_canonical_json();
        if bytes.is_empty() {
            // Unreachable (see to_canonical_json); refuse rather than log nothing.
            return Err(AppendError::Invalid(DecodeError::NonCanonical {
                offset: 0,
            }));
        }
        let leaf_hash = leaf_hash(&bytes);
        Ok(PreparedEntry {
            index,
            prev: self.prev,
            bytes,
            leaf_hash,
        })
    }

    /// The root the tree will have once `p` is committed; for the head row
    /// written in the same transaction. O(log n).
    pub fn root_after(&self, p: &PreparedEntry) -> Hash {
        let mut t = self.tree.clone();
        match t.push(p.leaf_hash) {
            Ok(()) => t.root(),
            Err(_) => self.tree.root(),
        }
    }

    /// Records that `p` was stored.
    ///
    /// # Errors
    /// [`AppendError::Stale`] when `p` was not prepared against the current state.
    pub fn commit(&mut self, p: &PreparedEntry) -> Result<(), AppendError> {
        let stale = AppendError::Stale {
            prepared: p.index,
            next: self.next_index(),
        };
        if p.index != self.next_index() || p.prev != self.prev {
            return Err(stale);
        }
        self.tree.push(p.leaf_hash).map_err(|_| stale)?;
        self.prev = Some(p.leaf_hash);
        Ok(())
    }

    /// [`prepare`](Self::prepare) and [`commit`](Self::commit) at once, for
    /// in-memory logs and tests.
    ///
    /// # Errors
    /// As [`prepare`](Self::prepare).
    pub fn append(&mut self, draft: EntryDraft) -> Result<PreparedEntry, AppendError> {
        let p = self.prepare(draft)?;
        self.commit(&p)?;
        Ok(p)
    }

    /// The checkpoint of the current tree under `origin`, ready to
    /// [`Checkpoint::sign`].
    pub fn checkpoint(&self, origin: impl Into<String>) -> Checkpoint {
        Checkpoint {
            origin: origin.into(),
            size: self.tree.size(),
            root: self.tree.root(),
        }
    }
}

/// Whether to cut a checkpoint now: when at least one entry is unsigned and
/// either `entries_since >= every_n` or `seconds_since >= every_t`.
///
/// `entries_since`: entries appended since the last checkpoint;
/// `seconds_since`: seconds since it; `every_n` / `every_t`: the thresholds in
/// entries and seconds, 0 turning that trigger off.
pub fn should_checkpoint(
    entries_since: u64,
    seconds_since: u64,
    every_n: u64,
    every_t: u64,
) -> bool {
    entries_since > 0
        && ((every_n > 0 && entries_since >= every_n) || (every_t > 0 && seconds_since >= every_t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_checkpoint_rules() {
        assert!(!should_checkpoint(0, 10_000, 1000, 60));
        assert!(should_checkpoint(1000, 0, 1000, 60));
        assert!(!should_checkpoint(999, 59, 1000, 60));
        assert!(should_checkpoint(1, 60, 1000, 60));
        assert!(!should_checkpoint(5000, 5000, 0, 0));
        assert!(should_checkpoint(5, 0, 5, 0));
    }
}
