//! Structured logs: one JSON object per line on standard error. Callers
//! pass route templates, ids and counts, never Service Data.

/// Write one log line: `{"ts":…,"level":…,"msg":…, …fields}`.
pub(crate) fn event(level: &str, msg: &str, fields: serde_json::Value) {
    let mut obj = serde_json::Map::new();
    obj.insert(
        "ts".into(),
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
            .into(),
    );
    obj.insert("level".into(), level.into());
    obj.insert("msg".into(), msg.into());
    if let serde_json::Value::Object(m) = fields {
        obj.extend(m);
    }
    eprintln!("{}", serde_json::Value::Object(obj));
}

/// An error text made fit for the log: every span quoted with `"…"`, `'…'`
/// or `` `…` `` is replaced by `"<redacted>"`, since library messages
/// (serde's "invalid type: string \"…\"", PostgreSQL's "Key (…)=(…)") quote
/// the value they choke on, and that value may be Service Data. Text in
/// parentheses after `=` is redacted for the same reason. An unclosed quote
/// redacts to the end.
pub(crate) fn redact_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev = '\0';
    while let Some(c) = chars.next() {
        let close = match c {
            '"' | '`' => Some(c),
            // An apostrophe inside a word ("can't") is not a quote.
            '\'' if !prev.is_alphanumeric() => Some('\''),
            '(' if prev == '=' => Some(')'),
            _ => None,
        };
        match close {
            Some(end) => {
                for d in chars.by_ref() {
                    if d == end {
                        break;
                    }
                }
                out.push_str("\"<redacted>\"");
                prev = end;
            }
            None => {
                out.push(c);
                prev = c;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_quoted;

    #[test]
    fn quoted_values_never_reach_the_log() {
        // serde_json's own message for a string where a number was expected.
        let e = serde_json::from_str::<u64>(r#""ann@example.com""#).unwrap_err();
        let text = format!("json: {e}");
        assert!(
            text.contains("ann@example.com"),
            "the library quotes it: {text}"
        );
        let r = redact_quoted(&text);
        assert!(!r.contains("ann@"), "{r}");
        assert!(
            r.starts_with("json: invalid type: string \"<redacted>\""),
            "{r}"
        );
        // PostgreSQL's unique-violation detail.
        let r = redact_quoted("Key (email_bidx)=(3f9a1c) already exists.");
        assert_eq!(r, "Key (email_bidx)=\"<redacted>\" already exists.");
        // Apostrophes in words stay; a quoted span in single quotes goes.
        assert_eq!(
            redact_quoted("can't open 'ann.txt' now"),
            "can't open \"<redacted>\" now"
        );
        // Unclosed: to the end.
        assert_eq!(redact_quoted("bad \"ann@exa"), "bad \"<redacted>\"");
        assert_eq!(redact_quoted("no quotes here"), "no quotes here");
    }
}
