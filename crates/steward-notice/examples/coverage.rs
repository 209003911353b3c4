//! Runs `steward notice coverage` without the `steward` binary, with the same
//! arguments: `[--json] [--root DIR] [--check-baseline FILE] [--write-baseline FILE]`.
//!
//! `cargo run -p steward-notice --example coverage -- --root . --check-baseline crates/steward-notice/coverage-baseline.txt`

use std::process::ExitCode;

use steward_notice::{CoverageArgs, run_cli};

fn main() -> ExitCode {
    let args = match CoverageArgs::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run_cli(args, &mut std::io::stdout().lock()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
