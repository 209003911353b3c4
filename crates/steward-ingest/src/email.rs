//! Email intake (N7.4): one RFC 5322 / MIME message in, the facts Steward
//! needs to open a data subject request out.
//!
//! Parsing is done by the `mail-parser` crate (RFC 5322, RFC 2045-2049 MIME,
//! RFC 2047 encoded words, RFC 2231 parameters; charsets through
//! `encoding_rs`, so ISO-2022-JP and Shift_JIS mail decodes too). This module
//! adds what intake needs on top:
//!
//! * a size limit ([`MAX_MESSAGE_BYTES`], 25 MiB) checked before parsing;
//! * the sender as a lower-cased addr-spec (RFC 5322 §3.4.1) and display name,
//!   only when the `From` field holds a plausible address;
//! * the body as text: `text/plain` preferred, else the HTML body converted to
//!   text by the crate ([`BodySource`]);
//! * attachments as (name, content type, size) only: their contents are never
//!   kept, logged or returned;
//! * a transparent keyword [`classify`]cation into a
//!   [`RequestType`] (English and German, the languages of the mail Steward
//!   is tested on, and Japanese, the language of APPI requests), with the
//!   words that matched and where, or `None` with the
//!   reason when nothing or more than one type matched.
//!
//! No input panics. [`EmailMessage`]'s `Debug` prints shapes (lengths,
//! counts, the classification), never addresses, names, subjects or bodies:
//! those are Service Data (N2.1, N2.5).

use std::fmt;

use mail_parser::{MessageParser, MimeHeaders};
use steward_domain::RequestType;
use thiserror::Error;

/// The largest message accepted: 25 MiB (26,214,400 bytes), the common
/// limit of mail providers. Larger messages are refused with
/// [`EmailError::TooLarge`] before any parsing.
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// The longest `Message-ID` kept (RFC 5322 §2.1.1 line limit, 998
/// characters); a longer one is treated as absent.
pub const MAX_MESSAGE_ID_CHARS: usize = 998;

/// The sender of a message (the first mailbox of `From`, RFC 5322 §3.6.2).
///
/// Service Data (N2.1): never log it. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sender {
    /// The addr-spec, lower-cased (`ann@example.com`): `local@domain`, at most
    /// 320 bytes, no whitespace or control characters.
    pub address: String,
    /// The display name (`Ann Example`), decoded from encoded words, if any.
    pub display_name: Option<String>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender(<redacted>)")
    }
}

/// Where [`EmailMessage::body`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodySource {
    /// `text/plain` part(s).
    Plain,
    /// No `text/plain` part: the `text/html` part(s), converted to text.
    Html,
    /// The message has no text body at all (empty `body`).
    None,
}

/// An attachment: what it is, never what it holds.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name from `Content-Disposition` / `Content-Type` `name`, if any.
    /// May be Service Data: `Debug` redacts it.
    pub name: Option<String>,
    /// `type/subtype`, lower-cased (`image/png`); `application/octet-stream`
    /// when the part names none.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("named", &self.name.is_some())
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish()
    }
}

/// The part of a message a keyword was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The `Subject` field.
    Subject,
    /// The text body.
    Body,
}

impl Part {
    /// `subject` or `body`.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Body => "body",
        }
    }
}

/// How a keyword must sit in the text to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A whole word or phrase: a non-alphanumeric character (or the text's
    /// edge) on both sides.
    Word,
    /// The start of a word, any ending (`delet` finds delete, deletion).
    Prefix,
    /// Anywhere, also inside a compound (`lösch` finds Datenlöschung, gelöscht).
    Infix,
}

/// One keyword rule of [`RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The request type the keyword points to.
    pub request_type: RequestType,
    /// The keyword, lower case; spaces match any run of whitespace.
    pub keyword: &'static str,
    /// `en`, `de`, or `any` (legal citations).
    pub language: &'static str,
    /// How it must sit in the text.
    pub mode: Mode,
}

const fn r(
    request_type: RequestType,
    keyword: &'static str,
    language: &'static str,
    mode: Mode,
) -> Rule {
    Rule {
        request_type,
        keyword,
        language,
        mode,
    }
}

use Mode::{Infix, Prefix, Word};
use RequestType::{Access, Erasure, Export, Objection, Rectification, Restriction};

/// The classification rules (N7.4), in English and German (the languages of
/// the real mail Steward is tested on, `../shared/data/eml`) and Japanese
/// (the request names of APPI Art. 33-35: 開示 disclosure, 訂正 correction,
/// 削除/消去 deletion, 利用停止 cessation of use, 第三者提供の停止
/// cessation of third-party provision). A message matches a type when any
/// of its rules matches; the GDPR article numbers (Art. 15-18, 20, 21) count
/// in either language. Japanese words are matched anywhere (no word
/// spaces); APPI's combined request names ("訂正・追加・削除",
/// "利用停止・消去") name two types and so are ambiguous by design: staff
/// classify them.
pub const RULES: &[Rule] = &[
    // Erasure (N8.8; GDPR Art. 17).
    r(Erasure, "delet", "en", Prefix),
    r(Erasure, "erase", "en", Prefix),
    r(Erasure, "erasure", "en", Prefix),
    r(Erasure, "right to be forgotten", "en", Word),
    r(Erasure, "forget me", "en", Word),
    r(Erasure, "remove my data", "en", Word),
    r(Erasure, "remove my personal data", "en", Word),
    r(Erasure, "lösch", "de", Infix),
    r(Erasure, "loesch", "de", Infix),
    r(Erasure, "vergessenwerden", "de", Infix),
    r(Erasure, "vergessen werden", "de", Word),
    r(Erasure, "article 17", "any", Word),
    r(Erasure, "artikel 17", "any", Word),
    r(Erasure, "art. 17", "any", Word),
    r(Erasure, "削除", "ja", Infix),
    r(Erasure, "消去", "ja", Infix),
    // Access (N7.2, N7.3; GDPR Art. 15).
    r(Access, "access request", "en", Word),
    r(Access, "subject access", "en", Word),
    r(Access, "right of access", "en", Word),
    r(Access, "right to access", "en", Word),
    r(Access, "access to my", "en", Word),
    r(Access, "copy of my", "en", Word),
    r(Access, "what personal data", "en", Word),
    r(Access, "what data", "en", Word),
    r(Access, "dsar", "en", Word),
    r(Access, "auskunft", "de", Infix),
    r(Access, "kopie meiner", "de", Word),
    r(Access, "welche daten", "de", Word),
    r(Access, "welche personenbezogenen daten", "de", Word),
    r(Access, "article 15", "any", Word),
    r(Access, "artikel 15", "any", Word),
    r(Access, "art. 15", "any", Word),
    r(Access, "開示", "ja", Infix),
    // Export, i.e. portability (N7.1, N7.2; GDPR Art. 20).
    r(Export, "export", "en", Prefix),
    r(Export, "portab", "en", Prefix),
    r(Export, "download my", "en", Word),
    r(Export, "machine-readable", "en", Word),
    r(Export, "machine readable", "en", Word),
    r(Export, "übertragbar", "de", Infix),
    r(Export, "uebertragbar", "de", Infix),
    r(Export, "exportier", "de", Prefix),
    r(Export, "article 20", "any", Word),
    r(Export, "artikel 20", "any", Word),
    r(Export, "art. 20", "any", Word),
    r(Export, "エクスポート", "ja", Infix),
    r(Export, "ポータビリティ", "ja", Infix),
    // Rectification (N7.2 "control"; GDPR Art. 16).
    r(Rectification, "rectif", "en", Prefix),
    r(Rectification, "correct my", "en", Word),
    r(Rectification, "correction", "en", Prefix),
    r(Rectification, "inaccurate", "en", Word),
    r(Rectification, "update my", "en", Word),
    r(Rectification, "berichtig", "de", Infix),
    r(Rectification, "korrigier", "de", Infix),
    r(Rectification, "korrektur", "de", Infix),
    r(Rectification, "unrichtig", "de", Infix),
    r(Rectification, "article 16", "any", Word),
    r(Rectification, "artikel 16", "any", Word),
    r(Rectification, "art. 16", "any", Word),
    r(Rectification, "訂正", "ja", Infix),
    // Restriction of processing (N7.2 "control"; GDPR Art. 18).
    r(Restriction, "restrict", "en", Prefix),
    r(Restriction, "einschränk", "de", Infix),
    r(Restriction, "einschraenk", "de", Infix),
    r(Restriction, "article 18", "any", Word),
    r(Restriction, "artikel 18", "any", Word),
    r(Restriction, "art. 18", "any", Word),
    r(Restriction, "利用停止", "ja", Infix),
    // Objection to processing (N7.2 "control"; GDPR Art. 21).
    r(Objection, "object to", "en", Word),
    r(Objection, "objection", "en", Prefix),
    r(Objection, "opt out", "en", Word),
    r(Objection, "opt-out", "en", Word),
    r(Objection, "stop processing", "en", Word),
    r(Objection, "widerspruch", "de", Infix),
    r(Objection, "widersprech", "de", Infix),
    r(Objection, "article 21", "any", Word),
    r(Objection, "artikel 21", "any", Word),
    r(Objection, "art. 21", "any", Word),
    r(Objection, "第三者提供の停止", "ja", Infix),
    r(Objection, "異議", "ja", Infix),
];

/// A rule that matched, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeywordMatch {
    /// The rule's request type.
    pub request_type: RequestType,
    /// The rule's keyword (Steward's vocabulary, not the message's text).
    pub keyword: &'static str,
    /// The rule's language.
    pub language: &'static str,
    /// Where it matched.
    pub part: Part,
}

/// The request type a message asks for, and why (N7.4).
///
/// Rule: if the subject matches exactly one type, that type; if the subject
/// matches none and the body exactly one, that type; if the deciding part
/// matches two or more types, `None` (ambiguous); if nothing matches, `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The type, or `None` when no rule or rules of several types matched.
    pub request_type: Option<RequestType>,
    /// Every rule that matched, once per (keyword, part), subject first.
    pub matches: Vec<KeywordMatch>,
    /// One line saying which words matched in which part, or why there is no
    /// type. Names Steward's keywords only, never the message's text.
    pub reason: String,
}

/// One parsed message.
///
/// `Debug` prints shapes only (presence, lengths, counts, the
/// classification): the values are Service Data.
#[derive(Clone, PartialEq)]
pub struct EmailMessage {
    /// The `Message-ID` without angle brackets, when present, non-empty and
    /// at most [`MAX_MESSAGE_ID_CHARS`] characters.
    pub message_id: Option<String>,
    /// The sender, when `From` holds a plausible addr-spec.
    pub from: Option<Sender>,
    /// The `To` addresses that are plausible addr-specs, lower-cased.
    pub to: Vec<String>,
    /// The decoded `Subject`, if any.
    pub subject: Option<String>,
    /// The `Date` as RFC 3339 in UTC (`2000-03-22T20:31:33Z`), when present
    /// and a real date and time.
    pub date: Option<String>,
    /// The text body: every `text/plain` body part (else every HTML body
    /// part converted to text), joined by a blank line.
    pub body: String,
    /// Where `body` came from.
    pub body_source: BodySource,
    /// Attachments (name, type, size), in message order.
    pub attachments: Vec<Attachment>,
    /// The request type asked for, with the reason.
    pub classification: Classification,
    /// The raw message's size in bytes.
    pub size: usize,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("message_id", &self.message_id.is_some())
            .field("from", &self.from.is_some())
            .field("to", &self.to.len())
            .field("subject", &self.subject.is_some())
            .field("date", &self.date.is_some())
            .field("body_chars", &self.body.chars().count())
            .field("body_source", &self.body_source)
            .field("attachments", &self.attachments)
            .field("classification", &self.classification)
            .field("size", &self.size)
            .finish()
    }
}

/// Why a message could not be read at all. Messages name the input (`source`,
/// the file name the caller gave) and say how to fix it; never its contents.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Zero bytes (or only whitespace).
    #[error(
        "{file}: the message is empty: give an RFC 5322 message (header fields, a blank line, the body)"
    )]
    Empty {
        /// The input's name.
        file: String,
    },
    /// Larger than [`MAX_MESSAGE_BYTES`].
    #[error(
        "{file}: the message is {size} bytes, over the {limit}-byte (25 MiB) limit: ask the sender to send attachments separately or as a link"
    )]
    TooLarge {
        /// The input's name.
        file: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// No RFC 5322 header field could be read.
    #[error(
        "{file}: not an RFC 5322 message: no header field (`Name: value`) at its start; give the message as received (an .eml file), not an extract"
    )]
    NotAMessage {
        /// The input's name.
        file: String,
    },
}

impl EmailError {
    /// A stable snake_case name for reports: `empty`, `too_large`, `not_a_message`.
    pub fn name(&self) -> &'static str {
        match self {
            EmailError::Empty { .. } => "empty",
            EmailError::TooLarge { .. } => "too_large",
            EmailError::NotAMessage { .. } => "not_a_message",
        }
    }
}

/// Parse one RFC 5322 message (the bytes of an `.eml` file or a maildir
/// entry) and classify the request it makes (N7.4).
///
/// `source` names the input in errors only.
///
/// Errors: [`EmailError::Empty`], [`EmailError::TooLarge`] (over
/// [`MAX_MESSAGE_BYTES`]), [`EmailError::NotAMessage`] (no header field). A
/// message without `From`, `Message-ID`, `Date` or body is *not* an error:
/// those fields are `None`/empty and the caller decides.
pub fn parse(source: &str, raw: &[u8]) -> Result<EmailMessage, EmailError> {
    let file = source.chars().take(256).collect::<String>();
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(EmailError::TooLarge {
            file,
            size: raw.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(EmailError::Empty { file });
    }
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Err(EmailError::NotAMessage { file });
    };
    // RFC 5322 §3.6.8: a field name is 1+ printable ASCII characters
    // other than `:`; a message needs at least one such field.
    let field_name =
        |n: &str| !n.is_empty() && n.bytes().all(|b| (33..=126).contains(&b) && b != b':');
    if !msg.headers().iter().any(|h| field_name(h.name())) {
        return Err(EmailError::NotAMessage { file });
    }

    let message_id = msg
        .message_id()
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS)
        .map(str::to_owned);
    let from = msg.from().and_then(|a| a.first()).and_then(|addr| {
        let address = addr_spec(addr.address()?)?;
        let display_name = addr
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Some(Sender {
            address,
            display_name,
        })
    });
    let to = msg
        .to()
        .map(|a| a.iter().filter_map(|x| addr_spec(x.address()?)).collect())
        .unwrap_or_default();
    let subject = msg.subject().map(str::to_owned);
    let date = msg.date().and_then(|d| {
        if !d.is_valid() {
            return None;
        }
        let t = time::OffsetDateTime::from_unix_timestamp(d.to_timestamp()).ok()?;
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });

    let mut texts = Vec::new();
    let mut html_only = false;
    for i in 0..msg.text_body_count() {
        let Some(part) = msg.text_part(i as u32) else {
            continue;
        };
        if !part.is_text() {
            continue;
        }
        if part.is_text_html() {
            html_only = true;
        }
        if let Some(t) = msg.body_text(i) {
            texts.push(t.into_owned());
        }
    }
    let body = texts.join("\n\n");
    let body_source = if texts.is_empty() {
        BodySource::None
    } else if html_only {
        BodySource::Html
    } else {
        BodySource::Plain
    };

    let attachments = msg
        .attachments()
        .map(|p| Attachment {
            name: p
                .attachment_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            content_type: p
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: p.len(),
        })
        .collect();

    let classification = classify(subject.as_deref(), &body);
    Ok(EmailMessage {
        message_id,
        from,
        to,
        subject,
        date,
        body,
        body_source,
        attachments,
        classification,
        size: raw.len(),
    })
}

/// A plausible addr-spec, lower-cased: `local@domain`, both non-empty, at
/// most 320 bytes, no whitespace, control characters or angle brackets.
fn addr_spec(a: &str) -> Option<String> {
    let a = a.trim();
    let (local, domain) = a.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || a.len() > 320
        || a.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return None;
    }
    Some(a.to_lowercase())
}

/// Lower-case `s` and collapse every run of whitespace into one space, so a
/// phrase matches across line breaks.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

fn matches(text: &str, rule: &Rule) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|t| t.find(rule.keyword)) {
        let start = from + pos;
        let end = start + rule.keyword.len();
        let before = text.get(..start).and_then(|t| t.chars().next_back());
        let after = text.get(end..).and_then(|t| t.chars().next());
        let ok = match rule.mode {
            Mode::Word => boundary(before) && boundary(after),
            Mode::Prefix => boundary(before),
            Mode::Infix => true,
        };
        if ok {
            return true;
        }
        // Step past the first character of this occurrence.
        from = start
            + text
                .get(start..)
                .and_then(|t| t.chars().next())
                .map_or(1, char::len_utf8);
    }
    false
}

/// Classify a message by [`RULES`] (N7.4): see [`Classification`] for the rule.
///
/// `subject` and `body` are the decoded texts; matching is case-insensitive
/// and treats any run of whitespace as one space.
pub fn classify(subject: Option<&str>, body: &str) -> Classification {
    let mut found = Vec::new();
    for (part, text) in [(Part::Subject, subject.unwrap_or("")), (Part::Body, body)] {
        let text = normalise(text);
        for rule in RULES {
            if matches(&text, rule) {
                found.push(KeywordMatch {
                    request_type: rule.request_type,
                    keyword: rule.keyword,
                    language: rule.language,
                    part,
                });
            }
        }
    }
    let types_in = |part: Part| {
        let mut t: Vec<RequestType> = Vec::new();
        for m in found.iter().filter(|m| m.part == part) {
            if !t.contains(&m.request_type) {
                t.push(m.request_type);
            }
        }
        t
    };
    let words = |part: Part, ty: RequestType| {
        found
            .iter()
            .filter(|m| m.part == part && m.request_type == ty)
            .map(|m| format!("\"{}\" ({})", m.keyword, m.language))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let subject_types = types_in(Part::Subject);
    let body_types = types_in(Part::Body);
    let (part, types) = if subject_types.is_empty() {
        (Part::Body, body_types)
    } else {
        (Part::Subject, subject_types)
    };
    let (request_type, reason) = match types.as_slice() {
        [] => (
            None,
            "could not tell which request: no request words (English, German or Japanese) in the subject or body".to_owned(),
        ),
        [one] => (
            Some(*one),
            format!(
                "{}: {} in the {}",
                one.as_str(),
                words(part, *one),
                part.as_str()
            ),
        ),
        many => (
            None,
            format!(
                "could not tell which request: the {} asks for {}",
                part.as_str(),
                many.iter()
                    .map(|t| format!("{} ({})", t.as_str(), words(part, *t)))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
    };
    Classification {
        request_type,
        matches: found,
        reason,
    }
}

#[cfg(test)]
mod tests;
