//! Canonical JSON of an [`AuditEntry`] and its strict decoding: errors name
//! the field path and position, never the content.

use super::{AuditEntry, MAX_ENTRY_BYTES, MAX_INDEX};

/// Why bytes are not a valid canonical [`AuditEntry`]. Messages name the field
/// path and position, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Larger than [`MAX_ENTRY_BYTES`].
    #[error("entry is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON of the entry's shape (syntax, missing or unknown field, bad value).
    #[error(
        "entry is not a valid audit entry at line {line} column {column} (field {path}): {detail}"
    )]
    Malformed {
        /// Field path such as `resource.records[2]` (`.` for the whole entry;
        /// names not in the schema are shown as `?`).
        path: String,
        /// 1-based line of the error in the input.
        line: usize,
        /// 1-based column (byte) of the error in the input.
        column: usize,
        /// What is wrong, with any quoted input removed.
        detail: String,
    },
    /// `index` or `resource.count` above [`MAX_INDEX`].
    #[error(
        "{field} is {value}, above {max}, the largest integer RFC 8785 JSON represents exactly"
    )]
    NumberTooLarge {
        /// `index` or `resource.count`.
        field: &'static str,
        /// The value.
        value: u64,
        /// [`MAX_INDEX`].
        max: u64,
    },
    /// `prev` empty at an index other than 0, or set at index 0.
    #[error("prev must be empty exactly at index 0, but entry {index} has {}", if *.has_prev { "a prev hash" } else { "none" })]
    PrevShape {
        /// The entry's index.
        index: u64,
        /// Whether `prev` was set.
        has_prev: bool,
    },
    /// Decodes, but the bytes are not the canonical encoding.
    #[error(
        "entry is not in canonical form (RFC 8785): first difference at byte {offset}; write entries with AuditEntry::to_canonical_json"
    )]
    NonCanonical {
        /// 0-based offset of the first byte that differs from the canonical encoding.
        offset: usize,
    },
}

/// Field and variant names that may appear in decode error messages; anything
/// else quoted by serde is input and is removed.
const KNOWN_NAMES: &[&str] = &[
    "action",
    "clause_ids",
    "decision",
    "index",
    "policy_ids",
    "policy_version",
    "prev",
    "principal",
    "purpose",
    "reason",
    "region",
    "request_id",
    "resource",
    "time",
    "blind_indexes",
    "count",
    "ids",
    "kind",
    "records",
    "subjects",
    "allow",
    "deny",
    "done",
    "record",
    "subject",
    "batch",
    "export",
    "erasure",
    "key",
    "principal",
    "policy",
    "log",
];

/// Removes quoted input from a serde message: `"…"` always, `` `…` `` unless
/// it is a known field or variant name.
pub(super) fn sanitize_detail(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg),
        None => msg,
    };
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(['"', '`']) {
        let (before, from_quote) = rest.split_at(i);
        out.push_str(before);
        let quote = if from_quote.starts_with('"') {
            '"'
        } else {
            '`'
        };
        let inner_and_rest = &from_quote[1..];
        match inner_and_rest.find(quote) {
            Some(j) => {
                let inner = &inner_and_rest[..j];
                if quote == '`' && KNOWN_NAMES.contains(&inner) {
                    out.push('`');
                    out.push_str(inner);
                    out.push('`');
                } else {
                    out.push('…');
                }
                rest = &inner_and_rest[j + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Keeps a serde_path_to_error path only where its names are schema names.
pub(super) fn sanitize_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        return ".".to_owned();
    }
    path.split('.')
        .map(|seg| {
            let base_end = seg.find('[').unwrap_or(seg.len());
            let (base, indices) = seg.split_at(base_end);
            let ok_indices = indices
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'[' || b == b']');
            if (KNOWN_NAMES.contains(&base) || base == "?") && ok_indices {
                seg.to_owned()
            } else {
                "?".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn malformed(path: &str, e: &serde_json::Error) -> DecodeError {
    DecodeError::Malformed {
        path: sanitize_path(path),
        line: e.line(),
        column: e.column(),
        detail: sanitize_detail(&e.to_string()),
    }
}

impl AuditEntry {
    /// The entry's canonical JSON (RFC 8785 for the types used): keys sorted,
    /// no whitespace. These bytes are the Merkle leaf data and what storage
    /// keeps. Deterministic: equal entries give equal bytes. Written by a
    /// hand-made writer for the entry's fixed shape (no serde on this path);
    /// the same bytes as `serde_json::to_vec` of the derived `Serialize`,
    /// which the property test `tests/canonical_writer.rs` checks.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        self.canonical_bytes()
    }

    /// Checks the constraints the types alone do not: `index` and
    /// `resource.count` at most [`MAX_INDEX`], and `prev` empty exactly at index 0.
    ///
    /// # Errors
    /// [`DecodeError::NumberTooLarge`], [`DecodeError::PrevShape`].
    pub fn validate(&self) -> Result<(), DecodeError> {
        if self.index > MAX_INDEX {
            return Err(DecodeError::NumberTooLarge {
                field: "index",
                value: self.index,
                max: MAX_INDEX,
            });
        }
        if let Some(c) = self.resource.count
            && c > MAX_INDEX
        {
            return Err(DecodeError::NumberTooLarge {
                field: "resource.count",
                value: c,
                max: MAX_INDEX,
            });
        }
        if self.prev.is_some() == (self.index == 0) {
            return Err(DecodeError::PrevShape {
                index: self.index,
                has_prev: self.prev.is_some(),
            });
        }
        Ok(())
    }

    /// Decodes untrusted bytes, accepting only the canonical encoding: the
    /// result re-encodes to exactly `bytes`. Never panics.
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`] over [`MAX_ENTRY_BYTES`];
    /// [`DecodeError::Malformed`] for bad JSON or a bad field;
    /// [`DecodeError::NumberTooLarge`] / [`DecodeError::PrevShape`] (see
    /// [`validate`](Self::validate)); [`DecodeError::NonCanonical`] when the
    /// bytes decode but are not canonical (whitespace, key order, escapes).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_ENTRY_BYTES,
            });
        }
        // Fast path without path tracking; on error, decode again to find the field path.
        let entry: AuditEntry = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(plain) => {
                let mut de = serde_json::Deserializer::from_slice(bytes);
                return Err(
                    match serde_path_to_error::deserialize::<_, AuditEntry>(&mut de) {
                        Err(e) => malformed(&e.path().to_string(), e.inner()),
                        Ok(_) => malformed(".", &plain), // trailing data after the object
                    },
                );
            }
        };
        entry.validate()?;
        let canonical = entry.to_canonical_json();
        if canonical != bytes {
            let offset = canonical
                .iter()
                .zip(bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(canonical.len().min(bytes.len()));
            return Err(DecodeError::NonCanonical { offset });
        }
        Ok(entry)
    }
}
