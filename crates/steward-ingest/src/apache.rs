//! `apache-access`: Apache httpd access log lines -> `usage.access` records (N2.4).
//!
//! Input: the `combined` LogFormat
//! `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, or the `common`
//! LogFormat (the same without the last two fields), one request per line
//! (Apache httpd `mod_log_config` documentation). Inside quoted fields Apache
//! writes `"` as `\"` and `\` as `\\`; both are unescaped, other escapes
//! (`\xhh`) are kept as written.
//!
//! | field | from | notes |
//! |---|---|---|
//! | `client_ip` | `%h` | must be an IP address (`HostnameLookups Off`, the default) |
//! | `ident` | `%l` | absent when `-` |
//! | `user` | `%u` | absent when `-` |
//! | `occurred_at` | `%t` | RFC 3339: `[17/May/2015:10:05:03 +0000]` -> `2015-05-17T10:05:03+00:00` |
//! | `method`, `path`, `protocol` | `%r` | absent when the request line is not `METHOD path [protocol]` |
//! | `status` | `%>s` | number |
//! | `bytes` | `%b` | number; `-` is 0 (Apache writes `-` for no body) |
//! | `referrer` | `%{Referer}i` | absent when `-` |
//! | `user_agent` | `%{User-agent}i` | absent when `-` |
//! | `message` | the original line | |
//!
//! Subject: the authenticated user (`%u` not `-`) as a `username`, else the
//! client IP address as an `ip` (N2.4). A line outside this grammar is skipped
//! with [`SkipReason::Malformed`]; an impossible date with
//! [`SkipReason::BadTimestamp`].

use serde_json::Value;
use std::borrow::Cow;
use std::net::IpAddr;
use steward_domain::{Category, Fields, IdentifierKind, Kind, NewRecord, SubjectIdentifier};

use crate::{ParseOptions, Parsed, SkipReason, lines, timefmt};

/// The parts of one line, borrowed from it (quoted parts still escaped).
struct Parts<'a> {
    host: &'a str,
    ident: &'a str,
    user: &'a str,
    time: &'a str,
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    referrer: Option<&'a str>,
    user_agent: Option<&'a str>,
}

/// A cursor over a line. Every delimiter is ASCII, so every slice it returns
/// starts and ends on a character boundary.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    /// Exactly `b`.
    fn byte(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    /// One or more bytes up to the next space or the end.
    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self.peek().is_some_and(|b| b != b' ') {
            self.i += 1;
        }
        (self.i > start)
            .then(|| self.s.get(start..self.i))
            .flatten()
    }

    /// `[` one or more bytes other than `]` `]`: the inside.
    fn bracketed(&mut self) -> Option<&'a str> {
        self.byte(b'[')?;
        let start = self.i;
        while self.peek().is_some_and(|b| b != b']') {
            self.i += 1;
        }
        let inside = (self.i > start)
            .then(|| self.s.get(start..self.i))
            .flatten()?;
        self.byte(b']')?;
        Some(inside)
    }

    /// `"` (any byte but `"` and `\`, or `\` and any byte)* `"`: the inside, escaped.
    fn quoted(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => {
                    self.i += 1;
                    self.peek()?;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        let inside = self.s.get(start..self.i)?;
        self.i += 1;
        Some(inside)
    }

    /// Only spaces and tabs remain.
    fn at_end(&self) -> bool {
        self.s
            .as_bytes()
            .get(self.i..)
            .is_some_and(|r| r.iter().all(|b| *b == b' ' || *b == b'\t'))
    }
}

/// Split a line by the grammar
/// `host SP ident SP user SP [time] SP "request" SP status SP bytes [SP "referrer" SP "user-agent"] [spaces]`
/// where status is 3 digits and bytes 1-19 digits or `-`.
fn split(line: &str) -> Option<Parts<'_>> {
    let mut c = Cursor { s: line, i: 0 };
    let host = c.token()?;
    c.byte(b' ')?;
    let ident = c.token()?;
    c.byte(b' ')?;
    let user = c.token()?;
    c.byte(b' ')?;
    let time = c.bracketed()?;
    c.byte(b' ')?;
    let request = c.quoted()?;
    c.byte(b' ')?;
    let status = c.token()?;
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    c.byte(b' ')?;
    let bytes = c.token()?;
    if bytes != "-" && (bytes.len() > 19 || !bytes.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut parts = Parts {
        host,
        ident,
        user,
        time,
        request,
        status,
        bytes,
        referrer: None,
        user_agent: None,
    };
    if c.at_end() {
        return Some(parts);
    }
    c.byte(b' ')?;
    parts.referrer = Some(c.quoted()?);
    c.byte(b' ')?;
    parts.user_agent = Some(c.quoted()?);
    c.at_end().then_some(parts)
}

/// `\"` -> `"`, `\\` -> `\`; other escapes kept as written.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn dash(s: Option<&str>) -> Option<&str> {
    s.filter(|v| !v.is_empty() && *v != "-")
}

/// One line to fields and subject, or why it is skipped.
fn parse_line(text: &str) -> Result<(Fields, SubjectIdentifier, String), SkipReason> {
    let parts = split(text).ok_or(SkipReason::Malformed)?;
    let client = parts.host;
    if client.parse::<IpAddr>().is_err() {
        return Err(SkipReason::Malformed);
    }
    let occurred_at = timefmt::apache(parts.time).ok_or(SkipReason::BadTimestamp)?;
    let user = dash(Some(parts.user));
    let subject = match user {
        Some(u) => SubjectIdentifier::new(IdentifierKind::Username, u),
        None => SubjectIdentifier::new(IdentifierKind::Ip, client),
    }
    .map_err(|_| SkipReason::NoSubject)?;

    let mut f = Fields::new();
    let mut put = |k: &str, v: Value| {
        f.insert(k.to_owned(), v);
    };
    put("client_ip", client.into());
    if let Some(ident) = dash(Some(parts.ident)) {
        put("ident", ident.into());
    }
    if let Some(u) = user {
        put("user", u.into());
    }
    put("occurred_at", occurred_at.as_str().into());
    let request = unescape(parts.request);
    let mut words = request.split(' ');
    if let (Some(method), Some(path), protocol, None) =
        (words.next(), words.next(), words.next(), words.next())
        && !method.is_empty()
        && !path.is_empty()
    {
        put("method", method.into());
        put("path", path.into());
        if let Some(p) = protocol.filter(|p| !p.is_empty()) {
            put("protocol", p.into());
        }
    }
    if let Ok(status) = parts.status.parse::<u64>() {
        put("status", status.into());
    }
    let bytes = match parts.bytes {
        "-" => Some(0),
        b => b.parse::<u64>().ok(),
    };
    match bytes {
        Some(b) => put("bytes", b.into()),
        None => return Err(SkipReason::Malformed),
    }
    if let Some(r) = dash(parts.referrer) {
        put("referrer", unescape(r).into_owned().into());
    }
    if let Some(ua) = dash(parts.user_agent) {
        put("user_agent", unescape(ua).into_owned().into());
    }
    put("message", text.into());
    Ok((f, subject, occurred_at))
}

/// Parse an Apache access log (combined or common format) into `usage.access`
/// records. See the module docs for fields and subject (N2.4). Never fails:
/// every line is a record or a skip ([`SkipReason::Malformed`],
/// [`SkipReason::BadTimestamp`], [`SkipReason::NoSubject`],
/// [`SkipReason::BlankLine`], [`SkipReason::InvalidUtf8`],
/// [`SkipReason::LineTooLong`]).
pub fn parse(source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    let kind = Kind::lookup(Category::Usage, "access");
    for (no, bytes) in lines::lines(input) {
        match lines::text(bytes).and_then(parse_line) {
            Ok((fields, subject, at)) => {
                let built = kind
                    .clone()
                    .and_then(|k| NewRecord::new(k, Some(subject), opts.product, Some(at), fields));
                match built {
                    Ok(r) => out.records.push((no, r)),
                    Err(e) => out.reject(source, no, e),
                }
            }
            Err(reason) => out.skip(no, reason),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::Product;

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::Workspace,
        }
    }

    const COMBINED: &str = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)""#;

    #[test]
    fn combined_line_maps_to_usage_access_with_ip_subject_n2_4() {
        let p = parse("access.log", COMBINED.as_bytes(), &opts());
        assert_eq!(p.records.len(), 1);
        let (line, r) = &p.records[0];
        assert_eq!(*line, 1);
        assert_eq!(r.kind().full_name(), "usage.access");
        assert_eq!(r.product(), Product::Workspace);
        assert_eq!(r.subject().kind(), IdentifierKind::Ip);
        assert_eq!(r.subject().value(), "83.149.9.216");
        assert_eq!(r.occurred_at(), Some("2015-05-17T10:05:03+00:00"));
        let f = r.fields();
        assert_eq!(f["method"], "GET");
        assert_eq!(
            f["path"],
            "/presentations/logstash-monitorama-2013/images/kibana-search.png"
        );
        assert_eq!(f["protocol"], "HTTP/1.1");
        assert_eq!(f["status"], 200);
        assert_eq!(f["bytes"], 203023);
        assert_eq!(
            f["user_agent"],
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)"
        );
        assert_eq!(f["message"], COMBINED);
        assert!(!f.contains_key("ident") && !f.contains_key("user"));
    }

    #[test]
    fn common_format_user_subject_and_escaped_quotes() {
        let input = concat!(
            "10.0.0.1 - ann [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 -\r\n",
            r#"10.0.0.2 id7 - [10/Oct/2000:13:55:37 -0700] "GET /q?x=\"y\" HTTP/1.0" 404 12 "-" "curl \"7\" \\ ok""#,
        );
        let p = parse("access.log", input.as_bytes(), &opts());
        assert_eq!(p.records.len(), 2, "{:?}", p.skipped);
        let r = &p.records[0].1;
        assert_eq!(r.subject().kind(), IdentifierKind::Username);
        assert_eq!(r.subject().value(), "ann");
        assert_eq!(r.fields()["bytes"], 0);
        assert_eq!(r.fields()["user"], "ann");
        assert_eq!(r.occurred_at(), Some("2000-10-10T13:55:36-07:00"));
        let r = &p.records[1].1;
        assert_eq!(r.subject().kind(), IdentifierKind::Ip);
        assert_eq!(r.fields()["path"], r#"/q?x="y""#);
        assert_eq!(r.fields()["user_agent"], r#"curl "7" \ ok"#);
        assert_eq!(r.fields()["ident"], "id7");
        assert!(!r.fields().contains_key("referrer"));
    }

    #[test]
    fn malformed_blank_invalid_utf8_long_and_bad_dates_are_skipped() {
        let mut input = Vec::new();
        input.extend_from_slice(b"not an access log line\n");
        input.extend_from_slice(b"   \n");
        input.extend_from_slice(
            b"10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET /\xff HTTP/1.1\" 200 1\n",
        );
        input.extend_from_slice(
            b"10.0.0.1 - - [31/Jun/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 1\n",
        );
        input.extend_from_slice(
            b"host.example - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 1\n",
        );
        input.extend_from_slice(
            b"10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\\\" 200 1\n",
        );
        input.extend_from_slice(b"10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET /");
        input.extend(std::iter::repeat_n(b'a', crate::MAX_LINE_BYTES));
        input.extend_from_slice(b" HTTP/1.1\" 200 1\n");
        input.extend_from_slice(b"10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"-\" 408 -");
        let p = parse("access.log", &input, &opts());
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.name()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, "malformed"),
                (2, "blank_line"),
                (3, "invalid_utf8"),
                (4, "bad_timestamp"),
                (5, "malformed"),
                (6, "malformed"),
                (7, "line_too_long"),
            ]
        );
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].0, 8);
        let f = p.records[0].1.fields();
        assert!(!f.contains_key("method") && !f.contains_key("path"));
        assert_eq!(f["status"], 408);
        assert_eq!(p.accounted(), crate::line_count(&input));
    }

    #[test]
    fn unescape_keeps_unknown_escapes() {
        assert_eq!(unescape(r#"a\"b\\c\x41d\"#), r#"a"b\c\x41d\"#);
        assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
    }
}
