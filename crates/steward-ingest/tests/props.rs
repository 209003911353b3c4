//! Property tests: no parser panics on any input, and every line (or row, or
//! event) is accounted for as a record, a skip or a rejection.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use steward_domain::{IdentifierKind, Product};
use steward_ingest::{Format, ParseOptions, Parsed, SkipReason, line_count, parse};

fn opts() -> ParseOptions {
    ParseOptions {
        year: 2024,
        product: Product::CloudPlatform,
    }
}

fn run(format: Format, input: &[u8]) -> Parsed {
    match parse(format, "prop", input, &opts()) {
        Ok(p) => p,
        Err(e) => {
            // Only FOCUS fails a whole input, and only for its header.
            assert_eq!(format, Format::Focus, "{e}");
            Parsed::default()
        }
    }
}

/// Every position is a line of the input, and positions never go back.
fn positions_are_lines(p: &Parsed, input: &[u8]) {
    let max = line_count(input).max(1);
    let mut all: Vec<usize> = p.records.iter().map(|r| r.0).collect();
    all.extend(p.skipped.iter().map(|s| s.line));
    all.extend(p.rejected.iter().map(|r| r.line));
    for l in all {
        assert!((1..=max).contains(&l), "position {l} of {max} lines");
    }
    for w in p.records.windows(2) {
        assert!(w[0].0 <= w[1].0);
    }
    for r in &p.rejected {
        assert!(
            r.error.starts_with(&format!("prop:{}: ", r.line)),
            "{}",
            r.error
        );
    }
}

/// Text shaped like log lines: printable ASCII, some bytes that matter to the
/// parsers (quotes, brackets, backslashes), some non-ASCII.
fn line_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,60}",
        "[a-zA-Z0-9 \\[\\]\"\\\\:=.{}]{0,40}",
        "\\PC{0,20}",
        Just(String::new()),
    ]
}

fn join(lines: &[String], crlf: bool, final_newline: bool) -> Vec<u8> {
    let sep = if crlf { "\r\n" } else { "\n" };
    let mut s = lines.join(sep);
    if final_newline && !lines.is_empty() {
        s.push_str(sep);
    }
    s.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No panic on arbitrary bytes; line formats account for every line.
    #[test]
    fn arbitrary_bytes_never_panic_and_every_line_is_accounted(
        input in proptest::collection::vec(any::<u8>(), 0..1024)
    ) {
        for f in [Format::Openssh, Format::ApacheAccess, Format::Jsonl] {
            let p = run(f, &input);
            prop_assert_eq!(p.accounted(), line_count(&input), "{}", f);
            positions_are_lines(&p, &input);
        }
        for f in [Format::Focus, Format::Cloudevents] {
            let p = run(f, &input);
            positions_are_lines(&p, &input);
        }
    }

    /// No panic on line-shaped text; line formats account for every line.
    #[test]
    fn line_shaped_text_is_accounted(
        lines in proptest::collection::vec(line_like(), 0..30),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let input = join(&lines, crlf, final_newline);
        for f in [Format::Openssh, Format::ApacheAccess, Format::Jsonl, Format::Cloudevents] {
            let p = run(f, &input);
            if f != Format::Cloudevents {
                prop_assert_eq!(p.accounted(), line_count(&input), "{}", f);
            }
            positions_are_lines(&p, &input);
        }
        let p = run(Format::Focus, &input);
        positions_are_lines(&p, &input);
    }
}

// ---------------------------------------------------------------- openssh

#[derive(Debug, Clone)]
struct Session {
    pid: u32,
    user: String,
    ip: [u8; 4],
}

/// (template index, session index) per line; templates 0-5 name the account,
/// 6-8 only the IP, 9-10 neither, 11 is not sshd.
const TEMPLATES: usize = 12;

fn ssh_line(t: usize, s: &Session) -> String {
    let ip = format!("{}.{}.{}.{}", s.ip[0], s.ip[1], s.ip[2], s.ip[3]);
    let u = &s.user;
    let msg = match t {
        0 => format!("Failed password for {u} from {ip} port 22 ssh2"),
        1 => format!("Invalid user {u} from {ip}"),
        2 => format!("input_userauth_request: invalid user {u} [preauth]"),
        3 => format!(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={u}"
        ),
        4 => format!("Accepted password for {u} from {ip} port 4242 ssh2"),
        5 => format!("message repeated 3 times: [ Failed password for {u} from {ip} port 22 ssh2]"),
        6 => format!("Received disconnect from {ip}: 11: Bye Bye [preauth]"),
        7 => format!(
            "reverse mapping checking getaddrinfo for h.example [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!"
        ),
        8 => format!("Connection closed by {ip} [preauth]"),
        9 => "pam_unix(sshd:auth): check pass; user unknown".to_owned(),
        10 => "fatal: Write failed: Connection reset by peer [preauth]".to_owned(),
        _ => return format!("Dec 10 06:55:46 LabSZ CRON[{}]: job {u}", s.pid),
    };
    format!("Dec 10 06:55:46 LabSZ sshd[{}]: {msg}", s.pid)
}

fn sessions() -> impl Strategy<Value = (Vec<Session>, Vec<(usize, usize)>)> {
    proptest::collection::vec(("[a-z][a-z0-9_]{0,7}", any::<[u8; 4]>()), 1..6).prop_flat_map(
        |raw| {
            let sessions: Vec<Session> = raw
                .into_iter()
                .enumerate()
                .map(|(i, (user, ip))| Session {
                    pid: 1000 + u32::try_from(i).unwrap_or(0),
                    user,
                    ip,
                })
                .collect();
            let n = sessions.len();
            let lines = proptest::collection::vec((0..TEMPLATES, 0..n), 0..40);
            (Just(sessions), lines)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// N2.4: the lines of one sshd session share one subject: the session's
    /// account if any line names it, else its IP address, else no subject.
    #[test]
    fn openssh_session_subject_rule_n2_4(
        (sessions, plan) in sessions(),
        crlf in any::<bool>(),
    ) {
        let lines: Vec<String> = plan.iter().map(|&(t, s)| ssh_line(t, &sessions[s])).collect();
        let input = join(&lines, crlf, false);
        let p = run(Format::Openssh, &input);
        prop_assert_eq!(p.accounted(), lines.len());
        prop_assert!(p.rejected.is_empty());

        // Expected subject per session, computed from the plan alone.
        let mut names_user = vec![false; sessions.len()];
        let mut names_ip = vec![false; sessions.len()];
        for &(t, s) in &plan {
            names_user[s] |= t <= 5;
            names_ip[s] |= t <= 8;
        }
        let by_line: BTreeMap<usize, _> = p.records.iter().map(|(l, r)| (*l, r)).collect();
        let skips: BTreeMap<usize, SkipReason> = p.skipped.iter().map(|s| (s.line, s.reason)).collect();
        for (i, &(t, s)) in plan.iter().enumerate() {
            let line = i + 1;
            let sess = &sessions[s];
            if t == 11 {
                prop_assert_eq!(skips.get(&line), Some(&SkipReason::NotSshd));
            } else if names_user[s] {
                let r = by_line.get(&line);
                prop_assert!(r.is_some(), "line {} not stored", line);
                let r = r.unwrap();
                prop_assert_eq!(r.subject().kind(), IdentifierKind::Username);
                prop_assert_eq!(r.subject().value(), sess.user.as_str());
                prop_assert_eq!(r.fields()["message"].as_str(), Some(lines[i].as_str()));
            } else if names_ip[s] {
                let r = by_line.get(&line);
                prop_assert!(r.is_some(), "line {} not stored", line);
                let r = r.unwrap();
                prop_assert_eq!(r.subject().kind(), IdentifierKind::Ip);
                let ip = format!("{}.{}.{}.{}", sess.ip[0], sess.ip[1], sess.ip[2], sess.ip[3]);
                prop_assert_eq!(r.subject().value(), ip.as_str());
            } else {
                prop_assert_eq!(skips.get(&line), Some(&SkipReason::NoSubject));
            }
        }
    }
}

// ---------------------------------------------------------------- apache

fn quoted_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 /?=&\"\\\\.-]{0,20}"
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Combined and common lines with escaped quotes parse back to their parts;
    /// junk lines are skipped; every line is accounted.
    #[test]
    fn apache_lines_round_trip(
        entries in proptest::collection::vec(
            (any::<[u8; 4]>(), proptest::option::of("[a-z]{1,8}"), "[!-~&&[^\"\\\\ ]]{1,12}",
             100u16..600, proptest::option::of(0u32..100_000),
             proptest::option::of((quoted_text(), quoted_text())), any::<bool>()),
            0..20),
        crlf in any::<bool>(),
    ) {
        let mut lines = Vec::new();
        for (ip, user, path, status, bytes, tail, junk) in &entries {
            if *junk {
                lines.push(format!("junk {}", path));
                continue;
            }
            let ip = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
            let bytes = bytes.map_or("-".to_owned(), |b| b.to_string());
            let mut l = format!(
                "{ip} - {} [17/May/2015:10:05:03 +0000] \"GET {} HTTP/1.1\" {status} {bytes}",
                user.as_deref().unwrap_or("-"),
                escape(path)
            );
            if let Some((r, ua)) = tail {
                l.push_str(&format!(" \"{}\" \"{}\"", escape(r), escape(ua)));
            }
            lines.push(l);
        }
        let input = join(&lines, crlf, true);
        let p = run(Format::ApacheAccess, &input);
        prop_assert_eq!(p.accounted(), lines.len());
        let stored: Vec<_> = entries.iter().filter(|e| !e.6).collect();
        prop_assert_eq!(p.records.len(), stored.len());
        prop_assert_eq!(p.skipped_for(SkipReason::Malformed), entries.len() - stored.len());
        for ((_, r), e) in p.records.iter().zip(stored) {
            let f = r.fields();
            prop_assert_eq!(f["path"].as_str(), Some(e.2.as_str()));
            prop_assert_eq!(f["status"].as_u64(), Some(u64::from(e.3)));
            prop_assert_eq!(f["bytes"].as_u64(), Some(u64::from(e.4.unwrap_or(0))));
            match &e.1 {
                Some(u) => prop_assert_eq!(r.subject().value(), u.as_str()),
                None => prop_assert_eq!(r.subject().kind(), IdentifierKind::Ip),
            }
            if let Some((referrer, ua)) = &e.5 {
                if !referrer.is_empty() && referrer != "-" {
                    prop_assert_eq!(f["referrer"].as_str(), Some(referrer.as_str()));
                }
                if !ua.is_empty() && ua != "-" {
                    prop_assert_eq!(f["user_agent"].as_str(), Some(ua.as_str()));
                }
            }
        }
    }
}

// ---------------------------------------------------------------- jsonl

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// N1.3: a record with a field outside its kind's schema is rejected with
    /// the field's JSON path and without its value; valid records are stored.
    #[test]
    fn jsonl_unknown_fields_are_rejected_by_path_n1_3(
        rows in proptest::collection::vec(
            (prop_oneof![Just("level"), Just("message"), Just("component"), Just("secret_note"), Just("body")],
             "[a-z]{1,10}", any::<bool>()),
            0..20),
    ) {
        let mut lines = Vec::new();
        for (field, value, malformed) in &rows {
            if *malformed {
                lines.push(format!("{{\"kind\": \"usage.error\", \"fields\": {{\"{field}\": "));
            } else {
                lines.push(json!({"subject": "ip:192.0.2.7", "kind": "usage.error",
                    "fields": {*field: format!("VALUE-{value}")}}).to_string());
            }
        }
        let input = join(&lines, false, true);
        let p = run(Format::Jsonl, &input);
        prop_assert_eq!(p.accounted(), lines.len());
        let mut want = (0, 0, 0);
        for (field, _, malformed) in &rows {
            if *malformed {
                want.2 += 1;
            } else if ["level", "message", "component"].contains(field) {
                want.0 += 1;
            } else {
                want.1 += 1;
            }
        }
        prop_assert_eq!((p.records.len(), p.rejected.len(), p.skipped.len()), want);
        for r in &p.rejected {
            prop_assert!(r.error.contains(": $.fields."), "{}", r.error);
            prop_assert!(r.error.contains("unknown field"), "{}", r.error);
            prop_assert!(!r.error.contains("VALUE-"), "{}", r.error);
        }
    }
}

// ---------------------------------------------------------------- cloudevents

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every event of a batch is a record or a rejection naming its index.
    #[test]
    fn cloudevents_batch_accounts_for_every_event(
        events in proptest::collection::vec((0usize..5, "[a-z]{1,8}"), 0..20),
        pretty in any::<bool>(),
    ) {
        let batch: Vec<Value> = events.iter().map(|(shape, word)| match shape {
            0 => json!({"specversion": "1.0", "id": word, "source": "/s", "type": "io.steward.usage.error",
                        "subject": "ip:192.0.2.1", "data": {"message": word}}),
            1 => json!({"specversion": "0.3", "id": word, "source": "/s", "type": "usage.error"}),
            2 => json!({"id": word, "source": "/s", "type": "usage.error"}),
            3 => json!({"specversion": "1.0", "id": word, "source": "/s", "type": "com.example.someevent"}),
            _ => json!(word),
        }).collect();
        let text = if pretty {
            serde_json::to_string_pretty(&batch)
        } else {
            serde_json::to_string(&batch)
        }.unwrap_or_default();
        let p = run(Format::Cloudevents, text.as_bytes());
        let ok = events.iter().filter(|e| e.0 == 0).count();
        prop_assert_eq!(p.records.len(), ok);
        prop_assert_eq!(p.rejected.len(), events.len() - ok);
        prop_assert!(p.skipped.is_empty());
        let mut rejected = p.rejected.iter();
        for (i, (shape, _)) in events.iter().enumerate() {
            if *shape != 0 {
                let r = rejected.next();
                let want = format!(": $[{i}]");
                prop_assert!(r.is_some_and(|r| r.error.contains(&want)), "event {}", i);
            }
        }
        positions_are_lines(&p, text.as_bytes());
    }
}

// ---------------------------------------------------------------- focus

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 .]{0,8}",
        "[a-z,\"\n ]{0,8}".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
        Just("NULL".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Rows of the header's width are records (or no_subject when the billing
    /// account is NULL/empty); other widths are skipped as malformed.
    #[test]
    fn focus_rows_are_accounted(
        rows in proptest::collection::vec(
            (prop_oneof![Just("BA-1".to_owned()), Just("NULL".to_owned()), Just(String::new())],
             proptest::collection::vec(cell(), 0..5)),
            0..15),
        crlf in any::<bool>(),
    ) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("BillingAccountId,BilledCost,ServiceName,Tags{sep}");
        let mut want = (0, 0, 0);
        for (account, cells) in &rows {
            let mut row = vec![account.clone()];
            row.extend(cells.iter().cloned());
            // A row that would be a lone empty cell is a blank line to the csv reader.
            if row.len() == 1 && account.is_empty() {
                row[0] = "NULL".to_owned();
            }
            text.push_str(&row.join(","));
            text.push_str(sep);
            if row.len() != 4 {
                want.1 += 1;
            } else if row[0] == "BA-1" {
                want.0 += 1;
            } else {
                want.2 += 1;
            }
        }
        let p = run(Format::Focus, text.as_bytes());
        prop_assert_eq!(
            (p.records.len(), p.skipped_for(SkipReason::Malformed), p.skipped_for(SkipReason::NoSubject)),
            want
        );
        prop_assert!(p.rejected.is_empty());
        positions_are_lines(&p, text.as_bytes());
    }
}

// ---------------------------------------------------------------- any JSON

/// Keys the JSON adapters look at, and some they do not know.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "data",
            "data_base64",
            "datacontenttype",
            "kind",
            "category",
            "fields",
            "product",
            "occurred_at",
            "value",
            "message",
            "level",
            "client_ip",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "1.0",
            "usage.error",
            "io.steward.usage.authentication",
            "usage",
            "error",
            "ip:10.0.0.1",
            "username:ann",
            "email:a@b.c",
            "2018-04-05T17:31:00Z",
            "application/json",
            "text/xml",
            "eyAieHl6IjogMTIzIH0=",
            "e30=",
            "workspace",
            "",
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary JSON never panics the JSON adapters; every line or event is
    /// accounted; no rejection message carries a string value of the input.
    #[test]
    fn arbitrary_json_is_accounted(values in proptest::collection::vec(any_json(), 0..8)) {
        let lines: Vec<String> = values.iter().map(Value::to_string).collect();
        let input = join(&lines, false, true);
        let p = run(Format::Jsonl, &input);
        prop_assert_eq!(p.accounted(), lines.len());
        positions_are_lines(&p, &input);
        let p = run(Format::Cloudevents, &input);
        positions_are_lines(&p, &input);
        for v in &values {
            let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
            let p = run(Format::Cloudevents, pretty.as_bytes());
            let events = match v { Value::Array(a) => a.len(), _ => 1 };
            prop_assert_eq!(p.accounted(), events);
            positions_are_lines(&p, pretty.as_bytes());
            for r in &p.rejected {
                prop_assert!(!r.error.contains("ann") && !r.error.contains("10.0.0.1"), "{}", r.error);
            }
        }
    }
}
