//! `cloudevents`: CloudEvents 1.0 events in the JSON event format
//! (CloudEvents spec v1.0.2, `formats/json-format.md`) whose `type` names a
//! Steward kind.
//!
//! The input is one of
//!
//! * **structured mode**: one event object (may span lines);
//! * **batch mode**: a JSON array of events (`[]` is an empty batch: no records);
//! * **JSON Lines**: one event object per line (chosen when the first
//!   non-blank line is a complete JSON value on its own).
//!
//! | attribute | required | use |
//! |---|---|---|
//! | `specversion` | yes | must be `"1.0"` |
//! | `id`, `source` | yes | non-empty strings; not stored |
//! | `type` | yes | the Steward kind: `usage.authentication`, or prefixed `io.steward.usage.authentication` |
//! | `subject` | unless a data field identifies the subject | the subject identifier, `"kind:value"` (`"username:ann"`) |
//! | `time` | no | RFC 3339, becomes the record's `occurred_at` |
//! | `datacontenttype` | no | when given, a JSON media type (`application/json`, `*/*+json`) |
//! | `data` | no | a JSON object: the record's fields (closed schema, N1.3) |
//! | `data_base64` | no | base64 (RFC 4648) of a JSON object of fields; exclusive with `data` |
//!
//! Other attributes (extensions such as `dataschema`, `traceparent`) are
//! ignored: they are not stored. The product is [`ParseOptions::product`].
//!
//! A missing required attribute, a wrong `specversion`, a `type` that is not
//! a Steward kind, or data outside the kind's schema is a
//! [`crate::Rejection`] naming the attribute by JSON path (`$[3].specversion`
//! in a batch, `$.data.x` otherwise) and what to change. Input that is not
//! JSON is skipped with [`SkipReason::Malformed`] (structured and batch mode:
//! once, at the line of the syntax error).
//!
//! Positions: every record and rejection carries the 1-based line where its
//! event object starts (in a one-line batch, every event is on line 1; the
//! JSON path tells them apart).

use base64::Engine as _;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use steward_domain::{Kind, NewRecord};

use crate::json::{self, Problem};
use crate::{ParseOptions, Parsed, SkipReason, lines, timefmt};

/// The prefix of Steward event types (`io.steward.usage.authentication`).
pub const TYPE_PREFIX: &str = "io.steward.";

/// Whether a `datacontenttype` is a JSON media type.
fn is_json(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// The kind named by a `type` attribute, if it names one.
pub fn kind_of_type(ty: &str) -> Option<Kind> {
    let name = ty.strip_prefix(TYPE_PREFIX).unwrap_or(ty);
    json::kind_named(name).ok()
}

fn required<'a>(obj: &'a Map<String, Value>, path: &str, attr: &str) -> Result<&'a str, Problem> {
    match obj.get(attr) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(Problem::new(
            json::child(path, attr),
            "is empty: expected a non-empty string (CloudEvents 1.0)",
        )),
        None | Some(Value::Null) => Err(Problem::new(
            json::child(path, attr),
            "missing required attribute (CloudEvents 1.0: id, source, specversion and type are required)",
        )),
        Some(other) => Err(Problem::new(
            json::child(path, attr),
            format!(
                "is {}: expected a non-empty string (CloudEvents 1.0)",
                json::type_name(other)
            ),
        )),
    }
}

fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    attr: &str,
) -> Result<Option<&'a str>, Problem> {
    match obj.get(attr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Problem::new(
            json::child(path, attr),
            format!(
                "is {}: expected a string (CloudEvents 1.0)",
                json::type_name(other)
            ),
        )),
    }
}

/// One event (at JSON path `path`) to a record, or where and why it does not fit.
fn event(v: Value, path: &str, opts: &ParseOptions) -> Result<NewRecord, Problem> {
    let Value::Object(mut obj) = v else {
        return Err(Problem::new(
            path,
            format!(
                "is {}: expected a CloudEvents event object",
                json::type_name(&v)
            ),
        ));
    };
    if required(&obj, path, "specversion")? != "1.0" {
        return Err(Problem::new(
            json::child(path, "specversion"),
            "must be \"1.0\": Steward reads CloudEvents 1.0",
        ));
    }
    required(&obj, path, "id")?;
    required(&obj, path, "source")?;
    let ty = required(&obj, path, "type")?;
    let kind = kind_of_type(ty).ok_or_else(|| {
        Problem::new(
            json::child(path, "type"),
            format!(
                "not a Steward kind: set type to `io.steward.<category>.<kind>` or `<category>.<kind>` with one of {} (N1.3, N2)",
                json::kind_list()
            ),
        )
    })?;
    let subject_path = json::child(path, "subject");
    let subject = match obj.get("subject") {
        Some(s) => json::subject(s, &subject_path)?,
        None => None,
    };
    let occurred_at = match optional_str(&obj, path, "time")? {
        Some(t) if timefmt::is_rfc3339(t) => Some(t.to_owned()),
        Some(_) => {
            return Err(Problem::new(
                json::child(path, "time"),
                "not an RFC 3339 timestamp: write it like 2018-04-05T17:31:00Z (CloudEvents 1.0)",
            ));
        }
        None => None,
    };
    let json_content = optional_str(&obj, path, "datacontenttype")?.is_none_or(is_json);
    let data = obj.remove("data").filter(|d| !d.is_null());
    let data_base64 = obj.remove("data_base64").filter(|d| !d.is_null());
    let (fields, fields_path) = match (data, data_base64) {
        (Some(_), Some(_)) => {
            return Err(Problem::new(
                path,
                "has both data and data_base64: give one (CloudEvents 1.0 JSON format)",
            ));
        }
        (None, None) => (Map::new(), json::child(path, "data")),
        (Some(d), None) => {
            let p = json::child(path, "data");
            (data_object(d, &p, kind, json_content, path)?, p)
        }
        (None, Some(b)) => {
            let p = json::child(path, "data_base64");
            let Value::String(text) = b else {
                return Err(Problem::new(
                    p,
                    format!("is {}: expected a base64 string", json::type_name(&b)),
                ));
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| Problem::new(&p, "not valid base64 (RFC 4648 section 4)"))?;
            let d = serde_json::from_slice::<Value>(&bytes).map_err(|_| {
                Problem::new(
                    &p,
                    "the decoded bytes are not JSON: Steward reads data as a JSON object of fields",
                )
            })?;
            (data_object(d, &p, kind, json_content, path)?, p)
        }
    };
    let fields = json::fields(kind, fields, &fields_path)?;
    json::build(
        kind,
        subject,
        opts.product,
        occurred_at,
        fields,
        &subject_path,
        &fields_path,
    )
}

fn data_object(
    d: Value,
    data_path: &str,
    kind: Kind,
    json_content: bool,
    path: &str,
) -> Result<Map<String, Value>, Problem> {
    if !json_content {
        return Err(Problem::new(
            json::child(path, "datacontenttype"),
            "must be a JSON media type (application/json): Steward reads data as a JSON object of fields",
        ));
    }
    match d {
        Value::Object(m) => Ok(m),
        other => Err(Problem::new(
            data_path,
            format!(
                "is {}: expected a JSON object of the fields of {}",
                json::type_name(&other),
                kind.full_name()
            ),
        )),
    }
}

/// 1-based line of byte `offset` in `input`, counting from `from` (whose line is `from_line`).
pub(crate) fn line_at(input: &[u8], from: usize, from_line: usize, offset: usize) -> usize {
    let seg = input.get(from..offset).unwrap_or_default();
    from_line + memchr::memchr_iter(b'\n', seg).count()
}

/// Parse CloudEvents 1.0 JSON (structured, batch or JSON Lines; see the
/// module docs). Never fails: every event is a record or a rejection naming
/// the attribute (N1.3); input that is not JSON is skipped.
pub fn parse(source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
    let body = lines::strip_bom(input);
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        // Empty, or only blank lines: account for each line like JSON Lines.
        return json_lines(source, input, opts);
    };
    if body[start] == b'[' {
        return batch(source, body, start, opts);
    }
    let first_line_is_json = lines::lines(body)
        .map(|(_, l)| l)
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .is_some_and(|l| {
            l.len() <= crate::MAX_LINE_BYTES && serde_json::from_slice::<&RawValue>(l).is_ok()
        });
    if first_line_is_json {
        return json_lines(source, input, opts);
    }
    structured(source, body, start, opts)
}

/// The line of a JSON syntax error, within the input's lines (an error at the
/// end of input after a final newline is on the last line).
pub(crate) fn error_line(body: &[u8], e: &serde_json::Error) -> usize {
    e.line().clamp(1, crate::line_count(body).max(1))
}

/// The column of a JSON syntax error on [`error_line`]'s line: serde_json's,
/// or, for an error at the end of input after a final newline, just past the
/// end of the last line.
pub(crate) fn error_column(body: &[u8], e: &serde_json::Error) -> usize {
    if e.line() == error_line(body, e) && e.column() > 0 {
        return e.column();
    }
    let last = crate::lines::lines(body)
        .last()
        .map_or(&b""[..], |(_, l)| l);
    String::from_utf8_lossy(last).chars().count() + 1
}

/// The line of the first invalid UTF-8 byte, if any.
pub(crate) fn invalid_utf8_line(body: &[u8]) -> Option<usize> {
    std::str::from_utf8(body)
        .err()
        .map(|e| line_at(body, 0, 1, e.valid_up_to()))
}

fn structured(source: &str, body: &[u8], start: usize, opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    if let Some(line) = invalid_utf8_line(body) {
        out.skip(line, SkipReason::InvalidUtf8);
        return out;
    }
    let line = line_at(body, 0, 1, start);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match event(v, "$", opts) {
            Ok(r) => out.records.push((line, r)),
            Err(p) => out.reject(source, line, p),
        },
        Err(e) => out.skip_json(error_line(body, &e), error_column(body, &e)),
    }
    out
}

fn batch(source: &str, body: &[u8], start: usize, opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    if let Some(line) = invalid_utf8_line(body) {
        out.skip(line, SkipReason::InvalidUtf8);
        return out;
    }
    let items = match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(items) => items,
        Err(e) => {
            out.skip_json(error_line(body, &e), error_column(body, &e));
            return out;
        }
    };
    let base = body.as_ptr() as usize;
    let (mut at, mut at_line) = (start, line_at(body, 0, 1, start));
    for (i, raw) in items.into_iter().enumerate() {
        // The element's text borrows from `body`: its address gives its offset.
        let offset = (raw.get().as_ptr() as usize)
            .checked_sub(base)
            .filter(|o| *o <= body.len() && *o >= at)
            .unwrap_or(at);
        at_line = line_at(body, at, at_line, offset);
        at = offset;
        let path = format!("$[{i}]");
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(v) => match event(v, &path, opts) {
                Ok(r) => out.records.push((at_line, r)),
                Err(p) => out.reject(source, at_line, p),
            },
            Err(_) => out.skip(at_line, SkipReason::Malformed),
        }
    }
    out
}

fn json_lines(source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    for (no, bytes) in lines::lines(input) {
        let text = match lines::text(bytes) {
            Ok(t) => t,
            Err(reason) => {
                out.skip(no, reason);
                continue;
            }
        };
        match serde_json::from_str::<Value>(text) {
            Ok(v) => match event(v, "$", opts) {
                Ok(r) => out.records.push((no, r)),
                Err(p) => out.reject(source, no, p),
            },
            Err(e) => out.skip_json(no, e.column()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::{IdentifierKind, Product};

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::CloudIdentity,
        }
    }

    #[test]
    fn batch_after_leading_blank_lines_names_the_event_line() {
        // Found by the fuzz target `ingest_cloudevents` (fuzz/, docs/reliability.md):
        // the newlines before `[` were counted twice, so positions ran past the input.
        let p = go("\n[\"\"]");
        assert_eq!(p.records.len() + p.skipped.len(), 0);
        assert_eq!(p.rejected.len(), 1);
        assert_eq!(p.rejected[0].line, 2);
        assert!(
            p.rejected[0].error.starts_with("events.json:2: $[0]: "),
            "{}",
            p.rejected[0].error
        );
    }

    fn go(input: &str) -> Parsed {
        parse("events.json", input.as_bytes(), &opts())
    }

    const AUTH_EVENT: &str = r#"{
  "specversion": "1.0",
  "type": "io.steward.usage.authentication",
  "source": "/idp",
  "id": "e-1",
  "time": "2024-05-01T10:00:00Z",
  "subject": "username:ann",
  "datacontenttype": "application/json",
  "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  "data": {"event": "login", "outcome": "success", "source_ip": "10.0.0.1"}
}"#;

    #[test]
    fn structured_event_becomes_a_record_n2_4() {
        let p = go(AUTH_EVENT);
        assert_eq!(p.records.len(), 1, "{p:?}");
        let (line, r) = &p.records[0];
        assert_eq!(*line, 1);
        assert_eq!(r.kind().full_name(), "usage.authentication");
        assert_eq!(r.subject().kind(), IdentifierKind::Username);
        assert_eq!(r.subject().value(), "ann");
        assert_eq!(r.occurred_at(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(r.product(), Product::CloudIdentity);
        assert_eq!(r.fields()["outcome"], "success");
    }

    #[test]
    fn batch_positions_name_the_event_and_its_line() {
        let input = format!(
            "[\n{AUTH_EVENT},\n{}\n,{}]",
            r#"{"specversion": "0.3", "type": "usage.error", "source": "/s", "id": "2"}"#,
            r#"{"type": "usage.error", "source": "/s", "id": "3", "subject": "ip:10.0.0.1", "data": {"message": "m"}}"#
        );
        let p = go(&input);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].0, 2);
        assert_eq!(
            p.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![13, 14]
        );
        assert_eq!(
            p.rejected[0].error,
            "events.json:13: $[1].specversion: must be \"1.0\": Steward reads CloudEvents 1.0"
        );
        assert!(
            p.rejected[1]
                .error
                .starts_with("events.json:14: $[2].specversion: missing required attribute"),
            "{}",
            p.rejected[1].error
        );
        assert_eq!(go("[]"), Parsed::default());
        assert_eq!(go(" [ ] \n"), Parsed::default());
    }

    #[test]
    fn data_base64_is_decoded_and_checked_against_the_schema_n1_3() {
        // base64 of {"message": "boom", "level": "error"}
        let ok = r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data_base64":"eyJtZXNzYWdlIjogImJvb20iLCAibGV2ZWwiOiAiZXJyb3IifQ=="}"#;
        let p = go(ok);
        assert_eq!(p.records.len(), 1, "{p:?}");
        assert_eq!(p.records[0].1.fields()["level"], "error");
        // base64 of { "xyz": 123 } (the CloudEvents spec's example)
        let unknown = r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data_base64":"eyAieHl6IjogMTIzIH0="}"#;
        let p = go(unknown);
        assert!(
            p.rejected[0].error.starts_with(
                "events.json:1: $.data_base64.xyz: unknown field `xyz` for kind usage.error"
            ),
            "{}",
            p.rejected[0].error
        );
        let bad = r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data_base64":"... base64 encoded string ..."}"#;
        assert_eq!(
            go(bad).rejected[0].error,
            "events.json:1: $.data_base64: not valid base64 (RFC 4648 section 4)"
        );
    }

    #[test]
    fn attribute_problems_are_named_by_path() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"specversion":"1.0","type":"com.example.someevent","source":"/s","id":"1"}"#,
                "$.type: not a Steward kind",
            ),
            (
                r#"{"specversion":"1.0","source":"/s","id":"1"}"#,
                "$.type: missing required attribute",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","id":"1"}"#,
                "$.source: missing required attribute",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":""}"#,
                "$.id: is empty",
            ),
            (
                r#"{"specversion":1.0,"type":"usage.error","source":"/s","id":"1"}"#,
                "$.specversion: is a number",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data":"text"}"#,
                "$.data: is a string",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","datacontenttype":"application/xml","data":{"message":"m"}}"#,
                "$.datacontenttype: must be a JSON media type",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data":{},"data_base64":"e30="}"#,
                "$: has both data and data_base64",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","data":{"message":"m"}}"#,
                "$.subject: record of kind usage.error names no data subject",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","time":"now"}"#,
                "$.time: not an RFC 3339 timestamp",
            ),
            (
                r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1","data":{"body":"customer content"}}"#,
                "$.data.body: unknown field `body`",
            ),
            ("7", "$: is a number"),
        ];
        for (input, want) in cases {
            let p = go(input);
            assert_eq!(p.rejected.len(), 1, "{input}: {p:?}");
            let e = &p.rejected[0].error;
            assert!(
                e.starts_with(&format!("events.json:1: {want}")),
                "{input}: {e}"
            );
            assert!(!e.contains("customer content"), "{e}");
        }
    }

    #[test]
    fn json_lines_mode_and_malformed_input() {
        let line = r#"{"specversion":"1.0","type":"usage.error","source":"/s","id":"1","subject":"ip:10.0.0.1"}"#;
        let input = format!("{line}\r\n\r\n{{not json\n{line}");
        let p = go(&input);
        assert_eq!(
            p.records.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 4]
        );
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.name()))
            .collect();
        assert_eq!(reasons, vec![(2, "blank_line"), (3, "malformed")]);
        // The JSON syntax error's column: `{not json` fails at `n`, column 2.
        assert_eq!(p.skipped[1].column, Some(2));
        assert_eq!(
            p.skipped[1].message("events.json"),
            "events.json:3:2: malformed: not in the format's grammar"
        );

        let p = go("{\n  \"specversion\": \"1.0\",\n  oops\n}");
        assert_eq!(
            p.skipped,
            vec![crate::Skip {
                line: 3,
                column: Some(3),
                reason: SkipReason::Malformed
            }]
        );
        let p = go("[{\"a\": 1},\n{\"b\": ]");
        assert_eq!(
            p.skipped,
            vec![crate::Skip {
                line: 2,
                column: Some(7),
                reason: SkipReason::Malformed
            }]
        );
        let p = parse("e.json", b"[\n\"\xff\"]", &opts());
        assert_eq!(
            p.skipped,
            vec![crate::Skip {
                line: 2,
                column: None,
                reason: SkipReason::InvalidUtf8
            }]
        );
        let p = go("\"\n");
        assert_eq!(
            p.skipped,
            vec![crate::Skip {
                line: 1,
                column: Some(2),
                reason: SkipReason::Malformed
            }]
        );
        let p = go("\n\n");
        assert_eq!(p.skipped.len(), 2);
    }
}
