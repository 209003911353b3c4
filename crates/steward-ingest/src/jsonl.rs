//! `jsonl`: JSON Lines (<https://jsonlines.org>) of Steward records, any kind.
//!
//! One JSON object per line:
//!
//! ```json
//! {"subject": "email:ann@example.com", "category": "usage", "kind": "error",
//!  "occurred_at": "2024-05-01T10:00:00Z", "product": "cloud_platform",
//!  "fields": {"level": "error", "message": "disk full"}}
//! ```
//!
//! | key | required | value |
//! |---|---|---|
//! | `kind` | yes | the kind's name within `category` (`error`), or the dotted name (`usage.error`) |
//! | `category` | when `kind` is not dotted | one of the five categories (N2); must agree with a dotted `kind` |
//! | `subject` | unless a field identifies the subject | `"kind:value"` (`"ip:10.0.0.1"`; a bare IP or e-mail address also works) or `{"kind": "email", "value": "..."}` |
//! | `occurred_at` | no | RFC 3339 date-time; else the `occurred_at` field, if the record has one |
//! | `product` | no | one of N1.1's products; default [`ParseOptions::product`] |
//! | `fields` | no | an object of the kind's fields (closed schema), scalar values |
//!
//! A line that is not JSON is skipped with [`SkipReason::Malformed`](crate::SkipReason::Malformed). A JSON
//! line that does not fit (not an object, an unknown key, category, kind,
//! product or field, a bad subject) is a [`crate::Rejection`] naming the JSON
//! path and what to change (N1.3): `input.jsonl:3: $.fields.document_body:
//! unknown field ...`. Nothing of a rejected line is kept.

use serde_json::{Map, Value};
use steward_domain::{Category, Kind, NewRecord, Product};

use crate::json::{self, Problem};
use crate::{ParseOptions, Parsed, lines, timefmt};

/// The top-level keys of a line.
pub const KEYS: [&str; 6] = [
    "subject",
    "category",
    "kind",
    "occurred_at",
    "product",
    "fields",
];

fn string<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Problem> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Problem::new(
            json::child("$", key),
            format!("is {}: expected a string", json::type_name(other)),
        )),
    }
}

fn kind_of(obj: &Map<String, Value>) -> Result<Kind, Problem> {
    let category = string(obj, "category")?;
    let Some(kind) = string(obj, "kind")? else {
        return Err(Problem::new(
            "$.kind",
            "missing: name the record's kind, e.g. \"usage.error\" (N1.3, N2)",
        ));
    };
    if kind.contains('.') {
        let k = json::kind_named(kind).map_err(|e| Problem::new("$.kind", e))?;
        if let Some(c) = category {
            let c: Category = json::short(c)
                .parse()
                .map_err(|e| Problem::new("$.category", e))?;
            if c != k.category() {
                return Err(Problem::new(
                    "$.kind",
                    format!(
                        "kind {} is not in category {c}: drop `category` or make them agree",
                        k.full_name()
                    ),
                ));
            }
        }
        Ok(k)
    } else {
        let Some(c) = category else {
            return Err(Problem::new(
                "$.category",
                "missing: give `category` or a dotted `kind` such as \"usage.error\" (N2)",
            ));
        };
        let c: Category = json::short(c)
            .parse()
            .map_err(|e| Problem::new("$.category", e))?;
        Kind::lookup(c, &json::short(kind)).map_err(|e| Problem::new("$.kind", e))
    }
}

/// One parsed line to a record, or where and why it does not fit.
fn record(v: Value, opts: &ParseOptions) -> Result<NewRecord, Problem> {
    let Value::Object(mut obj) = v else {
        return Err(Problem::new(
            "$",
            format!(
                "is {}: expected an object with keys {}",
                json::type_name(&v),
                KEYS.join(", ")
            ),
        ));
    };
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(Problem::new(
            json::child("$", k),
            format!("unknown key: a line has only {} (N1.3)", KEYS.join(", ")),
        ));
    }
    let kind = kind_of(&obj)?;
    let product = match string(&obj, "product")? {
        Some(p) => json::short(p)
            .parse::<Product>()
            .map_err(|e| Problem::new("$.product", e))?,
        None => opts.product,
    };
    let subject = match obj.get("subject") {
        Some(s) => json::subject(s, "$.subject")?,
        None => None,
    };
    let mut occurred_at = match string(&obj, "occurred_at")? {
        Some(t) if timefmt::is_rfc3339(t) => Some(t.to_owned()),
        Some(_) => {
            return Err(Problem::new(
                "$.occurred_at",
                "not an RFC 3339 date-time: write it like 2024-05-01T10:00:00Z",
            ));
        }
        None => None,
    };
    let fields = match obj.remove("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(Problem::new(
                "$.fields",
                format!(
                    "is {}: expected an object of the fields of {}",
                    json::type_name(&other),
                    kind.full_name()
                ),
            ));
        }
    };
    let fields = json::fields(kind, fields, "$.fields")?;
    if occurred_at.is_none() {
        occurred_at = fields
            .get("occurred_at")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    json::build(
        kind,
        subject,
        product,
        occurred_at,
        fields,
        "$.subject",
        "$.fields",
    )
}

/// Parse JSON Lines of Steward records (any kind). Never fails: each line is
/// a record, a skip ([`SkipReason::Malformed`](crate::SkipReason::Malformed) for invalid JSON,
/// [`crate::SkipReason::BlankLine`], [`crate::SkipReason::InvalidUtf8`],
/// [`crate::SkipReason::LineTooLong`]) or a rejection naming the JSON path (N1.3).
pub fn parse(source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    for (no, bytes) in lines::lines(input) {
        let text = match lines::text(bytes) {
            Ok(t) => t,
            Err(reason) => {
                out.skip(no, reason);
                continue;
            }
        };
        let v = match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => {
                out.skip_json(no, e.column());
                continue;
            }
        };
        match record(v, opts) {
            Ok(r) => out.records.push((no, r)),
            Err(p) => out.reject(source, no, p),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::IdentifierKind;

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::CloudPlatform,
        }
    }

    fn one(line: &str) -> Parsed {
        parse("input.jsonl", line.as_bytes(), &opts())
    }

    fn rejection(line: &str) -> String {
        let p = one(line);
        assert_eq!(p.rejected.len(), 1, "{p:?}");
        p.rejected[0].error.clone()
    }

    #[test]
    fn records_in_short_and_dotted_kind_forms_n2_4() {
        let input = concat!(
            r#"{"subject": "email:ann@example.com", "category": "usage", "kind": "error", "occurred_at": "2024-05-01T10:00:00Z", "fields": {"level": "error", "message": "disk full"}}"#,
            "\r\n",
            r#"{"subject": {"kind": "ip", "value": "10.0.0.1"}, "kind": "usage.error", "product": "workspace", "fields": {"occurred_at": "2024-05-01T11:00:00Z"}}"#,
            "\n",
            r#"{"kind": "billing.payment", "fields": {"billing_account_id": "BA-1", "amount": 12.5}}"#
        );
        let p = one(input);
        assert_eq!(p.records.len(), 3, "{p:?}");
        let (line, r) = &p.records[0];
        assert_eq!(*line, 1);
        assert_eq!(r.kind().full_name(), "usage.error");
        assert_eq!(r.subject().kind(), IdentifierKind::Email);
        assert_eq!(r.occurred_at(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(r.product(), Product::CloudPlatform);
        assert_eq!(r.fields()["message"], "disk full");
        let r = &p.records[1].1;
        assert_eq!(r.product(), Product::Workspace);
        assert_eq!(r.occurred_at(), Some("2024-05-01T11:00:00Z"));
        let r = &p.records[2].1;
        assert_eq!(r.subject().kind(), IdentifierKind::BillingAccount);
        assert_eq!(r.fields()["amount"], 12.5);
    }

    #[test]
    fn unknown_field_is_rejected_with_its_json_path_n1_3() {
        let input = concat!(
            "\n\n",
            r#"{"subject": "username:ann", "kind": "usage.error", "fields": {"message": "x", "document_body": "customer secret"}}"#
        );
        let p = one(input);
        assert_eq!(p.skipped.len(), 2);
        assert_eq!(p.rejected[0].line, 3);
        let e = &p.rejected[0].error;
        assert!(
            e.starts_with("input.jsonl:3: $.fields.document_body: unknown field `document_body` for kind usage.error: allowed fields are"),
            "{e}"
        );
        assert!(!e.contains("customer secret") && !e.contains("ann"), "{e}");
    }

    #[test]
    fn unknown_top_level_key_category_kind_and_product_are_rejected_n1_3() {
        let e = rejection(r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "body": "x"}"#);
        assert!(e.starts_with("input.jsonl:1: $.body: unknown key"), "{e}");
        let e = rejection(r#"{"kind": "secrets.passwords", "subject": "ip:10.0.0.1"}"#);
        assert!(
            e.starts_with("input.jsonl:1: $.kind: unknown category `secrets`"),
            "{e}"
        );
        let e =
            rejection(r#"{"category": "usage", "kind": "keystrokes", "subject": "ip:10.0.0.1"}"#);
        assert!(
            e.starts_with("input.jsonl:1: $.kind: unknown kind `usage.keystrokes`"),
            "{e}"
        );
        let e = rejection(
            r#"{"category": "billing", "kind": "usage.error", "subject": "ip:10.0.0.1"}"#,
        );
        assert!(
            e.starts_with("input.jsonl:1: $.kind: kind usage.error is not in category billing"),
            "{e}"
        );
        let e = rejection(r#"{"kind": "error", "subject": "ip:10.0.0.1"}"#);
        assert!(e.starts_with("input.jsonl:1: $.category: missing"), "{e}");
        let e = rejection(r#"{"subject": "ip:10.0.0.1"}"#);
        assert!(e.starts_with("input.jsonl:1: $.kind: missing"), "{e}");
        let e =
            rejection(r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "product": "search"}"#);
        assert!(
            e.starts_with("input.jsonl:1: $.product: unknown product `search`"),
            "{e}"
        );
        let e = rejection(
            r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "occurred_at": "yesterday"}"#,
        );
        assert!(
            e.starts_with("input.jsonl:1: $.occurred_at: not an RFC 3339"),
            "{e}"
        );
        let e = rejection(
            r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "fields": {"level": {"a": 1}}}"#,
        );
        assert!(
            e.starts_with("input.jsonl:1: $.fields.level: field `level` must be a string"),
            "{e}"
        );
        let e = rejection(r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "fields": [1]}"#);
        assert!(e.starts_with("input.jsonl:1: $.fields: is an array"), "{e}");
        let e = rejection(r#"[1, 2]"#);
        assert!(
            e.starts_with("input.jsonl:1: $: is an array: expected an object"),
            "{e}"
        );
    }

    #[test]
    fn subject_problems_are_rejected_without_values() {
        let e = rejection(r#"{"kind": "usage.error", "fields": {"message": "m"}}"#);
        assert!(
            e.starts_with(
                "input.jsonl:1: $.subject: record of kind usage.error names no data subject"
            ),
            "{e}"
        );
        let e = rejection(r#"{"kind": "usage.error", "subject": "ip:999.1.1.1"}"#);
        assert_eq!(
            e,
            "input.jsonl:1: $.subject: bad ip identifier: not an IPv4 or IPv6 address"
        );
        let e = rejection(
            r#"{"kind": "usage.error", "subject": "ip:10.0.0.1", "fields": {"client_ip": "nope"}}"#,
        );
        assert_eq!(
            e,
            "input.jsonl:1: $.fields.client_ip: bad ip identifier: not an IPv4 or IPv6 address"
        );
        let e = rejection(r#"{"kind": "usage.error", "subject": "mallory"}"#);
        assert!(!e.contains("mallory"), "{e}");
    }

    #[test]
    fn invalid_json_utf8_and_long_lines_are_skipped() {
        let mut input = b"{\"kind\": \n".to_vec();
        input.extend_from_slice(b"{\"kind\": \"usage.error\", \"subject\": \"ip:10.0.0.1\", \"fields\": {\"message\": \"\xff\"}}\n");
        input.extend_from_slice(b"\"");
        input.extend(std::iter::repeat_n(b'a', crate::MAX_LINE_BYTES));
        input.extend_from_slice(b"\"\n   ");
        let p = parse("input.jsonl", &input, &opts());
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.name()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, "malformed"),
                (2, "invalid_utf8"),
                (3, "line_too_long"),
                (4, "blank_line")
            ]
        );
        // `{"kind": ` ends at its 9th character: the syntax error's column.
        assert_eq!(p.skipped[0].column, Some(9));
        assert_eq!(p.skipped[1].column, None);
        assert_eq!(p.accounted(), crate::line_count(&input));
    }
}
