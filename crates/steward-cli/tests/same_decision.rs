//! Issue 12: the CLI and the HTTP API make no decision of their own. The
//! same management operation (adding a support-team employee, N5.5) run
//! through the `steward` binary and through `POST /v1/principals` of
//! `steward serve` is decided by the core the same way: one audit entry each
//! with the same action, purpose, decision, policy ids, clause ids and
//! operation. A second add under the same name is refused on both paths
//! (issue 14: a name is never replaced).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use steward_core::{AuditFilter, Config, OpenOptions, Steward};

fn steward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run steward")
}

/// `steward serve`, killed (by its own id) when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `steward serve` on a free loopback port over plain HTTP; returns
/// the server, its address and the bootstrap token it prints once.
fn serve(dir: &Path) -> (Serve, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--insecure-http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start steward serve");
    let out = child.stdout.take().unwrap();
    let server = Serve(child);
    let mut lines = BufReader::new(out).lines();
    let (mut addr, mut token) = (None, None);
    while let Some(Ok(line)) = lines.next() {
        if let Some(a) = line.strip_prefix("steward: serving http://") {
            addr = Some(a.trim().to_owned());
        } else if line.starts_with("stw_") {
            token = Some(line.trim().to_owned());
        }
        if addr.is_some() && token.is_some() {
            break;
        }
    }
    (
        server,
        addr.expect("serve prints its address"),
        token.expect("serve prints the bootstrap token"),
    )
}

/// One HTTP/1.1 request; returns the status code and the body.
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_owned())
}

/// The allowed `manage_principals` decisions about `name` in `dir`'s audit
/// log, as (action, purpose, decision, policy ids, clause ids, resource ids).
fn decisions(dir: &Path, name: &str) -> Vec<Value> {
    let st = Steward::open(dir, Config::default(), OpenOptions::default()).unwrap();
    st.audit_search(&AuditFilter {
        action: Some("manage_principals".into()),
        decision: Some("allow".into()),
        ..Default::default()
    })
    .unwrap()
    .into_iter()
    .map(|e| serde_json::from_str::<Value>(&e).unwrap())
    .filter(|e| {
        e["resource"]["ids"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|i| i == name))
    })
    .map(|e| {
        serde_json::json!({
            "action": e["action"],
            "principal": e["principal"],
            "purpose": e["purpose"],
            "decision": e["decision"],
            "policy_ids": e["policy_ids"],
            "clause_ids": e["clause_ids"],
            "policy_version": e["policy_version"],
            "resource_ids": e["resource"]["ids"],
        })
    })
    .collect()
}

#[test]
fn the_cli_and_the_api_record_the_same_decision_n5_5() {
    let today = time::OffsetDateTime::now_utc().date();
    let expires = (today + time::Duration::days(30)).to_string();
    let signed = today.to_string();

    // The CLI, as the configured operator.
    let cli_dir = tempfile::tempdir().unwrap();
    let args = [
        "principals",
        "add",
        "sam",
        "--kind",
        "employee",
        "--teams",
        "support",
        "--confidentiality-signed",
        &signed,
        "--training-expires",
        &expires,
    ];
    let o = steward(cli_dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let again = steward(cli_dir.path(), &args);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The API, as the configured operator's bootstrap token.
    let api_dir = tempfile::tempdir().unwrap();
    let body = serde_json::json!({
        "name": "sam",
        "kind": "employee",
        "teams": ["support"],
        "confidentiality_signed_on": signed,
        "training_expires_on": expires,
    })
    .to_string();
    {
        let (_server, addr, token) = serve(api_dir.path());
        let (status, resp) = http(&addr, "POST", "/v1/principals", &token, &body);
        assert_eq!(status, 201, "{resp}");
        let (status, resp) = http(&addr, "POST", "/v1/principals", &token, &body);
        assert_eq!(status, 400, "{resp}");
        assert!(resp.contains("already exists"), "{resp}");
    }

    let by_cli = decisions(cli_dir.path(), "sam");
    let by_api = decisions(api_dir.path(), "sam");
    // Each path: the first add and the refused second one were both
    // decided (the refusal is of the name, after the decision).
    assert_eq!(by_cli.len(), 2, "{by_cli:#?}");
    assert_eq!(by_cli, by_api);
    let d = &by_cli[0];
    assert_eq!(d["action"], "manage_principals");
    assert_eq!(d["purpose"], "protect");
    assert_eq!(d["principal"], "operator");
    assert_eq!(d["policy_ids"], serde_json::json!(["bootstrap-operator"]));
    assert_eq!(
        d["resource_ids"],
        serde_json::json!(["op:principal_add", "sam"])
    );
}
