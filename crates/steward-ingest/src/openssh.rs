//! `openssh`: sshd log lines -> `usage.authentication` records (N2.4).
//!
//! Input: syslog lines whose tag is `sshd` or `sshd-session` with a pid (or
//! `sshd(pam_unix)`, the older PAM form: `sshd(pam_unix)[19939]:
//! authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser=
//! rhost=218.188.2.4  user=root`, read as the `pam_unix(sshd:…)` messages of
//! the current form), in either timestamp form
//!
//! * BSD syslog (RFC 3164): `Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186`
//!   (no year: [`ParseOptions::year`] is the year of the first such line,
//!   and the year rolls forward where the months go back, see [`YearRoll`];
//!   [`year_for`] picks the year so that no line is dated in the future);
//! * RFC 3339 (rsyslog `RSYSLOG_FileFormat`, RFC 5424 timestamps):
//!   `2024-12-10T06:55:46.123456+01:00 host sshd[24200]: ...`.
//!
//! Each line becomes one record with the fields of `usage.authentication`:
//!
//! | field | value |
//! |---|---|
//! | `event` | one snake_case name per sshd message kind, see [`EVENTS`]; `other` for unrecognised sshd messages |
//! | `outcome` | `success`, `failure` or `info` |
//! | `account` | the account the line names (`for root`, `invalid user X`, `user=X`) |
//! | `source_ip` | the client address (`from 1.2.3.4`, `[1.2.3.4]`), only when it is an IP address |
//! | `source_port` | number |
//! | `method` | `password`, `publickey`, `none`, ... |
//! | `host` | the syslog host name |
//! | `pid` | number |
//! | `rhost` | PAM `rhost=`, or a client host name that is not an IP address |
//! | `count` | number: `message repeated N times`, `PAM N more ...`, `ignoring max retries; N > M` |
//! | `occurred_at` | `YYYY-MM-DDTHH:MM:SS` (BSD form: local time of the logging host, no offset), or the RFC 3339 timestamp as given |
//! | `message` | the original line |
//!
//! Fields are absent when the line does not carry them.
//!
//! **Subject (N2.4).** All lines of one sshd session (same host and pid)
//! belong to one data subject: the account the session names (identifier kind
//! `username`), else a pseudonymous subject for the client IP address (kind
//! `ip`). A line that names an account itself uses that account; otherwise
//! the account of the nearest line of the session that names one (earlier
//! lines first, then later ones: pids are reused over days). The same rule
//! picks the IP address. Lines of a session that names neither are skipped
//! with [`SkipReason::NoSubject`]; lines that are not sshd syslog lines with
//! [`SkipReason::NotSshd`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, SubjectIdentifier};

use crate::{ParseOptions, Parsed, SkipReason, lines, timefmt};

/// Every `event` name the adapter produces, with the sshd message it names
/// (the Loghub OpenSSH templates, plus current OpenSSH forms), in no order.
pub const EVENTS: &[(&str, &str)] = &[
    (
        "accepted_password",
        "Accepted password for <user> from <ip> port <n> ssh2",
    ),
    (
        "accepted_publickey",
        "Accepted publickey for <user> from <ip> port <n> ssh2: <key>",
    ),
    (
        "accepted_other",
        "Accepted <method> for <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_password",
        "Failed password for <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_password_invalid_user",
        "Failed password for invalid user <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_none",
        "Failed none for <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_none_invalid_user",
        "Failed none for invalid user <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_publickey",
        "Failed publickey for <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_publickey_invalid_user",
        "Failed publickey for invalid user <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_other",
        "Failed <method> for <user> from <ip> port <n> ssh2",
    ),
    (
        "failed_other_invalid_user",
        "Failed <method> for invalid user <user> from <ip> port <n> ssh2",
    ),
    (
        "connection_closed",
        "Connection closed by [authenticating user <user>] <ip> [port <n>] [preauth]",
    ),
    (
        "connection_from",
        "Connection from <ip> port <n> on <ip> port <n>",
    ),
    (
        "connection_reset",
        "Connection reset by [authenticating user <user>] <ip> port <n> [preauth]",
    ),
    (
        "disconnected",
        "Disconnected from [authenticating] user <user> <ip> port <n>",
    ),
    (
        "no_identification_string",
        "Did not receive identification string from <ip>",
    ),
    (
        "too_many_auth_failures",
        "Disconnecting: Too many authentication failures for <user> [preauth]",
    ),
    (
        "received_disconnect_error",
        "error: Received disconnect from <ip>: <code>: <reason> [preauth]",
    ),
    (
        "received_disconnect",
        "Received disconnect from <ip>: <code>: <reason>",
    ),
    (
        "write_failed_reset",
        "fatal: Write failed: Connection reset by peer [preauth]",
    ),
    (
        "input_userauth_invalid_user",
        "input_userauth_request: invalid user <user> [preauth]",
    ),
    ("invalid_user", "Invalid user <user> from <ip>"),
    (
        "message_repeated",
        "message repeated <n> times: [ <message> ]",
    ),
    (
        "pam_auth_failures_more",
        "PAM <n> more authentication failure(s); ... rhost=<host> [user=<user>]",
    ),
    (
        "pam_ignoring_max_retries",
        "PAM service(sshd) ignoring max retries; <n> > <m>",
    ),
    (
        "pam_auth_failure",
        "pam_unix(sshd:auth): authentication failure; ... rhost=<host> [user=<user>]",
    ),
    (
        "pam_check_pass_unknown_user",
        "pam_unix(sshd:auth): check pass; user unknown",
    ),
    (
        "pam_session_closed",
        "pam_unix(sshd:session): session closed for user <user>",
    ),
    (
        "pam_session_opened",
        "pam_unix(sshd:session): session opened for user <user> by (uid=<n>)",
    ),
    (
        "reverse_mapping_break_in_attempt",
        "reverse mapping checking getaddrinfo for <host> [<ip>] failed - POSSIBLE BREAK-IN ATTEMPT!",
    ),
    ("other", "any other sshd message"),
];

/// Whether an event reports success, failure or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Info,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Info => "info",
        }
    }
}

/// What one sshd message says.
#[derive(Debug, Clone, Copy)]
struct Msg<'a> {
    event: &'static str,
    outcome: Outcome,
    account: Option<&'a str>,
    /// The client as the line names it: IP address or host name.
    client: Option<&'a str>,
    port: Option<u64>,
    method: Option<&'a str>,
    rhost: Option<&'a str>,
    count: Option<u64>,
}

impl<'a> Msg<'a> {
    fn new(event: &'static str, outcome: Outcome) -> Self {
        Msg {
            event,
            outcome,
            account: None,
            client: None,
            port: None,
            method: None,
            rhost: None,
            count: None,
        }
    }
}

/// One sshd line, parsed (first pass).
struct Line<'a> {
    no: usize,
    host: &'a str,
    pid: u64,
    occurred_at: String,
    text: &'a str,
    msg: Msg<'a>,
}

fn re(pattern: &str) -> Regex {
    // INVARIANT: every pattern is a constant of this module, compiled in a unit test.
    Regex::new(pattern).expect("constant regex compiles")
}

static BSD_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^([A-Z][a-z]{2}) {1,2}([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([^ ]+) ([^ \[]+)\[([0-9]{1,10})\]: ?",
    )
});
/// Any line's BSD syslog timestamp (`Dec 10 06:55:46 `), whatever follows.
static BSD_STAMP: LazyLock<Regex> =
    LazyLock::new(|| re(r"^([A-Z][a-z]{2}) {1,2}([0-9]{1,2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "));
static RFC3339_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|z|[+-][0-9]{2}:[0-9]{2})) ([^ ]+) ([^ \[]+)\[([0-9]{1,10})\]: ?",
    )
});
static AUTH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(Accepted|Failed) ([^ ]+) for (invalid user )?(.*) from ([^ ]+) port ([0-9]{1,5})(?: ([^ :]+))?(?::.*)?$",
    )
});
static REPEATED: LazyLock<Regex> =
    LazyLock::new(|| re(r"^message repeated ([0-9]{1,18}) times: \[ ?(.*?) ?\]$"));
static CLOSED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Connection closed by (?:(?:authenticating|invalid) user (.*) )?([^ ]+)(?: port ([0-9]{1,5}))?(?: \[preauth\])?$",
    )
});
static RESET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Connection reset by (?:(?:authenticating|invalid) user (.*) )?([^ ]+)(?: port ([0-9]{1,5}))?(?: \[preauth\])?$",
    )
});
static CONN_FROM: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Connection from ([^ ]+) port ([0-9]{1,5})(?: on .*)?$"));
static DISCONNECTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Disconnected from (?:(?:authenticating |invalid )?user (.*) )?([^ ]+) port ([0-9]{1,5})(?: \[preauth\])?$",
    )
});
static NO_ID: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^Did not receive identification string from ([^ ]+)(?: port ([0-9]{1,5}))?")
});
static TOO_MANY_OLD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Disconnecting: Too many authentication failures(?: for (?:invalid user )?(.*?))?(?: \[preauth\])?$",
    )
});
static TOO_MANY_NEW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^Disconnecting (?:authenticating|invalid) user (.*) ([^ ]+) port ([0-9]{1,5}): Too many authentication failures",
    )
});
static RECV_DISC: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^(error: )?Received disconnect from (?:([^ ]+) port ([0-9]{1,5})|([^ ]+)): ?[0-9]+:")
});
static INPUT_USERAUTH: LazyLock<Regex> =
    LazyLock::new(|| re(r"^input_userauth_request: invalid user (.*?)(?: \[preauth\])?$"));
static INVALID: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Invalid user (.*) from ([^ ]+)(?: port ([0-9]{1,5}))?$"));
static PAM_MORE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^PAM ([0-9]{1,18}) more authentication failures?;(.*)$"));
static PAM_MAX: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^PAM service\([^)]*\) ignoring max retries; ([0-9]{1,18}) > ([0-9]{1,18})")
});
static SESSION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^pam_unix\(sshd:session\): session (opened|closed) for user ([^ (]*)(?:\(uid=[0-9]+\))?(?: by .*)?$",
    )
});
static OLD_SESSION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^session (opened|closed) for user ([^ (]*)(?:\(uid=[0-9]+\))?(?: by .*)?$")
});
static OLD_PAM_MORE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^([0-9]{1,18}) more authentication failures?;(.*)$"));
static REVERSE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^reverse mapping checking getaddrinfo for ([^ ]+) \[([^\]]+)\] failed"));
static GENERIC_CLIENT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:from|by) ([0-9A-Fa-f:.]+) port ([0-9]{1,5})"));

fn cap<'a>(c: &Captures<'a>, i: usize) -> Option<&'a str> {
    c.get(i).map(|m| m.as_str())
}

fn cap_num(c: &Captures<'_>, i: usize) -> Option<u64> {
    c.get(i).and_then(|m| m.as_str().parse().ok())
}

/// Parse `Accepted|Failed <method> for [invalid user ]<user> from <client> port <n> [ssh2]`.
fn auth(msg: &str) -> Option<Msg<'_>> {
    let c = AUTH.captures(msg)?;
    let accepted = cap(&c, 1) == Some("Accepted");
    let method = cap(&c, 2).unwrap_or_default();
    let invalid = c.get(3).is_some();
    let event = match (accepted, method, invalid) {
        (true, "password", _) => "accepted_password",
        (true, "publickey", _) => "accepted_publickey",
        (true, _, _) => "accepted_other",
        (false, "password", false) => "failed_password",
        (false, "password", true) => "failed_password_invalid_user",
        (false, "none", false) => "failed_none",
        (false, "none", true) => "failed_none_invalid_user",
        (false, "publickey", false) => "failed_publickey",
        (false, "publickey", true) => "failed_publickey_invalid_user",
        (false, _, false) => "failed_other",
        (false, _, true) => "failed_other_invalid_user",
    };
    let outcome = if accepted {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let mut m = Msg::new(event, outcome);
    m.method = Some(method);
    m.account = cap(&c, 4);
    m.client = cap(&c, 5);
    m.port = cap_num(&c, 6);
    Some(m)
}

/// `key=value` pairs of a PAM message (`logname= uid=0 ... rhost=1.2.3.4  user=root`).
fn pam_kv<'a>(m: &mut Msg<'a>, kv: &'a str) {
    for pair in kv.split_ascii_whitespace() {
        match pair.split_once('=') {
            Some(("rhost", v)) if !v.is_empty() => m.rhost = Some(v),
            Some(("user", v)) if !v.is_empty() => m.account = Some(v),
            _ => {}
        }
    }
}

/// Classify one sshd message (the text after `sshd[pid]: `).
fn classify(msg: &str) -> Msg<'_> {
    use Outcome::{Failure, Info, Success};
    let first = msg.as_bytes().first().copied().unwrap_or(b' ');
    let parsed = match first {
        b'A' | b'F' => auth(msg),
        b'm' => REPEATED.captures(msg).map(|c| {
            let inner = cap(&c, 2).and_then(auth);
            let mut m = inner.unwrap_or(Msg::new("message_repeated", Info));
            m.event = "message_repeated";
            m.count = cap_num(&c, 1);
            m
        }),
        b'C' => {
            if let Some(c) = CLOSED.captures(msg) {
                let mut m = Msg::new("connection_closed", Info);
                m.account = cap(&c, 1);
                m.client = cap(&c, 2);
                m.port = cap_num(&c, 3);
                Some(m)
            } else if let Some(c) = RESET.captures(msg) {
                let mut m = Msg::new("connection_reset", Info);
                m.account = cap(&c, 1);
                m.client = cap(&c, 2);
                m.port = cap_num(&c, 3);
                Some(m)
            } else {
                CONN_FROM.captures(msg).map(|c| {
                    let mut m = Msg::new("connection_from", Info);
                    m.client = cap(&c, 1);
                    m.port = cap_num(&c, 2);
                    m
                })
            }
        }
        b'D' => {
            if let Some(c) = NO_ID.captures(msg) {
                let mut m = Msg::new("no_identification_string", Info);
                m.client = cap(&c, 1);
                m.port = cap_num(&c, 2);
                Some(m)
            } else if let Some(c) = TOO_MANY_OLD.captures(msg) {
                let mut m = Msg::new("too_many_auth_failures", Failure);
                m.account = cap(&c, 1);
                Some(m)
            } else if let Some(c) = TOO_MANY_NEW.captures(msg) {
                let mut m = Msg::new("too_many_auth_failures", Failure);
                m.account = cap(&c, 1);
                m.client = cap(&c, 2);
                m.port = cap_num(&c, 3);
                Some(m)
            } else {
                DISCONNECTED.captures(msg).map(|c| {
                    let mut m = Msg::new("disconnected", Info);
                    m.account = cap(&c, 1);
                    m.client = cap(&c, 2);
                    m.port = cap_num(&c, 3);
                    m
                })
            }
        }
        b'e' | b'R' => RECV_DISC.captures(msg).map(|c| {
            let mut m = if c.get(1).is_some() {
                Msg::new("received_disconnect_error", Failure)
            } else {
                Msg::new("received_disconnect", Info)
            };
            m.client = cap(&c, 2).or_else(|| cap(&c, 4));
            m.port = cap_num(&c, 3);
            m
        }),
        b'f' => msg
            .starts_with("fatal: Write failed: Connection reset by peer")
            .then(|| Msg::new("write_failed_reset", Info)),
        b'i' => INPUT_USERAUTH.captures(msg).map(|c| {
            let mut m = Msg::new("input_userauth_invalid_user", Failure);
            m.account = cap(&c, 1);
            m
        }),
        b'I' => INVALID.captures(msg).map(|c| {
            let mut m = Msg::new("invalid_user", Failure);
            m.account = cap(&c, 1);
            m.client = cap(&c, 2);
            m.port = cap_num(&c, 3);
            m
        }),
        b'P' => {
            if let Some(c) = PAM_MORE.captures(msg) {
                let mut m = Msg::new("pam_auth_failures_more", Failure);
                m.count = cap_num(&c, 1);
                if let Some(kv) = cap(&c, 2) {
                    pam_kv(&mut m, kv);
                }
                Some(m)
            } else {
                PAM_MAX.captures(msg).map(|c| {
                    let mut m = Msg::new("pam_ignoring_max_retries", Failure);
                    m.count = cap_num(&c, 1);
                    m
                })
            }
        }
        b'p' => {
            if let Some(kv) = msg.strip_prefix("pam_unix(sshd:auth): authentication failure;") {
                let mut m = Msg::new("pam_auth_failure", Failure);
                pam_kv(&mut m, kv);
                Some(m)
            } else if msg.starts_with("pam_unix(sshd:auth): check pass; user unknown") {
                Some(Msg::new("pam_check_pass_unknown_user", Failure))
            } else {
                SESSION.captures(msg).map(|c| {
                    let mut m = if cap(&c, 1) == Some("opened") {
                        Msg::new("pam_session_opened", Success)
                    } else {
                        Msg::new("pam_session_closed", Info)
                    };
                    m.account = cap(&c, 2);
                    m
                })
            }
        }
        b'r' => REVERSE.captures(msg).map(|c| {
            let mut m = Msg::new("reverse_mapping_break_in_attempt", Info);
            m.rhost = cap(&c, 1);
            m.client = cap(&c, 2);
            m
        }),
        _ => None,
    };
    parsed.unwrap_or_else(|| {
        let mut m = Msg::new("other", Info);
        if let Some(c) = GENERIC_CLIENT.captures(msg)
            && cap(&c, 1).is_some_and(|s| s.parse::<IpAddr>().is_ok())
        {
            m.client = cap(&c, 1);
            m.port = cap_num(&c, 2);
        }
        m
    })
}

/// Classify a message of the older PAM form, logged under the tag
/// `sshd(pam_unix)` with the `pam_unix(sshd:…): ` prefix left out (Linux
/// PAM before 0.99, e.g. Red Hat 9): `authentication failure; … rhost=<host>
/// [user=<user>]`, `check pass; user unknown`, `session opened for user <user>
/// by (uid=<n>)`, `session closed for user <user>`, `<n> more authentication
/// failures; …`. The events are those of the current form.
fn classify_old_pam(msg: &str) -> Msg<'_> {
    use Outcome::{Failure, Info, Success};
    if let Some(kv) = msg.strip_prefix("authentication failure;") {
        let mut m = Msg::new("pam_auth_failure", Failure);
        pam_kv(&mut m, kv);
        m
    } else if msg.starts_with("check pass; user unknown") {
        Msg::new("pam_check_pass_unknown_user", Failure)
    } else if let Some(c) = OLD_SESSION.captures(msg) {
        let mut m = if cap(&c, 1) == Some("opened") {
            Msg::new("pam_session_opened", Success)
        } else {
            Msg::new("pam_session_closed", Info)
        };
        m.account = cap(&c, 2);
        m
    } else if let Some(c) = OLD_PAM_MORE.captures(msg) {
        let mut m = Msg::new("pam_auth_failures_more", Failure);
        m.count = cap_num(&c, 1);
        if let Some(kv) = cap(&c, 2) {
            pam_kv(&mut m, kv);
        }
        m
    } else {
        Msg::new("other", Info)
    }
}

/// The syslog tag of the older PAM form (`sshd(pam_unix)[pid]: …`).
const OLD_PAM_TAG: &str = "sshd(pam_unix)";

mod year;
use year::bsd_stamp;
pub use year::{YearRoll, year_for};

/// First pass over one line: the syslog prefix and the sshd message, or why
/// the line is skipped. `year` is the year of a BSD timestamp.
fn parse_line<'a>(no: usize, text: &'a str, year: i32) -> Result<Line<'a>, SkipReason> {
    let (occurred_at, host, tag, pid, end) = if let Some(c) = BSD_PREFIX.captures(text) {
        let ts = (|| {
            timefmt::local_datetime(
                year,
                timefmt::month(cap(&c, 1)?)?,
                timefmt::num(cap(&c, 2)?)?,
                timefmt::num(cap(&c, 3)?)?,
                timefmt::num(cap(&c, 4)?)?,
                timefmt::num(cap(&c, 5)?)?,
            )
        })();
        let whole = c.get(0).map_or(0, |m| m.end());
        (ts, cap(&c, 6), cap(&c, 7), cap(&c, 8), whole)
    } else if let Some(c) = RFC3339_PREFIX.captures(text) {
        let ts = cap(&c, 1)
            .filter(|t| timefmt::is_rfc3339(t))
            .map(str::to_owned);
        let whole = c.get(0).map_or(0, |m| m.end());
        (ts, cap(&c, 2), cap(&c, 3), cap(&c, 4), whole)
    } else {
        return Err(SkipReason::NotSshd);
    };
    let (Some(host), Some(tag), Some(pid)) = (host, tag, pid) else {
        return Err(SkipReason::NotSshd);
    };
    if tag != "sshd" && tag != "sshd-session" && tag != OLD_PAM_TAG {
        return Err(SkipReason::NotSshd);
    }
    let pid: u64 = pid.parse().map_err(|_| SkipReason::NotSshd)?;
    let occurred_at = occurred_at.ok_or(SkipReason::BadTimestamp)?;
    let msg = text.get(end..).unwrap_or_default();
    Ok(Line {
        no,
        host,
        pid,
        occurred_at,
        text,
        msg: if tag == OLD_PAM_TAG {
            classify_old_pam(msg)
        } else {
            classify(msg)
        },
    })
}

/// A usable identifier in `value`, if any.
fn ident(kind: IdentifierKind, value: Option<&str>) -> Option<SubjectIdentifier> {
    value
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| SubjectIdentifier::new(kind, v).ok())
}

/// The IP address a line names: its client if that is an address, else PAM's
/// `rhost` if that is an address.
fn line_ip<'a>(l: &Line<'a>) -> Option<&'a str> {
    let is_ip = |s: &&str| s.parse::<IpAddr>().is_ok();
    l.msg
        .client
        .filter(is_ip)
        .or_else(|| l.msg.rhost.filter(is_ip))
}

/// For each position, the nearest `Some` at or before it, else the nearest after it.
fn nearest<T: Clone>(own: &[Option<T>]) -> Vec<Option<T>> {
    let mut out: Vec<Option<T>> = Vec::with_capacity(own.len());
    let mut last: Option<T> = None;
    for o in own {
        if o.is_some() {
            last.clone_from(o);
        }
        out.push(last.clone());
    }
    let mut next: Option<T> = None;
    for (o, slot) in own.iter().zip(out.iter_mut()).rev() {
        if o.is_some() {
            next.clone_from(o);
        }
        if slot.is_none() {
            slot.clone_from(&next);
        }
    }
    out
}

/// Parse sshd log lines into `usage.authentication` records. See the module
/// docs for the fields and the subject rule (N2.4). Never fails: every line
/// is a record or a skip ([`SkipReason::NotSshd`], [`SkipReason::NoSubject`],
/// [`SkipReason::BadTimestamp`], [`SkipReason::BlankLine`],
/// [`SkipReason::InvalidUtf8`], [`SkipReason::LineTooLong`]); records always
/// fit the schema, so nothing is rejected.
pub fn parse(source: &str, input: &[u8], opts: &ParseOptions) -> Parsed {
    let mut out = Parsed::default();
    let mut parsed: Vec<Line<'_>> = Vec::new();
    let mut roll = YearRoll::default();
    for (no, bytes) in lines::lines(input) {
        let mut year = |t: &str| match bsd_stamp(t) {
            Some((month, ..)) => opts.year.saturating_add(roll.next(month)),
            None => opts.year,
        };
        match lines::text(bytes).and_then(|t| parse_line(no, t, year(t))) {
            Ok(l) => parsed.push(l),
            Err(reason) => out.skip(no, reason),
        }
    }

    // Second pass: one subject per session (host, pid), N2.4.
    let mut sessions: HashMap<(&str, u64), Vec<usize>> = HashMap::new();
    for (i, l) in parsed.iter().enumerate() {
        sessions.entry((l.host, l.pid)).or_default().push(i);
    }
    let mut subjects: Vec<Option<SubjectIdentifier>> = vec![None; parsed.len()];
    for idx in sessions.values() {
        let accounts: Vec<_> = idx
            .iter()
            .map(|&i| ident(IdentifierKind::Username, parsed[i].msg.account))
            .collect();
        let ips: Vec<_> = idx
            .iter()
            .map(|&i| ident(IdentifierKind::Ip, line_ip(&parsed[i])))
            .collect();
        let accounts = nearest(&accounts);
        let ips = nearest(&ips);
        for ((&i, a), ip) in idx.iter().zip(accounts).zip(ips) {
            subjects[i] = a.or(ip);
        }
    }

    // NewRecord::new only refuses fields outside the schema, and every field
    // set by `fields_of` is in usage.authentication: nothing is rejected.
    let kind = Kind::lookup(steward_domain::Category::Usage, "authentication");
    for (l, subject) in parsed.into_iter().zip(subjects) {
        let Some(subject) = subject else {
            out.skip(l.no, SkipReason::NoSubject);
            continue;
        };
        let built = kind.clone().and_then(|k| {
            NewRecord::new(
                k,
                Some(subject),
                opts.product,
                Some(l.occurred_at.clone()),
                fields_of(&l),
            )
        });
        match built {
            Ok(r) => out.records.push((l.no, r)),
            Err(e) => out.reject(source, l.no, e),
        }
    }
    out.skipped.sort_by_key(|s| s.line);
    out
}

fn fields_of(l: &Line<'_>) -> Fields {
    let m = &l.msg;
    let mut f = Fields::new();
    let mut put = |k: &str, v: Value| {
        f.insert(k.to_owned(), v);
    };
    put("event", m.event.into());
    put("outcome", m.outcome.as_str().into());
    if let Some(a) = m.account.filter(|a| !a.trim().is_empty()) {
        put("account", a.into());
    }
    match m.client {
        Some(c) if c.parse::<IpAddr>().is_ok() => put("source_ip", c.into()),
        // A client named by host name (sshd UseDNS): kept as rhost unless PAM named one.
        Some(c) if m.rhost.is_none() => put("rhost", c.into()),
        _ => {}
    }
    if let Some(r) = m.rhost {
        put("rhost", r.into());
    }
    if let Some(p) = m.port {
        put("source_port", p.into());
    }
    if let Some(meth) = m.method {
        put("method", meth.into());
    }
    if let Some(c) = m.count {
        put("count", c.into());
    }
    put("host", l.host.into());
    put("pid", l.pid.into());
    put("occurred_at", l.occurred_at.as_str().into());
    put("message", l.text.into());
    f
}

#[cfg(test)]
mod tests;
