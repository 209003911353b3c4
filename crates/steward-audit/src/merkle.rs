//! The Merkle tree of RFC 6962 §2.1 (restated in RFC 9162 §2.1) over SHA-256:
//! leaf and node hashing, the tree head (MTH), inclusion and consistency proofs
//! and their verification, and [`RootBuilder`], an append-only compact range
//! that yields the root of any prefix in O(log n).

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root. 32 bytes.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1,
/// `MTH({}) = SHA-256()`), `e3b0c442…b855`.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The leaf hash of `data`: `SHA-256(0x00 || data)` (RFC 6962 §2.1, RFC 9162 §2.1.1).
///
/// `data` is the leaf's full content; for the audit log, an entry's canonical
/// JSON bytes ([`crate::AuditEntry::to_canonical_json`]).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`
/// (RFC 6962 §2.1, RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`).
    #[error(
        "leaf index {index} is outside a tree of size {size}: the index must be below the size"
    )]
    IndexOutOfRange {
        /// The leaf index given (0-based).
        index: u64,
        /// The tree size given (number of leaves).
        size: u64,
    },
    /// A proof was asked for a tree larger than the leaves supplied.
    #[error("tree size {size} is larger than the {leaves} leaf hashes supplied")]
    SizeBeyondLeaves {
        /// The tree size asked for.
        size: u64,
        /// The number of leaf hashes supplied.
        leaves: u64,
    },
    /// A consistency proof was asked or checked from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeBeyondNew {
        /// The older (first) tree size.
        old_size: u64,
        /// The newer (second) tree size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for the sizes and index given.
    #[error("the proof has {got} hashes where {expected} are needed for these sizes")]
    WrongProofLength {
        /// Hashes the proof must have.
        expected: usize,
        /// Hashes it has.
        got: usize,
    },
    /// The root computed from an inclusion proof is not the root given.
    #[error(
        "the inclusion proof leads to a different root: leaf, index, size, proof or root is wrong"
    )]
    RootMismatch,
    /// The consistency proof does not reproduce the old root.
    #[error("the consistency proof does not reproduce the old root")]
    OldRootMismatch,
    /// The consistency proof does not reproduce the new root.
    #[error("the consistency proof does not reproduce the new root")]
    NewRootMismatch,
    /// A [`RootBuilder`] cannot take another leaf (it holds `u64::MAX` leaves).
    #[error("the tree is full: it holds u64::MAX leaves")]
    TreeFull,
    /// [`RootBuilder::from_parts`] was given a hash count that does not fit the size.
    #[error("a compact range of size {size} has {expected} hashes (one per set bit), not {got}")]
    BadCompactRange {
        /// The size given.
        size: u64,
        /// `size.count_ones()`.
        expected: usize,
        /// Hashes given.
        got: usize,
    },
}

/// An append-only compact range over a tree's leaves (RFC 6962 §2.1 trees,
/// as in transparency-dev/merkle `compact.Range` starting at leaf 0): it keeps
/// one hash per perfect subtree, so at most 64 hashes, and
///
/// * [`push`](Self::push) appends a leaf hash in O(1) amortised (one node hash
///   per leaf on average);
/// * [`root`](Self::root) gives `MTH` of all leaves pushed so far in O(log n).
///
/// Used to verify a long log in one streaming pass, and by [`crate::Appender`]
/// to keep the head root current. Its state ([`size`](Self::size),
/// [`hashes`](Self::hashes)) can be stored and restored with
/// [`from_parts`](Self::from_parts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootBuilder {
    size: u64,
    // INVARIANT: hashes.len() == size.count_ones(); hashes[k] is the root of the
    // perfect subtree for the k-th set bit of `size`, from the highest bit down
    // (so the leftmost, largest subtree first).
    hashes: Vec<Hash>,
}

impl RootBuilder {
    /// An empty range: size 0, root [`EMPTY_ROOT`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a range from a stored [`size`](Self::size) and
    /// [`hashes`](Self::hashes) (one hash per set bit of `size`, largest subtree
    /// first).
    ///
    /// # Errors
    /// [`ProofError::BadCompactRange`] when `hashes.len() != size.count_ones()`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, ProofError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(ProofError::BadCompactRange {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(Self { size, hashes })
    }

    /// A range over `leaves`, pushed in order.
    ///
    /// # Errors
    /// [`ProofError::TreeFull`] past `u64::MAX` leaves.
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(leaves: I) -> Result<Self, ProofError> {
        let mut b = Self::new();
        for leaf in leaves {
            b.push(leaf)?;
        }
        Ok(b)
    }

    /// Number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, largest (leftmost) first; `size.count_ones()` of them.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash (from [`leaf_hash`]).
    ///
    /// # Errors
    /// [`ProofError::TreeFull`] when the range already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) -> Result<(), ProofError> {
        let new_size = self.size.checked_add(1).ok_or(ProofError::TreeFull)?;
        let mut h = leaf;
        let mut s = self.size;
        // Each trailing set bit of the old size is a perfect subtree of the
        // same height as the one being carried: merge them, right to left.
        while s & 1 == 1 {
            match self.hashes.pop() {
                Some(left) => h = node_hash(&left, &h),
                None => break, // INVARIANT above makes this unreachable.
            }
            s >>= 1;
        }
        self.hashes.push(h);
        self.size = new_size;
        Ok(())
    }

    /// `MTH` of the leaves pushed so far (RFC 6962 §2.1); [`EMPTY_ROOT`] when none.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        match it.next() {
            None => EMPTY_ROOT,
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// `MTH(D[n])` of RFC 6962 §2.1 over leaf hashes (not leaf data): the root of
/// the tree whose leaves are `leaves`, in order. [`EMPTY_ROOT`] for none.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut b = RootBuilder::new();
    for leaf in leaves {
        // A slice cannot hold u64::MAX hashes, so push cannot fail.
        if b.push(*leaf).is_err() {
            break;
        }
    }
    b.root()
}

/// The largest power of two strictly below `n`; callers pass `n >= 2`.
fn split_point(n: usize) -> usize {
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

fn prefix(leaves: &[Hash], size: u64) -> Result<&[Hash], ProofError> {
    let too_big = || ProofError::SizeBeyondLeaves {
        size,
        leaves: leaves.len() as u64,
    };
    let n = usize::try_from(size).map_err(|_| too_big())?;
    leaves.get(..n).ok_or_else(too_big)
}

/// The audit path (inclusion proof) for leaf `index` in the tree of the first
/// `size` leaf hashes of `leaves`: `PATH(m, D[n])` of RFC 6962 §2.1.1 (RFC 9162
/// §2.1.3.1), hashes ordered from the leaf's sibling up to the root's child.
/// O(size) time.
///
/// # Errors
/// [`ProofError::SizeBeyondLeaves`] when `size > leaves.len()`,
/// [`ProofError::IndexOutOfRange`] when `index >= size`.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    let d = prefix(leaves, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    // index < size <= leaves.len(), so it fits in usize.
    path(index as usize, d, &mut out);
    Ok(out)
}

fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    if d.len() <= 1 {
        return;
    }
    let k = split_point(d.len());
    let (left, right) = d.split_at(k);
    if m < k {
        path(m, left, out);
        out.push(root(right));
    } else {
        path(m - k, right, out);
        out.push(root(left));
    }
}

/// The consistency proof between the trees of the first `old_size` and the
/// first `new_size` leaf hashes: `PROOF(m, D[n])` of RFC 6962 §2.1.2 (RFC 9162
/// §2.1.4.1). Empty when `old_size` is 0 or equals `new_size`. O(new_size) time.
///
/// # Errors
/// [`ProofError::SizeBeyondLeaves`] when `new_size > leaves.len()`,
/// [`ProofError::OldSizeBeyondNew`] when `old_size > new_size`.
pub fn consistency_proof(
    leaves: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    let d = prefix(leaves, new_size)?;
    if old_size > new_size {
        return Err(ProofError::OldSizeBeyondNew { old_size, new_size });
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(old_size as usize, d, true, &mut out);
    }
    Ok(out)
}

fn subproof(m: usize, d: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !whole {
            out.push(root(d));
        }
        return;
    }
    // Here 0 < m < n, so n >= 2.
    let k = split_point(n);
    let (left, right) = d.split_at(k);
    if m <= k {
        subproof(m, left, whole, out);
        out.push(root(right));
    } else {
        subproof(m - k, right, false, out);
        out.push(root(left));
    }
}

/// The number of hashes in an inclusion proof for `index` in a tree of `size`
/// (`index < size`): the inner path plus the border of the right edge.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    inner + border
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose
/// root is `root`, with the algorithm of RFC 9162 §2.1.3.2.
///
/// `proof` is the audit path from [`inclusion_proof`], leaf to root.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] when `index >= size`;
/// [`ProofError::WrongProofLength`] when the proof is too long or too short;
/// [`ProofError::RootMismatch`] when it leads elsewhere.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let wrong_len = || ProofError::WrongProofLength {
        expected: inclusion_proof_len(index, size),
        got: proof.len(),
    };
    // RFC 9162 §2.1.3.2, steps 2-5.
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(wrong_len());
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_len());
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root`, with the algorithm of
/// RFC 9162 §2.1.4.2.
///
/// Conventions at the edges (as transparency-dev/merkle `proof.VerifyConsistency`):
/// equal sizes need an empty proof and equal roots; `old_size == 0` needs an
/// empty proof and is always consistent.
///
/// # Errors
/// [`ProofError::OldSizeBeyondNew`]; [`ProofError::WrongProofLength`] (including
/// an empty proof where one is needed); [`ProofError::OldRootMismatch`] /
/// [`ProofError::NewRootMismatch`] when the proof does not reproduce a root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeBeyondNew { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch);
        }
        return Ok(());
    }
    let wrong_len = || ProofError::WrongProofLength {
        expected: consistency_proof_len(old_size, new_size),
        got: proof.len(),
    };
    // RFC 9162 §2.1.4.2. Step 1: an empty path fails.
    let Some((head, tail)) = proof.split_first() else {
        return Err(wrong_len());
    };
    // Step 2: if first is an exact power of 2, prepend first_hash to the path.
    let (start, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (head, tail)
    };
    // Steps 3-4.
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    let mut fr = *start;
    let mut sr = *start;
    // Step 6.
    for c in rest {
        if s == 0 {
            return Err(wrong_len());
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(wrong_len());
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// Hashes in a consistency proof between sizes `0 < old < new`.
fn consistency_proof_len(old: u64, new: u64) -> usize {
    // The proof is the inclusion path of leaf old-1 in tree `new`, with the
    // nodes inside the old tree's perfect subtrees merged: count directly.
    let mut m = old;
    let mut n = new;
    let mut len = 0usize;
    let mut whole = true;
    // Mirror of `subproof` without hashing.
    loop {
        if m == n {
            if !whole {
                len += 1;
            }
            return len;
        }
        let k = 1u64 << (u64::BITS - 1 - (n - 1).leading_zeros());
        len += 1;
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            whole = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest([])));
        assert_eq!(root(&[]), EMPTY_ROOT);
    }

    #[test]
    fn from_parts_round_trips_and_checks_count() {
        let l = leaves(13);
        let b = RootBuilder::from_leaf_hashes(l.iter().copied()).unwrap();
        let again = RootBuilder::from_parts(b.size(), b.hashes().to_vec()).unwrap();
        assert_eq!(again.root(), root(&l));
        assert_eq!(b.hashes().len(), 3); // 13 = 0b1101
        assert_eq!(
            RootBuilder::from_parts(13, vec![[0; 32]; 2]),
            Err(ProofError::BadCompactRange {
                size: 13,
                expected: 3,
                got: 2
            })
        );
    }

    #[test]
    fn proof_lengths_match_generated_proofs() {
        let l = leaves(70);
        for size in 1..=70u64 {
            for index in 0..size {
                let p = inclusion_proof(&l, index, size).unwrap();
                assert_eq!(p.len(), inclusion_proof_len(index, size), "{index}/{size}");
            }
            for old in 1..size {
                let p = consistency_proof(&l, old, size).unwrap();
                assert_eq!(p.len(), consistency_proof_len(old, size), "{old}->{size}");
            }
        }
    }

    #[test]
    fn generator_errors() {
        let l = leaves(4);
        assert_eq!(
            inclusion_proof(&l, 0, 5),
            Err(ProofError::SizeBeyondLeaves { size: 5, leaves: 4 })
        );
        assert_eq!(
            inclusion_proof(&l, 4, 4),
            Err(ProofError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            consistency_proof(&l, 3, 2),
            Err(ProofError::OldSizeBeyondNew {
                old_size: 3,
                new_size: 2
            })
        );
        assert_eq!(consistency_proof(&l, 0, 4), Ok(vec![]));
        assert_eq!(consistency_proof(&l, 4, 4), Ok(vec![]));
    }
}
