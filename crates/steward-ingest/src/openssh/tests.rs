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
