//! Declarative mappings: a TOML file that maps the fields of JSON records to
//! one kind's closed schema (N1.3), for log formats Steward has no adapter of
//! its own for. Built in ([`BUILTIN`], `--format zeek-ssh` ...):
//!
//! | format | records | kind |
//! |---|---|---|
//! | `zeek-ssh` | Zeek `ssh.log` in JSON, one session per line | `usage.authentication` |
//! | `zeek-http` | Zeek `http.log` in JSON, one request per line | `usage.access` |
//! | `ocsf-authentication` | OCSF Authentication events (class 3002) | `usage.authentication` |
//! | `aws-cloudtrail` | AWS CloudTrail records (`{"Records": [...]}` or one per file/line) | `usage.access` |
//! | `okta-system-log` | Okta System Log events | `usage.authentication` |
//!
//! A user's own mapping is read with [`Mapping::from_toml`] (`steward ingest
//! --mapping FILE`).
//!
//! # The mapping file
//!
//! ```toml
//! description = "Zeek ssh.log (JSON lines) -> usage.authentication"
//! kind = "usage.authentication"   # the one kind every record is (category.kind)
//! records = "Records"             # optional: a top-level key holding the array of records
//!
//! [select]                        # optional: only records whose value at `from` is one of `values`
//! from = "class_uid"
//! values = [3002]
//!
//! [[subject]]                     # candidates in order: the first present and valid one names the subject
//! from = "id.orig_h"
//! identifier = "ip"               # username, email, ip, device_id or billing_account
//!
//! [[time]]                        # optional candidates in order: the record's occurred_at
//! from = "ts"
//! format = "unix_seconds"         # rfc3339, unix_seconds or unix_millis
//!
//! [fields]                        # schema field = where its value comes from
//! source_ip = "id.orig_h"                       # a path
//! account = { from = ["user", "actor.name"] }   # the first path present
//! event = { value = "ssh_session" }             # a constant
//! outcome = { from = "auth_success", map = { "true" = "success", "false" = "failure" }, default = "info" }
//! client_ip = { from = "sourceIPAddress", invalid = "omit" }  # leave out a value that is not a valid identifier
//! ```
//!
//! A **path** names a value in the record: keys joined by `.`, array
//! positions as numbers (`target.0.id`); a key that itself holds dots (Zeek's
//! `id.orig_h`) is found as it is. `null` is absent. A `map` looks the value
//! up by its text (`true`, `3002`, `SUCCESS`); a value it does not list becomes
//! `default` when given, else stays as it is; `default` also stands in for an
//! absent value. The time, converted to RFC 3339, is also the kind's
//! `occurred_at` field when the kind has one and `[fields]` does not set it.
//!
//! # Input
//!
//! JSON Lines (when the first non-blank line is a JSON value by itself), a
//! JSON array of records, or one JSON document: a record, or an object whose
//! `records` key holds the array. Every line (JSON Lines) or record ends up
//! in exactly one of [`Parsed::records`], [`Parsed::skipped`] (invalid JSON
//! with its line and column, [`SkipReason::NotSelected`],
//! [`SkipReason::NoSubject`], blank, invalid UTF-8, too long) or
//! [`Parsed::rejected`] (not an object, a value that does not fit its field:
//! an object or array, an invalid identifier, a time not in its format),
//! naming the JSON path and the field, never a value.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, SubjectIdentifier};

mod values;
use values::{convert_time, json_path, lookup, scalar, text_of};

use crate::json::{self, Problem};
use crate::{ParseOptions, Parsed, SkipReason, cloudevents, lines};

/// The built-in mappings: (format name, TOML text), embedded from
/// `crates/steward-ingest/mappings/`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("zeek-ssh", include_str!("../../mappings/zeek-ssh.toml")),
    ("zeek-http", include_str!("../../mappings/zeek-http.toml")),
    (
        "ocsf-authentication",
        include_str!("../../mappings/ocsf-authentication.toml"),
    ),
    (
        "aws-cloudtrail",
        include_str!("../../mappings/aws-cloudtrail.toml"),
    ),
    (
        "okta-system-log",
        include_str!("../../mappings/okta-system-log.toml"),
    ),
];

/// A mapping file that cannot be used: where (`file:line`, and the key when
/// known) and what to change. Messages quote the mapping file, never input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// The mapping file's name.
    pub file: String,
    /// 1-based line of the problem in the mapping file.
    pub line: usize,
    /// The key at fault (`kind`, `fields.outcome`, `subject[2].identifier`), when known.
    pub key: Option<String>,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}:{}: `{k}`: {}", self.file, self.line, self.reason),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

impl std::error::Error for MappingError {}

/// One or more paths (`"a.b"` or `["a.b", "c"]`).
#[derive(Debug, Clone, Default)]
struct Paths(Vec<String>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Paths;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path (\"a.b\") or an array of paths")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Paths, E> {
                Ok(Paths(vec![s.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Paths, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(Paths(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldTable {
    from: Option<Paths>,
    value: Option<toml::Value>,
    map: Option<BTreeMap<String, toml::Value>>,
    default: Option<toml::Value>,
    invalid: Option<String>,
}

/// A `[fields]` entry: a path, or a table.
#[derive(Debug)]
struct FieldEntry(FieldTable);

impl<'de> Deserialize<'de> for FieldEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FieldEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path (\"a.b\") or a table with from, value, map, default, invalid")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FieldEntry, E> {
                Ok(FieldEntry(FieldTable {
                    from: Some(Paths(vec![s.to_owned()])),
                    value: None,
                    map: None,
                    default: None,
                    invalid: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<FieldEntry, A::Error> {
                FieldTable::deserialize(de::value::MapAccessDeserializer::new(m)).map(FieldEntry)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectTable {
    from: String,
    identifier: toml::Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeTable {
    from: String,
    format: toml::Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectTable {
    from: String,
    values: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    description: Option<String>,
    kind: toml::Spanned<String>,
    records: Option<String>,
    select: Option<SelectTable>,
    #[serde(default)]
    subject: Vec<toml::Spanned<SubjectTable>>,
    #[serde(default)]
    time: Vec<TimeTable>,
    #[serde(default)]
    fields: BTreeMap<String, toml::Spanned<FieldEntry>>,
}

/// How a time value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeFormat {
    Rfc3339,
    UnixSeconds,
    UnixMillis,
}

impl TimeFormat {
    fn describe(self) -> &'static str {
        match self {
            TimeFormat::Rfc3339 => "an RFC 3339 date-time (2024-05-01T10:00:00Z)",
            TimeFormat::UnixSeconds => "a number of seconds since 1970-01-01 UTC",
            TimeFormat::UnixMillis => "a number of milliseconds since 1970-01-01 UTC",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Invalid {
    Reject,
    Omit,
}

#[derive(Debug, Clone)]
struct FieldRule {
    name: &'static str,
    identifier: Option<IdentifierKind>,
    from: Vec<String>,
    value: Option<Value>,
    map: BTreeMap<String, Value>,
    default: Option<Value>,
    invalid: Invalid,
}

/// A mapping, checked against the closed schema: every field it fills is a
/// field of its kind. Parse input with [`Mapping::parse`].
#[derive(Debug, Clone)]
pub struct Mapping {
    name: String,
    description: Option<String>,
    kind: Kind,
    records: Option<String>,
    select: Option<(String, Vec<String>)>,
    subjects: Vec<(String, IdentifierKind)>,
    times: Vec<(String, TimeFormat)>,
    fields: Vec<FieldRule>,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// The key a TOML line sets (`kind = ...` -> `kind`, `[fields]` -> `fields`).
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    if let Some(h) = l.strip_prefix('[') {
        return Some(h.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    }
    let (k, _) = l.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.starts_with('#')).then(|| k.chars().take(64).collect())
}

/// What became of one record.
enum Outcome {
    Record(NewRecord),
    Skip(SkipReason),
    Reject(Problem),
}

impl Mapping {
    /// The built-in mapping of a format name (`zeek-ssh`, ...), if there is one.
    ///
    /// Errors: a [`MappingError`] only if an embedded file were broken (each
    /// is loaded by a unit test).
    pub fn builtin(name: &str) -> Option<Result<Mapping, MappingError>> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Mapping::from_toml(&format!("mappings/{n}.toml"), text))
    }

    /// Read a mapping file. `file` names it in messages.
    ///
    /// Errors: [`MappingError`] naming the line and key: TOML syntax, an
    /// unknown key, a missing `kind` or `[[subject]]`, an unknown kind, field,
    /// identifier kind or time format, an `invalid` other than
    /// `reject`/`omit`, a `[fields]` entry with neither `from` nor `value`,
    /// a `value`/`default`/`map` value that is not a scalar.
    pub fn from_toml(file: &str, text: &str) -> Result<Mapping, MappingError> {
        let err = |offset: usize, key: Option<String>, reason: String| MappingError {
            file: file.to_owned(),
            line: line_of(text, offset),
            key,
            reason,
        };
        let m: MappingFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let line = line_of(text, offset);
            let msg = e.message().trim().to_owned();
            let key = (!msg.starts_with("missing field"))
                .then(|| key_on_line(text, line))
                .flatten();
            err(
                offset,
                key,
                format!("{msg} (see the mapping file format in the README)"),
            )
        })?;
        let kind_span = m.kind.span();
        let kind: Kind = json::kind_named(m.kind.get_ref()).map_err(|e| {
            err(
                kind_span.start,
                Some("kind".into()),
                format!(
                    "{e}: name one kind as category.kind, one of {}",
                    json::kind_list()
                ),
            )
        })?;
        if m.subject.is_empty() {
            return Err(err(
                0,
                Some("subject".into()),
                "missing: add a [[subject]] table with `from` (a path) and `identifier` (username, email, ip, device_id or billing_account): every record names its data subject (N2)".into(),
            ));
        }
        let mut subjects = Vec::new();
        for (i, s) in m.subject.iter().enumerate() {
            let id = &s.get_ref().identifier;
            let ik: IdentifierKind = id.get_ref().parse().map_err(|_| {
                err(
                    id.span().start,
                    Some(format!("subject[{}].identifier", i + 1)),
                    "unknown identifier kind: use username, email, ip, device_id or billing_account".into(),
                )
            })?;
            subjects.push((s.get_ref().from.clone(), ik));
        }
        let mut times = Vec::new();
        for (i, t) in m.time.iter().enumerate() {
            let f = match t.format.get_ref().as_str() {
                "rfc3339" => TimeFormat::Rfc3339,
                "unix_seconds" => TimeFormat::UnixSeconds,
                "unix_millis" => TimeFormat::UnixMillis,
                _ => {
                    return Err(err(
                        t.format.span().start,
                        Some(format!("time[{}].format", i + 1)),
                        "unknown time format: use rfc3339, unix_seconds or unix_millis".into(),
                    ));
                }
            };
            times.push((t.from.clone(), f));
        }
        let mut fields = Vec::new();
        for (name, entry) in &m.fields {
            let at = entry.span().start;
            let key = Some(format!("fields.{}", json::short(name)));
            let Some(spec) = kind.field(name) else {
                return Err(err(
                    at,
                    key,
                    format!(
                        "not a field of {}: use one of {} (N1.3: only the kind's closed schema is stored)",
                        kind.full_name(),
                        kind.fields()
                            .iter()
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let t = &entry.get_ref().0;
            let sc = |v: &toml::Value, what: &str| {
                scalar(v).ok_or_else(|| {
                    err(
                        at,
                        key.clone(),
                        format!("`{what}` must be a string, number or boolean"),
                    )
                })
            };
            let value = t.value.as_ref().map(|v| sc(v, "value")).transpose()?;
            let default = t.default.as_ref().map(|v| sc(v, "default")).transpose()?;
            let mut map = BTreeMap::new();
            for (k, v) in t.map.iter().flatten() {
                map.insert(k.clone(), sc(v, "map")?);
            }
            let from = t.from.clone().unwrap_or_default().0;
            if from.is_empty() && value.is_none() {
                return Err(err(
                    at,
                    key,
                    "give `from` (a path in the record) or `value` (a constant)".into(),
                ));
            }
            let invalid = match t.invalid.as_deref() {
                None | Some("reject") => Invalid::Reject,
                Some("omit") => Invalid::Omit,
                Some(_) => {
                    return Err(err(
                        at,
                        key,
                        "`invalid` must be \"reject\" (the default) or \"omit\"".into(),
                    ));
                }
            };
            fields.push(FieldRule {
                name: spec.name,
                identifier: spec.identifier,
                from,
                value,
                map,
                default,
                invalid,
            });
        }
        let select = m.select.map(|s| {
            let values = s
                .values
                .iter()
                .filter_map(|v| scalar(v).as_ref().and_then(text_of))
                .collect();
            (s.from, values)
        });
        Ok(Mapping {
            name: file.to_owned(),
            description: m.description,
            kind,
            records: m.records,
            select,
            subjects,
            times,
            fields,
        })
    }

    /// The mapping file's name, as given to [`Mapping::from_toml`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The mapping's `description`, if it has one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The kind every record of this mapping is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// One JSON value to a record, a skip or a rejection.
    fn record(&self, v: &Value, opts: &ParseOptions) -> Outcome {
        if !v.is_object() {
            return Outcome::Reject(Problem::new(
                "$",
                format!(
                    "is {}: expected a JSON object (one record)",
                    json::type_name(v)
                ),
            ));
        }
        if let Some((path, values)) = &self.select {
            let hit = lookup(v, path)
                .and_then(text_of)
                .is_some_and(|t| values.contains(&t));
            if !hit {
                return Outcome::Skip(SkipReason::NotSelected);
            }
        }
        let mut fields = Fields::new();
        for rule in &self.fields {
            let found = rule
                .from
                .iter()
                .find_map(|p| lookup(v, p).map(|x| (p.as_str(), x)));
            let (path, value) = match (found, &rule.value) {
                (Some((p, x)), _) => (json_path(p), x.clone()),
                (None, Some(c)) => ("(value)".to_owned(), c.clone()),
                (None, None) => match &rule.default {
                    Some(d) => ("(default)".to_owned(), d.clone()),
                    None => continue,
                },
            };
            if value.is_object() || value.is_array() {
                return Outcome::Reject(Problem::new(
                    path,
                    format!(
                        "is {}: field `{}` takes a string, number or boolean: map a value inside it in the mapping (a.b)",
                        json::type_name(&value),
                        rule.name
                    ),
                ));
            }
            let value = if rule.map.is_empty() || found.is_none() {
                value
            } else {
                match text_of(&value).and_then(|t| rule.map.get(&t)) {
                    Some(m) => m.clone(),
                    None => rule.default.clone().unwrap_or(value),
                }
            };
            if let (Some(ik), Value::String(s)) = (rule.identifier, &value)
                && let Err(e) = SubjectIdentifier::new(ik, s)
            {
                match rule.invalid {
                    Invalid::Omit => continue,
                    Invalid::Reject => {
                        return Outcome::Reject(Problem::new(
                            path,
                            format!(
                                "field `{}`: {e}: fix the input, or set invalid = \"omit\" for this field in the mapping",
                                rule.name
                            ),
                        ));
                    }
                }
            }
            fields.insert(rule.name.to_owned(), value);
        }
        let mut occurred_at = None;
        for (path, format) in &self.times {
            if let Some(t) = lookup(v, path) {
                match convert_time(t, *format) {
                    Some(s) => occurred_at = Some(s),
                    None => {
                        return Outcome::Reject(Problem::new(
                            json_path(path),
                            format!(
                                "not {}: fix the input or the mapping's [[time]] format",
                                format.describe()
                            ),
                        ));
                    }
                }
                break;
            }
        }
        if let Some(t) = &occurred_at
            && self.kind.field("occurred_at").is_some()
        {
            fields
                .entry("occurred_at".to_owned())
                .or_insert_with(|| Value::from(t.as_str()));
        }
        let subject = self.subjects.iter().find_map(|(path, ik)| {
            let x = lookup(v, path)?;
            let s = match x {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            SubjectIdentifier::new(*ik, &s).ok()
        });
        let Some(subject) = subject else {
            return Outcome::Skip(SkipReason::NoSubject);
        };
        match NewRecord::new(self.kind, Some(subject), opts.product, occurred_at, fields) {
            Ok(r) => Outcome::Record(r),
            Err(e) => Outcome::Reject(Problem::new("$", e)),
        }
    }

    fn put(&self, out: &mut Parsed, source: &str, line: usize, v: &Value, opts: &ParseOptions) {
        match self.record(v, opts) {
            Outcome::Record(r) => out.records.push((line, r)),
            Outcome::Skip(reason) => out.skip(line, reason),
            Outcome::Reject(p) => out.reject(source, line, p),
        }
    }

    /// The array of records under the mapping's `records` key, if `v` has one.
    fn wrapped<'a>(&self, v: &'a Value) -> Option<&'a Vec<Value>> {
        v.get(self.records.as_deref()?)?.as_array()
    }

    /// Parse `input` (see the module docs for the framing). Never fails:
    /// every line or record is a record, a skip or a rejection.
    pub fn parse(&self, source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
        let body = lines::strip_bom(input);
        let first = lines::lines(body)
            .map(|(_, l)| l)
            .find(|l| !l.iter().all(u8::is_ascii_whitespace));
        let Some(first) = first else {
            return self.json_lines(source, input, opts);
        };
        let starts_array = first.trim_ascii_start().first() == Some(&b'[');
        let first_is_json = first.len() <= crate::MAX_LINE_BYTES
            && serde_json::from_slice::<&RawValue>(first).is_ok();
        if first_is_json && !starts_array {
            return self.json_lines(source, input, opts);
        }
        self.document(source, body, opts)
    }

    fn json_lines(&self, source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
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
                Ok(v) => match self.wrapped(&v) {
                    Some(items) => {
                        for item in items {
                            self.put(&mut out, source, no, item, opts);
                        }
                    }
                    None => self.put(&mut out, source, no, &v, opts),
                },
                Err(e) => out.skip_json(no, e.column()),
            }
        }
        out
    }

    /// One JSON document: an array of records, a wrapper object holding the
    /// array under `records`, or one record. Records are placed at the line
    /// where each starts.
    fn document(&self, source: &str, body: &[u8], opts: &ParseOptions) -> Parsed {
        let mut out = Parsed::default();
        if let Some(line) = cloudevents::invalid_utf8_line(body) {
            out.skip(line, SkipReason::InvalidUtf8);
            return out;
        }
        let doc = match serde_json::from_slice::<&RawValue>(body) {
            Ok(d) => d,
            Err(e) => {
                out.skip_json(
                    cloudevents::error_line(body, &e),
                    cloudevents::error_column(body, &e),
                );
                return out;
            }
        };
        let base = body.as_ptr() as usize;
        let line_of_raw = |raw: &RawValue| {
            let offset = (raw.get().as_ptr() as usize)
                .checked_sub(base)
                .filter(|o| *o <= body.len())
                .unwrap_or(0);
            cloudevents::line_at(body, 0, 1, offset)
        };
        let items: Option<Vec<&RawValue>> = if doc.get().starts_with('[') {
            serde_json::from_str(doc.get()).ok()
        } else {
            self.records.as_deref().and_then(|key| {
                let top: BTreeMap<String, &RawValue> = serde_json::from_str(doc.get()).ok()?;
                serde_json::from_str(top.get(key)?.get()).ok()
            })
        };
        let items = items.unwrap_or_else(|| vec![doc]);
        for raw in items {
            let line = line_of_raw(raw);
            match serde_json::from_str::<Value>(raw.get()) {
                Ok(v) => self.put(&mut out, source, line, &v, opts),
                Err(e) => out.skip_json(line, e.column()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
