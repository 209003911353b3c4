//! What the CLI's integration tests share: running the `steward` binary on
//! a data directory and reading its output. Each test binary uses a part.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `steward --data-dir DIR ARGS…`, its output collected.
pub fn steward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run steward")
}

/// The standard output of a run that must have succeeded (else the test
/// fails showing both streams).
pub fn succeeded(o: Output, args: &[&str]) -> String {
    assert!(
        o.status.success(),
        "steward {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// [`steward`] that must succeed: its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    succeeded(steward(dir, args), args)
}

/// One JSON document (the whole text, trimmed).
pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}
