//! Real-data tests: public files no one on this project wrote, read from
//! `../shared/data` (see its SOURCES.md). Where a file is absent the test
//! prints that it was skipped and why. Expected counts are derived
//! independently of the parser (the shell or Python command is in a comment).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde_json::Value;
use steward_domain::{IdentifierKind, Product};
use steward_ingest::{Format, ParseOptions, Parsed, SkipReason, line_count, parse};

fn data(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            println!("skip: {} absent ({e})", path.display());
            None
        }
    }
}

fn opts() -> ParseOptions {
    ParseOptions {
        year: 2024,
        product: Product::CloudPlatform,
    }
}

fn field<'a>(p: &'a Parsed, name: &str) -> impl Iterator<Item = &'a str> {
    p.records
        .iter()
        .filter_map(move |(_, r)| r.fields().get(name).and_then(Value::as_str))
}

/// Loghub OpenSSH_2k (N2.4): sshd authentication details.
#[test]
fn loghub_openssh_2k_sessions_subjects_and_events_n2_4() {
    let Some(input) = data("loghub_OpenSSH_2k.log") else {
        return;
    };
    let p = parse(Format::Openssh, "OpenSSH_2k.log", &input, &opts()).unwrap();
    // wc -l counts 1999 newlines; the file has no final newline: 2000 lines.
    assert_eq!(line_count(&input), 2000);
    assert_eq!(p.records.len() + p.skipped.len(), 2000);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    // Every line of the file is an sshd line (`grep -vc ' sshd\[[0-9]*\]: '` -> 0)
    // and every session names an account or an IP address.
    assert_eq!(p.records.len(), 2000, "{:?}", p.skipped);

    // N2.4: every line containing `Failed password for root` (counted here by
    // plain substring, independent of the parser: 370 lines, also
    // `grep -c 'Failed password for root'`) is a record of subject username:root.
    let text = String::from_utf8_lossy(&input);
    let root_lines: Vec<usize> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| l.contains("Failed password for root"))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(root_lines.len(), 370);
    let by_line: BTreeMap<usize, _> = p.records.iter().map(|(l, r)| (*l, r)).collect();
    for l in &root_lines {
        let r = by_line
            .get(l)
            .unwrap_or_else(|| panic!("line {l} not stored"));
        assert_eq!(r.subject().kind(), IdentifierKind::Username, "line {l}");
        assert_eq!(r.subject().value(), "root", "line {l}");
    }

    // 30 distinct IPv4 addresses in the file:
    // grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' loghub_OpenSSH_2k.log | sort -u | wc -l  -> 30
    // (5.36.59.76 appears inside a PAM rhost host name, and also as a client address).
    let ips: BTreeSet<Ipv4Addr> = field(&p, "source_ip")
        .chain(field(&p, "rhost"))
        .filter_map(|s| s.parse().ok())
        .collect();
    assert_eq!(ips.len(), 30);

    // Records per event. Each expected count is a grep over the file:
    let mut events: BTreeMap<&str, usize> = BTreeMap::new();
    for e in field(&p, "event") {
        *events.entry(e).or_default() += 1;
    }
    let expected: &[(&str, usize)] = &[
        // grep -c 'sshd\[[0-9]*\]: Failed password for [^i]'            -> 383
        ("failed_password", 383),
        // grep -c 'sshd\[[0-9]*\]: Failed password for invalid user '    -> 135
        ("failed_password_invalid_user", 135),
        // grep -c 'sshd\[[0-9]*\]: Received disconnect from '            -> 421
        ("received_disconnect", 421),
        // grep -c 'sshd\[[0-9]*\]: error: Received disconnect from '     -> 47
        ("received_disconnect_error", 47),
        // grep -c 'pam_unix(sshd:auth): authentication failure;'         -> 494
        ("pam_auth_failure", 494),
        // grep -c 'check pass; user unknown'                             -> 135
        ("pam_check_pass_unknown_user", 135),
        // grep -c 'sshd\[[0-9]*\]: Invalid user '                        -> 113
        ("invalid_user", 113),
        // grep -c 'input_userauth_request: invalid user '                -> 113
        ("input_userauth_invalid_user", 113),
        // grep -c 'reverse mapping checking getaddrinfo'                 -> 85
        ("reverse_mapping_break_in_attempt", 85),
        // grep -c 'sshd\[[0-9]*\]: Connection closed by '                -> 34
        ("connection_closed", 34),
        // grep -c 'Did not receive identification string'               -> 10
        ("no_identification_string", 10),
        // grep -cE 'sshd\[[0-9]+\]: PAM [0-9]+ more authentication failure' -> 10
        ("pam_auth_failures_more", 10),
        // grep -c 'ignoring max retries'                                 -> 7
        ("pam_ignoring_max_retries", 7),
        // grep -c 'Failed none for invalid user'                         -> 4
        ("failed_none_invalid_user", 4),
        // grep -c 'Too many authentication failures'                     -> 3
        ("too_many_auth_failures", 3),
        // grep -c 'message repeated'                                     -> 2
        ("message_repeated", 2),
        // grep -c 'Accepted password for'                                -> 1
        ("accepted_password", 1),
        // grep -c 'session opened for user'                              -> 1
        ("pam_session_opened", 1),
        // grep -c 'session closed for user'                              -> 1
        ("pam_session_closed", 1),
        // grep -c 'Write failed: Connection reset by peer'               -> 1
        ("write_failed_reset", 1),
    ];
    let expected: BTreeMap<&str, usize> = expected.iter().copied().collect();
    assert_eq!(events, expected, "no line falls to `other`");
    assert_eq!(expected.values().sum::<usize>(), 2000);

    // Outcomes: the one accepted password and the one opened session succeed.
    assert_eq!(field(&p, "outcome").filter(|o| *o == "success").count(), 2);
    // Dates use the year given: `Dec 10 06:55:46` -> 2024-12-10T06:55:46.
    assert_eq!(p.records[0].1.occurred_at(), Some("2024-12-10T06:55:46"));
}

/// Elastic examples apache_logs, first 5,000 lines (N2.4): access logs.
#[test]
fn elastic_apache_access_5000_lines_965_client_ips_n2_4() {
    let Some(input) = data("elastic_apache_access_logs_first5000.log") else {
        return;
    };
    let p = parse(Format::ApacheAccess, "apache_logs", &input, &opts()).unwrap();
    // wc -l -> 5000. Every line is combined format:
    // grep -vcE '^[^ ]+ [^ ]+ [^ ]+ \[[^]]+\] "([^"\\]|\\.)*" [0-9]{3} ([0-9]+|-) "([^"\\]|\\.)*" "([^"\\]|\\.)*"$' -> 0
    assert_eq!(p.records.len(), 5000, "{:?}", p.skipped);
    assert!(p.skipped.is_empty() && p.rejected.is_empty());
    // awk '{print $1}' elastic_apache_access_logs_first5000.log | sort -u | wc -l -> 965
    let ips: BTreeSet<&str> = field(&p, "client_ip").collect();
    assert_eq!(ips.len(), 965);
    // Every %u is `-` (awk '$3!="-"' | wc -l -> 0): every subject is the client IP.
    assert!(
        p.records
            .iter()
            .all(|(_, r)| r.subject().kind() == IdentifierKind::Ip)
    );
    let status = |code: u64| {
        p.records
            .iter()
            .filter(|(_, r)| r.fields()["status"] == code)
            .count()
    };
    // awk '$9==200' | wc -l -> 4450 ; awk '$9==404' | wc -l -> 108
    assert_eq!((status(200), status(404)), (4450, 108));
    // awk -F'"' '$2 ~ /^HEAD /' | wc -l -> 20
    assert_eq!(field(&p, "method").filter(|m| *m == "HEAD").count(), 20);
    // awk -F'"' '$4=="-"' | wc -l -> 2172 referrers absent
    assert_eq!(field(&p, "referrer").count(), 5000 - 2172);
    assert_eq!(
        p.records[0].1.occurred_at(),
        Some("2015-05-17T10:05:03+00:00")
    );
}

/// An Apache *error* log is not an access log: every line is skipped, none stored.
#[test]
fn loghub_apache_error_log_is_not_an_access_log() {
    let Some(input) = data("loghub_Apache_2k.log") else {
        return;
    };
    let p = parse(Format::ApacheAccess, "Apache_2k.log", &input, &opts()).unwrap();
    // 1999 newlines, no final newline: 2000 lines.
    assert_eq!(p.skipped_for(SkipReason::Malformed), 2000);
    assert!(p.records.is_empty() && p.rejected.is_empty());
}

/// FOCUS 1.0 sample billing (N2.2): 1,000 rows, 44 columns.
#[test]
fn focus_sample_1000_charges_3_billing_accounts_n2_2() {
    let Some(input) = data("focus_1.0_sample_billing.csv") else {
        return;
    };
    let p = parse(Format::Focus, "focus_sample.csv", &input, &opts()).unwrap();
    assert_eq!(p.records.len(), 1000, "{:?}", p.skipped);
    assert!(p.skipped.is_empty() && p.rejected.is_empty());
    // python3 -c "import csv; r=list(csv.DictReader(open('focus_1.0_sample_billing.csv', newline='')));
    //   print(len({x['BillingAccountId'] for x in r}))"   -> 3
    let accounts: BTreeSet<&str> = p
        .records
        .iter()
        .map(|(_, r)| {
            assert_eq!(r.subject().kind(), IdentifierKind::BillingAccount);
            r.subject().value()
        })
        .collect();
    assert_eq!(accounts.len(), 3);
    // Same csv reader: collections.Counter(x['ProviderName'] for x in r) -> AWS 942, Microsoft 51, Oracle 7
    let aws = field(&p, "provider_name").filter(|v| *v == "AWS").count();
    assert_eq!(aws, 942);
    // sum(1 for x in r for v in x.values() if v not in ('', 'NULL')) -> 34971 non-null cells
    let cells: usize = p.records.iter().map(|(_, r)| r.fields().len()).sum();
    assert_eq!(cells, 34971);
    // Every row has a ChargePeriodStart (same count with 'ChargePeriodStart' -> 1000).
    assert!(p.records.iter().all(|(_, r)| r.occurred_at().is_some()));
    // No newline inside a cell: row N is on line N+1.
    assert_eq!(p.records[999].0, 1001);
}

/// The CloudEvents spec's JSON format examples: none has a Steward type.
#[test]
fn cloudevents_spec_examples_are_rejected_with_a_clear_message() {
    let Some(input) = data("cloudevents_json_format_spec_examples.json") else {
        return;
    };
    let doc: Value = serde_json::from_slice(&input).unwrap();
    let examples = doc["examples"].as_array().unwrap();
    // 8 examples: 6 single events, a batch of 2, an empty batch.
    assert_eq!(examples.len(), 8);
    let (mut stored, mut rejected, mut skipped) = (0, 0, 0);
    for (i, ex) in examples.iter().enumerate() {
        let text = serde_json::to_string_pretty(ex).unwrap();
        let p = parse(
            Format::Cloudevents,
            "example.json",
            text.as_bytes(),
            &opts(),
        )
        .unwrap();
        stored += p.records.len();
        skipped += p.skipped.len();
        rejected += p.rejected.len();
        for r in &p.rejected {
            // com.example.someevent / com.example.someotherevent are not Steward kinds.
            assert!(
                r.error.contains(
                    ".type: not a Steward kind: set type to `io.steward.<category>.<kind>`"
                ),
                "example {i}: {}",
                r.error
            );
            assert!(!r.error.contains("com.example"), "{}", r.error);
        }
    }
    assert_eq!((stored, rejected, skipped), (0, 8, 0));

    // The batch example as written: positions name the event.
    let batch = serde_json::to_string_pretty(&examples[6]).unwrap();
    let p = parse(Format::Cloudevents, "batch.json", batch.as_bytes(), &opts()).unwrap();
    assert_eq!(p.rejected.len(), 2);
    assert!(
        p.rejected[1].error.contains(": $[1].type: "),
        "{}",
        p.rejected[1].error
    );
    // The empty batch: no records, nothing skipped, no error.
    let p = parse(Format::Cloudevents, "empty.json", b"[]", &opts()).unwrap();
    assert_eq!(p, Parsed::default());

    // The whole file is not an event: its missing attribute is named.
    let p = parse(Format::Cloudevents, "examples.json", &input, &opts()).unwrap();
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(
        p.rejected[0].error,
        "examples.json:1: $.specversion: missing required attribute (CloudEvents 1.0: id, source, specversion and type are required)"
    );

    // With a Steward type, the spec's data is refused by the closed schema (N1.3):
    // example 5's data_base64 decodes to { "xyz": 123 }, example 2's data has appinfoA..C.
    for (i, path) in [(5, "$.data_base64.xyz"), (2, "$.data.appinfoA")] {
        let mut ev = examples[i].clone();
        ev["type"] = Value::from("io.steward.usage.error");
        ev["subject"] = Value::from("ip:192.0.2.1");
        let text = serde_json::to_string(&ev).unwrap();
        let p = parse(Format::Cloudevents, "e.json", text.as_bytes(), &opts()).unwrap();
        assert_eq!(p.rejected.len(), 1);
        assert!(
            p.rejected[0]
                .error
                .starts_with(&format!("e.json:1: {path}: unknown field")),
            "{}",
            p.rejected[0].error
        );
    }
    // And fields of the kind are stored.
    let mut ev = examples[2].clone();
    ev["type"] = Value::from("io.steward.usage.error");
    ev["subject"] = Value::from("ip:192.0.2.1");
    ev["data"] = serde_json::json!({"level": "warn", "component": "mycontext"});
    let text = serde_json::to_string(&ev).unwrap();
    let p = parse(Format::Cloudevents, "e.json", text.as_bytes(), &opts()).unwrap();
    assert_eq!(p.records.len(), 1, "{:?}", p.rejected);
    assert_eq!(p.records[0].1.occurred_at(), Some("2018-04-05T17:31:00Z"));
}

/// Loghub Linux_2k (issue 18 item 5): sshd in the older
/// `sshd(pam_unix)[pid]:` form, among the syslog of many programs.
#[test]
fn loghub_linux_2k_older_sshd_pam_form_is_taken_n2_4() {
    let Some(input) = data("loghub_Linux_2k.log") else {
        return;
    };
    let p = parse(Format::Openssh, "Linux_2k.log", &input, &opts()).unwrap();
    // wc -l -> 1999; no final newline: 2000 lines.
    assert_eq!(line_count(&input), 2000);
    assert_eq!(p.accounted(), 2000);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    // grep -c 'sshd' -> 677 and grep -c 'sshd(pam_unix)\[[0-9]*\]: ' -> 677:
    // every sshd line is in the older form; the other 2000 - 677 = 1323 are
    // other programs' lines.
    assert_eq!(p.skipped_for(SkipReason::NotSshd), 1323);
    // Sessions are (host, pid). Python over the file, independent of the
    // parser: group the 677 lines by pid (524 sessions); a session names a
    // subject when one of its lines has `user=X` or `session opened|closed for
    // user X`, or an `rhost=` that is an IP address. Lines of the sessions
    // naming neither: 154 (their rhost is a host name and no user is given).
    assert_eq!(p.skipped_for(SkipReason::NoSubject), 154);
    assert_eq!(p.records.len(), 677 - 154);
    // grep -E 'sshd\(pam_unix\)' | grep -c 'authentication failure;' -> 489
    // grep -c 'check pass; user unknown' -> 116 ; 'session opened for user' (sshd) -> 36 ;
    // 'session closed for user' (sshd) -> 36. Less the 154 lines without a subject:
    // all of the events are there, none falls to `other`.
    assert_eq!(field(&p, "event").filter(|e| *e == "other").count(), 0);
    let failures = field(&p, "event")
        .filter(|e| *e == "pam_auth_failure")
        .count();
    let checks = field(&p, "event")
        .filter(|e| *e == "pam_check_pass_unknown_user")
        .count();
    let sessions = field(&p, "event")
        .filter(|e| e.starts_with("pam_session_"))
        .count();
    assert_eq!(failures + checks + sessions, 523);
    assert_eq!(sessions, 72);
    // `user=`: grep -E 'sshd\(pam_unix\).* user=[^ ]' | grep -o 'user=[^ ]*' | sort | uniq -c
    // -> 351 root, 17 guest, 4 test = 372 lines, each attributed to its user:
    // the account field carries it and the subject is that username.
    let text = String::from_utf8_lossy(&input);
    let by_line: BTreeMap<usize, _> = p.records.iter().map(|(l, r)| (*l, r)).collect();
    let mut users: BTreeMap<String, usize> = BTreeMap::new();
    for (i, l) in text.split('\n').enumerate() {
        if let Some(u) = l
            .split(" user=")
            .nth(1)
            .filter(|_| l.contains("sshd(pam_unix)"))
        {
            let u = u.trim();
            let r = by_line
                .get(&(i + 1))
                .unwrap_or_else(|| panic!("line {} not stored", i + 1));
            assert_eq!(r.fields()["account"], u, "line {}", i + 1);
            assert_eq!(r.subject().kind(), IdentifierKind::Username);
            assert_eq!(r.subject().value(), u);
            *users.entry(u.to_owned()).or_default() += 1;
        }
    }
    let want: BTreeMap<String, usize> = [("root", 351), ("guest", 17), ("test", 4)]
        .into_iter()
        .map(|(u, n)| (u.to_owned(), n))
        .collect();
    assert_eq!(users, want);
    // `rhost=`: grep -c 'rhost=[^ ]' -> 489 lines, all sshd's. The same Python
    // grouping: 412 of them are in sessions that name a subject, and each
    // keeps its rhost; 77 lines are in sessions naming an IP address (as
    // rhost) but no user: their subject is that address.
    assert_eq!(field(&p, "rhost").count(), 412);
    let by_ip = p
        .records
        .iter()
        .filter(|(_, r)| r.subject().kind() == IdentifierKind::Ip)
        .count();
    assert_eq!(by_ip, 77);
    // The first line of the file is `Jun 14 15:16:01 combo sshd(pam_unix)[19939]: …`.
    assert_eq!(p.records[0].0, 1);
    assert_eq!(p.records[0].1.occurred_at(), Some("2024-06-14T15:16:01"));
}

fn count(p: &Parsed, name: &str, value: &str) -> usize {
    field(p, name).filter(|v| *v == value).count()
}

/// Zeek ssh.log in JSON (issue 18 item 7): the `zeek-ssh` mapping.
#[test]
fn zeek_ssh_log_40_sessions_by_client_address_n2_4() {
    let Some(input) = data("zeek_ssh.log") else {
        return;
    };
    let p = parse(Format::ZeekSsh, "zeek_ssh.log", &input, &opts()).unwrap();
    // wc -l -> 40, one JSON object per line (SOURCES.md: 40 JSON lines).
    assert_eq!(p.records.len(), 40, "{:?} {:?}", p.skipped, p.rejected);
    assert!(p.skipped.is_empty() && p.rejected.is_empty());
    // python3: len({json.loads(l)['id.orig_h'] for l in open('zeek_ssh.log')}) -> 11
    let subjects: BTreeSet<&str> = p.records.iter().map(|(_, r)| r.subject().value()).collect();
    assert_eq!(subjects.len(), 11);
    assert!(
        p.records
            .iter()
            .all(|(_, r)| r.subject().kind() == IdentifierKind::Ip)
    );
    // collections.Counter(str(r.get('auth_success')) for r in recs) -> True 13, False 14, None 13
    assert_eq!(count(&p, "outcome", "success"), 13);
    assert_eq!(count(&p, "outcome", "failure"), 14);
    assert_eq!(count(&p, "outcome", "info"), 13);
    // sum(r['auth_attempts'] for r in recs) -> 60
    let attempts: u64 = p
        .records
        .iter()
        .map(|(_, r)| r.fields()["count"].as_u64().unwrap())
        .sum();
    assert_eq!(attempts, 60);
    // First line: "ts":1055289978.855137 -> datetime.fromtimestamp(ts, timezone.utc)
    // -> 2003-06-11 00:06:18.855137+00:00.
    assert_eq!(
        p.records[0].1.occurred_at(),
        Some("2003-06-11T00:06:18.855137Z")
    );
    assert_eq!(p.records[0].1.fields()["source_ip"], "66.59.111.190");
    assert_eq!(p.records[0].1.fields()["source_port"], 40264);
    assert_eq!(p.records[39].0, 40);
}

/// Zeek http.log in JSON (issue 18 item 7): the `zeek-http` mapping.
#[test]
fn zeek_http_log_222_requests_ipv4_and_ipv6_clients_n2_4() {
    let Some(input) = data("zeek_http.log") else {
        return;
    };
    let p = parse(Format::ZeekHttp, "zeek_http.log", &input, &opts()).unwrap();
    // wc -l -> 222 JSON lines.
    assert_eq!(p.records.len(), 222, "{:?} {:?}", p.skipped, p.rejected);
    assert!(p.skipped.is_empty() && p.rejected.is_empty());
    // No record has `username` (Counter over 'username' in r -> empty): every
    // subject is the client address. len({r['id.orig_h']}) -> 38; 4 records
    // from one IPv6 address (':' in r['id.orig_h']).
    let subjects: BTreeSet<&str> = p.records.iter().map(|(_, r)| r.subject().value()).collect();
    assert_eq!(subjects.len(), 38);
    let v6 = p
        .records
        .iter()
        .filter(|(_, r)| r.subject().value().contains(':'))
        .count();
    assert_eq!(v6, 4);
    // Keys present (Counter of keys): uri 210, status_code 176, user_agent 194,
    // referrer 52, version 176; method: GET 182, POST 28.
    assert_eq!(field(&p, "path").count(), 210);
    let status = p
        .records
        .iter()
        .filter(|(_, r)| r.fields().contains_key("status"))
        .count();
    assert_eq!(status, 176);
    assert_eq!(field(&p, "user_agent").count(), 194);
    assert_eq!(field(&p, "referrer").count(), 52);
    assert_eq!(field(&p, "protocol").count(), 176);
    assert_eq!(count(&p, "method", "GET"), 182);
    assert_eq!(count(&p, "method", "POST"), 28);
    // ts 1036020209.801685 -> 2002-10-30 23:23:29.801685+00:00
    assert_eq!(
        p.records[0].1.occurred_at(),
        Some("2002-10-30T23:23:29.801685Z")
    );
}

/// OCSF events (issue 18 item 7): the `ocsf-authentication` mapping on the
/// three OCSF files: one Authentication event, one malformed file, one API
/// Activity event that the mapping does not take.
#[test]
fn ocsf_authentication_okta_event_malformed_cloudtrail_and_other_class() {
    let Some(okta) = data("ocsf_okta_authentication_v1.3.0.ocsf.json") else {
        return;
    };
    let p = parse(Format::OcsfAuthentication, "okta.ocsf.json", &okta, &opts()).unwrap();
    assert_eq!(p.records.len(), 1, "{:?} {:?}", p.skipped, p.rejected);
    let (line, r) = &p.records[0];
    assert_eq!(*line, 1);
    // "actor": {"user": {"email_addr": "john.doe@example.com", "name": "John Doe", ...}}
    assert_eq!(r.subject().kind(), IdentifierKind::Email);
    assert_eq!(r.subject().value(), "john.doe@example.com");
    assert_eq!(r.kind().full_name(), "usage.authentication");
    assert_eq!(r.fields()["event"], "Logon");
    assert_eq!(r.fields()["outcome"], "success");
    assert_eq!(r.fields()["source_ip"], "10.0.0.1");
    assert_eq!(r.fields()["account"], "John Doe");
    assert_eq!(r.fields()["message"], "User login to Okta");
    assert_eq!(r.occurred_at(), Some("2024-08-13T15:58:20.000Z"));

    // SOURCES.md: invalid JSON as published (trailing comma, line 25).
    // python3 -c "import json; json.load(open(...))" -> Expecting property name
    // enclosed in double quotes: line 26 column 5: the `}` after the comma.
    if let Some(bad) = data("ocsf_aws_cloudtrail_authentication_v1.5.0.ocsf.json") {
        let p = parse(Format::OcsfAuthentication, "ct.ocsf.json", &bad, &opts()).unwrap();
        assert!(p.records.is_empty() && p.rejected.is_empty());
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(
            p.skipped[0].message("ct.ocsf.json"),
            "ct.ocsf.json:26:5: malformed: not in the format's grammar"
        );
    }
    // "class_uid": 6003 (API Activity): not an Authentication event.
    if let Some(other) = data("ocsf_aws_cloudtrail_account_change_v1.5.0.ocsf.json") {
        let p = parse(Format::OcsfAuthentication, "ac.ocsf.json", &other, &opts()).unwrap();
        assert!(p.records.is_empty() && p.rejected.is_empty());
        assert_eq!(p.skipped_for(SkipReason::NotSelected), 1);
    }
}

/// AWS CloudTrail records (issue 18 item 7): the `aws-cloudtrail` mapping.
#[test]
fn aws_cloudtrail_records_sign_in_user_and_service_call_account() {
    let (Some(auth), Some(call)) = (
        data("ocsf_aws_cloudtrail_authentication_v1.5.0.raw.json"),
        data("ocsf_aws_cloudtrail_account_change_v1.5.0.raw.json"),
    ) else {
        return;
    };
    let p = parse(Format::AwsCloudtrail, "auth.json", &auth, &opts()).unwrap();
    assert_eq!(p.records.len(), 1, "{:?} {:?}", p.skipped, p.rejected);
    let r = &p.records[0].1;
    // "additionalEventData": {"UserName": "test"}; userIdentity has no userName.
    assert_eq!(r.subject().kind(), IdentifierKind::Username);
    assert_eq!(r.subject().value(), "test");
    assert_eq!(r.fields()["user"], "test");
    assert_eq!(r.fields()["client_ip"], "0.0.0.0");
    assert_eq!(r.fields()["method"], "CredentialChallenge");
    assert_eq!(r.fields()["path"], "signin.amazonaws.com");
    assert_eq!(r.occurred_at(), Some("2024-09-19T16:32:46Z"));

    // "sourceIPAddress": "ecs.amazonaws.com" is a service, not an address:
    // left out, and the subject is the account ("accountId": "112233445566").
    let p = parse(Format::AwsCloudtrail, "call.json", &call, &opts()).unwrap();
    assert_eq!(p.records.len(), 1, "{:?} {:?}", p.skipped, p.rejected);
    let r = &p.records[0].1;
    assert_eq!(r.subject().kind(), IdentifierKind::BillingAccount);
    assert_eq!(r.subject().value(), "112233445566");
    assert!(!r.fields().contains_key("client_ip"));
    assert_eq!(r.fields()["method"], "DescribeTargetHealth");
    assert_eq!(r.fields()["user_agent"], "ecs.amazonaws.com");

    // The two as a CloudTrail log file: {"Records": [..]}, each at its line.
    let mut file = b"{\"Records\": [\n".to_vec();
    file.extend_from_slice(&auth);
    file.extend_from_slice(b",\n");
    file.extend_from_slice(&call);
    file.extend_from_slice(b"\n]}\n");
    let p = parse(Format::AwsCloudtrail, "trail.json", &file, &opts()).unwrap();
    assert_eq!(p.records.len(), 2);
    // The first record starts on line 2; the second after the first's lines
    // (its newlines, counted here) and the `,` line.
    let first_lines = auth.iter().filter(|b| **b == b'\n').count();
    assert_eq!(p.records[0].0, 2);
    assert_eq!(p.records[1].0, 2 + first_lines + 1);
}

/// Okta System Log (issue 18 item 7): the `okta-system-log` mapping.
#[test]
fn okta_system_log_sign_in_by_login_email() {
    let Some(input) = data("ocsf_okta_authentication_v1.3.0.raw.json") else {
        return;
    };
    let p = parse(Format::OktaSystemLog, "okta.json", &input, &opts()).unwrap();
    assert_eq!(p.records.len(), 1, "{:?} {:?}", p.skipped, p.rejected);
    let r = &p.records[0].1;
    // "actor": {"alternateId": "john.doe@example.com"}, "client": {"ipAddress": "10.0.0.1"}
    assert_eq!(r.subject().kind(), IdentifierKind::Email);
    assert_eq!(r.subject().value(), "john.doe@example.com");
    assert_eq!(r.fields()["event"], "user.session.start");
    assert_eq!(r.fields()["outcome"], "success");
    assert_eq!(r.fields()["source_ip"], "10.0.0.1");
    assert_eq!(r.fields()["message"], "User login to Okta");
    // "credentialType": null: absent.
    assert!(!r.fields().contains_key("method"));
    assert_eq!(r.occurred_at(), Some("2024-08-13T15:58:20.353Z"));
    // As the System Log API returns it: a JSON array.
    let mut arr = b"[".to_vec();
    arr.extend_from_slice(&input);
    arr.extend_from_slice(b",");
    arr.extend_from_slice(&input);
    arr.extend_from_slice(b"]");
    let p = parse(Format::OktaSystemLog, "okta.json", &arr, &opts()).unwrap();
    assert_eq!(p.records.len(), 2);
}
