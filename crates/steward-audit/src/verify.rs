//! Writing and verifying a stored log: [`Appender`] builds each next entry,
//! [`LogVerifier`] / [`verify_log`] check a whole stored log in one streaming
//! pass and name the first bad index.

use std::borrow::Borrow;

use memchr::memmem::Finder;

use crate::checkpoint::{Checkpoint, VerifierKey};
use crate::entry::{AuditEntry, DecodeError};
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
    /// The largest size a witness cosigned and the entries still match (0
    /// when no witnessed head was given): entries below it are covered by a
    /// witness, so even the log's own signing key cannot rewrite them.
    pub witnessed_size: u64,
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
    /// A witness cosigned a root for a size that the stored entries no longer
    /// give: the log was rewritten after the witness saw it, even if its own
    /// signatures are good.
    WitnessMismatch,
}

/// A tree head a witness cosigned (c2sp.org/tlog-cosignature), already
/// verified by the caller: the stored log must give `root` at `size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    /// Tree size.
    pub size: u64,
    /// Root the witness cosigned at that size.
    pub root: Hash,
    /// Who cosigned (the witness's name), for the report.
    pub by: String,
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
    witnessed: Vec<Witnessed>, // sorted by size
    next_w: usize,
    witnessed_size: u64,
    /// A checkpoint root mismatch, held for one more entry: if that entry's
    /// `prev` shows the checkpoint's last entry was rewritten, that index is
    /// more precise than the start of the checkpoint's range.
    pending_root: Option<VerifyFailure>,
    /// A head-row root mismatch while a signed checkpoint covers more
    /// entries: a cut tail with an adjusted head row, reported as truncation
    /// by [`finish`](Self::finish) unless more entries follow.
    deferred_head: Option<VerifyFailure>,
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
            witnessed: Vec::new(),
            next_w: 0,
            witnessed_size: 0,
            pending_root: None,
            deferred_head: None,
        };
        if let Err(f) = v.check_at(0) {
            v.failure = Some(f);
        }
        v
    }

    /// Adds tree heads that witnesses cosigned: at each one's size the
    /// entries must give its root ([`FailureKind::WitnessMismatch`]), and a
    /// log shorter than one was truncated. Call before the first
    /// [`push`](Self::push).
    #[must_use]
    pub fn with_witnessed(mut self, mut witnessed: Vec<Witnessed>) -> Self {
        witnessed.sort_by_key(|w| w.size);
        self.witnessed = witnessed;
        if self.failure.is_none()
            && let Err(f) = self.check_witnessed(0)
        {
            self.failure = Some(f);
        }
        self
    }

    /// The root at `size` must be what each witness cosigned for it. A
    /// mismatch is reported at the last size a witness proved (entries below
    /// it match a cosigned root; the first changed entry is at it or later).
    fn check_witnessed(&mut self, size: u64) -> Result<(), VerifyFailure> {
        while let Some(w) = self.witnessed.get(self.next_w)
            && w.size == size
        {
            self.next_w += 1;
            let r = self.tree.root();
            if w.root != r {
                let from = self.witnessed_size;
                return Err(fail(
                    from,
                    FailureKind::WitnessMismatch,
                    format!(
                        "witness {} cosigned root {} for size {size}, but entries 0 to {} give root {}: the log was rewritten after the witness saw it (entries 0 to {from} match what a witness cosigned; the first changed entry is among entries {from} to {}), even though the log's own checkpoint signatures may verify",
                        w.by,
                        short(&w.root),
                        size.saturating_sub(1),
                        short(&r),
                        size.saturating_sub(1)
                    ),
                ));
            }
            self.witnessed_size = size;
        }
        Ok(())
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
        if let Some(f) = self.deferred_head.take() {
            // Entries go on past the head: not a cut tail, a bad head row.
            self.failure = Some(f.clone());
            return Err(f);
        }
        let held = self.pending_root.take();
        let mut result = self.push_inner(entry);
        if let Some(pending) = held {
            result = Err(match result {
                Err(f) if f.kind == FailureKind::PrevMismatch => f,
                _ => pending,
            });
        } else if let (Err(f), Some(p)) = (&result, &self.pending_root)
            && p.first_bad_index <= f.first_bad_index
        {
            result = Err(p.clone());
        }
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
                // Entries 0..from are proven by the last checkpoint whose root
                // still matches; the first changed entry is at `from` or later,
                // never beyond the failing checkpoint (issue 13, item 8).
                let from = self.signed_size;
                let f = fail(
                    from,
                    FailureKind::CheckpointRootMismatch,
                    format!(
                        "entry {from} is the first entry no checkpoint still proves: the checkpoint of size {size} signs root {} but entries 0 to {bad} give root {}, {}; an entry among {from} to {bad} was changed (and the entries after it re-chained)",
                        short(&cp.root),
                        short(&r),
                        if from == 0 {
                            "and no earlier checkpoint proves any entry".to_owned()
                        } else {
                            format!(
                                "while entries 0 to {} still match the checkpoint of size {from}",
                                from - 1
                            )
                        }
                    ),
                );
                self.pending_root = Some(f);
                return Ok(());
            }
            self.checkpoints_verified += 1;
            self.signed_size = size;
        }
        self.check_witnessed(size)?;
        if let Some(head) = self.head
            && head.size == size
        {
            let r = *root.get_or_insert_with(|| self.tree.root());
            let signed_beyond = self
                .checkpoints
                .get(self.next_cp..)
                .unwrap_or_default()
                .iter()
                .any(|p| p.size > size && p.parsed.is_ok())
                || self
                    .witnessed
                    .get(self.next_w..)
                    .unwrap_or_default()
                    .iter()
                    .any(|w| w.size > size);
            if head.root != r {
                let f = fail(
                    bad,
                    FailureKind::HeadRootMismatch,
                    format!(
                        "the head row's root {} for size {size} is not the root {} of the entries",
                        short(&head.root),
                        short(&r)
                    ),
                );
                if signed_beyond {
                    self.deferred_head = Some(f);
                } else {
                    return Err(f);
                }
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
        let mut problems: Vec<VerifyFailure> = self.pending_root.into_iter().collect();
        let deferred_head = self.deferred_head;
        // Largest first: among truncations at the same index, the report names
        // the checkpoint that proves the most entries.
        for pc in self
            .checkpoints
            .get(self.next_cp..)
            .unwrap_or_default()
            .iter()
            .rev()
        {
            problems.push(match &pc.parsed {
                Ok(_) => fail(
                    n,
                    FailureKind::Truncated,
                    format!(
                        "the log was truncated: a signed checkpoint of size {} proves entries up to index {}, but the log has only {n} entries (0 to {}); entries {n} to {} are missing",
                        pc.size,
                        pc.size - 1,
                        n.saturating_sub(1),
                        pc.size - 1
                    ),
                ),
                Err(what) => fail(pc.size - 1, FailureKind::CheckpointInvalid, what.clone()),
            });
        }
        for w in self.witnessed.get(self.next_w..).unwrap_or_default() {
            problems.push(fail(
                n,
                FailureKind::Truncated,
                format!(
                    "the log was truncated: witness {} cosigned size {}, proving entries up to index {}, but the log has only {n} entries",
                    w.by,
                    w.size,
                    w.size - 1
                ),
            ));
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
        if !problems.iter().any(|f| f.kind == FailureKind::Truncated) {
            problems.extend(deferred_head);
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
            witnessed_size: self.witnessed_size,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_into_matches_hex_crate() {
        let h: Hash = core::array::from_fn(|i| (i * 37) as u8);
        let mut out = [0u8; 64];
        hex_into(&h, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), hex::encode(h));
    }
}
