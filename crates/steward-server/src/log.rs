//! Structured logs: one JSON object per line on standard error. Callers
//! pass route templates, ids and counts, never Service Data.

tokio::task_local! {
    /// The authenticated principal of the request being served, for its
    /// access-log line (set by the access-log middleware's scope).
    pub(crate) static PRINCIPAL: std::sync::Arc<std::sync::Mutex<Option<String>>>;
}

/// Remember the authenticated principal for the access log.
pub(crate) fn note_principal(name: &str) {
    let _ = PRINCIPAL.try_with(|p| {
        if let Ok(mut g) = p.lock() {
            *g = Some(name.to_owned());
        }
    });
}

/// Whether `debug` lines are written: only with `STEWARD_LOG=debug` in the
/// environment (read once), since anyone who can connect can cause them.
fn debug_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("STEWARD_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("debug")))
}

/// Write one log line: `{"ts":…,"level":…,"msg":…, …fields}`. `debug`
/// lines only with `STEWARD_LOG=debug`.
pub(crate) fn event(level: &str, msg: &str, fields: serde_json::Value) {
    if level == "debug" && !debug_enabled() {
        return;
    }
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
    // One write per line: the line is built in memory first. Standard error
    // is unbuffered, and `eprintln!` of a JSON value wrote each escaped
    // fragment with a system call of its own (about an eighth of the
    // server's CPU under a gated-read load, perf profile, issue 21 item 3).
    // A JSON value of strings always serialises; were it ever to fail, the
    // line is left out rather than written half.
    if let Ok(mut line) = serde_json::to_vec(&serde_json::Value::Object(obj)) {
        line.push(b'\n');
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), &line);
    }
}

/// An error text made fit for the log: every quoted span is replaced by
/// `"<redacted>"`, since library messages (serde's `invalid type: string
/// "…"`, PostgreSQL's `Key (…)=(…)`, translated server messages with
/// typographic quotes) quote the value they choke on, and that value may be
/// Service Data.
///
/// Quotes: `"…"` and `` `…` `` (a backslash escapes the next character
/// inside them, as Rust's and serde's `{:?}` write), `'…'` (opening only
/// after a non-letter, closing only before one, so "can't" and "O'Brien"
/// stay inside), `“…”`, `„…“`, `‘…’`, `«…»`, `「…」`, `『…』`, and `=(…)`
/// up to the text's last `)`. An unclosed quote redacts to the end. Works on
/// characters, never byte offsets: no input panics.
pub(crate) fn redact_quoted(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut prev = '\0';
    while i < chars.len() {
        let c = chars[i];
        let span_end = match c {
            '"' | '`' => Some(close_escaped(&chars, i + 1, c)),
            '\'' if !prev.is_alphanumeric() => Some(close_single(&chars, i + 1)),
            '“' => Some(close_plain(&chars, i + 1, '”')),
            '„' => Some(close_plain(&chars, i + 1, '“')),
            '‘' => Some(close_plain(&chars, i + 1, '’')),
            '«' => Some(close_plain(&chars, i + 1, '»')),
            '「' => Some(close_plain(&chars, i + 1, '」')),
            '『' => Some(close_plain(&chars, i + 1, '』')),
            '(' if prev == '=' => Some(close_nested(&chars, i + 1)),
            _ => None,
        };
        match span_end {
            Some(end) => {
                out.push_str("\"<redacted>\"");
                prev = '"';
                i = end;
            }
            None => {
                out.push(c);
                prev = c;
                i += 1;
            }
        }
    }
    out
}

/// The index after the `quote` that closes a span starting at `from`,
/// skipping backslash-escaped characters; the end when unclosed.
fn close_escaped(chars: &[char], from: usize, quote: char) -> usize {
    let mut j = from;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

/// The index after the `'` that closes a span: one not followed by a
/// letter or digit.
fn close_single(chars: &[char], from: usize) -> usize {
    let mut j = from;
    while j < chars.len() {
        if chars[j] == '\'' && !chars.get(j + 1).is_some_and(|n| n.is_alphanumeric()) {
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

fn close_plain(chars: &[char], from: usize, quote: char) -> usize {
    chars[from.min(chars.len())..]
        .iter()
        .position(|&c| c == quote)
        .map_or(chars.len(), |k| from + k + 1)
}

/// The index after the last `)` of the text (a value may hold
/// parentheses of its own: over-redact rather than leak); the end when
/// there is none.
fn close_nested(chars: &[char], from: usize) -> usize {
    chars[from.min(chars.len())..]
        .iter()
        .rposition(|&c| c == ')')
        .map_or(chars.len(), |k| from + k + 1)
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
        // serde writes the value with {:?}: escaped quotes stay inside.
        let e = serde_json::from_str::<u64>(r#""Ann \"Annie\" Smith""#).unwrap_err();
        let r = redact_quoted(&e.to_string());
        assert!(!r.contains("Annie") && !r.contains("Smith"), "{r}");
        // An apostrophe inside a single-quoted value.
        assert_eq!(
            redact_quoted("no user 'O'Brien' here"),
            "no user \"<redacted>\" here"
        );
        // Parentheses inside =( ).
        assert_eq!(
            redact_quoted("Key (k)=(a) b) exists"),
            "Key (k)=\"<redacted>\" exists"
        );
        // Typographic and Japanese quotes (translated server messages).
        assert_eq!(
            redact_quoted("値「山田花子」は不正"),
            "値\"<redacted>\"は不正"
        );
        assert_eq!(
            redact_quoted("Wert „x“ und “ann@example.com” ungültig"),
            "Wert \"<redacted>\" und \"<redacted>\" ungültig"
        );
        // No input panics: every prefix of a mixed text.
        let t = "é'\"\\`「(=(“«";
        for end in t.char_indices().map(|(i, _)| i) {
            let _ = redact_quoted(&t[..end]);
        }
    }
}
