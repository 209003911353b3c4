//! # steward-audit: Steward's tamper-evident audit log
//!
//! A storage-agnostic library: it builds, signs and verifies an append-only
//! log; the storage layer keeps the rows. Every gate decision, ingest batch,
//! export, erasure, key operation and principal change is one entry
//! (DESIGN.md, "Audit log").
//!
//! ## The pieces
//!
//! | piece | what | source |
//! |---|---|---|
//! | [`AuditEntry`] | typed entry; [`to_canonical_json`](AuditEntry::to_canonical_json) gives the leaf bytes, [`decode`](AuditEntry::decode) reads untrusted bytes back (canonical only) | RFC 8785 (JCS) |
//! | [`leaf_hash`], [`node_hash`], [`root`] | `SHA-256(0x00‖data)`, `SHA-256(0x01‖l‖r)`, `MTH` | RFC 6962 §2.1, RFC 9162 §2.1.1 |
//! | [`inclusion_proof`], [`verify_inclusion`] | audit paths | RFC 9162 §2.1.3 |
//! | [`consistency_proof`], [`verify_consistency`] | consistency proofs | RFC 9162 §2.1.4 |
//! | [`RootBuilder`] | compact range: O(1) amortised append, O(log n) root | transparency-dev/merkle `compact` |
//! | [`Checkpoint`], [`VerifierKey`] | signed tree heads as Ed25519 signed notes | c2sp.org/tlog-checkpoint, c2sp.org/signed-note |
//! | [`Appender`] | builds each next entry (index, prev, bytes, leaf hash) and keeps the root | |
//! | [`verify_log`], [`LogVerifier`] | streams a stored log, names the first bad index | |
//! | [`CheckpointSigner`] | where the checkpoint signature comes from (a key file, a KMS, an HSM) | |
//! | [`cosign`], [`verify_cosigned`], [`CosignerKey`] | Ed25519 witness cosignatures (`cosignature/v1`) | c2sp.org/tlog-cosignature |
//! | [`AddCheckpoint`], [`Witness`] | the `add-checkpoint` request body, and a witness's decision over its state | c2sp.org/tlog-witness |
//!
//! ## What storage keeps
//!
//! * **Entry rows** `(index u64, bytes, leaf_hash [u8; 32])`: `bytes` is the
//!   canonical JSON (a few hundred bytes), `leaf_hash = SHA-256(0x00 ‖ bytes)`.
//!   Each entry's JSON `"prev"` is the hex of the previous row's leaf hash
//!   (`""` at index 0), so entries form a hash chain as well as a tree.
//! * **Checkpoint rows** `(size u64, note text)`: signed notes, cut when
//!   [`should_checkpoint`] says so (per batch or per interval).
//! * **One head row** `(size, root)` updated in the append's transaction, and
//!   optionally the compact range ([`Appender::tree`]: `size` and up to 64
//!   hashes) so a restart need not re-read every leaf hash.
//!
//! ## Appending (fail closed)
//!
//! ```
//! use steward_audit::*;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tok = |s: &str| Token::new(s);
//! let mut appender = Appender::new(); // or Appender::resume(tree, last_leaf_hash)?
//! let draft = EntryDraft {
//!     action: tok("record.read")?,
//!     clause_ids: vec![tok("N3.5")?],
//!     decision: Decision::Allow,
//!     policy_ids: vec![tok("support-assist")?],
//!     policy_version: tok("2024-01-18.1")?,
//!     principal: tok("emp_00000000000000a1")?,
//!     purpose: Some(tok("assist")?),
//!     reason: None,
//!     region: tok("eu")?,
//!     request_id: tok("req-7f3a")?,
//!     resource: Resource::new(ResourceKind::Record).record(RecordRef::new(0x1234)),
//!     time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000)?,
//! };
//! let p = appender.prepare(draft)?;          // no state change yet
//! let head_root = appender.root_after(&p);   // for the head row
//! // BEGIN; INSERT entry (p.index(), p.bytes(), p.leaf_hash()); UPDATE head; COMMIT
//! appender.commit(&p)?;                      // only after the commit succeeded
//! assert_eq!(appender.root(), head_root);
//!
//! // Cut a checkpoint (Ed25519 key from the keyring; name = log origin).
//! let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
//! let note = appender.checkpoint("steward.example/audit/eu").sign(&key, "steward.example/audit/eu")?;
//! // INSERT checkpoint (1, note)
//!
//! // Verify everything, e.g. from `steward audit verify`.
//! let vkey = VerifierKey::new("steward.example/audit/eu", &key.verifying_key())?;
//! // Publish vkey.to_string(): "steward.example/audit/eu+<8 hex>+<base64>".
//! let report = verify_log(
//!     [p.to_stored()],
//!     &[StoredCheckpoint { size: 1, note }],
//!     Some(Head { size: 1, root: head_root }),
//!     &vkey,
//! )?;
//! assert_eq!((report.entries, report.checkpoints_verified), (1, 1));
//! # Ok(()) }
//! ```
//!
//! ## Verifying
//!
//! [`verify_log`] takes the entry rows in index order (any iterator of
//! [`StoredEntry`] or `&StoredEntry`), all checkpoint rows, the head row and
//! the [`VerifierKey`] (parse the published string with [`VerifierKey::parse`]).
//! It hashes each entry once and keeps O(log n) state. A [`VerifyFailure`]
//! gives `first_bad_index`, a [`FailureKind`] and a description without entry
//! content:
//!
//! | tampering | reported at | kind |
//! |---|---|---|
//! | a byte of entry i changed | i | [`FailureKind::LeafHashMismatch`] |
//! | stored leaf hash of i changed | i | [`FailureKind::LeafHashMismatch`] |
//! | entry i deleted | i | [`FailureKind::MissingEntry`] (or `Truncated` for the last) |
//! | entries i < j swapped (bytes and hash) | i | [`FailureKind::EntryIndexMismatch`] |
//! | entry i rewritten with a matching stored hash | i | [`FailureKind::PrevMismatch`] (entry i+1's `prev` no longer matches) |
//! | entry i changed and every later entry re-chained | p, the size of the last checkpoint whose root still matches (p ≤ i < s, the failing checkpoint's size); = i when i is the first entry after a checkpoint, as for a CLI command's entries | [`FailureKind::CheckpointRootMismatch`] |
//! | log truncated to n entries (head row adjusted or not) | n, naming the last index a checkpoint proves | [`FailureKind::Truncated`] |
//! | checkpoint of size s: signature replaced (or by a key other than the pinned one) | s-1 | [`FailureKind::CheckpointInvalid`] |
//! | checkpoint of size s: validly signed root wrong | p as above | [`FailureKind::CheckpointRootMismatch`] |
//! | head row root changed | size-1 | [`FailureKind::HeadRootMismatch`] |
//! | log rewritten and re-signed with its own key, against heads a witness cosigned ([`LogVerifier::with_witnessed`]) | the last witnessed size whose root still matches | [`FailureKind::WitnessMismatch`] |
//!
//! When several things are wrong, the smallest index is reported.
//!
//! Throughput, measured with `cargo run --release -p steward-audit --example
//! verify_throughput` (1,000,000 entries, a checkpoint every 10,000, one
//! thread on the project's shared 2-core AMD EPYC machine with SHA-NI, under
//! load from other builds): 1.4 to 1.8 million entries/s for realistic
//! ~520-byte entries and 1.3 to 2.1 million/s for ~425-byte ones, 0.6 to 0.9
//! times the speed of SHA-256 leaf hashing alone. A full
//! [`AuditEntry::decode`] of every entry would run at about 0.25 million/s,
//! which is why the verifier reads `index` and `prev` from the canonical bytes.
//!
//! Entries after the last checkpoint are protected only by the unsigned head
//! row and the chain; [`VerifyReport::signed_size`] says where the signed part
//! ends. A truncation past which no checkpoint or head row points cannot be
//! seen.
//!
//! ## Proofs for outside verifiers
//!
//! Anyone holding the verifier key can check a checkpoint
//! ([`Checkpoint::verify_note`]), that an entry is in it
//! ([`inclusion_proof`] / [`verify_inclusion`] with the entry's leaf hash) and
//! that a later checkpoint extends it ([`consistency_proof`] /
//! [`verify_consistency`]). Proof generation reads the leaf hashes of the
//! tree (O(n)).
//!
//! No function in this crate panics on any input; untrusted bytes give errors.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod appender;
mod checkpoint;
mod entry;
mod merkle;
mod signer;
mod verify;
mod witness;

pub use appender::{AppendError, Appender, PreparedEntry, should_checkpoint};
pub use checkpoint::{
    ALG_ED25519, Checkpoint, CheckpointError, MAX_SIGNATURES, VerifierKey, key_id, open_note,
    sign_note, verifier_key_string,
};
pub use entry::{
    AuditEntry, BlindIndexRef, Decision, DecodeError, EntryDraft, FieldError, MAX_ENTRY_BYTES,
    MAX_INDEX, MAX_TOKEN_LEN, RecordRef, Resource, ResourceKind, SubjectRef, Timestamp, Token,
};
pub use merkle::{
    EMPTY_ROOT, Hash, ProofError, RootBuilder, consistency_proof, inclusion_proof, leaf_hash,
    node_hash, root, verify_consistency, verify_inclusion,
};
pub use signer::{CheckpointSigner, SignNoteError, SignerError, sign_note_with};
pub use verify::{
    FailureKind, Head, LogVerifier, StoredCheckpoint, StoredEntry, VerifyFailure, VerifyReport,
    Witnessed, verify_log,
};
pub use witness::{
    ALG_COSIGNATURE_V1, AddCheckpoint, Cosigned, CosignerKey, MAX_PROOF_LINES, Witness,
    WitnessError, WitnessState, WitnessedLog, cosign, verify_cosigned,
};
