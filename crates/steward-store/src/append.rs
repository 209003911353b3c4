//! The audit append shared by every backend: from the head row read inside
//! the write transaction to the rows the backend writes in that same
//! transaction (entries, an optional checkpoint, the new head row).
//!
//! No database sequence orders anything: the next index is the head row's
//! `size`, and the backend serializes appends by locking that row (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: `SELECT ... FOR UPDATE`), DESIGN "Scale-out".

use std::time::{SystemTime, UNIX_EPOCH};

use steward_audit::{Checkpoint, RootBuilder};

use crate::options::StoreOptions;
use crate::types::{AuditDraft, Committed, StoreError};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The head row's frontier: the compact range's subtree hashes, concatenated.
pub(crate) fn frontier_from_bytes(size: u64, bytes: &[u8]) -> Option<RootBuilder> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    let hashes = bytes
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).ok())
        .collect::<Option<Vec<_>>>()?;
    RootBuilder::from_parts(size, hashes).ok()
}

/// The root of the head row `(size, frontier)`.
///
/// Errors: [`StoreError::Corrupt`] when the frontier does not fit the size.
pub(crate) fn head_root(size: i64, frontier: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    let range = frontier_from_bytes(size as u64, frontier)
        .ok_or_else(|| StoreError::Corrupt("audit_head.frontier".into()))?;
    Ok((size as u64, range.root()))
}

/// A 32-byte hash column.
pub(crate) fn hash32(v: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

/// The `audit_head` row (one row, `id = 1`), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadRow {
    /// Entries in the log (the next index).
    pub size: i64,
    /// Leaf hash of the last entry (empty when the log is empty).
    pub last_leaf: Vec<u8>,
    /// Compact-range hashes ([`RootBuilder::hashes`]) concatenated.
    pub frontier: Vec<u8>,
    /// Size of the last checkpoint cut.
    pub checkpoint_size: i64,
    /// When the last checkpoint was cut (ms since the Unix epoch).
    pub checkpoint_at: i64,
}

/// One `audit_entries` row to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryRow {
    /// The entry's index.
    pub idx: i64,
    /// Canonical JSON bytes.
    pub entry: Vec<u8>,
    /// RFC 6962 leaf hash of `entry`.
    pub leaf_hash: [u8; 32],
}

/// One `audit_checkpoints` row to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckpointRow {
    /// Tree size covered.
    pub size: i64,
    /// Signed note (c2sp.org/tlog-checkpoint).
    pub note: String,
    /// When cut (ms since the Unix epoch).
    pub created_at: i64,
}

/// Everything an append writes.
#[derive(Debug)]
pub(crate) struct Append {
    /// Entry rows, in index order.
    pub entries: Vec<EntryRow>,
    /// A checkpoint, when one is due.
    pub checkpoint: Option<CheckpointRow>,
    /// The head row after the append (`UPDATE audit_head ... WHERE id = 1`).
    pub head: HeadRow,
    /// What the commit reports.
    pub committed: Committed,
}

/// Plans the append of `drafts` after `head`: assigns indexes from the head's
/// size, chains each entry to the previous leaf hash, extends the compact
/// range and cuts a signed checkpoint when `checkpoint_every` entries or
/// `checkpoint_every_secs` passed since the last one (or when `force`, if the
/// log grew since).
///
/// Errors: the name of the corrupt or invalid part (`audit_head.frontier`,
/// `audit_head.last_leaf`, `audit log is full`, `checkpoint origin or key
/// name`); the backend maps it to its own error.
pub(crate) fn plan(
    head: HeadRow,
    opts: &StoreOptions,
    drafts: Vec<AuditDraft>,
    force_checkpoint: bool,
    now: i64,
) -> Result<Append, &'static str> {
    let HeadRow {
        mut size,
        last_leaf,
        frontier,
        checkpoint_size: mut cp_size,
        checkpoint_at: mut cp_at,
    } = head;
    let mut range = frontier_from_bytes(size as u64, &frontier).ok_or("audit_head.frontier")?;
    let mut prev: Option<[u8; 32]> = if size == 0 {
        None
    } else {
        Some(last_leaf.try_into().map_err(|_| "audit_head.last_leaf")?)
    };
    let mut entries = Vec::with_capacity(drafts.len());
    let mut indexes = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let bytes = draft.into_entry(size as u64, prev).to_canonical_json();
        let leaf = steward_audit::leaf_hash(&bytes);
        range.push(leaf).map_err(|_| "audit log is full")?;
        entries.push(EntryRow {
            idx: size,
            entry: bytes,
            leaf_hash: leaf,
        });
        prev = Some(leaf);
        indexes.push(size as u64);
        size = size.checked_add(1).ok_or("audit log is full")?;
    }
    let due = size > cp_size
        && (force_checkpoint
            || size.wrapping_sub(cp_size) as u64 >= opts.checkpoint_every
            || now.wrapping_sub(cp_at) as u64 >= opts.checkpoint_every_secs.saturating_mul(1000));
    let checkpoint = if due {
        let note = Checkpoint {
            origin: opts.origin.clone(),
            size: size as u64,
            root: range.root(),
        }
        .sign_with(opts.signing_key.as_ref(), &opts.key_name)
        .map_err(|e| match e {
            steward_audit::SignNoteError::Signer(_) => {
                "the checkpoint signer failed (its key file, KMS or HSM)"
            }
            _ => "checkpoint origin or key name",
        })?;
        cp_size = size;
        cp_at = now;
        Some(CheckpointRow {
            size,
            note,
            created_at: now,
        })
    } else {
        None
    };
    Ok(Append {
        entries,
        checkpoint,
        head: HeadRow {
            size,
            last_leaf: prev.map(|p| p.to_vec()).unwrap_or_default(),
            frontier: range.hashes().concat(),
            checkpoint_size: cp_size,
            checkpoint_at: cp_at,
        },
        committed: Committed {
            audit_indexes: indexes,
            audit_size: size as u64,
        },
    })
}
