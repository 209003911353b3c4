//! `steward notice coverage`: the command behind the CLI, with a plain
//! argument struct so the `steward` binary stays a thin wrapper.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::coverage::{
    CoverageReport, baseline_text, check_baseline, coverage, render_json, render_text,
};
use crate::error::NoticeError;

/// One-line description of `steward notice coverage`.
pub const COVERAGE_ABOUT: &str =
    "Report, per clause of the privacy notice, the enforcing code and the tests that cite it";

/// Long help of `steward notice coverage`.
pub const COVERAGE_HELP: &str = "\
Report, per clause of the privacy notice (the register in crates/steward-notice/clauses.toml),
the enforcing code and the tests that cite it.

The repository is scanned at RUN time, not at build time: every *.rs file under crates/ and
bench/ of --root (directories named target and hidden ones are skipped), and the Cedar
policies under crates/steward-policy/pack/. A citation is a clause ID such as N6.5 or N6.5e in
a //, //!, /// or block comment or a #[doc] string; the same ID as word parts of a function
name (fn refuses_unknown_field_n1_3, fn admin_restricts_n6_5e); or an @clause(\"N3.5\")
annotation of a policy. N7.1-N7.3 cites N7.1, N7.2 and N7.3; a part (N6.5e) counts for itself
and for its clause (N6.5).

A citation is a test when it is under a tests/ directory, inside a #[cfg(test)] module, or in
or on a #[test] / #[tokio::test] function; otherwise it is enforcing code (policies are
enforcing code). Status per clause: proven (enforcing code and a test), `enforced, untested`,
`tested, no enforcing code found`, or open. The text report ends with `proven P / 45 operative`.

--check-baseline FILE fails (exit 1) naming each clause listed in FILE that is no longer
proven. --write-baseline FILE writes the proven clauses to FILE; it refuses (exit 1) when FILE
already lists a clause that is no longer proven, because coverage may only grow.

Exit status: 0 report written (and baseline kept); 1 baseline check failed or refused;
errors (unreadable files, a --root that is not a Steward workspace) are reported as errors.";

/// The arguments of `steward notice coverage [--json] [--root DIR]
/// [--check-baseline FILE] [--write-baseline FILE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageArgs {
    /// Print the report as JSON instead of text (`--json`).
    pub json: bool,
    /// The repository root to scan (`--root DIR`, default `.`).
    pub root: PathBuf,
    /// Fail when a clause listed in this baseline is no longer proven
    /// (`--check-baseline FILE`).
    pub check_baseline: Option<PathBuf>,
    /// Write the proven clauses to this file (`--write-baseline FILE`);
    /// refused when the file lists a clause that is no longer proven.
    pub write_baseline: Option<PathBuf>,
}

impl Default for CoverageArgs {
    fn default() -> Self {
        CoverageArgs {
            json: false,
            root: PathBuf::from("."),
            check_baseline: None,
            write_baseline: None,
        }
    }
}

impl CoverageArgs {
    /// Parses the arguments after `coverage` (for examples and scripts; the
    /// `steward` CLI builds the struct with its own parser).
    ///
    /// # Errors
    /// [`NoticeError::Usage`] for an unknown argument or a missing value.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<CoverageArgs, NoticeError> {
        let mut out = CoverageArgs::default();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (a.clone(), None),
            };
            let mut value = |name: &str| -> Result<PathBuf, NoticeError> {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .map(PathBuf::from)
                    .ok_or_else(|| NoticeError::Usage {
                        detail: format!("{name} needs a value"),
                    })
            };
            match flag.as_str() {
                "--json" if inline.is_none() => out.json = true,
                "--root" => out.root = value("--root DIR")?,
                "--check-baseline" => out.check_baseline = Some(value("--check-baseline FILE")?),
                "--write-baseline" => out.write_baseline = Some(value("--write-baseline FILE")?),
                _ => {
                    return Err(NoticeError::Usage {
                        detail: format!(
                            "unknown argument `{a}`; expected [--json] [--root DIR] [--check-baseline FILE] [--write-baseline FILE]"
                        ),
                    });
                }
            }
        }
        Ok(out)
    }
}

#[derive(Serialize)]
struct BaselineOutcome {
    file: String,
    passed: bool,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    #[serde(flatten)]
    report: &'a CoverageReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_check: Option<BaselineOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_write: Option<BaselineOutcome>,
}

fn read_to_string(path: &PathBuf) -> Result<String, NoticeError> {
    fs::read_to_string(path).map_err(|e| NoticeError::io(path, e))
}

/// Runs `steward notice coverage` and writes the report to `out`; returns the
/// exit code: 0 when the report was written and every baseline kept, 1 when
/// the baseline check failed or writing a baseline was refused.
///
/// With `--json` the output is one JSON object: the report, plus
/// `baseline_check` and `baseline_write` (`{file, passed, problems}`) when
/// asked for. In text mode the baseline outcome follows the report.
///
/// # Errors
/// [`NoticeError::NotARepository`] for a bad `--root`; [`NoticeError::Io`]
/// when a source file, the baseline or the output cannot be read or written.
pub fn run_cli(args: CoverageArgs, out: &mut dyn Write) -> Result<i32, NoticeError> {
    let report = coverage(&args.root)?;
    let mut code = 0;
    let mut check = None;
    if let Some(path) = &args.check_baseline {
        let text = read_to_string(path)?;
        let problems = check_baseline(&report, &text).err().unwrap_or_default();
        if !problems.is_empty() {
            code = 1;
        }
        check = Some(BaselineOutcome {
            file: path.display().to_string(),
            passed: problems.is_empty(),
            problems,
        });
    }
    let mut write = None;
    if let Some(path) = &args.write_baseline {
        let problems = match fs::read_to_string(path) {
            Ok(old) => check_baseline(&report, &old).err().unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(NoticeError::io(path, e)),
        };
        if problems.is_empty() && code == 0 {
            fs::write(path, baseline_text(&report)).map_err(|e| NoticeError::io(path, e))?;
        } else {
            code = 1;
        }
        write = Some(BaselineOutcome {
            file: path.display().to_string(),
            passed: problems.is_empty() && code == 0,
            problems,
        });
    }
    let text = if args.json {
        let j = JsonOutput {
            report: &report,
            baseline_check: check,
            baseline_write: write,
        };
        let mut s = serde_json::to_string_pretty(&j).unwrap_or_else(|_| render_json(&report));
        s.push('\n');
        s
    } else {
        let mut s = render_text(&report);
        if let Some(c) = &check {
            if c.passed {
                s.push_str(&format!(
                    "baseline check passed: every clause listed in {} is still proven\n",
                    c.file
                ));
            } else {
                s.push_str(&format!(
                    "baseline check FAILED: {} clause(s) listed in {} are no longer proven:\n",
                    c.problems.len(),
                    c.file
                ));
                for p in &c.problems {
                    s.push_str(&format!("  {p}\n"));
                }
            }
        }
        if let Some(w) = &write {
            if w.passed {
                s.push_str(&format!(
                    "wrote {}: {} proven operative clause(s)\n",
                    w.file, report.proven_operative
                ));
            } else if w.problems.is_empty() {
                s.push_str(&format!(
                    "not writing {}: the baseline check failed\n",
                    w.file
                ));
            } else {
                s.push_str(&format!(
                    "not writing {}: coverage may only grow, and these clauses it lists are no longer proven:\n",
                    w.file
                ));
                for p in &w.problems {
                    s.push_str(&format!("  {p}\n"));
                }
            }
        }
        s
    };
    out.write_all(text.as_bytes())
        .map_err(|e| NoticeError::io("<output>", e))?;
    Ok(code)
}
