//! Audit entries: the typed record of one gate decision or operation, and its
//! canonical JSON bytes (the Merkle leaf data).
//!
//! Canonical form is RFC 8785 (JSON Canonicalization Scheme) for the value
//! types used here (strings, integers below 2^53, arrays, objects, `null`):
//! object keys in lexicographic order, no whitespace, minimal string escapes.
//! It is written by a hand-made writer for the entry's fixed shape
//! (`writer.rs`, no serde on the append path). The derived `Serialize`
//! (fields of every struct declared in alphabetical order) gives the same
//! bytes, which a property test checks; every string field is a validated
//! type whose characters never need escaping.
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

mod codec;
mod writer;
pub use codec::DecodeError;

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
mod tests;
