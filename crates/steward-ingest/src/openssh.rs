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

/// The years of BSD syslog timestamps (RFC 3164 `Mmm dd HH:MM:SS` has none),
/// followed line by line: a file runs forward in time, so when a line's month
/// is two or more months before the previous line's (`Dec 31` then `Jan 1`),
/// the year has rolled forward by one. A step back of one month (`Jul 1`
/// then `Jun 30`: lines written slightly out of order at a month's end) is
/// not a new year. Every line with a BSD timestamp counts, sshd's or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct YearRoll {
    prev: Option<u8>,
    rolls: i32,
}

impl YearRoll {
    /// Years rolled so far, after a line of `month` (1-12): add it to the
    /// year of the first line.
    pub fn next(&mut self, month: u8) -> i32 {
        if let Some(p) = self.prev
            && month + 1 < p
        {
            self.rolls += 1;
        }
        self.prev = Some(month);
        self.rolls
    }
}

/// A BSD syslog timestamp: `(month 1-12, day, hour, minute, second)`.
type Stamp = (u8, u8, u8, u8, u8);

/// A line's BSD syslog timestamp, when its parts are numbers.
fn bsd_stamp(text: &str) -> Option<Stamp> {
    let c = BSD_STAMP.captures(text)?;
    Some((
        timefmt::month(cap(&c, 1)?)?,
        timefmt::num(cap(&c, 2)?)?,
        timefmt::num(cap(&c, 3)?)?,
        timefmt::num(cap(&c, 4)?)?,
        timefmt::num(cap(&c, 5)?)?,
    ))
}

/// The year to give [`ParseOptions::year`] for `input` when the user named
/// none: the latest year such that no BSD-stamped line is dated more than a
/// day after `now` (the stamps are the logging host's local time, up to 14
/// hours ahead of UTC), with the years rolling forward as [`YearRoll`]
/// says. So a `Dec 10` line read on 2 December is dated last year, and a
/// file running from December into January ends in `now`'s year (or
/// before). An input without BSD stamps gets `now`'s year.
pub fn year_for(input: &[u8], now: time::OffsetDateTime) -> i32 {
    let mut roll = YearRoll::default();
    let mut latest: Option<(i32, Stamp)> = None;
    for (_, bytes) in lines::lines(input) {
        let Ok(text) = lines::text(bytes) else {
            continue;
        };
        let Some(stamp) = bsd_stamp(text) else {
            continue;
        };
        let rolls = roll.next(stamp.0);
        if latest.is_none_or(|l| (rolls, stamp) > l) {
            latest = Some((rolls, stamp));
        }
    }
    let limit = now.saturating_add(time::Duration::DAY);
    let Some((rolls, stamp)) = latest else {
        return now.year();
    };
    let limit_stamp = (
        u8::from(limit.month()),
        limit.day(),
        limit.hour(),
        limit.minute(),
        limit.second(),
    );
    let last_year = if stamp <= limit_stamp {
        limit.year()
    } else {
        limit.year() - 1
    };
    last_year - rolls
}

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
mod tests {
    use super::*;
    use steward_domain::Product;

    fn opts() -> ParseOptions {
        ParseOptions {
            year: 2024,
            product: Product::CloudPlatform,
        }
    }

    fn field<'a>(p: &'a Parsed, i: usize, name: &str) -> Option<&'a Value> {
        p.records[i].1.fields().get(name)
    }

    #[test]
    fn every_constant_regex_compiles() {
        for r in [
            &BSD_PREFIX,
            &BSD_STAMP,
            &RFC3339_PREFIX,
            &AUTH,
            &REPEATED,
            &CLOSED,
            &RESET,
            &CONN_FROM,
            &DISCONNECTED,
            &NO_ID,
            &TOO_MANY_OLD,
            &TOO_MANY_NEW,
            &RECV_DISC,
            &INPUT_USERAUTH,
            &INVALID,
            &PAM_MORE,
            &PAM_MAX,
            &SESSION,
            &OLD_SESSION,
            &OLD_PAM_MORE,
            &REVERSE,
            &GENERIC_CLIENT,
        ] {
            assert!(!r.as_str().is_empty());
        }
    }

    #[test]
    fn session_lines_share_the_account_subject_n2_4() {
        let input = b"Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!\r\n\
Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\r\n\
Dec 10 06:55:46 LabSZ sshd[24200]: pam_unix(sshd:auth): check pass; user unknown\r\n\
Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2";
        let p = parse("auth.log", input, &opts());
        assert_eq!(p.records.len(), 4);
        assert!(p.skipped.is_empty() && p.rejected.is_empty());
        for (_, r) in &p.records {
            assert_eq!(r.subject().kind(), IdentifierKind::Username);
            assert_eq!(r.subject().value(), "webmaster");
            assert_eq!(r.kind().full_name(), "usage.authentication");
        }
        assert_eq!(
            field(&p, 0, "event").unwrap(),
            "reverse_mapping_break_in_attempt"
        );
        assert_eq!(field(&p, 0, "source_ip").unwrap(), "173.234.31.186");
        assert_eq!(field(&p, 0, "rhost").unwrap(), "ns.example.com");
        assert_eq!(
            field(&p, 2, "event").unwrap(),
            "pam_check_pass_unknown_user"
        );
        assert_eq!(field(&p, 2, "account"), None);
        assert_eq!(
            field(&p, 3, "event").unwrap(),
            "failed_password_invalid_user"
        );
        assert_eq!(field(&p, 3, "outcome").unwrap(), "failure");
        assert_eq!(field(&p, 3, "source_port").unwrap(), 38926);
        assert_eq!(field(&p, 3, "method").unwrap(), "password");
        assert_eq!(field(&p, 3, "pid").unwrap(), 24200);
        assert_eq!(field(&p, 3, "host").unwrap(), "LabSZ");
        assert_eq!(field(&p, 3, "occurred_at").unwrap(), "2024-12-10T06:55:48");
        assert_eq!(p.records[3].1.occurred_at(), Some("2024-12-10T06:55:48"));
        assert_eq!(
            field(&p, 3, "message").unwrap(),
            "Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2"
        );
        assert_eq!(p.records[3].0, 4);
    }

    #[test]
    fn session_without_account_uses_the_ip_and_without_either_is_skipped_n2_4() {
        let input = "Dec 10 07:02:47 LabSZ sshd[24203]: Connection closed by 212.47.254.145 [preauth]\n\
Dec 10 07:02:48 LabSZ sshd[24203]: fatal: Write failed: Connection reset by peer [preauth]\n\
Dec 10 07:02:49 LabSZ sshd[999]: fatal: Write failed: Connection reset by peer [preauth]\n\
Dec 10 07:02:50 LabSZ sshd[24204]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76  user=root\n\
Dec 10 07:02:51 LabSZ sshd[24205]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.9 \n";
        let p = parse("auth.log", input.as_bytes(), &opts());
        assert_eq!(p.records.len(), 4);
        assert_eq!(
            p.skipped,
            vec![crate::Skip {
                line: 3,
                column: None,
                reason: SkipReason::NoSubject
            }]
        );
        let r = &p.records[1].1;
        assert_eq!(r.subject().kind(), IdentifierKind::Ip);
        assert_eq!(r.subject().value(), "212.47.254.145");
        assert_eq!(field(&p, 1, "event").unwrap(), "write_failed_reset");
        assert_eq!(field(&p, 1, "source_ip"), None);
        let r = &p.records[2].1;
        assert_eq!(r.subject().value(), "root");
        assert_eq!(field(&p, 2, "rhost").unwrap(), "5.36.59.76");
        assert_eq!(field(&p, 2, "account").unwrap(), "root");
        let r = &p.records[3].1;
        assert_eq!(r.subject().kind(), IdentifierKind::Ip);
        assert_eq!(r.subject().value(), "10.0.0.9");
        assert_eq!(field(&p, 3, "count").unwrap(), 2);
        assert_eq!(field(&p, 3, "event").unwrap(), "pam_auth_failures_more");
    }

    #[test]
    fn templates_map_to_their_events() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "Accepted password for fztu from 119.137.62.142 port 49116 ssh2",
                "accepted_password",
                "success",
            ),
            (
                "Connection closed by 212.47.254.145 [preauth]",
                "connection_closed",
                "info",
            ),
            (
                "Did not receive identification string from 106.5.5.195",
                "no_identification_string",
                "info",
            ),
            (
                "Disconnecting: Too many authentication failures for admin [preauth]",
                "too_many_auth_failures",
                "failure",
            ),
            (
                "error: Received disconnect from 103.99.0.122: 14: No more user authentication methods available. [preauth]",
                "received_disconnect_error",
                "failure",
            ),
            (
                "error: Received disconnect from 195.154.37.122: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
                "received_disconnect_error",
                "failure",
            ),
            (
                "Failed none for invalid user 0 from 103.99.0.122 port 51800 ssh2",
                "failed_none_invalid_user",
                "failure",
            ),
            (
                "Failed password for root from 183.62.140.253 port 38926 ssh2",
                "failed_password",
                "failure",
            ),
            (
                "Failed password for invalid user test9 from 52.80.34.196 port 36060 ssh2",
                "failed_password_invalid_user",
                "failure",
            ),
            (
                "fatal: Write failed: Connection reset by peer [preauth]",
                "write_failed_reset",
                "info",
            ),
            (
                "input_userauth_request: invalid user test9 [preauth]",
                "input_userauth_invalid_user",
                "failure",
            ),
            (
                "Invalid user test9 from 52.80.34.196",
                "invalid_user",
                "failure",
            ),
            (
                "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
                "message_repeated",
                "failure",
            ),
            (
                "PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4 ",
                "pam_auth_failures_more",
                "failure",
            ),
            (
                "PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
                "pam_auth_failures_more",
                "failure",
            ),
            (
                "PAM service(sshd) ignoring max retries; 6 > 3",
                "pam_ignoring_max_retries",
                "failure",
            ),
            (
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4 ",
                "pam_auth_failure",
                "failure",
            ),
            (
                "pam_unix(sshd:auth): check pass; user unknown",
                "pam_check_pass_unknown_user",
                "failure",
            ),
            (
                "pam_unix(sshd:session): session closed for user fztu",
                "pam_session_closed",
                "info",
            ),
            (
                "pam_unix(sshd:session): session opened for user fztu by (uid=0)",
                "pam_session_opened",
                "success",
            ),
            (
                "Received disconnect from 183.62.140.253: 11: Bye Bye [preauth]",
                "received_disconnect",
                "info",
            ),
            (
                "Received disconnect from 1.2.3.4: 11: Closed due to user request. [preauth]",
                "received_disconnect",
                "info",
            ),
            (
                "Received disconnect from 1.2.3.4: 11: disconnected by user",
                "received_disconnect",
                "info",
            ),
            (
                "reverse mapping checking getaddrinfo for h.example [1.2.3.4] failed - POSSIBLE BREAK-IN ATTEMPT!",
                "reverse_mapping_break_in_attempt",
                "info",
            ),
            (
                "Accepted publickey for ann from 10.1.1.1 port 22 ssh2: ED25519 SHA256:abc",
                "accepted_publickey",
                "success",
            ),
            (
                "Connection closed by authenticating user root 10.1.1.1 port 4242 [preauth]",
                "connection_closed",
                "info",
            ),
            (
                "Disconnected from user ann 10.1.1.1 port 22",
                "disconnected",
                "info",
            ),
            (
                "Connection reset by 10.1.1.1 port 22",
                "connection_reset",
                "info",
            ),
            (
                "Connection from 10.1.1.1 port 5555 on 10.0.0.1 port 22",
                "connection_from",
                "info",
            ),
            (
                "Disconnecting invalid user x 10.1.1.1 port 3: Too many authentication failures [preauth]",
                "too_many_auth_failures",
                "failure",
            ),
            ("Server listening on 0.0.0.0 port 22.", "other", "info"),
            (
                "Postponed keyboard-interactive for ann from 10.1.1.1 port 22 ssh2",
                "other",
                "info",
            ),
        ];
        let events: Vec<&str> = EVENTS.iter().map(|(e, _)| *e).collect();
        for (msg, event, outcome) in cases {
            let m = classify(msg);
            assert_eq!((m.event, m.outcome.as_str()), (*event, *outcome), "{msg}");
            assert!(events.contains(event), "{event} missing from EVENTS");
        }
        let m = classify(
            "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
        );
        assert_eq!(
            (m.account, m.client, m.port, m.count),
            (Some("root"), Some("5.36.59.76"), Some(42393), Some(5))
        );
        let m = classify("pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)");
        assert_eq!(m.account, Some("root"));
        let m = classify("Postponed keyboard-interactive for ann from 10.1.1.1 port 22 ssh2");
        assert_eq!((m.client, m.port), (Some("10.1.1.1"), Some(22)));
        for (msg, client, port) in [
            (
                "Received disconnect from 2001:db8::1 port 22:11: Bye Bye [preauth]",
                "2001:db8::1",
                Some(22),
            ),
            (
                "Received disconnect from 2001:db8::1: 11: Bye Bye [preauth]",
                "2001:db8::1",
                None,
            ),
            (
                "error: Received disconnect from 10.0.0.1 port 5:14: No more user authentication methods available. [preauth]",
                "10.0.0.1",
                Some(5),
            ),
        ] {
            let m = classify(msg);
            assert_eq!((m.client, m.port), (Some(client), port), "{msg}");
        }
        let m = classify("Invalid user  0101 from 1.2.3.4");
        assert_eq!(m.account, Some(" 0101"));
    }

    #[test]
    fn non_sshd_blank_invalid_utf8_long_and_bad_dates_are_skipped() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Dec 10 06:55:46 LabSZ CRON[1]: session opened for user root\r\n");
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(b"Dec 10 06:55:46 LabSZ sshd[1]: Invalid user \xff from 1.2.3.4\n");
        input.extend_from_slice(b"Feb 30 06:55:46 LabSZ sshd[2]: Invalid user a from 1.2.3.4\n");
        input.extend_from_slice(b"Dec 10 06:55:46 LabSZ sshd[3]: Invalid user ");
        input.extend(std::iter::repeat_n(b'a', crate::MAX_LINE_BYTES));
        input.extend_from_slice(b"\n");
        input.extend_from_slice(b"just text\n");
        input.extend_from_slice(
            b"2024-12-10T06:55:46.123+01:00 h sshd-session[7]: Invalid user ann from 2001:db8::1",
        );
        let p = parse("auth.log", &input, &opts());
        let reasons: Vec<_> = p
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.name()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (1, "not_sshd"),
                (2, "blank_line"),
                (3, "invalid_utf8"),
                (4, "bad_timestamp"),
                (5, "line_too_long"),
                (6, "not_sshd")
            ]
        );
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].0, 7);
        assert_eq!(
            p.records[0].1.occurred_at(),
            Some("2024-12-10T06:55:46.123+01:00")
        );
        assert_eq!(field(&p, 0, "source_ip").unwrap(), "2001:db8::1");
        assert_eq!(p.accounted(), crate::line_count(&input));
    }

    #[test]
    fn older_pam_form_is_read_with_user_and_rhost() {
        // Lines as loghub's Linux_2k.log writes them (Red Hat 9 sshd with PAM 0.75).
        let input = "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root\n\
Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown\n\
Jun 14 15:16:02 combo sshd(pam_unix)[19937]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 \n\
Jun 15 12:12:34 combo sshd(pam_unix)[23397]: session opened for user test by (uid=509)\n\
Jun 15 12:12:35 combo sshd(pam_unix)[23397]: session closed for user test\n\
Jun 16 01:00:00 combo sshd(pam_unix)[30000]: check pass; user unknown\n\
Jun 16 01:00:00 combo sshd(pam_unix)[30001]: 2 more authentication failures; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=10.9.8.7  user=guest\n\
Jun 16 01:00:01 combo su(pam_unix)[30002]: session opened for user news by (uid=0)\n";
        let p = parse("Linux.log", input.as_bytes(), &opts());
        let got: Vec<_> = p
            .records
            .iter()
            .map(|(l, r)| {
                (
                    *l,
                    r.subject().kind(),
                    r.subject().value().to_owned(),
                    r.fields()["event"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        use IdentifierKind::{Ip, Username};
        assert_eq!(
            got,
            vec![
                (1, Username, "root".into(), "pam_auth_failure".into()),
                (
                    2,
                    Ip,
                    "218.188.2.4".into(),
                    "pam_check_pass_unknown_user".into()
                ),
                (3, Ip, "218.188.2.4".into(), "pam_auth_failure".into()),
                (4, Username, "test".into(), "pam_session_opened".into()),
                (5, Username, "test".into(), "pam_session_closed".into()),
                (7, Username, "guest".into(), "pam_auth_failures_more".into()),
            ]
        );
        // `user` and `rhost` are attributed: a host name stays `rhost`, an
        // address is also the session's IP.
        assert_eq!(field(&p, 0, "account").unwrap(), "root");
        assert_eq!(
            field(&p, 0, "rhost").unwrap(),
            "220-135-151-1.hinet-ip.hinet.net"
        );
        assert_eq!(field(&p, 0, "source_ip"), None);
        assert_eq!(field(&p, 2, "rhost").unwrap(), "218.188.2.4");
        assert_eq!(field(&p, 3, "outcome").unwrap(), "success");
        assert_eq!(field(&p, 5, "count").unwrap(), 2);
        assert_eq!(field(&p, 5, "source_ip"), None);
        assert_eq!(field(&p, 5, "rhost").unwrap(), "10.9.8.7");
        let skips: Vec<_> = p.skipped.iter().map(|s| (s.line, s.reason)).collect();
        assert_eq!(
            skips,
            vec![(6, SkipReason::NoSubject), (8, SkipReason::NotSshd)]
        );
    }

    fn at(s: &str) -> time::OffsetDateTime {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn dates(input: &str, year: i32) -> Vec<String> {
        let o = ParseOptions {
            year,
            product: Product::CloudPlatform,
        };
        parse("auth.log", input.as_bytes(), &o)
            .records
            .iter()
            .map(|(_, r)| r.occurred_at().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn syslog_year_rolls_forward_when_the_months_go_back() {
        let input = "Dec 31 23:59:58 h sshd[1]: Invalid user ann from 10.0.0.1\n\
Dec 31 23:59:59 h kernel: tick\n\
Jan  1 00:00:01 h sshd[2]: Invalid user bob from 10.0.0.2\n\
Feb  3 10:00:00 h sshd[3]: Invalid user cid from 10.0.0.3\n\
Jan 15 10:00:00 h sshd[4]: Invalid user dan from 10.0.0.4\n\
Dec  1 10:00:00 h sshd[5]: Invalid user eve from 10.0.0.5\n\
Jan  2 00:00:02 h sshd[6]: Invalid user fay from 10.0.0.6\n";
        // Dec 31 then Jan 1 is a new year (the kernel line counts too); Feb
        // then Jan 15 is one month back (out of order), the same year; Dec
        // then Jan again is the next year.
        assert_eq!(
            dates(input, 2025),
            vec![
                "2025-12-31T23:59:58",
                "2026-01-01T00:00:01",
                "2026-02-03T10:00:00",
                "2026-01-15T10:00:00",
                "2026-12-01T10:00:00",
                "2027-01-02T00:00:02"
            ]
        );
        let ooo = "Jul  1 00:00:01 h sshd[1]: Invalid user ann from 10.0.0.1\n\
Jun 30 23:59:59 h sshd[2]: Invalid user bob from 10.0.0.2\n\
Aug  1 00:00:00 h sshd[3]: Invalid user cid from 10.0.0.3\n";
        assert_eq!(
            dates(ooo, 2024),
            vec![
                "2024-07-01T00:00:01",
                "2024-06-30T23:59:59",
                "2024-08-01T00:00:00"
            ]
        );
        let mut roll = YearRoll::default();
        let rolls: Vec<i32> = [12, 1, 3, 2, 11, 1].iter().map(|m| roll.next(*m)).collect();
        assert_eq!(rolls, vec![0, 1, 1, 1, 1, 2]);
    }

    #[test]
    fn without_a_year_no_line_is_dated_in_the_future() {
        let dec = "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user ann from 10.0.0.1\n";
        // Read on 2 December 2026: 10 December is eight days ahead, so last year.
        let y = year_for(dec.as_bytes(), at("2026-12-02T02:56:42Z"));
        assert_eq!(y, 2025);
        assert_eq!(dates(dec, y), vec!["2025-12-10T06:55:46"]);
        // Read on 11 December 2026: this year.
        assert_eq!(year_for(dec.as_bytes(), at("2026-12-11T00:00:00Z")), 2026);
        // Within a day ahead (a host east of UTC) is still this year.
        assert_eq!(year_for(dec.as_bytes(), at("2026-12-09T08:00:00Z")), 2026);
        // Dec 31 then Jan 1, read on 5 January 2027: 2026 then 2027.
        let span = "Dec 31 23:59:58 h sshd[1]: Invalid user ann from 10.0.0.1\n\
Jan  1 00:00:01 h sshd[2]: Invalid user bob from 10.0.0.2\n";
        let y = year_for(span.as_bytes(), at("2027-01-05T00:00:00Z"));
        assert_eq!(y, 2026);
        assert_eq!(
            dates(span, y),
            vec!["2026-12-31T23:59:58", "2027-01-01T00:00:01"]
        );
        // Read on 30 December 2026: the January line would be ahead, so the
        // file ran from December 2025 into January 2026.
        let y = year_for(span.as_bytes(), at("2026-12-30T00:00:00Z"));
        assert_eq!(
            dates(span, y),
            vec!["2025-12-31T23:59:58", "2026-01-01T00:00:01"]
        );
        // No BSD timestamps: now's year.
        assert_eq!(year_for(b"just text\n", at("2026-03-01T00:00:00Z")), 2026);
    }

    #[test]
    fn debug_output_carries_no_values() {
        let p = parse(
            "auth.log",
            b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
            &opts(),
        );
        let dbg = format!("{p:?}");
        assert!(
            !dbg.contains("webmaster") && !dbg.contains("173.234"),
            "{dbg}"
        );
    }
}
