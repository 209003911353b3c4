//! Issue 21: a graceful stop (Ctrl-C) of `steward serve` on a PostgreSQL
//! store exits cleanly. The PostgreSQL client's drop runs a runtime of its
//! own, which panicked ("Cannot start a runtime from within a runtime")
//! when the server's last reference to the store was dropped inside the
//! server's runtime.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn pg_url() -> Option<String> {
    let url = std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if TcpStream::connect_timeout(&"127.0.0.1:5432".parse().unwrap(), Duration::from_secs(2))
        .is_ok()
    {
        return Some(url);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI: PostgreSQL on 127.0.0.1:5432 is unreachable; start it (see .ci/run)"
    );
    println!("skip: PostgreSQL on 127.0.0.1:5432 is unreachable");
    None
}

#[test]
fn ctrl_c_stops_a_postgres_backed_server_without_a_panic() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let schema = format!(
        "steward_rd_serve_{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    let cfg = dir.path().join("steward.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[regions]]\nname = \"jp\"\ncountry = \"JP\"\nstore = \"{url}{sep}schema={schema}\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(&data)
        .arg("--config")
        .arg(&cfg)
        .args(["serve", "--listen", "127.0.0.1:0", "--insecure-http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start steward serve");
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("steward: serving http://") {
            addr = Some(a.trim().to_owned());
            break;
        }
    }
    let addr = addr.expect("serve prints its address");
    // The server answers before it is stopped.
    let mut s = TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // Ctrl-C: SIGINT to the process.
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        rest.iter().any(|l| l == "steward: shutting down"),
        "{rest:?}"
    );
    assert!(!err.contains("panicked"), "stderr: {err}");
    assert!(status.success(), "exit {status:?}, stderr: {err}");
}
