//! Coverage over a fixture tree with known citations: exact statuses and
//! locations, ranges (which cite nothing) and parts, test classification
//! (only a `#[test]` function's name or doc proves a clause), policies,
//! skipped directories, the baseline gate and the CLI entry point.

use std::fs;
use std::path::Path;

use steward_notice::{
    CoverageArgs, CoverageReport, Location, NoticeError, Status, baseline_text, check_baseline,
    coverage, render_json, render_text, run_cli,
};

const LIB_RS: &str = r#"//! Alpha: stores records (N1.1).

/// Refuses unknown fields (N1.3).
#[inline]
pub fn store() -> u8 {
    // Export per N7.2 (N7.1-N7.3 is a range: no citation).
    let s = "// N2.2 is inside a string, not a comment";
    let c = '"'; // N4.1 after a quote char literal
    s.len() as u8 + c as u8
}

#[doc = "Administrators may view billing (N6.5a)."]
pub struct Admin;

impl Admin {
    /// Suspends access, N6.5c.
    pub fn suspend(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown_field_n1_3() {
        // checks N6.5e, N1.9 and N2.1z
        store();
    }

    fn helper_n6_5c() {}
    /// Suspending works (N6.5c).
    #[test]
    fn suspend_works() {}
}
#[cfg(test)]
mod unit;
"#;

const UNIT_RS: &str =
    "// N8.8 in a test module's own file: neither enforcing code nor a test\nfn t() {}\n";

const API_RS: &str =
    "use alpha::store;\n\n/// N7.2\n#[test]\nfn export_works() {\n    store();\n}\n";

const OTHER_RS: &str = r#"#[test]
fn bare_test_n2_1() {}

/// Locks out (N5.5).
#[tokio::test]
async fn async_test() {
    // N8.6 inside a test body
}
/* block comment N5.2 */
const LIMIT: u32 = 3; // N5.1
// N3.5b
"#;

const POLICY: &str = r#"// Support reads tied to a case.
@id("support-case-reads")
@clause("N3.5")
permit (principal, action, resource)
when { context.case_open };

@clause("N6.5b-N6.5d")
forbid (principal, action, resource);
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "crates/alpha/src/lib.rs", LIB_RS);
    write(root, "crates/alpha/src/unit.rs", UNIT_RS);
    write(root, "crates/alpha/src/other.rs", OTHER_RS);
    write(root, "crates/alpha/tests/api.rs", API_RS);
    write(
        root,
        "crates/alpha/target/debug/gen.rs",
        "// N3.3\nfn g() {}\n",
    );
    write(root, "crates/.hidden/x.rs", "// N3.3\n");
    write(root, "crates/alpha/README.md", "N4.4\n");
    write(root, "bench/src/main.rs", "fn main() {} // N5.3\n");
    write(root, "crates/steward-policy/pack/support.cedar", POLICY);
    dir
}

fn locs(ls: &[Location]) -> Vec<String> {
    ls.iter()
        .map(|l| {
            let mut s = l.to_string();
            if !l.cited_as.contains(['a', 'b', 'c', 'd', 'e']) {
                return s;
            }
            s.push_str(&format!(" [{}]", l.cited_as));
            s
        })
        .collect()
}

fn status(r: &CoverageReport, id: &str) -> Status {
    r.status_of(id)
        .unwrap_or_else(|| panic!("{id} not in the register"))
}

#[test]
fn statuses_and_locations_are_exact() {
    let dir = fixture();
    let r = coverage(dir.path()).unwrap();

    let lib = "crates/alpha/src/lib.rs";
    let c = r.clause("N1.3").unwrap();
    assert_eq!(c.status, Status::Proven);
    assert_eq!(locs(&c.enforcing), [format!("{lib}:3  fn store")]);
    assert_eq!(
        locs(&c.tests),
        [format!("{lib}:25  fn refuses_unknown_field_n1_3")]
    );

    let c = r.clause("N1.1").unwrap();
    assert_eq!(c.status, Status::EnforcedUntested);
    assert_eq!(locs(&c.enforcing), [format!("{lib}:1  module doc")]);

    // A range cites nothing; a trailing comment belongs to its fn.
    for id in ["N7.1", "N7.3"] {
        assert_eq!(r.clause(id).unwrap().status, Status::Open, "{id}");
    }
    let c = r.clause("N7.2").unwrap();
    assert_eq!(c.status, Status::Proven);
    assert_eq!(locs(&c.enforcing), [format!("{lib}:6  fn store")]);
    assert_eq!(
        locs(&c.tests),
        ["crates/alpha/tests/api.rs:3  fn export_works"]
    );
    assert_eq!(
        locs(&r.clause("N4.1").unwrap().enforcing),
        [format!("{lib}:8  fn store")]
    );

    // Parts count for themselves and for their clause; the policy's range
    // (N6.5b-N6.5d) cites nothing, nor do a test body's comment (N6.5e) or
    // a helper's name (N6.5c); the #[test]'s doc does.
    let c = r.clause("N6.5").unwrap();
    assert_eq!(c.status, Status::Proven);
    assert_eq!(
        locs(&c.enforcing),
        [
            format!("{lib}:12  struct Admin [N6.5a]"),
            format!("{lib}:16  fn suspend [N6.5c]"),
        ]
    );
    assert_eq!(
        locs(&c.tests),
        [format!("{lib}:31  fn suspend_works [N6.5c]")]
    );
    let parts: Vec<(&str, Status)> = c.parts.iter().map(|p| (p.id.as_str(), p.status)).collect();
    assert_eq!(
        parts,
        [
            ("N6.5a", Status::EnforcedUntested),
            ("N6.5b", Status::Open),
            ("N6.5c", Status::Proven),
            ("N6.5d", Status::Open),
            ("N6.5e", Status::Open),
        ]
    );

    // Test classification: a comment in a #[cfg(test)] module file is not
    // enforcing code (and, outside a #[test], no test either); a bare
    // #[test] and a #[tokio::test]'s doc outside any test module prove.
    assert_eq!(status(&r, "N8.8"), Status::Open);
    let other = "crates/alpha/src/other.rs";
    assert_eq!(
        locs(&r.clause("N2.1").unwrap().tests),
        [format!("{other}:2  fn bare_test_n2_1")]
    );
    assert_eq!(
        locs(&r.clause("N5.5").unwrap().tests),
        [format!("{other}:4  fn async_test")]
    );
    assert_eq!(status(&r, "N5.5"), Status::TestedNoEnforcingCode);
    assert_eq!(status(&r, "N8.6"), Status::Open);
    assert_eq!(
        locs(&r.clause("N5.2").unwrap().enforcing),
        [format!("{other}:9  const LIMIT")]
    );
    assert_eq!(
        locs(&r.clause("N5.1").unwrap().enforcing),
        [format!("{other}:10  const LIMIT")]
    );
    assert_eq!(
        locs(&r.clause("N5.3").unwrap().enforcing),
        ["bench/src/main.rs:1  fn main"]
    );

    // Policy annotations are enforcing code.
    let c = r.clause("N3.5").unwrap();
    assert_eq!(c.status, Status::EnforcedUntested);
    assert_eq!(
        locs(&c.enforcing),
        [
            "crates/alpha/src/other.rs:11 [N3.5b]".to_owned(),
            "crates/steward-policy/pack/support.cedar:3  policy support-case-reads".to_owned(),
        ]
    );

    // Strings, target/, hidden directories and non-Rust files are not read.
    for id in ["N2.2", "N3.3", "N4.4"] {
        assert_eq!(status(&r, id), Status::Open, "{id}");
    }

    // IDs outside the register: an unknown clause and an undefined part.
    let un: Vec<String> = r
        .unregistered
        .iter()
        .map(|u| format!("{} {}", u.location.cited_as, u.location))
        .collect();
    assert_eq!(un, [format!("N3.5b {other}:11")]);

    // Every clause not named above is open.
    let named = [
        "N1.1", "N1.3", "N2.1", "N3.5", "N4.1", "N5.1", "N5.2", "N5.3", "N5.5", "N6.5", "N7.2",
    ];
    for c in &r.clauses {
        if !named.contains(&c.id.as_str()) {
            assert_eq!(c.status, Status::Open, "{}", c.id);
        }
    }
    assert_eq!(r.operative, 45);
    assert_eq!(r.proven_operative, 3);
}

#[test]
fn text_report_ends_with_the_proven_count_and_json_has_the_statuses() {
    let dir = fixture();
    let r = coverage(dir.path()).unwrap();
    let text = render_text(&r);
    assert_eq!(text.lines().last(), Some("proven 3 / 45 operative"));
    assert!(text.contains(
        "N6.5   [op]  proven  -- Give administrators and authorised resellers exactly the five listed powers over the accounts they manage (parts a to e).\n"
    ));
    assert!(text.contains(
        "       enforcing  crates/alpha/src/lib.rs:12  struct Admin  (cited as N6.5a)\n"
    ));
    assert!(text.contains("       N6.5e   open  -- "));
    assert!(text.contains("N8.3   [org] open  -- "));
    let json: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(json["proven_operative"], 3);
    assert_eq!(json["clauses"][0]["id"], "N1.1");
    assert_eq!(json["clauses"][0]["status"], "enforced, untested");
    assert_eq!(json["clauses"].as_array().unwrap().len(), 48);
}

#[test]
fn baseline_check_fails_when_a_proven_clause_loses_its_last_test() {
    let dir = fixture();
    let before = coverage(dir.path()).unwrap();
    let baseline = baseline_text(&before);
    let listed: Vec<&str> = baseline.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(listed, ["N1.3", "N6.5", "N6.5c", "N7.2"]);
    assert_eq!(check_baseline(&before, &baseline), Ok(()));

    // The only test of N7.2 goes away.
    fs::remove_file(dir.path().join("crates/alpha/tests/api.rs")).unwrap();
    let after = coverage(dir.path()).unwrap();
    assert_eq!(
        after.clause("N7.2").unwrap().status,
        Status::EnforcedUntested
    );
    assert_eq!(
        check_baseline(&after, &baseline),
        Err(vec![
            "N7.2 (baseline line 8) was proven and is now `enforced, untested`: no test cites it any more"
                .to_owned()
        ])
    );
    // Comments, blank lines and unknown IDs in a hand-written baseline.
    assert_eq!(
        check_baseline(&after, "# header\n\nN1.3  # still proven\nN9.1\n"),
        Err(vec![
            "N9.1 (baseline line 4) is not a clause or part of the clause register".to_owned()
        ])
    );
}

#[test]
fn cli_checks_and_writes_baselines_and_only_lets_coverage_grow() {
    let dir = fixture();
    let root = dir.path().to_path_buf();
    let base = root.join("baseline.txt");

    let mut out = Vec::new();
    let args = CoverageArgs {
        root: root.clone(),
        write_baseline: Some(base.clone()),
        ..CoverageArgs::default()
    };
    assert_eq!(run_cli(args, &mut out).unwrap(), 0);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("proven 3 / 45 operative\nwrote "), "{text}");
    assert_eq!(
        fs::read_to_string(&base).unwrap(),
        baseline_text(&coverage(&root).unwrap())
    );

    fs::remove_file(root.join("crates/alpha/tests/api.rs")).unwrap();
    let check = CoverageArgs::parse(
        [
            "--root",
            root.to_str().unwrap(),
            "--check-baseline",
            base.to_str().unwrap(),
        ]
        .map(String::from),
    )
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(run_cli(check.clone(), &mut out).unwrap(), 1);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("baseline check FAILED: 1 clause(s) listed in "),
        "{text}"
    );
    assert!(text.contains("  N7.2 (baseline line 8) was proven and is now `enforced, untested`"));

    // Writing a smaller baseline over the old one is refused, file untouched.
    let before = fs::read_to_string(&base).unwrap();
    let mut out = Vec::new();
    let write = CoverageArgs {
        root: root.clone(),
        write_baseline: Some(base.clone()),
        ..CoverageArgs::default()
    };
    assert_eq!(run_cli(write, &mut out).unwrap(), 1);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("coverage may only grow")
    );
    assert_eq!(fs::read_to_string(&base).unwrap(), before);

    // JSON mode: one object, the report plus the baseline outcome.
    let mut out = Vec::new();
    let json = CoverageArgs {
        json: true,
        ..check
    };
    assert_eq!(run_cli(json, &mut out).unwrap(), 1);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["baseline_check"]["passed"], false);
    assert_eq!(v["proven_operative"], 2);
}

#[test]
fn bad_arguments_and_roots_are_errors_that_say_how_to_fix_them() {
    let e = CoverageArgs::parse(["--colour".to_owned()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "steward notice coverage: unknown argument `--colour`; expected [--json] [--root DIR] [--check-baseline FILE] [--write-baseline FILE]"
    );
    let e = CoverageArgs::parse(["--root".to_owned()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "steward notice coverage: --root DIR needs a value"
    );
    let a = CoverageArgs::parse(["--json", "--root=/x"].map(String::from)).unwrap();
    assert!(a.json);
    assert_eq!(a.root, Path::new("/x"));

    let empty = tempfile::tempdir().unwrap();
    let e = coverage(empty.path()).unwrap_err();
    assert!(matches!(e, NoticeError::NotARepository { .. }));
    assert!(e.to_string().ends_with(
        ": neither crates/ nor bench/ is here; pass the Steward workspace root with --root DIR"
    ));
}
