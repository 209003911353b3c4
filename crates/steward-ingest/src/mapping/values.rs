//! Reading values out of a source event for a mapping: TOML scalars as JSON,
//! dotted paths, text, and the time formats a mapping may name.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::TimeFormat;
use crate::{json, timefmt};

/// A scalar TOML value as JSON (strings, integers, floats, booleans).
pub(super) fn scalar(v: &toml::Value) -> Option<Value> {
    match v {
        toml::Value::String(s) => Some(Value::from(s.as_str())),
        toml::Value::Integer(i) => Some(Value::from(*i)),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        toml::Value::Boolean(b) => Some(Value::from(*b)),
        _ => None,
    }
}

/// The text a `map` or `select` looks a JSON scalar up by.
pub(super) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value at `path` in `v` (see the module docs); `null` is absent.
pub(super) fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let found = match v {
        Value::Object(m) => m.get(path).or_else(|| {
            path.match_indices('.').find_map(|(i, _)| {
                let head = m.get(path.get(..i)?)?;
                lookup(head, path.get(i + 1..)?)
            })
        }),
        Value::Array(a) => {
            let (head, rest) = match path.split_once('.') {
                Some((h, r)) => (h, Some(r)),
                None => (path, None),
            };
            let x = a.get(head.parse::<usize>().ok()?)?;
            match rest {
                None => Some(x),
                Some(r) => lookup(x, r),
            }
        }
        _ => None,
    };
    found.filter(|x| !x.is_null())
}

/// `$.a.b` for messages.
pub(super) fn json_path(path: &str) -> String {
    format!("$.{}", json::short(path))
}

/// A unix time (seconds or milliseconds) as RFC 3339 UTC, exact to the
/// digits written (serde_json's shortest text of the number).
pub(super) fn unix_time(v: &Value, millis: bool) -> Option<String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text.as_str(), ""),
    };
    if int.is_empty()
        || !int
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return None;
    }
    let whole: i128 = int.parse().ok()?;
    let mut frac_nanos: i128 = format!("{frac:0<9}").parse().ok()?;
    if int.starts_with('-') {
        frac_nanos = -frac_nanos;
    }
    let nanos = if millis {
        whole * 1_000_000 + frac_nanos / 1_000
    } else {
        whole * 1_000_000_000 + frac_nanos
    };
    let t = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    t.format(&Rfc3339).ok()
}

pub(super) fn convert_time(v: &Value, format: TimeFormat) -> Option<String> {
    match format {
        TimeFormat::Rfc3339 => v
            .as_str()
            .filter(|s| timefmt::is_rfc3339(s))
            .map(str::to_owned),
        TimeFormat::UnixSeconds => unix_time(v, false),
        TimeFormat::UnixMillis => unix_time(v, true),
    }
}
