//! Property test (issue 21 item 2): the hand-made canonical JSON writer
//! (`AuditEntry::to_canonical_json`) gives, for every entry, the bytes of
//! the serde-based canonical JSON (`serde_json::to_vec` of the derived
//! `Serialize`, the writer it replaced) and of an RFC 8785 re-encoding
//! written here independently: keys sorted by UTF-16 code unit (§3.2.3), no
//! whitespace, integers in shortest decimal form (§3.2.2.3).

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;
use steward_audit::*;

/// Token text: 1 to 128 characters of `A-Z a-z 0-9 . _ : / -`.
fn token() -> impl Strategy<Value = Token> {
    "[A-Za-z0-9._:/-]{1,128}".prop_map(|s| Token::new(s).expect("token alphabet"))
}

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![
        Just(Decision::Allow),
        Just(Decision::Deny),
        Just(Decision::Done)
    ]
}

fn kind() -> impl Strategy<Value = ResourceKind> {
    prop_oneof![
        Just(ResourceKind::Record),
        Just(ResourceKind::Subject),
        Just(ResourceKind::Batch),
        Just(ResourceKind::Export),
        Just(ResourceKind::Erasure),
        Just(ResourceKind::Key),
        Just(ResourceKind::Principal),
        Just(ResourceKind::Policy),
        Just(ResourceKind::Log),
    ]
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        vec(vec(any::<u8>(), 8..=64), 0..3),
        option::of(0..=MAX_INDEX),
        vec(token(), 0..3),
        kind(),
        vec(any::<u64>(), 0..4),
        vec(any::<u64>(), 0..4),
    )
        .prop_map(|(blind, count, ids, kind, records, subjects)| Resource {
            blind_indexes: blind
                .into_iter()
                .map(|b| BlindIndexRef::new(b).expect("8 to 64 bytes"))
                .collect(),
            count,
            ids,
            kind,
            records: records.into_iter().map(RecordRef::new).collect(),
            subjects: subjects.into_iter().map(SubjectRef::new).collect(),
        })
}

/// Nanoseconds from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z,
/// often on a whole second or millisecond (the shorter RFC 3339 forms).
fn timestamp() -> impl Strategy<Value = Timestamp> {
    const MIN: i128 = -62_167_219_200 * 1_000_000_000;
    const MAX: i128 = 253_402_300_800 * 1_000_000_000 - 1;
    (MIN..=MAX, 0u8..3).prop_map(|(n, round)| {
        let n = match round {
            0 => n - n.rem_euclid(1_000_000_000),
            1 => n - n.rem_euclid(1_000_000),
            _ => n,
        };
        Timestamp::from_unix_nanos(n.max(MIN)).expect("in range")
    })
}

fn entry() -> impl Strategy<Value = AuditEntry> {
    let head = (
        token(),
        vec(token(), 0..4),
        decision(),
        0..=MAX_INDEX,
        vec(token(), 0..3),
        token(),
        any::<[u8; 32]>(),
    );
    let tail = (
        token(),
        option::of(token()),
        option::of(token()),
        token(),
        token(),
        resource(),
        timestamp(),
    );
    (head, tail).prop_map(
        |(
            (action, clause_ids, decision, index, policy_ids, policy_version, prev),
            (principal, purpose, reason, region, request_id, resource, time),
        )| AuditEntry {
            action,
            clause_ids,
            decision,
            index,
            policy_ids,
            policy_version,
            // `prev` is empty exactly at index 0 (AuditEntry::validate).
            prev: (index > 0).then_some(prev),
            principal,
            purpose,
            reason,
            region,
            request_id,
            resource,
            time,
        },
    )
}

/// RFC 8785 re-encoding of a JSON value, written independently of the
/// crate: object keys sorted by their UTF-16 code units (§3.2.3), no
/// whitespace; the entry's scalars are strings, integers and null, whose
/// serialisation serde_json already gives in the §3.2.2 form.
fn jcs(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                jcs(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                jcs(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn writer_matches_serde_canonical_json_and_rfc8785(e in entry()) {
        let written = e.to_canonical_json();
        // The serde-based canonical JSON the writer replaced.
        let serde = serde_json::to_vec(&e).unwrap();
        prop_assert_eq!(
            String::from_utf8(written.clone()).unwrap(),
            String::from_utf8(serde).unwrap()
        );
        // RFC 8785 key order and form, re-derived from the parsed value.
        let mut reencoded = String::new();
        jcs(&serde_json::from_slice::<Value>(&written).unwrap(), &mut reencoded);
        prop_assert_eq!(String::from_utf8(written.clone()).unwrap(), reencoded);
        // The strict decoder accepts exactly these bytes back.
        prop_assert_eq!(AuditEntry::decode(&written), Ok(e.clone()));
        // Appending to a non-empty buffer writes the same bytes after it.
        let mut buf = b"xy".to_vec();
        e.write_canonical_json(&mut buf);
        prop_assert_eq!(&buf[..2], b"xy");
        prop_assert_eq!(&buf[2..], &written[..]);
    }
}
