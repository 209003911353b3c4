use super::codec::{sanitize_detail, sanitize_path};
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
    let unknown = SAMPLE_JSON.replacen(r#""reason":null"#, r#""reason":null,"secretname":1"#, 1);
    let msg = AuditEntry::decode(unknown.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(!msg.contains("secretname"), "{msg}");
    let typed = SAMPLE_JSON.replacen(r#""region":"eu""#, r#""region":"Jane Doe lives here""#, 1);
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
