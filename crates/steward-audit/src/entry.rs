//! Audit entries: the typed record of one gate decision or operation, and its
//! canonical JSON bytes (the Merkle leaf data).
//!
//! Canonical form is RFC 8785 (JSON Canonicalization Scheme) for the value
//! types used here (strings, integers below 2^53, arrays, objects, `null`):
//! object keys in lexicographic order, no whitespace, minimal string escapes.
//! It is produced by deriving `Serialize` with the fields of every struct
//! declared in alphabetical order, and every string field is a validated type
//! whose characters never need escaping.
//!
//! No field can hold clear Service Data: identifiers are opaque Steward ids
//! (`rec_…`, `sub_…`), blind-index values (hex of an HMAC), or [`Token`]s, a
//! short restricted alphabet with no spaces and no `@`.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::merkle::Hash;

/// The largest entry index and resource count: 2^53 - 1, the largest integer
/// RFC 8785 (via IEEE 754 doubles) represents exactly.
pub const MAX_INDEX: u64 = (1 << 53) - 1;

/// The largest entry [`AuditEntry::decode`] accepts, in bytes (64 KiB). Real
/// entries are a few hundred bytes.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// The longest [`Token`], in characters.
pub const MAX_TOKEN_LEN: usize = 128;

/// Why a field value was refused. Messages never repeat the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A token was empty.
    #[error("must not be empty")]
    Empty,
    /// A token was longer than [`MAX_TOKEN_LEN`].
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A token had a character outside `A-Z a-z 0-9 . _ : / -`.
    #[error(
        "has a character outside A-Z a-z 0-9 . _ : / - at character {position}; use an opaque id, never free text"
    )]
    BadChar {
        /// 0-based character position of the first bad character.
        position: usize,
    },
    /// Not `rec_` followed by 16 lower-case hex digits.
    #[error("expected rec_ followed by 16 lower-case hex digits")]
    BadRecordRef,
    /// Not `sub_` followed by 16 lower-case hex digits.
    #[error("expected sub_ followed by 16 lower-case hex digits")]
    BadSubjectRef,
    /// Not 16 to 128 lower-case hex digits (8 to 64 bytes).
    #[error("expected an even number (16 to 128) of lower-case hex digits")]
    BadBlindIndex,
    /// Not a canonical RFC 3339 UTC timestamp.
    #[error("timestamp {reason}")]
    BadTimestamp {
        /// What is wrong.
        reason: &'static str,
    },
    /// `prev` is neither empty nor 64 lower-case hex digits.
    #[error("expected empty or 64 lower-case hex digits")]
    BadPrev,
}

/// A short opaque name: an action, principal id, request id, purpose, reason,
/// region, policy version, policy id, clause id (`N6.5e`) or other Steward-made
/// id. 1 to [`MAX_TOKEN_LEN`] characters from `A-Z a-z 0-9 . _ : / -`: no
/// spaces, quotes or `@`, so neither free text nor an e-mail address fits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(String);

impl Token {
    /// Validates `s` as a token.
    ///
    /// # Errors
    /// [`FieldError::Empty`], [`FieldError::TooLong`], [`FieldError::BadChar`].
    pub fn new(s: impl Into<String>) -> Result<Self, FieldError> {
        let s = s.into();
        if s.is_empty() {
            return Err(FieldError::Empty);
        }
        if let Some(position) = s.chars().position(|c| !is_token_char(c)) {
            return Err(FieldError::BadChar { position });
        }
        // All characters are ASCII here, so bytes == characters.
        if s.len() > MAX_TOKEN_LEN {
            return Err(FieldError::TooLong { max: MAX_TOKEN_LEN });
        }
        Ok(Self(s))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-')
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Token {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Token::new(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $err:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Wraps the numeric id.
            pub fn new(id: u64) -> Self {
                Self(id)
            }
            /// The numeric id.
            pub fn value(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{:016x}"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let hex = s.strip_prefix($prefix).ok_or(FieldError::$err)?;
                if hex.len() != 16 || !hex.bytes().all(is_lower_hex) {
                    return Err(FieldError::$err);
                }
                u64::from_str_radix(hex, 16).map(Self).map_err(|_| FieldError::$err)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(D::Error::custom)
            }
        }
    };
}

opaque_id!(
    /// A record's opaque id, written `rec_` + 16 lower-case hex digits (the
    /// form of `steward_domain::RecordId`'s `Display`).
    RecordRef,
    "rec_",
    BadRecordRef
);

opaque_id!(
    /// A data subject's opaque id, written `sub_` + 16 lower-case hex digits
    /// (the form of `steward_domain::SubjectId`).
    SubjectRef,
    "sub_",
    BadSubjectRef
);

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// A blind-index value (the keyed HMAC of an identifier, never the identifier),
/// 8 to 64 bytes, written as lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlindIndexRef(Vec<u8>);

impl BlindIndexRef {
    /// Wraps blind-index bytes.
    ///
    /// # Errors
    /// [`FieldError::BadBlindIndex`] unless 8 to 64 bytes long.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, FieldError> {
        let bytes = bytes.into();
        if !(8..=64).contains(&bytes.len()) {
            return Err(FieldError::BadBlindIndex);
        }
        Ok(Self(bytes))
    }

    /// The blind-index bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for BlindIndexRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl FromStr for BlindIndexRef {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.bytes().all(is_lower_hex) {
            return Err(FieldError::BadBlindIndex);
        }
        let bytes = hex::decode(s).map_err(|_| FieldError::BadBlindIndex)?;
        Self::new(bytes)
    }
}

impl Serialize for BlindIndexRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BlindIndexRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// A point in time as canonical RFC 3339 text in UTC, e.g.
/// `2024-01-18T09:30:00Z` or `2024-01-18T09:30:00.25Z`: upper-case `T` and
/// `Z`, fractional seconds only when not zero and without trailing zeros
/// (the `time` crate's RFC 3339 formatting). Years 0000 to 9999.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    // INVARIANT: `text` is `at` (whose offset is UTC) formatted as RFC 3339.
    text: String,
    at: OffsetDateTime,
}

impl Timestamp {
    /// The current time.
    ///
    /// # Errors
    /// [`FieldError::BadTimestamp`] only if the clock is outside years 0 to 9999.
    pub fn now() -> Result<Self, FieldError> {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// From any offset date-time; converted to UTC.
    ///
    /// # Errors
    /// [`FieldError::BadTimestamp`] outside years 0 to 9999 (UTC).
    pub fn from_datetime(t: OffsetDateTime) -> Result<Self, FieldError> {
        let out_of_range = FieldError::BadTimestamp {
            reason: "is outside years 0000 to 9999",
        };
        let at = t
            .checked_to_offset(UtcOffset::UTC)
            .ok_or(out_of_range.clone())?;
        if !(0..=9999).contains(&at.year()) {
            return Err(out_of_range);
        }
        let text = at.format(&Rfc3339).map_err(|_| out_of_range)?;
        Ok(Self { text, at })
    }

    /// From nanoseconds since the Unix epoch (1970-01-01T00:00:00Z).
    ///
    /// # Errors
    /// [`FieldError::BadTimestamp`] outside years 0 to 9999.
    pub fn from_unix_nanos(nanos: i128) -> Result<Self, FieldError> {
        let t = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| {
            FieldError::BadTimestamp {
                reason: "is outside years 0000 to 9999",
            }
        })?;
        Self::from_datetime(t)
    }

    /// Parses canonical text (see the type's documentation).
    ///
    /// # Errors
    /// [`FieldError::BadTimestamp`] when not RFC 3339, not UTC (`Z`), or not canonical.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if !s.ends_with('Z') {
            return Err(FieldError::BadTimestamp {
                reason: "must be UTC, ending in Z",
            });
        }
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| FieldError::BadTimestamp {
            reason: "is not an RFC 3339 date-time",
        })?;
        let ts = Self::from_datetime(t)?;
        if ts.text != s {
            return Err(FieldError::BadTimestamp {
                reason: "is not canonical: use upper-case T and Z and drop trailing zeros of fractional seconds",
            });
        }
        Ok(ts)
    }

    /// The RFC 3339 text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The date-time (offset UTC).
    pub fn datetime(&self) -> OffsetDateTime {
        self.at
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Timestamp {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Timestamp::parse(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The outcome an entry records: JSON `"allow"`, `"deny"` or `"done"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The gate allowed the access.
    Allow,
    /// The gate denied the access (denials are audited too).
    Deny,
    /// An operation that is not an access decision completed: an ingest
    /// batch, an erasure, a key operation, a principal change.
    Done,
}

/// What kind of thing an entry's [`Resource`] names. JSON snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceKind {
    /// One or more records ([`Resource::records`]).
    Record,
    /// A data subject as a whole ([`Resource::subjects`]), e.g. a lookup.
    Subject,
    /// An ingest batch ([`Resource::ids`] holds its id, [`Resource::count`] its size).
    Batch,
    /// An access or portability export for a subject.
    Export,
    /// An erasure (crypto-shredding) of a subject's data key.
    Erasure,
    /// A key operation ([`Resource::ids`] holds key ids and versions).
    Key,
    /// A principal's creation, change or removal ([`Resource::ids`]).
    Principal,
    /// A policy pack load or change ([`Resource::ids`]).
    Policy,
    /// The audit log itself (e.g. a checkpoint or a verification run).
    Log,
}

/// What an entry is about, by reference only, never by content. JSON object
/// with keys in RFC 8785 order:
/// `{"blind_indexes":[hex…],"count":n|null,"ids":[token…],"kind":"record",
/// "records":["rec_…"],"subjects":["sub_…"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    // Fields in alphabetical order: the derived Serialize emits them in this
    // order, which is the RFC 8785 key order.
    /// Blind-index values used to find the subject (when looked up by an
    /// identifier such as an e-mail address or IP address).
    pub blind_indexes: Vec<BlindIndexRef>,
    /// A count when the resource is a set (records in a batch, in an export);
    /// at most [`MAX_INDEX`].
    pub count: Option<u64>,
    /// Other Steward-made ids: batch, export, key, principal or policy ids.
    pub ids: Vec<Token>,
    /// What kind of resource this is.
    pub kind: ResourceKind,
    /// Record ids.
    pub records: Vec<RecordRef>,
    /// Data subject ids.
    pub subjects: Vec<SubjectRef>,
}

impl Resource {
    /// An empty resource of `kind`; add references with the builder methods.
    pub fn new(kind: ResourceKind) -> Self {
        Self {
            blind_indexes: Vec::new(),
            count: None,
            ids: Vec::new(),
            kind,
            records: Vec::new(),
            subjects: Vec::new(),
        }
    }

    /// Adds a record id.
    pub fn record(mut self, id: RecordRef) -> Self {
        self.records.push(id);
        self
    }

    /// Adds a subject id.
    pub fn subject(mut self, id: SubjectRef) -> Self {
        self.subjects.push(id);
        self
    }

    /// Adds a blind-index value.
    pub fn blind_index(mut self, b: BlindIndexRef) -> Self {
        self.blind_indexes.push(b);
        self
    }

    /// Adds another Steward-made id.
    pub fn id(mut self, id: Token) -> Self {
        self.ids.push(id);
        self
    }

    /// Sets the count.
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }
}

/// One audit log entry: who did what to which resource, why, and what the gate
/// decided (DESIGN.md "Audit log"). The Merkle leaf data is its
/// [`to_canonical_json`](Self::to_canonical_json) bytes.
///
/// JSON keys, in canonical (RFC 8785) order: `action`, `clause_ids`,
/// `decision`, `index`, `policy_ids`, `policy_version`, `prev`, `principal`,
/// `purpose`, `reason`, `region`, `request_id`, `resource`, `time`. Absent
/// options are `null`; empty lists are `[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    // Fields in alphabetical order: see `Resource`.
    /// What was attempted, e.g. `record.read`, `ingest.batch`, `subject.erase`.
    pub action: Token,
    /// Notice clause ids behind the decision, e.g. `N6.5e`.
    pub clause_ids: Vec<Token>,
    /// The outcome.
    pub decision: Decision,
    /// 0-based position in the log; at most [`MAX_INDEX`].
    pub index: u64,
    /// Ids of the deciding policies.
    pub policy_ids: Vec<Token>,
    /// Version of the policy pack that decided.
    pub policy_version: Token,
    /// The previous entry's leaf hash; `None` (JSON `""`) exactly at index 0,
    /// else 64 lower-case hex digits.
    #[serde(with = "prev_hex")]
    pub prev: Option<Hash>,
    /// The authenticated principal's id.
    pub principal: Token,
    /// The declared purpose (a `Purpose` name such as `provide_services`), if any.
    pub purpose: Option<Token>,
    /// The condition that decided, e.g. a denial reason, if any.
    pub reason: Option<Token>,
    /// The region whose store holds the resource, e.g. `eu`.
    pub region: Token,
    /// The request id, to join with other logs.
    pub request_id: Token,
    /// What the entry is about.
    pub resource: Resource,
    /// When the decision was made.
    pub time: Timestamp,
}

mod prev_hex {
    use super::{FieldError, Hash, is_lower_hex};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(prev: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
        match prev {
            None => s.serialize_str(""),
            Some(h) => s.serialize_str(&hex::encode(h)),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Hash>, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(None);
        }
        let mut h = [0u8; 32];
        if s.len() != 64 || !s.bytes().all(is_lower_hex) {
            return Err(D::Error::custom(FieldError::BadPrev));
        }
        hex::decode_to_slice(&s, &mut h).map_err(|_| D::Error::custom(FieldError::BadPrev))?;
        Ok(Some(h))
    }
}

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
fn sanitize_detail(msg: &str) -> String {
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
fn sanitize_path(path: &str) -> String {
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
    /// keeps. Deterministic: equal entries give equal bytes.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        // INVARIANT: every field serialises infallibly (strings, integers,
        // sequences, unit enums; all custom Serialize impls write a string) into
        // a Vec, which never fails to write; so the error arm is unreachable.
        // An empty Vec would fail decoding and verification: fail closed.
        serde_json::to_vec(self).unwrap_or_default()
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

/// An entry before it has a place in the log: every [`AuditEntry`] field but
/// `index` and `prev`, which [`crate::Appender`] fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    /// See [`AuditEntry::action`].
    pub action: Token,
    /// See [`AuditEntry::clause_ids`].
    pub clause_ids: Vec<Token>,
    /// See [`AuditEntry::decision`].
    pub decision: Decision,
    /// See [`AuditEntry::policy_ids`].
    pub policy_ids: Vec<Token>,
    /// See [`AuditEntry::policy_version`].
    pub policy_version: Token,
    /// See [`AuditEntry::principal`].
    pub principal: Token,
    /// See [`AuditEntry::purpose`].
    pub purpose: Option<Token>,
    /// See [`AuditEntry::reason`].
    pub reason: Option<Token>,
    /// See [`AuditEntry::region`].
    pub region: Token,
    /// See [`AuditEntry::request_id`].
    pub request_id: Token,
    /// See [`AuditEntry::resource`].
    pub resource: Resource,
    /// See [`AuditEntry::time`].
    pub time: Timestamp,
}

impl EntryDraft {
    /// The entry at `index` whose predecessor's leaf hash is `prev`
    /// (`None` at index 0). Not validated: see [`AuditEntry::validate`].
    pub fn into_entry(self, index: u64, prev: Option<Hash>) -> AuditEntry {
        AuditEntry {
            action: self.action,
            clause_ids: self.clause_ids,
            decision: self.decision,
            index,
            policy_ids: self.policy_ids,
            policy_version: self.policy_version,
            prev,
            principal: self.principal,
            purpose: self.purpose,
            reason: self.reason,
            region: self.region,
            request_id: self.request_id,
            resource: self.resource,
            time: self.time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Token {
        Token::new(s).unwrap()
    }

    fn sample() -> AuditEntry {
        AuditEntry {
            action: t("record.read"),
            clause_ids: vec![t("N3.1"), t("N6.5e")],
            decision: Decision::Allow,
            index: 7,
            policy_ids: vec![t("support-read")],
            policy_version: t("2024-01-18.1"),
            prev: Some([0xab; 32]),
            principal: t("emp_00000000000000a1"),
            purpose: Some(t("assist")),
            reason: None,
            region: t("eu"),
            request_id: t("req-01HQ3V8K2M"),
            resource: Resource::new(ResourceKind::Record)
                .record(RecordRef::new(0x0123_4567_89ab_cdef))
                .subject(SubjectRef::new(0x1234_5678_9abc_def0))
                .blind_index(BlindIndexRef::new(vec![0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]).unwrap()),
            time: Timestamp::parse("2024-01-18T09:30:00.25Z").unwrap(),
        }
    }

    // The expected bytes are written by hand from RFC 8785: keys sorted by
    // code unit, no whitespace, integers as shortest decimal, null for None.
    const SAMPLE_JSON: &str = concat!(
        r#"{"action":"record.read","clause_ids":["N3.1","N6.5e"],"decision":"allow","index":7,"#,
        r#""policy_ids":["support-read"],"policy_version":"2024-01-18.1","#,
        r#""prev":"abababababababababababababababababababababababababababababababab","#,
        r#""principal":"emp_00000000000000a1","purpose":"assist","reason":null,"region":"eu","#,
        r#""request_id":"req-01HQ3V8K2M","resource":{"blind_indexes":["deadbeef00010203"],"count":null,"#,
        r#""ids":[],"kind":"record","records":["rec_0123456789abcdef"],"subjects":["sub_123456789abcdef0"]},"#,
        r#""time":"2024-01-18T09:30:00.25Z"}"#
    );

    #[test]
    fn canonical_json_is_the_hand_written_rfc8785_form() {
        let e = sample();
        assert_eq!(
            String::from_utf8(e.to_canonical_json()).unwrap(),
            SAMPLE_JSON
        );
        assert_eq!(AuditEntry::decode(SAMPLE_JSON.as_bytes()).unwrap(), e);
    }

    #[test]
    fn decode_rejects_non_canonical_forms() {
        // Whitespace after the first colon.
        let spaced = SAMPLE_JSON.replacen(':', ": ", 1);
        assert_eq!(
            AuditEntry::decode(spaced.as_bytes()),
            Err(DecodeError::NonCanonical { offset: 10 })
        );
        // Keys out of order (decision moved first).
        let reordered = SAMPLE_JSON
            .replacen(r#""decision":"allow","#, "", 1)
            .replacen('{', r#"{"decision":"allow","#, 1);
        assert!(matches!(
            AuditEntry::decode(reordered.as_bytes()),
            Err(DecodeError::NonCanonical { offset: 2 })
        ));
        // A missing optional field is not the canonical null.
        let missing = SAMPLE_JSON.replacen(r#""reason":null,"#, "", 1);
        assert!(matches!(
            AuditEntry::decode(missing.as_bytes()),
            Err(DecodeError::NonCanonical { .. })
        ));
        // Escaped character that needs no escape.
        let escaped = SAMPLE_JSON.replacen("record.read", "record\\u002eread", 1);
        assert!(matches!(
            AuditEntry::decode(escaped.as_bytes()),
            Err(DecodeError::NonCanonical { .. })
        ));
        // Trailing white space is valid JSON but not canonical; trailing data is not JSON.
        let trailing = format!("{SAMPLE_JSON} ");
        assert_eq!(
            AuditEntry::decode(trailing.as_bytes()),
            Err(DecodeError::NonCanonical {
                offset: SAMPLE_JSON.len()
            })
        );
        let trailing = format!("{SAMPLE_JSON}x");
        assert!(matches!(
            AuditEntry::decode(trailing.as_bytes()),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn decode_errors_name_the_field_but_not_the_value() {
        let bad = SAMPLE_JSON.replacen("rec_0123456789abcdef", "john.smith@example.com", 1);
        let err = AuditEntry::decode(bad.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, DecodeError::Malformed { path, .. } if path == "resource.records[0]"),
            "{msg}"
        );
        assert!(!msg.contains("john"), "{msg}");
        let unknown =
            SAMPLE_JSON.replacen(r#""reason":null"#, r#""reason":null,"secretname":1"#, 1);
        let msg = AuditEntry::decode(unknown.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("secretname"), "{msg}");
        let typed =
            SAMPLE_JSON.replacen(r#""region":"eu""#, r#""region":"Jane Doe lives here""#, 1);
        let msg = AuditEntry::decode(typed.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("Jane"), "{msg}");
        assert!(msg.contains("region"), "{msg}");
    }

    #[test]
    fn prev_shape_and_number_limits() {
        let mut e = sample();
        e.index = 0;
        assert_eq!(
            e.validate(),
            Err(DecodeError::PrevShape {
                index: 0,
                has_prev: true
            })
        );
        e.prev = None;
        assert_eq!(e.validate(), Ok(()));
        e.index = MAX_INDEX + 1;
        e.prev = Some([0; 32]);
        assert!(matches!(
            e.validate(),
            Err(DecodeError::NumberTooLarge { field: "index", .. })
        ));
    }

    #[test]
    fn tokens_refuse_free_text() {
        assert_eq!(Token::new(""), Err(FieldError::Empty));
        assert_eq!(Token::new("a b"), Err(FieldError::BadChar { position: 1 }));
        assert_eq!(
            Token::new("x@y.z"),
            Err(FieldError::BadChar { position: 1 })
        );
        assert_eq!(Token::new("é"), Err(FieldError::BadChar { position: 0 }));
        assert_eq!(
            Token::new("a".repeat(MAX_TOKEN_LEN + 1)),
            Err(FieldError::TooLong { max: MAX_TOKEN_LEN })
        );
        assert!(Token::new("N6.5e").is_ok());
        assert!("rec_0123456789ABCDEF".parse::<RecordRef>().is_err());
        assert!("sub_0123".parse::<SubjectRef>().is_err());
        assert!("sub_+123456789abcdef".parse::<SubjectRef>().is_err());
        assert!("ABCD0123ABCD0123".parse::<BlindIndexRef>().is_err());
        assert!("abcd0123".parse::<BlindIndexRef>().is_err());
    }

    #[test]
    fn timestamps_are_canonical_utc() {
        assert_eq!(
            Timestamp::from_unix_nanos(1_705_570_200_250_000_000)
                .unwrap()
                .as_str(),
            "2024-01-18T09:30:00.25Z"
        );
        assert_eq!(
            Timestamp::from_unix_nanos(1_705_570_200_000_000_000)
                .unwrap()
                .as_str(),
            "2024-01-18T09:30:00Z"
        );
        assert!(Timestamp::parse("2024-01-18T09:30:00.250Z").is_err());
        assert!(Timestamp::parse("2024-01-18T10:30:00+01:00").is_err());
        assert!(Timestamp::parse("2024-01-18t09:30:00Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::from_unix_nanos(i128::MAX).is_err());
    }

    #[test]
    fn sanitizer_keeps_names_and_drops_values() {
        assert_eq!(
            sanitize_detail("invalid type: string \"secret\", expected u64 at line 1 column 9"),
            "invalid type: string …, expected u64"
        );
        assert_eq!(
            sanitize_detail("missing field `time`"),
            "missing field `time`"
        );
        assert_eq!(
            sanitize_detail("unknown field `bob`, expected"),
            "unknown field …, expected"
        );
        assert_eq!(sanitize_detail("broken `quote"), "broken …");
        assert_eq!(sanitize_path("resource.records[2]"), "resource.records[2]");
        assert_eq!(sanitize_path("resource.alice"), "resource.?");
    }
}
