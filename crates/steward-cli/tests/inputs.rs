//! What a new user's inputs broke (issue 18), driven through the `steward`
//! binary as that user would: a closed standard error, the lost bootstrap
//! token's way back in, lines and columns of what was skipped or rejected,
//! syslog years, held records after an erasure, and an export or erasure of
//! nobody.

use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{json, ok, steward};

/// Records stored, summed over `steward subjects --json`.
fn stored(dir: &Path) -> u64 {
    json(&ok(dir, &["subjects", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["records"].as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum()
}

const GOOD: &str = r#"{"subject":"username:ann","kind":"usage.authentication","fields":{"event":"login","outcome":"success","account":"ann"}}"#;
/// A record the closed schema refuses (N1.3): `document_body` is no field of
/// `account.profile`.
const REFUSED: &str =
    r#"{"subject":"username:bob","kind":"account.profile","fields":{"document_body":"x"}}"#;

/// Item 1: with standard output and standard error both closed (a pipe whose
/// reader is gone: every write fails with EPIPE), an ingest whose input has
/// one refused line stores its three good lines and exits 0; before the
/// fix the first report line panicked (exit 101) and nothing was stored.
#[test]
fn a_closed_stderr_loses_no_record_of_an_ingest_issue18_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("{GOOD}\n{REFUSED}\n{GOOD}\n{GOOD}\n")).unwrap();
    let (r1, w1) = std::io::pipe().unwrap();
    let (r2, w2) = std::io::pipe().unwrap();
    drop((r1, r2));
    let status = Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--format", "jsonl", input.to_str().unwrap()])
        .stdout(Stdio::from(w1))
        .stderr(Stdio::from(w2))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "no panic, the good lines stored");
    assert_eq!(stored(&data), 3);
}

/// Item 2: the operator issues a new operator API token from the data
/// directory (the bootstrap token of a first `serve` that could not bind is
/// no longer made, and this is the way back in when one is lost); the token
/// authenticates as the operator and its issue is in the audit log.
#[test]
fn the_operator_issues_an_api_token_from_the_data_directory_issue18_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = json(&ok(&data, &["tokens", "issue", "--days", "2", "--json"]));
    let token = out["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("stw_"), "{out}");
    let st = steward_core::Steward::open(
        &data,
        steward_core::Config::default(),
        steward_core::OpenOptions::default(),
    )
    .unwrap();
    let auth = st
        .authenticate_token(&token)
        .unwrap()
        .expect("authenticates");
    assert_eq!(auth.principal.name, st.operator());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expires = out["expires_at"].as_i64().unwrap();
    assert!(
        (now + 2 * 86_400 - 60..=now + 2 * 86_400 + 60).contains(&expires),
        "two days: {expires} vs now {now}"
    );
    let hits = ok(&data, &["audit", "search", "--action", "token_issue"]);
    assert!(hits.contains("token_issue"), "{hits}");
}

/// Item 3: every skipped and rejected line is named by file and line, a JSON
/// syntax error also by column, in the human report (stderr) and in
/// `--json` (`skips`, `rejections`); a rejection does not repeat its
/// `file:line:` prefix. Line 3 is `{"subject": x}`: the `x` is character
/// 13 of the line (counted by hand), where JSON expects a value.
#[test]
fn skipped_and_rejected_lines_name_their_file_line_and_column_issue18_3() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("{GOOD}\n\n{{\"subject\": x}}\n{REFUSED}\n")).unwrap();
    let human = steward(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    assert_eq!(human.status.code(), Some(0));
    let err = String::from_utf8_lossy(&human.stderr);
    assert!(err.contains("in.jsonl:2: blank_line"), "{err}");
    assert!(err.contains("in.jsonl:3:13: malformed"), "{err}");
    assert!(err.contains("in.jsonl:4: rejected: "), "{err}");
    assert_eq!(err.matches("in.jsonl:4:").count(), 1, "one prefix: {err}");

    let o = steward(
        &data,
        &[
            "ingest",
            "--format",
            "jsonl",
            "--json",
            input.to_str().unwrap(),
        ],
    );
    let s = json(&String::from_utf8_lossy(&o.stdout));
    let skips = s["skips"].as_array().unwrap();
    assert_eq!(skips.len(), 2, "{s}");
    assert_eq!(skips[0]["line"], 2);
    assert_eq!(skips[0]["reason"], "blank_line");
    assert_eq!(skips[1]["line"], 3);
    assert_eq!(skips[1]["column"], 13);
    assert!(skips[1]["file"].as_str().unwrap().ends_with("in.jsonl"));
    let rejections = s["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0]["line"], 4);
    assert!(
        rejections[0]["reason"]
            .as_str()
            .unwrap()
            .contains("document_body"),
        "{s}"
    );
    assert!(
        !rejections[0]["reason"]
            .as_str()
            .unwrap()
            .contains("in.jsonl")
    );
}

/// The `occurred_at` of every record in an export ZIP's `<category>.json`.
fn occurred(zip_path: &Path, category: &str) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut f = z.by_name(&format!("{category}.json")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut f, &mut text).unwrap();
    let mut v: Vec<String> = json(&text)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["occurred_at"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// Item 4: syslog lines carry no year. Without `--year`, `Dec 31` then
/// `Jan  1` land in consecutive years (the year rolls forward where the
/// months go back), and neither is dated in the future.
#[test]
fn syslog_years_roll_forward_and_never_reach_the_future_issue18_4() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("auth.log");
    std::fs::write(
        &input,
        "Dec 31 23:59:58 host sshd[101]: Accepted password for yearuser from 10.9.8.7 port 50000 ssh2\n\
         Jan  1 00:00:01 host sshd[102]: Accepted password for yearuser from 10.9.8.7 port 50001 ssh2\n",
    )
    .unwrap();
    ok(
        &data,
        &["ingest", "--format", "openssh", input.to_str().unwrap()],
    );
    let zip = dir.path().join("out.zip");
    ok(
        &data,
        &[
            "export",
            "--subject",
            "username:yearuser",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    let at = occurred(&zip, "usage");
    assert_eq!(at.len(), 2, "{at:?}");
    let year = |s: &str| s[..4].parse::<i32>().unwrap();
    let (dec, jan) = (&at[0], &at[1]);
    assert!(dec.contains("-12-31T23:59:58"), "{at:?}");
    assert!(jan.contains("-01-01T00:00:01"), "{at:?}");
    assert_eq!(year(dec) + 1, year(jan));
    // BSD stamps are the logging host's local time, stored without an offset.
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let parse = |s: &str| {
        time::PrimitiveDateTime::parse(s, &fmt)
            .unwrap()
            .assume_utc()
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(
        parse(jan) <= now + time::Duration::DAY,
        "not in the future: {jan}"
    );
    assert!(
        parse(jan) > now - time::Duration::days(367),
        "within a year: {jan}"
    );
}

/// Item 6 (N3.7): after an erasure kept billing under a legal hold, an
/// export of the erased subject says how many records are held, why and
/// until when, instead of an empty ZIP; a `comply` read by the erased
/// subject's id reaches them and says the same.
#[test]
fn held_records_are_announced_and_reached_for_comply_issue18_6_n3_7() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    let pay = r#"{"subject":"username:held","kind":"billing.payment","fields":{"amount":"10.00","currency":"EUR"}}"#;
    let login = GOOD.replace("ann", "held");
    std::fs::write(&input, format!("{pay}\n{pay}\n{login}\n")).unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    let receipt = json(&ok(&data, &["erase", "--subject", "username:held"]));
    let sub = receipt["subject"].as_str().unwrap().to_owned();
    assert_eq!(receipt["records_unreadable"], 1, "{receipt}");

    let zip = dir.path().join("held.zip");
    let o = steward(
        &data,
        &["export", "--subject", &sub, "--out", zip.to_str().unwrap()],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(!zip.exists(), "no empty ZIP");
    let err = String::from_utf8_lossy(&o.stderr);
    // The default rule for billing: 7 years, "financial record-keeping (N3.7)".
    let until = (time::OffsetDateTime::now_utc().year() + 7).to_string();
    assert!(err.contains("2 billing.payment"), "{err}");
    assert!(err.contains("financial record-keeping"), "{err}");
    assert!(err.contains(&format!("until {until}-")), "{err}");

    let ob = json(&ok(
        &data,
        &[
            "obligations",
            "record",
            // The operator is privacy staff: it records data subject
            // requests, and a comply read names its category (issue 17
            // items 2, 3).
            "--kind",
            "data_subject_request",
            "--reference",
            "court-1",
        ],
    ));
    let ob = ob["id"].as_str().unwrap().to_owned();
    let r = steward(
        &data,
        &[
            "read",
            "--as",
            "operator",
            "--purpose",
            "comply",
            "--obligation",
            &ob,
            "--category",
            "billing",
            "--subject",
            &sub,
        ],
    );
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(
        err.contains("held under a legal hold: 2 billing.payment"),
        "{err}"
    );
    let lines: Vec<_> = String::from_utf8_lossy(&r.stdout)
        .lines()
        .map(json)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["kind"] == "billing.payment"));
    assert_eq!(lines[0]["fields"]["amount"], "10.00");
}

/// Item 8: an export or erasure for an identifier that matches nobody exits
/// non-zero with a clear message, writes no ZIP, and records no obligation
/// (the audit log gains no `obligation_record` entry).
#[test]
fn an_export_or_erasure_of_nobody_fails_and_records_no_obligation_issue18_8() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("{GOOD}\n")).unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    let obligations = |data: &Path| {
        ok(data, &["audit", "search", "--action", "obligation_record"])
            .lines()
            .filter(|l| l.contains("obligation_record"))
            .count()
    };
    assert_eq!(obligations(&data), 0);
    let zip = dir.path().join("nobody.zip");
    let o = steward(
        &data,
        &[
            "export",
            "--subject",
            "username:nobody",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("matches no data subject"), "{err}");
    assert!(
        !err.contains("nobody"),
        "the identifier is not echoed: {err}"
    );
    assert!(!zip.exists());
    let e = steward(&data, &["erase", "--subject", "email:nobody@example.com"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("nothing to erase"));
    assert_eq!(obligations(&data), 0, "no obligation recorded");
    // An existing subject still exports, answering a new obligation.
    ok(
        &data,
        &[
            "export",
            "--subject",
            "username:ann",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert!(zip.exists());
    assert_eq!(obligations(&data), 1);
}
