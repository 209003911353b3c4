//! Coverage: per clause of the register, the enforcing code and the tests
//! that cite it, a status, the text and JSON renderings, and the baseline
//! gate that keeps coverage from shrinking.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::Path;

use serde::Serialize;

use crate::error::NoticeError;
use crate::register::Register;
use crate::scan::{Citation, Role, Source, scan};

/// The coverage status of a clause or part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// Enforcing code and at least one test cite it.
    #[serde(rename = "proven")]
    Proven,
    /// Enforcing code cites it, no test does.
    #[serde(rename = "enforced, untested")]
    EnforcedUntested,
    /// A test cites it, no enforcing code does.
    #[serde(rename = "tested, no enforcing code found")]
    TestedNoEnforcingCode,
    /// Nothing cites it.
    #[serde(rename = "open")]
    Open,
}

impl Status {
    /// The status as printed: `proven`, `enforced, untested`,
    /// `tested, no enforcing code found` or `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proven => "proven",
            Status::EnforcedUntested => "enforced, untested",
            Status::TestedNoEnforcingCode => "tested, no enforcing code found",
            Status::Open => "open",
        }
    }

    fn of(enforcing: &[Location], tests: &[Location]) -> Status {
        match (enforcing.is_empty(), tests.is_empty()) {
            (false, false) => Status::Proven,
            (false, true) => Status::EnforcedUntested,
            (true, false) => Status::TestedNoEnforcingCode,
            (true, true) => Status::Open,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place that cites a clause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// File path relative to the scanned root, `/`-separated.
    pub path: String,
    /// 1-based line number.
    pub line: usize,
    /// The item the citation belongs to, when found (`fn name`, `mod tests`).
    pub item: Option<String>,
    /// The ID as written there (a part ID when a part was cited).
    pub cited_as: String,
    /// Comment, function name or policy annotation.
    pub source: Source,
}

impl Location {
    fn from_citation(c: &Citation) -> Location {
        Location {
            path: c.path.clone(),
            line: c.line,
            item: c.item.clone(),
            cited_as: c.cited_id(),
            source: c.source,
        }
    }
}

impl fmt::Display for Location {
    /// `path:line  item`, then `(cited as ID)` when a part was cited.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path, self.line)?;
        if let Some(item) = &self.item {
            write!(f, "  {item}")?;
        }
        Ok(())
    }
}

/// Coverage of one lettered part of a clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartCoverage {
    /// The part ID (clause ID and letter).
    pub id: String,
    /// What the part requires.
    pub obligation: String,
    /// Its status.
    pub status: Status,
    /// Enforcing code citing the part.
    pub enforcing: Vec<Location>,
    /// Tests citing the part.
    pub tests: Vec<Location>,
}

/// Coverage of one clause of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseCoverage {
    /// The clause ID.
    pub id: String,
    /// The notice section's title.
    pub section: String,
    /// Whether the clause is operative (`[op]`).
    pub operative: bool,
    /// What the software must do.
    pub obligation: String,
    /// Its status; citations of its parts count for the clause too.
    pub status: Status,
    /// Enforcing code citing the clause or one of its parts.
    pub enforcing: Vec<Location>,
    /// Tests citing the clause or one of its parts.
    pub tests: Vec<Location>,
    /// Coverage of each lettered part.
    pub parts: Vec<PartCoverage>,
}

/// A citation of an ID the register does not have (a typo, a clause that
/// does not exist, or a part letter the clause does not define).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unregistered {
    /// Enforcing code or test.
    pub role: Role,
    /// Where.
    pub location: Location,
}

/// The coverage of every clause of the register over one repository tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    /// One entry per clause, in register order.
    pub clauses: Vec<ClauseCoverage>,
    /// Citations of IDs outside the register (they count for no clause,
    /// except that a part unknown to a known clause still counts for it).
    pub unregistered: Vec<Unregistered>,
    /// Number of operative clauses in the register.
    pub operative: usize,
    /// Number of operative clauses that are proven.
    pub proven_operative: usize,
}

impl CoverageReport {
    /// The clause with this ID.
    pub fn clause(&self, id: &str) -> Option<&ClauseCoverage> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// The status of a clause or part ID, if the register has it.
    pub fn status_of(&self, id: &str) -> Option<Status> {
        self.clauses.iter().find_map(|c| {
            if c.id == id {
                Some(c.status)
            } else {
                c.parts.iter().find(|p| p.id == id).map(|p| p.status)
            }
        })
    }
}

/// Scans the repository at `root` (at run time: every `*.rs` under `crates/`
/// and `bench/`, and the Cedar policy pack) and computes the coverage of the
/// embedded clause register.
///
/// # Errors
/// [`NoticeError::NotARepository`] when `root` is not a Steward workspace;
/// [`NoticeError::Io`] when a file cannot be read;
/// [`NoticeError::Register`] if the embedded register is malformed.
pub fn coverage(root: &Path) -> Result<CoverageReport, NoticeError> {
    let register = Register::embedded()?;
    coverage_with(&register, root)
}

/// [`coverage`] against a given register.
///
/// # Errors
/// As [`coverage`], less the register error.
pub fn coverage_with(register: &Register, root: &Path) -> Result<CoverageReport, NoticeError> {
    let citations = scan(root)?;
    Ok(report_from(register, &citations))
}

/// Builds the report from citations already found.
pub fn report_from(register: &Register, citations: &[Citation]) -> CoverageReport {
    // (clause, part) -> (enforcing, tests)
    type Locs = (Vec<Location>, Vec<Location>);
    let mut by_id: BTreeMap<(String, Option<char>), Locs> = BTreeMap::new();
    let mut unregistered = Vec::new();
    for c in citations {
        let loc = Location::from_citation(c);
        let Some(clause) = register.get(&c.clause) else {
            unregistered.push(Unregistered {
                role: c.role,
                location: loc,
            });
            continue;
        };
        let mut keys = vec![(c.clause.clone(), None)];
        if let Some(letter) = c.part {
            if clause.parts.iter().any(|p| p.letter == letter) {
                keys.push((c.clause.clone(), Some(letter)));
            } else {
                unregistered.push(Unregistered {
                    role: c.role,
                    location: loc.clone(),
                });
            }
        }
        for k in keys {
            let e = by_id.entry(k).or_default();
            match c.role {
                Role::Enforcing => e.0.push(loc.clone()),
                Role::Test => e.1.push(loc.clone()),
            }
        }
    }
    let mut take = |id: &str, part: Option<char>| -> Locs {
        let (mut en, mut te) = by_id.remove(&(id.to_owned(), part)).unwrap_or_default();
        en.sort();
        en.dedup();
        te.sort();
        te.dedup();
        (en, te)
    };
    let mut clauses = Vec::with_capacity(register.clauses().len());
    for c in register.clauses() {
        let (enforcing, tests) = take(&c.id, None);
        let parts = c
            .parts
            .iter()
            .map(|p| {
                let (enforcing, tests) = take(&c.id, Some(p.letter));
                PartCoverage {
                    id: p.id.clone(),
                    obligation: p.obligation.clone(),
                    status: Status::of(&enforcing, &tests),
                    enforcing,
                    tests,
                }
            })
            .collect();
        clauses.push(ClauseCoverage {
            id: c.id.clone(),
            section: c.section.clone(),
            operative: c.operative,
            obligation: c.obligation.clone(),
            status: Status::of(&enforcing, &tests),
            enforcing,
            tests,
            parts,
        });
    }
    let operative = clauses.iter().filter(|c| c.operative).count();
    let proven_operative = clauses
        .iter()
        .filter(|c| c.operative && c.status == Status::Proven)
        .count();
    CoverageReport {
        clauses,
        unregistered,
        operative,
        proven_operative,
    }
}

fn write_locations(
    out: &mut String,
    indent: &str,
    enforcing: &[Location],
    tests: &[Location],
    part_of: &str,
) {
    for (label, locs) in [("enforcing", enforcing), ("test", tests)] {
        for l in locs {
            let _ = write!(out, "{indent}{label:<9}  {l}");
            if l.cited_as != part_of {
                let _ = write!(out, "  (cited as {})", l.cited_as);
            }
            out.push('\n');
        }
    }
}

/// The report for people: per clause its ID, `[op]`/`[org]`, status and
/// obligation, then each enforcing and test location (`path:line  item`),
/// then the parts, then citations outside the register, a summary, and last
/// the line `proven P / O operative`.
pub fn render_text(report: &CoverageReport) -> String {
    let mut out = String::new();
    let mut section = "";
    for c in &report.clauses {
        if c.section != section {
            section = &c.section;
            let _ = writeln!(out, "== {section}");
        }
        let mark = if c.operative { "[op]" } else { "[org]" };
        let _ = writeln!(
            out,
            "{:<6} {mark:<5} {}  -- {}",
            c.id, c.status, c.obligation
        );
        write_locations(&mut out, "       ", &c.enforcing, &c.tests, &c.id);
        for p in &c.parts {
            let _ = writeln!(out, "       {:<7} {}  -- {}", p.id, p.status, p.obligation);
            write_locations(&mut out, "               ", &p.enforcing, &p.tests, &p.id);
        }
    }
    if !report.unregistered.is_empty() {
        let _ = writeln!(out, "== Cited but not in the clause register");
        for u in &report.unregistered {
            let role = match u.role {
                Role::Enforcing => "enforcing",
                Role::Test => "test",
            };
            let _ = writeln!(out, "{:<7} {role:<9}  {}", u.location.cited_as, u.location);
        }
    }
    let count = |s: Status| {
        report
            .clauses
            .iter()
            .filter(|c| c.operative && c.status == s)
            .count()
    };
    let _ = writeln!(
        out,
        "== Operative clauses: {} proven, {} enforced but untested, {} tested without enforcing code, {} open",
        count(Status::Proven),
        count(Status::EnforcedUntested),
        count(Status::TestedNoEnforcingCode),
        count(Status::Open)
    );
    let _ = writeln!(
        out,
        "proven {} / {} operative",
        report.proven_operative, report.operative
    );
    out
}

/// The report as pretty-printed JSON (the shape of [`CoverageReport`]).
pub fn render_json(report: &CoverageReport) -> String {
    // Serialising plain owned data to a String cannot fail; fall back to an
    // empty object rather than panic.
    serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned())
}

/// The IDs listed in a baseline text: one per line, `#` starts a comment.
fn baseline_ids(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let id = l.split('#').next().unwrap_or("").trim();
            (!id.is_empty()).then(|| (i + 1, id.to_owned()))
        })
        .collect()
}

/// Checks that every clause or part listed in the baseline is still proven.
///
/// # Errors
/// One message per listed ID that is no longer proven (saying whether it
/// lost its enforcing code, its tests or both) or that the register does not
/// have.
pub fn check_baseline(report: &CoverageReport, baseline_text: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (line, id) in baseline_ids(baseline_text) {
        match report.status_of(&id) {
            Some(Status::Proven) => {}
            Some(s) => {
                let why = match s {
                    Status::EnforcedUntested => "no test cites it any more",
                    Status::TestedNoEnforcingCode => "no enforcing code cites it any more",
                    _ => "neither enforcing code nor a test cites it any more",
                };
                problems.push(format!(
                    "{id} (baseline line {line}) was proven and is now `{s}`: {why}"
                ));
            }
            None => problems.push(format!(
                "{id} (baseline line {line}) is not a clause or part of the clause register"
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A baseline listing every proven clause and part, one per line, with a
/// comment header.
pub fn baseline_text(report: &CoverageReport) -> String {
    let mut out = String::from(
        "# Clauses and parts of the privacy notice that `steward notice coverage` finds proven\n\
         # (cited by enforcing code and by at least one test). The check fails when one of\n\
         # these is no longer proven: coverage may only grow. Regenerate with\n\
         #   steward notice coverage --write-baseline crates/steward-notice/coverage-baseline.txt\n",
    );
    for c in &report.clauses {
        if c.status == Status::Proven {
            out.push_str(&c.id);
            out.push('\n');
        }
        for p in &c.parts {
            if p.status == Status::Proven {
                out.push_str(&p.id);
                out.push('\n');
            }
        }
    }
    out
}
