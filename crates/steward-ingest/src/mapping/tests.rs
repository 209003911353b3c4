use super::values::unix_time;
use super::*;
use steward_domain::Product;

fn opts() -> ParseOptions {
    ParseOptions {
        year: 2024,
        product: Product::CloudPlatform,
    }
}

fn m(text: &str) -> Result<Mapping, MappingError> {
    Mapping::from_toml("my.toml", text)
}

const MINI: &str = r#"kind = "usage.access"
[[subject]]
from = "who"
identifier = "username"
[[subject]]
from = "ip"
identifier = "ip"
[[time]]
from = "t"
format = "unix_millis"
[fields]
client_ip = { from = "ip", invalid = "omit" }
user = "who"
status = { from = "ok", map = { "true" = 200, "false" = 500 }, default = 0 }
path = "req.0.path"
"#;

#[test]
fn every_builtin_mapping_loads() {
    for (name, _) in BUILTIN {
        let m = Mapping::builtin(name).unwrap().unwrap();
        assert!(m.kind().full_name().starts_with("usage."), "{name}");
    }
    assert!(Mapping::builtin("nope").is_none());
}

#[test]
fn paths_maps_defaults_and_times() {
    let map = m(MINI).unwrap();
    let input = concat!(
        r#"{"who": "ann", "ip": "10.0.0.1", "t": 1723564700123, "ok": true, "req": [{"path": "/a"}]}"#,
        "\n",
        r#"{"ip": "not-an-ip", "who": "bob", "ok": "maybe"}"#,
        "\n",
        r#"{"ip": "2001:db8::1", "t": "1723564700"}"#,
        "\n",
        r#"{"ip": "nope"}"#,
        "\n",
        r#"{"who": "ann", "t": "yesterday"}"#,
        "\n",
        r#"{"who": "ann", "req": [{"path": {"x": 1}}]}"#,
        "\n",
        "[1]\n",
        "{oops\n",
    );
    let p = map.parse("in.jsonl", input.as_bytes(), &opts());
    assert_eq!(p.accounted(), 8);
    assert_eq!(p.records.len(), 3, "{:?}", p.rejected);
    let r = &p.records[0].1;
    assert_eq!(r.subject().value(), "ann");
    assert_eq!(r.fields()["status"], 200);
    assert_eq!(r.fields()["path"], "/a");
    assert_eq!(r.occurred_at(), Some("2024-08-13T15:58:20.123Z"));
    assert_eq!(r.fields()["occurred_at"], "2024-08-13T15:58:20.123Z");
    let r = &p.records[1].1;
    // An invalid client_ip is left out (invalid = "omit"); a value the map
    // does not list becomes the default.
    assert!(!r.fields().contains_key("client_ip"));
    assert_eq!(r.fields()["status"], 0);
    assert_eq!(r.occurred_at(), None);
    let r = &p.records[2].1;
    assert_eq!(r.subject().kind(), IdentifierKind::Ip);
    assert_eq!(r.fields()["status"], 0, "default for an absent value");
    assert_eq!(r.occurred_at(), Some("1970-01-20T22:46:04.7Z"));
    let skips: Vec<_> = p
        .skipped
        .iter()
        .map(|s| (s.line, s.column, s.reason))
        .collect();
    assert_eq!(
        skips,
        vec![
            (4, None, SkipReason::NoSubject),
            (8, Some(2), SkipReason::Malformed)
        ]
    );
    let errors: Vec<_> = p.rejected.iter().map(|r| r.error.as_str()).collect();
    assert_eq!(
        errors,
        vec![
            "in.jsonl:5: $.t: not a number of milliseconds since 1970-01-01 UTC: fix the input or the mapping's [[time]] format",
            "in.jsonl:6: $.req.0.path: is an object: field `path` takes a string, number or boolean: map a value inside it in the mapping (a.b)",
            "in.jsonl:7: $: is an array: expected a JSON object (one record)",
        ]
    );
}

#[test]
fn documents_arrays_and_wrapped_records_keep_their_lines() {
    let text = MINI.replacen("kind =", "records = \"Records\"\nkind =", 1);
    let map = m(&text).unwrap();
    let doc = "{\n  \"Records\": [\n    {\"who\": \"ann\"},\n    {\"who\": \"bob\"}\n  ]\n}\n";
    let p = map.parse("ct.json", doc.as_bytes(), &opts());
    let lines: Vec<_> = p.records.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4]);
    let arr = "[\n{\"who\": \"ann\"},\n\n{\"who\": \"bob\"}]";
    let p = map.parse("a.json", arr.as_bytes(), &opts());
    let lines: Vec<_> = p.records.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 4]);
    let one = "{\n  \"who\": \"ann\",\n  \"ip\": \"10.0.0.1\"\n}";
    let p = map.parse("one.json", one.as_bytes(), &opts());
    assert_eq!(p.records.len(), 1);
    let bad = "{\n  \"who\": \"ann\",\n}\n";
    let p = map.parse("bad.json", bad.as_bytes(), &opts());
    assert_eq!(
        p.skipped,
        vec![crate::Skip {
            line: 3,
            column: Some(1),
            reason: SkipReason::Malformed
        }]
    );
    assert_eq!(map.parse("e.json", b"", &opts()), Parsed::default());
}

#[test]
fn bad_mapping_files_name_the_line_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "kind = \"usage.access\"\nkinds = 1\n",
            "my.toml:2: `kinds`: unknown field `kinds`",
        ),
        (
            "kind = \"usage.keystrokes\"\n",
            "my.toml:1: `kind`: unknown kind `usage.keystrokes`",
        ),
        (
            "kind = \"usage.access\"\n",
            "my.toml:1: `subject`: missing: add a [[subject]] table",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"phone\"\n",
            "my.toml:4: `subject[1].identifier`: unknown identifier kind",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"ip\"\n[fields]\nclient_ip = \"a\"\nbody = \"b\"\n",
            "my.toml:7: `fields.body`: not a field of usage.access: use one of client_ip,",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"ip\"\n[[time]]\nfrom = \"t\"\nformat = \"iso\"\n",
            "my.toml:7: `time[1].format`: unknown time format",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"ip\"\n[fields]\nuser = { map = { a = \"b\" } }\n",
            "my.toml:6: `fields.user`: give `from`",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"ip\"\n[fields]\nuser = { from = \"u\", invalid = \"drop\" }\n",
            "my.toml:6: `fields.user`: `invalid` must be",
        ),
        (
            "kind = \"usage.access\"\n[[subject]]\nfrom = \"a\"\nidentifier = \"ip\"\n[fields]\nuser = { from = \"u\", frm = 1 }\n",
            "my.toml:6: `user`: unknown field `frm`",
        ),
        ("kind = \n", "my.toml:1: `kind`: "),
    ];
    for (text, want) in cases {
        let e = m(text).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}\n  wanted {want}");
    }
}

#[test]
fn unix_times_are_exact() {
    assert_eq!(
        unix_time(&serde_json::json!(1055289978.855137), false).as_deref(),
        Some("2003-06-11T00:06:18.855137Z")
    );
    assert_eq!(
        unix_time(&serde_json::json!(0), false).as_deref(),
        Some("1970-01-01T00:00:00Z")
    );
    assert_eq!(unix_time(&serde_json::json!("1e3"), false), None);
    assert_eq!(unix_time(&serde_json::json!(1e300), false), None);
    assert_eq!(unix_time(&serde_json::json!(true), false), None);
}
