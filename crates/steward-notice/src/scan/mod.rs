//! The citations scanner: reads a repository tree at run time and finds every
//! place that cites a clause of the notice.
//!
//! What counts as a citation:
//!
//! * a clause ID token (`N`, section 1-8, `.`, number, optionally one part
//!   letter `a`-`e`) inside a `//`, `//!`, `///` or block comment, or inside
//!   the string of a `#[doc = "..."]` attribute, in any `*.rs` file under
//!   `crates/` and `bench/` (directories named `target` and hidden ones are
//!   skipped, symbolic links are not followed);
//! * the same ID written lower-case with an underscore for the dot as word
//!   parts of a function name (`n<section>_<number>[letter]`);
//! * an `@clause("...")` annotation of a Cedar policy under
//!   `crates/steward-policy/pack/` (policy counts as enforcing code).
//!
//! Two IDs joined by a hyphen, en dash or `..` are a range: it names no
//! clause by itself, so the IDs it spans count neither as enforcing code nor
//! as a test (the scanner still reads them, to skip them).
//!
//! A location is *test code* when its file is under a `tests/` directory, when
//! it is inside a `#[cfg(test)]` module (inline, or a module file declared
//! with `#[cfg(test)] mod name;`), or inside or attached to a function marked
//! `#[test]` or `#[<runtime>::test]`; any other location is *enforcing code*.
//!
//! In test code a citation proves a clause only where it says what a test
//! exercises: in the **name of a `#[test]` function**, or in the **doc
//! comment attached to one** (`///`, `/** */`, `#[doc]`). Module docs,
//! comments inside bodies, and the names and comments of helpers, fixtures
//! and oracles are not citations (a test's body may mention any clause; what
//! it claims to prove is in its name or doc).
//!
//! The scan is line based and cheap: it strips strings and comments with a
//! small lexer, tracks braces to know the enclosing item, and names for each
//! location the item a comment is attached to (the item declared right after
//! a comment block), else the enclosing item, else the next item in the file.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::error::NoticeError;

/// Whether a location is enforcing code or a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Code (or a policy) that makes the clause hold.
    Enforcing,
    /// A test that proves it.
    Test,
}

/// Where a citation was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A comment or `#[doc]` string of a Rust file.
    Comment,
    /// The name of a Rust function.
    FnName,
    /// An `@clause` annotation of a Cedar policy.
    Policy,
}

/// One clause ID cited at one place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Citation {
    /// The clause ID without part letter.
    pub clause: String,
    /// The part letter, if the citation names a part.
    pub part: Option<char>,
    /// The path of the file, relative to the scanned root, `/`-separated.
    pub path: String,
    /// The 1-based line number.
    pub line: usize,
    /// The item the citation belongs to (`fn name`, `mod tests`, `impl X for Y`,
    /// `policy id`), when one was found.
    pub item: Option<String>,
    /// Enforcing code or test.
    pub role: Role,
    /// Comment, function name or policy annotation.
    pub source: Source,
}

impl Citation {
    /// The ID as cited: the clause ID, followed by the part letter if any.
    pub fn cited_id(&self) -> String {
        match self.part {
            Some(l) => format!("{}{l}", self.clause),
            None => self.clause.clone(),
        }
    }
}

mod ids;
mod lex;
mod structure;

use ids::cached;
pub(crate) use ids::{ids_in_fn_name, ids_in_text};
use lex::{LexLine, lex};
use structure::{Structure, structure};

// ---------------------------------------------------------------------------
// Files.

/// One parsed Rust file.
struct RustFile {
    rel: String,
    lines: Vec<LexLine>,
    st: Structure,
}

fn rel_path(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Files under `dir` whose name ends with `ext`, sorted, skipping `target`,
/// hidden directories and symbolic links.
fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> Result<(), NoticeError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(NoticeError::io(dir, e)),
    };
    let mut entries = Vec::new();
    for e in rd {
        let e = e.map_err(|err| NoticeError::io(dir, err))?;
        entries.push(e);
    }
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ft = e
            .file_type()
            .map_err(|err| NoticeError::io(e.path(), err))?;
        if ft.is_dir() {
            if name == "target" || name.starts_with('.') {
                continue;
            }
            walk(&e.path(), ext, out)?;
        } else if ft.is_file() && name.ends_with(ext) {
            out.push(e.path());
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, NoticeError> {
    let bytes = fs::read(path).map_err(|e| NoticeError::io(path, e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The path prefixes of module files declared `#[cfg(test)] mod name;` in `f`.
fn test_module_paths(f: &RustFile) -> Vec<String> {
    let (dir, stem) = match f.rel.rsplit_once('/') {
        Some((d, file)) => (d.to_owned(), file.trim_end_matches(".rs").to_owned()),
        None => (String::new(), f.rel.trim_end_matches(".rs").to_owned()),
    };
    let base = if matches!(stem.as_str(), "lib" | "main" | "mod") {
        dir
    } else if dir.is_empty() {
        stem
    } else {
        format!("{dir}/{stem}")
    };
    f.st.test_mod_decls
        .iter()
        .map(|m| {
            if base.is_empty() {
                m.clone()
            } else {
                format!("{base}/{m}")
            }
        })
        .collect()
}

fn in_tests_dir(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.contains(&"tests")
}

/// Scans the repository at `root` and returns every citation, sorted by path,
/// line, clause and part.
///
/// # Errors
/// [`NoticeError::NotARepository`] when `root` has neither `crates/` nor
/// `bench/`; [`NoticeError::Io`] when a directory or file cannot be read.
pub fn scan(root: &Path) -> Result<Vec<Citation>, NoticeError> {
    if !root.join("crates").is_dir() && !root.join("bench").is_dir() {
        return Err(NoticeError::NotARepository {
            root: root.to_path_buf(),
        });
    }
    let mut paths = Vec::new();
    walk(&root.join("crates"), ".rs", &mut paths)?;
    walk(&root.join("bench"), ".rs", &mut paths)?;
    let mut files = Vec::with_capacity(paths.len());
    for p in &paths {
        let src = read(p)?;
        let lines = lex(&src);
        let st = structure(&lines);
        files.push(RustFile {
            rel: rel_path(root, p),
            lines,
            st,
        });
    }
    let test_prefixes: Vec<String> = files.iter().flat_map(test_module_paths).collect();
    let mut out = Vec::new();
    for f in &files {
        let file_test = in_tests_dir(&f.rel)
            || f.st.file_is_test
            || test_prefixes
                .iter()
                .any(|p| f.rel == format!("{p}.rs") || f.rel.starts_with(&format!("{p}/")));
        citations_of_file(f, file_test, &mut out);
    }
    let mut policies = Vec::new();
    walk(
        &root.join("crates").join("steward-policy").join("pack"),
        ".cedar",
        &mut policies,
    )?;
    for p in &policies {
        let src = read(p)?;
        citations_of_policy(&rel_path(root, p), &src, &mut out);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn citations_of_file(f: &RustFile, file_test: bool, out: &mut Vec<Citation>) {
    let st = &f.st;
    let n = f.lines.len();
    // next_code[l]: the first line >= l holding code other than attributes.
    let mut next_code = vec![None; n + 1];
    for l in (0..n).rev() {
        let code = !f.lines[l].code.trim().is_empty() && !st.attr_only[l];
        next_code[l] = if code { Some(l) } else { next_code[l + 1] };
    }
    // next_header[l]: the first item header at or after line l.
    let mut next_header = vec![None; n + 1];
    for l in (0..n).rev() {
        next_header[l] = st.header_at[l].or(next_header[l + 1]);
    }
    let is_test_item = |i: usize| st.items[i].test || st.items[i].cfg_test;
    let is_test_fn = |i: usize| st.items[i].test && st.items[i].keyword == "fn";
    for (l, line) in f.lines.iter().enumerate() {
        for c in &line.comments {
            let ids = ids_in_text(&c.text);
            if ids.is_empty() {
                continue;
            }
            let (enclosing, in_test) = st.enclosing[l];
            let has_code = !line.code.trim().is_empty();
            let attached = if let Some(h) = st.header_at[l] {
                Some(h)
            } else if has_code || c.inner {
                None
            } else {
                next_code[l + 1].and_then(|j| st.header_at[j])
            };
            let item = attached
                .or(enclosing)
                .or(if c.inner { None } else { next_header[l] });
            let label = match item {
                Some(i) => Some(st.items[i].label.clone()),
                None if c.inner => Some("module doc".to_owned()),
                None => None,
            };
            let test = file_test || in_test || attached.is_some_and(is_test_item);
            // In test code only the doc comment of a `#[test]` function
            // proves anything: module docs, comments inside bodies and
            // comments of helpers (oracles, fixtures) do not.
            if test && !(c.doc && !c.inner && attached.is_some_and(is_test_fn)) {
                continue;
            }
            // A range names no clause by itself.
            for id in ids.into_iter().filter(|id| !id.ranged) {
                out.push(Citation {
                    clause: id.clause(),
                    part: id.letter,
                    path: f.rel.clone(),
                    line: l + 1,
                    item: label.clone(),
                    role: if test { Role::Test } else { Role::Enforcing },
                    source: Source::Comment,
                });
            }
        }
    }
    for (i, it) in st.items.iter().enumerate() {
        if it.keyword != "fn" {
            continue;
        }
        let test = file_test || is_test_item(i) || st.enclosing[it.line].1;
        // In test code only the name of a `#[test]` function proves anything.
        if test && !is_test_fn(i) {
            continue;
        }
        for id in ids_in_fn_name(&it.name) {
            out.push(Citation {
                clause: id.clause(),
                part: id.letter,
                path: f.rel.clone(),
                line: it.line + 1,
                item: Some(it.label.clone()),
                role: if test { Role::Test } else { Role::Enforcing },
                source: Source::FnName,
            });
        }
    }
}

fn clause_annotation_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r#"@clause\s*\(\s*"([^"]*)"\s*\)"#)
}

fn id_annotation_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r#"@id\s*\(\s*"([^"]*)"\s*\)"#)
}

/// `@clause("...")` annotations of one Cedar file; the item is the policy's
/// `@id` when it has one, else its effect and line.
fn citations_of_policy(rel: &str, src: &str, out: &mut Vec<Citation>) {
    let lines: Vec<&str> = src.lines().collect();
    let is_effect = |l: &str| {
        let t = l.trim_start();
        t.starts_with("permit") || t.starts_with("forbid")
    };
    for (l, line) in lines.iter().enumerate() {
        let caps: Vec<_> = match clause_annotation_regex() {
            Some(re) => re.captures_iter(line).collect(),
            None => Vec::new(),
        };
        if caps.is_empty() {
            continue;
        }
        // The annotation block: back to the end of the previous policy, on
        // to this policy's effect.
        let mut start = l;
        while start > 0 && !lines[start - 1].trim_end().ends_with(';') {
            start -= 1;
        }
        let mut end = l;
        while end < lines.len() && !is_effect(lines[end]) {
            end += 1;
        }
        let block_end = (end + 1).min(lines.len());
        let id = lines[start..block_end]
            .iter()
            .find_map(|x| id_annotation_regex()?.captures(x))
            .and_then(|c| c.get(1))
            .map(|m| format!("policy {}", m.as_str()));
        let item = id.or_else(|| {
            lines.get(end).map(|x| {
                let effect = if x.trim_start().starts_with("forbid") {
                    "forbid"
                } else {
                    "permit"
                };
                format!("{effect} at line {}", end + 1)
            })
        });
        for c in caps {
            let Some(value) = c.get(1) else { continue };
            for id in ids_in_text(value.as_str())
                .into_iter()
                .filter(|id| !id.ranged)
            {
                out.push(Citation {
                    clause: id.clause(),
                    part: id.letter,
                    path: rel.to_owned(),
                    line: l + 1,
                    item: item.clone(),
                    role: Role::Enforcing,
                    source: Source::Policy,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ids::id_regex;
    use super::lex::doc_attr_regex;
    use super::structure::{item_regex, name_regex};
    use super::*;
    use crate::coverage::{Status, report_from};
    use crate::register::Register;

    fn ids(text: &str) -> Vec<String> {
        ids_in_text(text)
            .into_iter()
            .map(|i| match i.letter {
                Some(l) => format!("{}{l}", i.clause()),
                None => i.clause(),
            })
            .collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(id_regex().is_some());
        assert!(doc_attr_regex().is_some());
        assert!(item_regex().is_some());
        assert!(name_regex().is_some());
        assert!(clause_annotation_regex().is_some());
        assert!(id_annotation_regex().is_some());
    }

    #[test]
    fn ids_tokens_ranges_and_parts() {
        assert_eq!(
            ids("see N7.1-N7.3 and N6.5e."),
            ["N7.1", "N7.2", "N7.3", "N6.5e"]
        );
        assert_eq!(ids("N6.5a..N6.5c"), ["N6.5a", "N6.5b", "N6.5c"]);
        assert_eq!(ids("N3.1 \u{2013} N3.2"), ["N3.1", "N3.2"]);
        // Across sections a range is its endpoints.
        assert_eq!(ids("N2.5-N3.1"), ["N2.5", "N3.1"]);
        // Not tokens: glued to a word, a sixth letter, two letters, leading zero, section 9.
        assert!(ids("XN1.3 N6.5f N6.5ab N1.03 N9.1 N1 n1.3").is_empty());
        assert_eq!(ids("(N1.3),N2.1;"), ["N1.3", "N2.1"]);
    }

    #[test]
    fn ids_in_fn_names() {
        let f = |s: &str| -> Vec<String> {
            ids_in_fn_name(s)
                .into_iter()
                .map(|i| {
                    format!(
                        "{}{}",
                        i.clause(),
                        i.letter.map(String::from).unwrap_or_default()
                    )
                })
                .collect()
        };
        assert_eq!(f("refuses_unknown_field_n1_3"), ["N1.3"]);
        assert_eq!(f("n6_5e_admin_restricts"), ["N6.5e"]);
        assert_eq!(f("x_n3_9_and_n2_1"), ["N3.9", "N2.1"]);
        assert!(f("n9_1_n1_x_n12_3_n1").is_empty());
    }

    #[test]
    fn every_prefix_of_awkward_source_scans_without_panic() {
        let src = "#![cfg(test)]\n#[cfg_attr(x,\n derive(Debug))]\nimpl<T: A<B>> X for Y<T> where T: Z {\n\
                   fn f<'a>(x: &'a [u8; 3]) -> char { '\\u{1F600}' } /* a /* b */ c N1.1 */\n\
                   const C: &str = r##\"é \"# ## N2.2\"##; b'x'; br#\"\"#; '\n\
                   #[doc = \"ü N6.5e\"] mod m; } } } /// N7.1-N7.3\n@clause(\"N3.5\")\"";
        let mut ends: Vec<usize> = src.char_indices().map(|(i, _)| i).collect();
        ends.push(src.len());
        for end in ends {
            let part = &src[..end];
            let lines = lex(part);
            let st = structure(&lines);
            let f = RustFile {
                rel: "crates/x/src/lib.rs".to_owned(),
                lines,
                st,
            };
            let mut out = Vec::new();
            citations_of_file(&f, false, &mut out);
            citations_of_policy("p.cedar", part, &mut out);
            let _ = test_module_paths(&f);
        }
    }

    #[test]
    fn lexer_separates_strings_comments_and_lifetimes() {
        let src = "fn a<'a>(x: &'a str) -> char { let s = \"// not a comment\"; '\\'' } // real\n\
                   let r = r#\"raw \" // still string\"#; /* block\n still */ let c = '/';\n\
                   #[doc = \"doc text\"]\n";
        let lines = lex(src);
        assert_eq!(lines[0].comments.len(), 1);
        assert_eq!(lines[0].comments[0].text, " real");
        assert!(!lines[0].code.contains("not a comment"));
        assert_eq!(lines[1].comments[0].text, " block");
        assert_eq!(lines[2].comments[0].text, " still ");
        assert!(lines[2].code.contains("let c = ' ';"));
        assert_eq!(lines[3].comments[0].text, "doc text");
    }

    fn file(rel: &str, src: &str) -> RustFile {
        let lines = lex(src);
        let st = structure(&lines);
        RustFile {
            rel: rel.to_owned(),
            lines,
            st,
        }
    }

    /// The new rule, end to end: in test code only a `#[test]` function's
    /// name or its attached doc comment proves a clause; a module doc, a
    /// comment inside a body, a helper's doc or name, and a range do not.
    #[test]
    fn only_test_names_and_their_docs_prove_a_clause() {
        let lib = file(
            "crates/x/src/lib.rs",
            "// N1.1 N1.2 N1.3 N2.4 N2.5 N2.1 N2.2 N2.3 N3.1\n\
             pub fn enforce() {}\n\
             /// N6.3-N6.7 as a range is no citation\n\
             pub fn ranged() {}\n",
        );
        let t = file(
            "crates/x/tests/t.rs",
            "//! Module doc citing N1.1.\n\
             #[test]\n\
             fn body_comment() {\n    // N1.2 inside a body\n}\n\
             /// A helper citing N1.3.\n\
             fn oracle_n3_1() -> bool {\n    true\n}\n\
             /// Covers N2.4-N2.5 as a range.\n\
             #[test]\n\
             fn ranged() {}\n\
             #[test]\n\
             fn proven_by_name_n2_1() {}\n\
             /// Proves N2.2 (named in the doc).\n\
             #[tokio::test]\n\
             async fn proven_by_doc() {}\n\
             #[test]\n\
             fn trailing() {} // N2.3 trailing comment\n",
        );
        let mut out = Vec::new();
        citations_of_file(&lib, false, &mut out);
        citations_of_file(&t, true, &mut out);
        let mut tests: Vec<String> = out
            .iter()
            .filter(|c| c.role == Role::Test)
            .map(|c| format!("{} {}", c.cited_id(), c.line))
            .collect();
        tests.sort();
        assert_eq!(tests, ["N2.1 14", "N2.2 15"]);
        // The range in enforcing code cites nothing either.
        assert!(!out.iter().any(|c| c.clause == "N6.3" || c.clause == "N6.7"));

        let register = Register::embedded().unwrap();
        let report = report_from(&register, &out);
        for (id, status) in [
            ("N1.1", Status::EnforcedUntested),
            ("N1.2", Status::EnforcedUntested),
            ("N1.3", Status::EnforcedUntested),
            ("N2.5", Status::EnforcedUntested),
            ("N3.1", Status::EnforcedUntested),
            ("N2.1", Status::Proven),
            ("N2.2", Status::Proven),
            ("N2.3", Status::EnforcedUntested),
            ("N2.4", Status::EnforcedUntested),
            ("N6.3", Status::Open),
            ("N6.7", Status::Open),
        ] {
            assert_eq!(report.status_of(id), Some(status), "{id}");
        }
    }
}
