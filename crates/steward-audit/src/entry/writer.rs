//! The canonical JSON writer of an [`AuditEntry`]: RFC 8785 (JSON
//! Canonicalization Scheme) written directly into a byte buffer, without
//! serde and without `serde_json::Value`.
//!
//! The entry's shape is fixed, so the key order is written out by hand: keys
//! sorted by UTF-16 code unit (RFC 8785 §3.2.3; every key is ASCII, so this
//! is byte order), no whitespace, integers as their shortest decimal form
//! (all at most [`MAX_INDEX`](super::MAX_INDEX) = 2^53 - 1, so exact as
//! IEEE 754 doubles, RFC 8785 §3.2.2.3), `null` for an absent option, and
//! strings with only the escapes RFC 8785 §3.2.2.2 requires. The property
//! test `tests/canonical_writer.rs` checks the output against the serde
//! serialisation of the same entry and against a key-sorting re-encoding.

use super::{AuditEntry, Decision, Resource, ResourceKind};

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes a typical entry takes, to size the buffer once (entries average
/// about 580 bytes).
const TYPICAL_ENTRY_BYTES: usize = 640;

impl AuditEntry {
    /// Appends the entry's canonical JSON (see
    /// [`to_canonical_json`](Self::to_canonical_json)) to `out`.
    pub fn write_canonical_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"action\":");
        string(out, self.action.as_str());
        out.extend_from_slice(b",\"clause_ids\":");
        strings(out, self.clause_ids.iter().map(|t| t.as_str()));
        out.extend_from_slice(b",\"decision\":");
        out.extend_from_slice(match self.decision {
            Decision::Allow => b"\"allow\"",
            Decision::Deny => b"\"deny\"",
            Decision::Done => b"\"done\"",
        });
        out.extend_from_slice(b",\"index\":");
        integer(out, self.index);
        out.extend_from_slice(b",\"policy_ids\":");
        strings(out, self.policy_ids.iter().map(|t| t.as_str()));
        out.extend_from_slice(b",\"policy_version\":");
        string(out, self.policy_version.as_str());
        out.extend_from_slice(b",\"prev\":\"");
        if let Some(h) = &self.prev {
            hex(out, h);
        }
        out.extend_from_slice(b"\",\"principal\":");
        string(out, self.principal.as_str());
        out.extend_from_slice(b",\"purpose\":");
        optional(out, self.purpose.as_ref().map(|t| t.as_str()));
        out.extend_from_slice(b",\"reason\":");
        optional(out, self.reason.as_ref().map(|t| t.as_str()));
        out.extend_from_slice(b",\"region\":");
        string(out, self.region.as_str());
        out.extend_from_slice(b",\"request_id\":");
        string(out, self.request_id.as_str());
        out.extend_from_slice(b",\"resource\":");
        resource(out, &self.resource);
        out.extend_from_slice(b",\"time\":");
        string(out, self.time.as_str());
        out.push(b'}');
    }

    /// The entry's canonical JSON in a new buffer; see
    /// [`write_canonical_json`](Self::write_canonical_json).
    pub(super) fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TYPICAL_ENTRY_BYTES);
        self.write_canonical_json(&mut out);
        out
    }
}

/// `["<prefix><16 hex digits>",…]`: opaque record or subject ids.
fn opaque_ids(out: &mut Vec<u8>, prefix: &[u8], ids: impl Iterator<Item = u64>) {
    out.push(b'[');
    for (i, v) in ids.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(prefix);
        hex_u64(out, v);
        out.push(b'"');
    }
    out.push(b']');
}

/// `{"blind_indexes":[…],"count":n|null,"ids":[…],"kind":"…","records":[…],"subjects":[…]}`.
fn resource(out: &mut Vec<u8>, r: &Resource) {
    out.extend_from_slice(b"{\"blind_indexes\":[");
    for (i, b) in r.blind_indexes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        hex(out, b.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"count\":");
    match r.count {
        Some(n) => integer(out, n),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"ids\":");
    strings(out, r.ids.iter().map(|t| t.as_str()));
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(kind_name(r.kind).as_bytes());
    out.extend_from_slice(b"\",\"records\":");
    opaque_ids(out, b"rec_", r.records.iter().map(|id| id.value()));
    out.extend_from_slice(b",\"subjects\":");
    opaque_ids(out, b"sub_", r.subjects.iter().map(|id| id.value()));
    out.push(b'}');
}

/// The JSON name of a [`ResourceKind`] (its serde `snake_case` name).
fn kind_name(k: ResourceKind) -> &'static str {
    match k {
        ResourceKind::Record => "record",
        ResourceKind::Subject => "subject",
        ResourceKind::Batch => "batch",
        ResourceKind::Export => "export",
        ResourceKind::Erasure => "erasure",
        ResourceKind::Key => "key",
        ResourceKind::Principal => "principal",
        ResourceKind::Policy => "policy",
        ResourceKind::Log => "log",
    }
}

/// `[s1,s2,…]`.
fn strings<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.push(b']');
}

/// `"s"`, or `null` for `None`.
fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string with RFC 8785 §3.2.2.2 escaping: `"` and `\` escaped with a
/// backslash, U+0008/09/0A/0C/0D as `\b \t \n \f \r`, the other controls
/// below U+0020 as `\u00xx` (lower-case hex), everything else verbatim.
/// Every string of an entry is a validated type that needs no escape, so the
/// escaping branch is a safeguard that keeps the output canonical JSON.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\r' => out.extend_from_slice(b"\\r"),
                c if c < 0x20 => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 0xf)]);
                }
                c => out.push(c),
            }
        }
    }
    out.push(b'"');
}

/// The shortest decimal form of `n` (no sign, no leading zeros).
fn integer(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Lower-case hex of `bytes`.
fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

/// `n` as 16 lower-case hex digits (the `{:016x}` form of the opaque ids).
fn hex_u64(out: &mut Vec<u8>, n: u64) {
    hex(out, &n.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_are_shortest_decimal() {
        assert_eq!(s(|o| integer(o, 0)), "0");
        assert_eq!(s(|o| integer(o, 7)), "7");
        assert_eq!(s(|o| integer(o, 1000)), "1000");
        assert_eq!(s(|o| integer(o, (1 << 53) - 1)), "9007199254740991");
        assert_eq!(s(|o| integer(o, u64::MAX)), "18446744073709551615");
    }

    #[test]
    fn strings_escape_as_rfc8785_requires() {
        // RFC 8785 §3.2.2.2: the two-character escapes, \u00xx for the other
        // controls, everything else (here U+00E9 and U+20AC) verbatim.
        assert_eq!(
            s(|o| string(o, "a\"b\\c\u{8}\t\n\u{c}\r\u{1}\u{1f}é€/")),
            "\"a\\\"b\\\\c\\b\\t\\n\\f\\r\\u0001\\u001fé€/\""
        );
        assert_eq!(s(|o| string(o, "plain.token")), "\"plain.token\"");
    }

    #[test]
    fn ids_are_sixteen_hex_digits() {
        assert_eq!(s(|o| hex_u64(o, 0x1234)), "0000000000001234");
        assert_eq!(s(|o| hex(o, &[0xde, 0xad, 0x01])), "dead01");
    }
}
