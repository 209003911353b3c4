//! Steward's ingest adapters: pure parsers that turn the bytes of a real
//! format into [`NewRecord`]s of the closed schema (N1.3, N2).
//!
//! One module per adapter:
//!
//! | [`Format`] | module | kind produced | format spec |
//! |---|---|---|---|
//! | `openssh` | [`openssh`] | `usage.authentication` (N2.4) | sshd messages in BSD syslog (RFC 3164) or RFC 3339-stamped syslog lines |
//! | `apache-access` | [`apache`] | `usage.access` (N2.4) | Apache httpd `combined` / `common` LogFormat |
//! | `focus` | [`focus`] | `billing.charge` (N2.2) | FinOps FOCUS 1.0 CSV (RFC 4180) |
//! | `jsonl` | [`jsonl`] | any kind | JSON Lines, one Steward record per line |
//! | `cloudevents` | [`cloudevents`] | any kind | CloudEvents 1.0 JSON format (structured, batch, JSON Lines) |
//! | `zeek-ssh` | [`mapping`] | `usage.authentication` | Zeek `ssh.log`, JSON |
//! | `zeek-http` | [`mapping`] | `usage.access` | Zeek `http.log`, JSON |
//! | `ocsf-authentication` | [`mapping`] | `usage.authentication` | OCSF Authentication events (class 3002) |
//! | `aws-cloudtrail` | [`mapping`] | `usage.access` | AWS CloudTrail records |
//! | `okta-system-log` | [`mapping`] | `usage.authentication` | Okta System Log events |
//!
//! The last five are declarative mappings ([`mapping::Mapping`], TOML files
//! in `mappings/`); a user's own mapping file is read the same way.
//!
//! [`email`] reads one RFC 5322 / MIME message for email intake of data
//! subject requests (N7.4); it is not a [`Format`] (one message, not lines).
//!
//! Parsers do no I/O: the caller hands in the bytes and a file name used only
//! in messages. Every input line (or CSV row, or event) ends up in exactly one
//! of [`Parsed::records`], [`Parsed::skipped`] (not a record of this format:
//! blank, not an sshd line, invalid UTF-8, ...) or [`Parsed::rejected`] (a
//! record that does not fit the closed schema, N1.3). Nothing here panics on
//! any input, and no message or `Debug` output carries a field *value*
//! (values are Service Data): messages name `file:line`, field names or JSON
//! paths, and reasons only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use steward_domain::{NewRecord, Product};
use thiserror::Error;

pub mod apache;
pub mod body;
pub mod cloudevents;
pub mod email;
pub mod focus;
mod json;
pub mod jsonl;
mod lines;
pub mod mapping;
pub mod openssh;
mod timefmt;

pub use lines::line_count;

/// The longest line (or CSV row) an adapter reads: 1 MiB (1,048,576 bytes,
/// line terminator excluded). Longer lines are skipped with
/// [`SkipReason::LineTooLong`].
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// An input format Steward has an adapter for.
///
/// Parsed from its command-line name with [`FromStr`]: `openssh`,
/// `apache-access`, `focus`, `jsonl`, `cloudevents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// sshd log lines in syslog form -> `usage.authentication` (N2.4). See [`openssh`].
    Openssh,
    /// Apache httpd access log, combined or common format -> `usage.access` (N2.4). See [`apache`].
    ApacheAccess,
    /// FinOps FOCUS 1.0 cost and usage CSV -> `billing.charge` (N2.2). See [`focus`].
    Focus,
    /// JSON Lines of Steward records, any kind. See [`jsonl`].
    Jsonl,
    /// CloudEvents 1.0 JSON format whose `type` names a Steward kind. See [`cloudevents`].
    Cloudevents,
    /// Zeek `ssh.log` (JSON) -> `usage.authentication`: built-in [`mapping`].
    ZeekSsh,
    /// Zeek `http.log` (JSON) -> `usage.access`: built-in [`mapping`].
    ZeekHttp,
    /// OCSF Authentication events (class 3002) -> `usage.authentication`: built-in [`mapping`].
    OcsfAuthentication,
    /// AWS CloudTrail records -> `usage.access`: built-in [`mapping`].
    AwsCloudtrail,
    /// Okta System Log events -> `usage.authentication`: built-in [`mapping`].
    OktaSystemLog,
}

impl Format {
    /// All formats, in the order they are listed in messages.
    pub const ALL: [Format; 10] = [
        Format::Openssh,
        Format::ApacheAccess,
        Format::Focus,
        Format::Jsonl,
        Format::Cloudevents,
        Format::ZeekSsh,
        Format::ZeekHttp,
        Format::OcsfAuthentication,
        Format::AwsCloudtrail,
        Format::OktaSystemLog,
    ];

    /// The format's command-line name (`apache-access`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Openssh => "openssh",
            Format::ApacheAccess => "apache-access",
            Format::Focus => "focus",
            Format::Jsonl => "jsonl",
            Format::Cloudevents => "cloudevents",
            Format::ZeekSsh => "zeek-ssh",
            Format::ZeekHttp => "zeek-http",
            Format::OcsfAuthentication => "ocsf-authentication",
            Format::AwsCloudtrail => "aws-cloudtrail",
            Format::OktaSystemLog => "okta-system-log",
        }
    }

    /// Whether the format is a built-in declarative [`mapping`].
    pub fn is_mapping(self) -> bool {
        mapping::BUILTIN.iter().any(|(n, _)| *n == self.as_str())
    }

    /// All format names, comma-separated, for messages and `--help`.
    pub fn names() -> String {
        Format::ALL.map(Format::as_str).join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = IngestError;
    /// Errors: [`IngestError::UnknownFormat`] listing the names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| IngestError::UnknownFormat {
                name: s.chars().take(40).collect(),
            })
    }
}

/// What a parser needs besides the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// The year of BSD syslog timestamps, which carry none (`Dec 10 06:55:46`);
    /// used by [`openssh`] only.
    pub year: i32,
    /// The product every record is tagged with (N1.1), unless the input names
    /// one itself (the `product` key of [`jsonl`]).
    pub product: Product,
}

/// Why an input line (or CSV row, or event) was not read as a record.
///
/// Skips are not errors of the closed schema: they are input that is not a
/// record of the format at all. Each has a stable snake_case [`name`](Self::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipReason {
    /// `blank_line`: empty or only whitespace.
    BlankLine,
    /// `invalid_utf8`: the line (or a CSV cell) is not valid UTF-8.
    InvalidUtf8,
    /// `line_too_long`: longer than [`MAX_LINE_BYTES`].
    LineTooLong,
    /// `not_sshd`: not a syslog line of `sshd` / `sshd-session` /
    /// `sshd(pam_unix)` with a pid ([`openssh`]).
    NotSshd,
    /// `no_subject`: names no data subject: an sshd session naming neither an
    /// account nor an IP address (N2.4), a FOCUS row without BillingAccountId,
    /// an access-log line without client IP or user.
    NoSubject,
    /// `malformed`: not in the format's grammar: an access-log line that is not
    /// common/combined format, invalid JSON (with the column of the syntax
    /// error, [`Skip::column`]), a CSV row with the wrong number of columns
    /// (a last row cut short by the end of the file is a [`Rejection`]).
    Malformed,
    /// `bad_timestamp`: the line has the format's shape but its timestamp is
    /// not a real date and time (e.g. `Feb 30`, hour 25).
    BadTimestamp,
    /// `not_selected`: a record a [`mapping`] does not take (its `[select]`
    /// does not match, e.g. an OCSF event of another class).
    NotSelected,
}

impl SkipReason {
    /// All reasons.
    pub const ALL: [SkipReason; 8] = [
        SkipReason::BlankLine,
        SkipReason::InvalidUtf8,
        SkipReason::LineTooLong,
        SkipReason::NotSshd,
        SkipReason::NoSubject,
        SkipReason::Malformed,
        SkipReason::BadTimestamp,
        SkipReason::NotSelected,
    ];

    /// The stable snake_case name (`blank_line`, `not_sshd`, ...), used in
    /// reports and metrics.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::BlankLine => "blank_line",
            SkipReason::InvalidUtf8 => "invalid_utf8",
            SkipReason::LineTooLong => "line_too_long",
            SkipReason::NotSshd => "not_sshd",
            SkipReason::NoSubject => "no_subject",
            SkipReason::Malformed => "malformed",
            SkipReason::BadTimestamp => "bad_timestamp",
            SkipReason::NotSelected => "not_selected",
        }
    }

    /// A plain-words explanation, with how to fix the input where that applies.
    pub fn description(self) -> &'static str {
        match self {
            SkipReason::BlankLine => "blank line",
            SkipReason::InvalidUtf8 => "not valid UTF-8: re-encode the file as UTF-8",
            SkipReason::LineTooLong => "longer than 1 MiB",
            SkipReason::NotSshd => {
                "not an sshd syslog line (`Mmm dd HH:MM:SS host sshd[pid]: ...`)"
            }
            SkipReason::NoSubject => {
                "names no data subject (no account, IP address or billing account)"
            }
            SkipReason::Malformed => "not in the format's grammar",
            SkipReason::BadTimestamp => "timestamp is not a real date and time",
            SkipReason::NotSelected => {
                "not a record this mapping takes (its [select] does not match)"
            }
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An input line (or CSV row, or event) that was not read as a record, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Skip {
    /// 1-based line of the input (for a CSV row: the line it starts on; for
    /// a JSON syntax error: the line of the error).
    pub line: usize,
    /// 1-based column (in characters) of a JSON syntax error, as serde_json
    /// counts it; `None` for every other skip.
    pub column: Option<usize>,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl Skip {
    /// `{source}:{line}: {reason}: {description}`, or with a column
    /// `{source}:{line}:{column}: ...`: where and why, never a value.
    pub fn message(&self, source: &str) -> String {
        let at = match self.column {
            Some(c) => format!("{source}:{}:{c}", self.line),
            None => format!("{source}:{}", self.line),
        };
        format!(
            "{at}: {}: {}",
            self.reason.name(),
            self.reason.description()
        )
    }
}

/// A record that parsed but does not fit the closed schema (N1.3): unknown
/// category, kind or field, a non-scalar field, a bad subject identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rejection {
    /// 1-based line of the input where the record starts.
    pub line: usize,
    /// `{source}:{line}: {path}: {reason}`: what is wrong, where (JSON path or
    /// field name) and how to fix it. Never carries a field value.
    pub error: String,
    /// The same without the `{source}:{line}: ` prefix, for reports that
    /// print the position themselves.
    pub reason: String,
}

/// The outcome of parsing one input: every line (or CSV row, or event) is in
/// exactly one of the three lists, each in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Records that fit the closed schema, with the 1-based line where each
    /// starts (CloudEvents batch: the line where the event's object starts).
    pub records: Vec<(usize, NewRecord)>,
    /// Input that is not a record of the format.
    pub skipped: Vec<Skip>,
    /// Records refused by the closed schema (N1.3).
    pub rejected: Vec<Rejection>,
}

impl Parsed {
    /// Lines (or rows, or events) accounted for: records + skipped + rejected.
    pub fn accounted(&self) -> usize {
        self.records.len() + self.skipped.len() + self.rejected.len()
    }

    /// The number of skips with `reason`.
    pub fn skipped_for(&self, reason: SkipReason) -> usize {
        self.skipped.iter().filter(|s| s.reason == reason).count()
    }

    pub(crate) fn skip(&mut self, line: usize, reason: SkipReason) {
        self.skipped.push(Skip {
            line,
            column: None,
            reason,
        });
    }

    /// A JSON syntax error at `line` and `column`.
    pub(crate) fn skip_json(&mut self, line: usize, column: usize) {
        self.skipped.push(Skip {
            line,
            column: Some(column),
            reason: SkipReason::Malformed,
        });
    }

    pub(crate) fn reject(&mut self, source: &str, line: usize, what: impl fmt::Display) {
        let reason = what.to_string();
        self.rejected.push(Rejection {
            line,
            error: format!("{source}:{line}: {reason}"),
            reason,
        });
    }
}

/// A failure of the whole input (nothing of it is read), or of a format name.
///
/// Messages are `{file}:{line}: {reason}` and say how to fix the input; they
/// name columns and positions, never cell values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The format name is not one of [`Format::ALL`].
    #[error(
        "unknown format `{name}`: expected one of openssh, apache-access, focus, jsonl, cloudevents, zeek-ssh, zeek-http, ocsf-authentication, aws-cloudtrail, okta-system-log (or --mapping FILE)"
    )]
    UnknownFormat {
        /// The name given (at most 40 characters).
        name: String,
    },
    /// A FOCUS header column that is not in the closed schema of
    /// `billing.charge` (N1.3, N2.2).
    #[error(
        "{file}:{line}: column {position}{shown} is not a FOCUS 1.0 column of billing.charge: remove it or rename it to one of {allowed} (N1.3: only Service Data is stored; the first line must be the header)"
    )]
    UnknownColumn {
        /// The input's name.
        file: String,
        /// The header's line.
        line: usize,
        /// 1-based column position.
        position: usize,
        /// ` `Name`` when the header cell looks like a column name (an ASCII
        /// identifier of at most 64 characters), else empty, so that a data row
        /// mistaken for the header never puts a value in the message.
        shown: String,
        /// The FOCUS 1.0 column names.
        allowed: String,
    },
    /// A FOCUS header names the same column twice.
    #[error(
        "{file}:{line}: column {position} `{column}` repeats an earlier column: each FOCUS column may appear once"
    )]
    DuplicateColumn {
        /// The input's name.
        file: String,
        /// The header's line.
        line: usize,
        /// 1-based column position of the repeat.
        position: usize,
        /// The column name.
        column: String,
    },
    /// A FOCUS header lacks a column every row needs.
    #[error(
        "{file}:{line}: the header has no `{column}` column: add it (it identifies the data subject of each charge, N2.2)"
    )]
    MissingColumn {
        /// The input's name.
        file: String,
        /// The header's line.
        line: usize,
        /// The missing column.
        column: &'static str,
    },
    /// A mapping file that cannot be used (see [`mapping::MappingError`]).
    #[error("{0}")]
    Mapping(mapping::MappingError),
    /// A FOCUS header that is not valid UTF-8.
    #[error("{file}:{line}: the header is not valid UTF-8: re-encode the file as UTF-8")]
    HeaderNotUtf8 {
        /// The input's name.
        file: String,
        /// The header's line.
        line: usize,
    },
}

/// Parse `input` (the whole file's bytes) in `format`.
///
/// `source` is the input's name, used only in messages (`{source}:{line}: ...`).
/// Accepts LF and CRLF line ends, a missing final newline, a UTF-8 byte-order
/// mark, and an empty input (zero records, no error).
///
/// Errors: only whole-input failures, i.e. a FOCUS header that does not fit the
/// closed schema ([`IngestError::UnknownColumn`], [`IngestError::DuplicateColumn`],
/// [`IngestError::MissingColumn`], [`IngestError::HeaderNotUtf8`]). Per-line
/// problems are [`Parsed::skipped`] or [`Parsed::rejected`].
pub fn parse(
    format: Format,
    source: &str,
    input: &[u8],
    opts: &ParseOptions,
) -> Result<Parsed, IngestError> {
    match format {
        Format::Openssh => Ok(openssh::parse(source, input, opts)),
        Format::ApacheAccess => Ok(apache::parse(source, input, opts)),
        Format::Focus => focus::parse(source, input, opts),
        Format::Jsonl => Ok(jsonl::parse(source, input, opts)),
        Format::Cloudevents => Ok(cloudevents::parse(source, input, opts)),
        Format::ZeekSsh
        | Format::ZeekHttp
        | Format::OcsfAuthentication
        | Format::AwsCloudtrail
        | Format::OktaSystemLog => match mapping::Mapping::builtin(format.as_str()) {
            Some(Ok(m)) => Ok(m.parse(source, input, opts)),
            Some(Err(e)) => Err(IngestError::Mapping(e)),
            None => Err(IngestError::UnknownFormat {
                name: format.as_str().to_owned(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_and_unknown_lists_the_five() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        let e = "syslog".parse::<Format>().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "unknown format `syslog`: expected one of {} (or --mapping FILE)",
                Format::names()
            )
        );
        assert!(Format::ZeekSsh.is_mapping() && !Format::Openssh.is_mapping());
    }

    #[test]
    fn skip_reason_names_are_stable_snake_case() {
        let names: Vec<_> = SkipReason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "blank_line",
                "invalid_utf8",
                "line_too_long",
                "not_sshd",
                "no_subject",
                "malformed",
                "bad_timestamp",
                "not_selected"
            ]
        );
    }

    #[test]
    fn empty_input_is_zero_records_for_every_format() {
        let opts = ParseOptions {
            year: 2024,
            product: Product::CloudPlatform,
        };
        for f in Format::ALL {
            let p = parse(f, "empty", b"", &opts).unwrap();
            assert_eq!(p, Parsed::default(), "{f}");
        }
    }
}
