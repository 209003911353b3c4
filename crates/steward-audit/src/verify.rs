//! Writing and verifying a stored log: [`Appender`] builds each next entry,
//! [`LogVerifier`] / [`verify_log`] check a whole stored log in one streaming
//! pass and name the first bad index.

use std::borrow::Borrow;

use memchr::memmem::Finder;

use crate::checkpoint::{Checkpoint, VerifierKey};
use crate::entry::{AuditEntry, DecodeError, EntryDraft};
use crate::merkle::{Hash, ProofError, RootBuilder, leaf_hash};

/// One stored entry row, as storage reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The row's index column (0-based position in the log).
    pub index: u64,
    /// The entry's canonical JSON bytes ([`AuditEntry::to_canonical_json`]).
    pub bytes: Vec<u8>,
    /// The row's stored leaf hash column: `SHA-256(0x00 || bytes)` when intact.
    pub leaf_hash: Hash,
}

/// One stored checkpoint row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The row's size column: the tree size the checkpoint covers.
    pub size: u64,
    /// The signed note text ([`Checkpoint::sign`]).
    pub note: String,
}

/// The storage's head row: the log size and root after the last append,
/// updated in the append's transaction. Not signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number of entries.
    pub size: u64,
    /// Merkle root over them.
    pub root: Hash,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read and checked.
    pub entries: u64,
    /// Checkpoints whose signature and root were verified.
    pub checkpoints_verified: u64,
    /// The largest verified checkpoint size (0 if none): entries below it are
    /// covered by a signature; entries at or above it only by the head row and
    /// the hash chain.
    pub signed_size: u64,
    /// The Merkle root over all entries.
    pub root: Hash,
    /// The tree size `root` covers; equals `entries`.
    pub size: u64,
}

/// The kind of problem a [`VerifyFailure`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The row at position i has index column j > i: rows i..j-1 are missing (deleted).
    MissingEntry,
    /// The row at position i has index column j < i: a duplicate or out-of-order row.
    UnexpectedRow,
    /// The stored leaf hash is not `SHA-256(0x00 || bytes)`: the bytes or the stored hash were altered.
    LeafHashMismatch,
    /// The entry bytes are not a valid canonical entry.
    EntryUndecodable,
    /// The entry's own `index` field is not its position: entries moved or swapped.
    EntryIndexMismatch,
    /// Entry i's `prev` is not entry i-1's leaf hash: the hash chain is
    /// broken. Reported at i-1, the first entry that may have been rewritten.
    PrevMismatch,
    /// A checkpoint note is malformed, its signature is missing or invalid, or
    /// its size differs from its row's size column.
    CheckpointInvalid,
    /// A validly signed checkpoint's root is not the root recomputed from the entries.
    CheckpointRootMismatch,
    /// The head row's root is not the root recomputed from the entries.
    HeadRootMismatch,
    /// A checkpoint or the head row covers more entries than are stored: the log was truncated.
    Truncated,
    /// Entries exist beyond the head row's size.
    BeyondHead,
    /// The log is longer than a Merkle tree can hold (`u64::MAX` entries).
    TooLong,
}

/// Verification failed: the smallest index at which the stored log is wrong,
/// and what is wrong there. `what` names indexes, sizes and hash prefixes,
/// never entry content.
///
/// Index conventions: an entry problem is reported at the entry's position
/// (a broken `prev` link between i-1 and i at i-1); a checkpoint or head problem at `size - 1` (the last entry the signed or
/// stored root covers; 0 for size 0); a truncation at the first missing index
/// (the number of entries stored); entries beyond the head at the head size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log verification failed at index {first_bad_index}: {what}")]
pub struct VerifyFailure {
    /// The first bad index (see the conventions above).
    pub first_bad_index: u64,
    /// The kind of problem.
    pub kind: FailureKind,
    /// A human description of what is wrong there.
    pub what: String,
}

fn fail(first_bad_index: u64, kind: FailureKind, what: String) -> VerifyFailure {
    VerifyFailure {
        first_bad_index,
        kind,
        what,
    }
}

fn short(h: &Hash) -> String {
    let mut s = hex::encode(&h[..4]);
    s.push('…');
    s
}

fn hex_into(h: &Hash, out: &mut [u8; 64]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(h) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
}

const INDEX_KEY: &[u8] = b"\"index\":";
const PREV_KEY: &[u8] = b"\"prev\":\"";

struct PendingCheckpoint {
    size: u64,
    parsed: Result<Checkpoint, String>,
}

/// A streaming log verifier: feed entries in index order with
/// [`push`](Self::push), then call [`finish`](Self::finish). Memory is
/// O(checkpoints + log n); each entry is hashed once.
///
/// Per entry at position i it checks: the row index is i; the stored leaf
/// hash equals `SHA-256(0x00 || bytes)`; the entry's `"index"` is i and its
/// `"prev"` is entry i-1's leaf hash (read directly from the canonical bytes;
/// a full [`AuditEntry::decode`] runs only to explain a mismatch). At each
/// checkpoint size it compares the signed root with the recomputed root, and
/// likewise at the head size. At the end, checkpoints or a head beyond the
/// last entry mean truncation.
///
/// It does not check that every entry is fully canonical JSON when its index
/// and prev are right; call [`AuditEntry::decode`] on entries for that.
pub struct LogVerifier {
    checkpoints: Vec<PendingCheckpoint>, // sorted by size
    next_cp: usize,
    head: Option<Head>,
    tree: RootBuilder,
    prev: Option<Hash>,
    prev_hex: [u8; 64],
    index_finder: Finder<'static>,
    prev_finder: Finder<'static>,
    failure: Option<VerifyFailure>,
    checkpoints_verified: u64,
    signed_size: u64,
}

impl LogVerifier {
    /// Starts a verification. Every checkpoint's signature is checked now
    /// against `key` (Ed25519, c2sp.org/signed-note); a bad one is reported
    /// when the entries reach its size, so the smallest bad index wins.
    pub fn new(checkpoints: &[StoredCheckpoint], head: Option<Head>, key: &VerifierKey) -> Self {
        let mut pending: Vec<PendingCheckpoint> = checkpoints
            .iter()
            .map(|sc| {
                let parsed = match Checkpoint::verify_note(&sc.note, key) {
                    Ok(cp) if cp.size == sc.size => Ok(cp),
                    Ok(cp) => Err(format!(
                        "the checkpoint row of size {} holds a signed note of size {}",
                        sc.size, cp.size
                    )),
                    Err(e) => Err(format!("checkpoint of size {}: {e}", sc.size)),
                };
                PendingCheckpoint {
                    size: sc.size,
                    parsed,
                }
            })
            .collect();
        pending.sort_by_key(|p| p.size);
        let mut v = Self {
            checkpoints: pending,
            next_cp: 0,
            head,
            tree: RootBuilder::new(),
            prev: None,
            prev_hex: [0; 64],
            index_finder: Finder::new(INDEX_KEY).into_owned(),
            prev_finder: Finder::new(PREV_KEY).into_owned(),
            failure: None,
            checkpoints_verified: 0,
            signed_size: 0,
        };
        if let Err(f) = v.check_at(0) {
            v.failure = Some(f);
        }
        v
    }

    /// Entries accepted so far (the next expected index).
    pub fn entries(&self) -> u64 {
        self.tree.size()
    }

    /// Checks the next entry.
    ///
    /// # Errors
    /// The first failure; once failed, every later call returns it again.
    pub fn push(&mut self, entry: &StoredEntry) -> Result<(), VerifyFailure> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        let result = self.push_inner(entry);
        if let Err(f) = &result {
            self.failure = Some(f.clone());
        }
        result
    }

    fn push_inner(&mut self, e: &StoredEntry) -> Result<(), VerifyFailure> {
        let i = self.tree.size();
        if e.index != i {
            return Err(if e.index > i {
                fail(
                    i,
                    FailureKind::MissingEntry,
                    format!(
                        "expected entry {i} but the next row has index {}: entries {i} to {} are missing",
                        e.index,
                        e.index - 1
                    ),
                )
            } else {
                fail(
                    i,
                    FailureKind::UnexpectedRow,
                    format!(
                        "expected entry {i} but the next row has index {}: a duplicate or out-of-order row",
                        e.index
                    ),
                )
            });
        }
        let h = leaf_hash(&e.bytes);
        if h != e.leaf_hash {
            return Err(fail(
                i,
                FailureKind::LeafHashMismatch,
                format!(
                    "entry {i}: stored leaf hash {} is not the hash {} of its bytes: the entry bytes or the stored leaf hash were altered",
                    short(&e.leaf_hash),
                    short(&h)
                ),
            ));
        }
        if !self.fields_match(i, &e.bytes) {
            self.explain_fields(i, &e.bytes)?;
        }
        self.tree.push(h).map_err(|_: ProofError| {
            fail(
                i,
                FailureKind::TooLong,
                "the log is longer than a Merkle tree can hold".to_owned(),
            )
        })?;
        self.prev = Some(h);
        hex_into(&h, &mut self.prev_hex);
        self.check_at(i + 1)
    }

    /// Fast path: `"index":<i>` and `"prev":"<hex of prev>"` read straight
    /// from canonical bytes. In canonical entries the first `"index":` and the
    /// first `"prev":"` after it are the keys: no string value can contain a
    /// quote, and the keys before them (`action`, `clause_ids`, `decision`)
    /// hold tokens only.
    fn fields_match(&self, i: u64, bytes: &[u8]) -> bool {
        let Some(p) = self.index_finder.find(bytes) else {
            return false;
        };
        let Some(rest) = bytes.get(p + INDEX_KEY.len()..) else {
            return false;
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 16 || (digits > 1 && rest.first() == Some(&b'0')) {
            return false;
        }
        let (num, after) = rest.split_at(digits);
        let value = num.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        if value != i {
            return false;
        }
        let Some(q) = self.prev_finder.find(after) else {
            return false;
        };
        let Some(val) = after.get(q + PREV_KEY.len()..) else {
            return false;
        };
        match self.prev {
            None => val.first() == Some(&b'"'),
            Some(_) => val.get(..64) == Some(&self.prev_hex[..]) && val.get(64) == Some(&b'"'),
        }
    }

    /// Slow path after a fast-path miss: decode fully and say what is wrong.
    fn explain_fields(&self, i: u64, bytes: &[u8]) -> Result<(), VerifyFailure> {
        let entry = AuditEntry::decode(bytes).map_err(|e: DecodeError| {
            fail(
                i,
                FailureKind::EntryUndecodable,
                format!("entry {i} does not decode: {e}"),
            )
        })?;
        if entry.index != i {
            return Err(fail(
                i,
                FailureKind::EntryIndexMismatch,
                format!(
                    "the row at index {i} holds the entry whose own index is {}: entries were moved or swapped",
                    entry.index
                ),
            ));
        }
        if entry.prev != self.prev {
            // Either entry i-1 was rewritten (with a matching stored hash) or
            // entry i's prev was: the earlier is the first that may be bad.
            let shown = |p: &Option<Hash>| p.as_ref().map_or_else(|| "(empty)".to_owned(), short);
            let before = i.saturating_sub(1);
            return Err(fail(
                before,
                FailureKind::PrevMismatch,
                format!(
                    "entry {i}'s prev {} is not entry {before}'s leaf hash {}: the hash chain is broken, entry {before} or {i} was rewritten",
                    shown(&entry.prev),
                    shown(&self.prev)
                ),
            ));
        }
        // Decodes, index and prev right: the fast path was merely unsure.
        Ok(())
    }

    /// Checks the checkpoints and head of exactly `size` entries.
    fn check_at(&mut self, size: u64) -> Result<(), VerifyFailure> {
        let bad = size.saturating_sub(1);
        let mut root: Option<Hash> = None;
        while let Some(pc) = self.checkpoints.get(self.next_cp)
            && pc.size == size
        {
            self.next_cp += 1;
            let cp = pc
                .parsed
                .as_ref()
                .map_err(|what| fail(bad, FailureKind::CheckpointInvalid, what.clone()))?;
            let r = *root.get_or_insert_with(|| self.tree.root());
            if cp.root != r {
                return Err(fail(
                    bad,
                    FailureKind::CheckpointRootMismatch,
                    format!(
                        "the checkpoint of size {size} signs root {} but entries 0 to {bad} give root {}",
                        short(&cp.root),
                        short(&r)
                    ),
                ));
            }
            self.checkpoints_verified += 1;
            self.signed_size = size;
        }
        if let Some(head) = self.head
            && head.size == size
        {
            let r = *root.get_or_insert_with(|| self.tree.root());
            if head.root != r {
                return Err(fail(
                    bad,
                    FailureKind::HeadRootMismatch,
                    format!(
                        "the head row's root {} for size {size} is not the root {} of the entries",
                        short(&head.root),
                        short(&r)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Ends the stream: checks that no checkpoint or head lies beyond it.
    ///
    /// # Errors
    /// The first failure from [`push`](Self::push), else the smallest-index
    /// problem among: checkpoints beyond the end (truncation at the number of
    /// entries, or an invalid checkpoint at its `size - 1`), a head size above
    /// the number of entries (truncation) or below it (entries beyond the head).
    pub fn finish(self) -> Result<VerifyReport, VerifyFailure> {
        if let Some(f) = self.failure {
            return Err(f);
        }
        let n = self.tree.size();
        let mut problems: Vec<VerifyFailure> = Vec::new();
        for pc in self.checkpoints.get(self.next_cp..).unwrap_or_default() {
            problems.push(match &pc.parsed {
                Ok(_) => fail(
                    n,
                    FailureKind::Truncated,
                    format!(
                        "a checkpoint of size {} covers entries {n} to {}, but the log has only {n} entries: it was truncated",
                        pc.size,
                        pc.size - 1
                    ),
                ),
                Err(what) => fail(pc.size - 1, FailureKind::CheckpointInvalid, what.clone()),
            });
        }
        if let Some(head) = self.head {
            if head.size > n {
                problems.push(fail(
                    n,
                    FailureKind::Truncated,
                    format!(
                        "the head row says {} entries, but the log has only {n}: it was truncated",
                        head.size
                    ),
                ));
            } else if head.size < n {
                problems.push(fail(
                    head.size,
                    FailureKind::BeyondHead,
                    format!(
                        "the log has {n} entries but the head row says {}: entries from {} on were added outside an append",
                        head.size, head.size
                    ),
                ));
            }
        }
        if let Some(first) = problems.into_iter().min_by_key(|f| f.first_bad_index) {
            return Err(first);
        }
        Ok(VerifyReport {
            entries: n,
            checkpoints_verified: self.checkpoints_verified,
            signed_size: self.signed_size,
            root: self.tree.root(),
            size: n,
        })
    }
}

/// Verifies a whole stored log in one pass: `entries` in row-index order,
/// every checkpoint row, the head row if any, against the log's verifier key.
/// See [`LogVerifier`] for what is checked. Entries may be owned
/// ([`StoredEntry`]) or borrowed (`&StoredEntry`).
///
/// On a leaf-hash mismatch it reads one more entry to tell which was altered:
/// if the next entry's `prev` equals the stored hash, the bytes were altered;
/// if it equals the hash of the bytes, the stored hash was.
///
/// If reading from storage fails midway, do not call this with a cut-short
/// stream (it would report truncation): use [`LogVerifier`] and stop.
///
/// # Errors
/// [`VerifyFailure`] with the first bad index and what is wrong there.
pub fn verify_log<I, E>(
    entries: I,
    checkpoints: &[StoredCheckpoint],
    head: Option<Head>,
    key: &VerifierKey,
) -> Result<VerifyReport, VerifyFailure>
where
    I: IntoIterator<Item = E>,
    E: Borrow<StoredEntry>,
{
    let mut v = LogVerifier::new(checkpoints, head, key);
    let mut it = entries.into_iter();
    while let Some(e) = it.next() {
        if let Err(mut f) = v.push(e.borrow()) {
            if f.kind == FailureKind::LeafHashMismatch {
                let next = it.next();
                refine_leaf_mismatch(&mut f, e.borrow(), next.as_ref().map(Borrow::borrow));
            }
            return Err(f);
        }
    }
    v.finish()
}

fn refine_leaf_mismatch(f: &mut VerifyFailure, e: &StoredEntry, next: Option<&StoredEntry>) {
    let Some(next) = next else { return };
    let Some(p) = memchr::memmem::find(&next.bytes, PREV_KEY) else {
        return;
    };
    let Some(next_prev) = next.bytes.get(p + PREV_KEY.len()..p + PREV_KEY.len() + 64) else {
        return;
    };
    let mut stored_hex = [0u8; 64];
    hex_into(&e.leaf_hash, &mut stored_hex);
    let mut actual_hex = [0u8; 64];
    hex_into(&leaf_hash(&e.bytes), &mut actual_hex);
    let i = f.first_bad_index;
    if next_prev == stored_hex {
        f.what = format!(
            "entry {i}'s bytes were altered: they no longer hash to the stored leaf hash {}, which entry {}'s prev confirms",
            short(&e.leaf_hash),
            i.saturating_add(1)
        );
    } else if next_prev == actual_hex {
        f.what = format!(
            "entry {i}'s stored leaf hash {} was altered: its bytes hash to {}, which entry {}'s prev confirms",
            short(&e.leaf_hash),
            short(&leaf_hash(&e.bytes)),
            i.saturating_add(1)
        );
    }
}

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

    #[test]
    fn hex_into_matches_hex_crate() {
        let h: Hash = core::array::from_fn(|i| (i * 37) as u8);
        let mut out = [0u8; 64];
        hex_into(&h, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), hex::encode(h));
    }
}
