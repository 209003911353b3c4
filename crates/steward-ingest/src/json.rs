//! Shared JSON checks of the `jsonl` and `cloudevents` adapters: JSON paths,
//! subject identifiers, fields against the closed schema (N1.3).

use std::fmt;

use serde_json::{Map, Value};
use steward_domain::{
    DomainError, Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier, all_kinds,
};

/// Longest name (key, category, kind) echoed in a message; longer names are
/// cut. Names are schema vocabulary, not values, but input can put anything
/// in a key.
const MAX_NAME: usize = 64;

/// A problem with one record: where (a JSON path such as `$.fields.x` or
/// `$[3].specversion`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: String,
    pub(crate) reason: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        Problem {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// `name` cut to [`MAX_NAME`] characters.
pub(crate) fn short(name: &str) -> String {
    name.chars().take(MAX_NAME).collect()
}

/// The path of `key` under `base`: `base.key` for identifier-like keys, else
/// `base["key"]` (JSON-quoted, cut to [`MAX_NAME`] characters).
pub(crate) fn child(base: &str, key: &str) -> String {
    let k = short(key);
    let plain = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("{base}.{k}")
    } else {
        let quoted = serde_json::to_string(&k).unwrap_or_else(|_| "\"?\"".to_owned());
        format!("{base}[{quoted}]")
    }
}

/// A JSON value's type in words, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parse `category.kind` (`usage.authentication`) with the name cut to
/// [`MAX_NAME`] characters, so the domain error never echoes a long string.
pub(crate) fn kind_named(name: &str) -> Result<Kind, DomainError> {
    short(name).parse()
}

/// The dotted names of every kind, comma-separated.
pub(crate) fn kind_list() -> String {
    all_kinds()
        .map(|k| k.full_name())
        .collect::<Vec<_>>()
        .join(", ")
}

const SUBJECT_FORM: &str = "expected \"kind:value\" or {\"kind\": ..., \"value\": ...} with kind one of username, email, ip, device_id, billing_account";

/// A subject given as `"kind:value"` (or a bare IP address or e-mail address)
/// or as `{"kind": "email", "value": "..."}`; `null` means none.
pub(crate) fn subject(v: &Value, path: &str) -> Result<Option<SubjectIdentifier>, Problem> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => subject_str(s, path).map(Some),
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| *k != "kind" && *k != "value") {
                return Err(Problem::new(
                    child(path, k),
                    format!("unknown key: {SUBJECT_FORM}"),
                ));
            }
            let kind = match o.get("kind") {
                Some(Value::String(k)) => k.parse::<IdentifierKind>().map_err(|_| {
                    Problem::new(
                        child(path, "kind"),
                        format!("unknown identifier kind: {SUBJECT_FORM}"),
                    )
                })?,
                _ => {
                    return Err(Problem::new(
                        child(path, "kind"),
                        format!("missing or not a string: {SUBJECT_FORM}"),
                    ));
                }
            };
            match o.get("value") {
                Some(Value::String(val)) => SubjectIdentifier::new(kind, val)
                    .map(Some)
                    .map_err(|e| Problem::new(child(path, "value"), e)),
                _ => Err(Problem::new(
                    child(path, "value"),
                    format!("missing or not a string: {SUBJECT_FORM}"),
                )),
            }
        }
        other => Err(Problem::new(
            path,
            format!("is {}: {SUBJECT_FORM}", type_name(other)),
        )),
    }
}

/// `kind:value`; or, bare, an IP address (`ip`) or an e-mail address without
/// `:` (`email`). Anything else must name its kind.
fn subject_str(s: &str, path: &str) -> Result<SubjectIdentifier, Problem> {
    if let Some((k, v)) = s.split_once(':')
        && let Ok(kind) = k.parse::<IdentifierKind>()
    {
        return SubjectIdentifier::new(kind, v).map_err(|e| Problem::new(path, e));
    }
    let bare = s.trim();
    let kind = if bare.parse::<std::net::IpAddr>().is_ok() {
        IdentifierKind::Ip
    } else if bare.contains('@') && !bare.contains(':') {
        IdentifierKind::Email
    } else {
        return Err(Problem::new(
            path,
            format!("names no identifier kind: {SUBJECT_FORM}"),
        ));
    };
    SubjectIdentifier::new(kind, bare).map_err(|e| Problem::new(path, e))
}

/// Check `obj` against `kind`'s closed schema (N1.3): every key a field of the
/// kind, every value a scalar, every identifier field (string, not empty or
/// `-`) a valid identifier. Paths are `base.name`.
pub(crate) fn fields(kind: Kind, obj: Map<String, Value>, base: &str) -> Result<Fields, Problem> {
    let mut out = Fields::new();
    for (name, value) in obj {
        let Some(spec) = kind.field(&name) else {
            return Err(Problem::new(
                child(base, &name),
                DomainError::UnknownField {
                    field: short(&name),
                    kind: kind.full_name(),
                    allowed: kind
                        .fields()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ));
        };
        if value.is_object() || value.is_array() {
            return Err(Problem::new(
                child(base, &name),
                DomainError::NonScalarField {
                    field: spec.name.to_owned(),
                },
            ));
        }
        if let (Some(ik), Value::String(v)) = (spec.identifier, &value)
            && !v.trim().is_empty()
            && v != "-"
        {
            SubjectIdentifier::new(ik, v).map_err(|e| Problem::new(child(base, &name), e))?;
        }
        out.insert(name, value);
    }
    Ok(out)
}

/// Build the record; a missing subject is reported at `subject_path`.
pub(crate) fn build(
    kind: Kind,
    subject: Option<SubjectIdentifier>,
    product: Product,
    occurred_at: Option<String>,
    fields: Fields,
    subject_path: &str,
    fields_path: &str,
) -> Result<NewRecord, Problem> {
    NewRecord::new(kind, subject, product, occurred_at, fields).map_err(|e| match e {
        DomainError::NoSubject { .. } => Problem::new(subject_path, e),
        _ => Problem::new(fields_path, e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_odd_keys_and_cut_long_ones() {
        assert_eq!(child("$.fields", "document_body"), "$.fields.document_body");
        assert_eq!(child("$", "a b\"c"), r#"$["a b\"c"]"#);
        let long = "x".repeat(500);
        assert_eq!(child("$", &long).len(), 2 + 64);
    }

    #[test]
    fn subjects_in_both_forms() {
        let s = subject(&Value::from("email:Ann@Example.com"), "$.subject")
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.kind(), s.value()),
            (IdentifierKind::Email, "ann@example.com")
        );
        let s = subject(&Value::from("2001:db8::1"), "$.subject")
            .unwrap()
            .unwrap();
        assert_eq!(s.kind(), IdentifierKind::Ip);
        let s = subject(
            &serde_json::json!({"kind": "username", "value": "ann"}),
            "$.subject",
        )
        .unwrap()
        .unwrap();
        assert_eq!((s.kind(), s.value()), (IdentifierKind::Username, "ann"));
        assert_eq!(subject(&Value::Null, "$.subject"), Ok(None));
        let e = subject(&Value::from("ann"), "$.subject").unwrap_err();
        assert_eq!(e.path, "$.subject");
        assert!(e.reason.starts_with("names no identifier kind"), "{e}");
        let e = subject(&Value::from("ip:300.1.1.1"), "$.subject").unwrap_err();
        assert_eq!(
            e.to_string(),
            "$.subject: bad ip identifier: not an IPv4 or IPv6 address"
        );
        let e = subject(
            &serde_json::json!({"kind": "phone", "value": "1"}),
            "$.subject",
        )
        .unwrap_err();
        assert_eq!(e.path, "$.subject.kind");
        let e = subject(&Value::from("phone:a@b.c"), "$.subject").unwrap_err();
        assert!(e.reason.starts_with("names no identifier kind"), "{e}");
        let s = subject(&Value::from("Ann@Example.com"), "$.subject")
            .unwrap()
            .unwrap();
        assert_eq!(s.kind(), IdentifierKind::Email);
        let e = subject(&Value::from(7), "$.subject").unwrap_err();
        assert!(e.reason.starts_with("is a number"), "{e}");
    }
}
