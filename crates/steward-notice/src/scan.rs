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
//! Two IDs joined by a hyphen, en dash or `..` are a range and cite every ID
//! between them (within one section, or within the parts of one clause).
//!
//! A location is a *test* when its file is under a `tests/` directory, when it
//! is inside a `#[cfg(test)]` module (inline, or a module file declared with
//! `#[cfg(test)] mod name;`), or inside or attached to a function marked
//! `#[test]` or `#[<runtime>::test]`; any other location is *enforcing code*.
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

/// A clause ID found in text: section, number and optional part letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CitedId {
    section: u8,
    number: u32,
    letter: Option<char>,
}

impl CitedId {
    fn clause(self) -> String {
        format!("N{}.{}", self.section, self.number)
    }
}

/// The largest number of IDs one range may expand to; a longer range is
/// taken as its two endpoints only.
const MAX_RANGE: u32 = 50;

/// Compiles `pattern` once. The patterns are literals covered by a test, so
/// `None` (a pattern that does not compile) only means "finds nothing".
fn cached(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn id_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r"N([1-8])\.([0-9]{1,6})([A-Za-z0-9_]*)")
}

/// Every clause ID cited in `text` (a comment, a doc string or an annotation
/// value), ranges expanded, in order of appearance.
pub(crate) fn ids_in_text(text: &str) -> Vec<CitedId> {
    // (start, end, id) of every well-formed token.
    let mut found: Vec<(usize, usize, CitedId)> = Vec::new();
    let Some(re) = id_regex() else {
        return Vec::new();
    };
    for caps in re.captures_iter(text) {
        let (Some(all), Some(sec), Some(num), Some(suffix)) =
            (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
        else {
            continue;
        };
        let before = text[..all.start()].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if num.as_str().len() > 1 && num.as_str().starts_with('0') {
            continue;
        }
        let letter = match suffix.as_str() {
            "" => None,
            s @ ("a" | "b" | "c" | "d" | "e") => s.chars().next(),
            _ => continue,
        };
        let (Ok(section), Ok(number)) = (sec.as_str().parse::<u8>(), num.as_str().parse::<u32>())
        else {
            continue;
        };
        found.push((
            all.start(),
            all.end(),
            CitedId {
                section,
                number,
                letter,
            },
        ));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < found.len() {
        let (_, end, a) = found[i];
        let range_to = found.get(i + 1).and_then(|&(start, _, b)| {
            let between = text.get(end..start)?.trim();
            matches!(between, "-" | "\u{2013}" | "..").then_some(b)
        });
        match range_to {
            Some(b) => {
                out.extend(expand_range(a, b));
                i += 2;
            }
            None => {
                out.push(a);
                i += 1;
            }
        }
    }
    out
}

/// The IDs from `a` to `b` inclusive when both lie in one section (numbers,
/// no letters) or in one clause (letters); otherwise the two endpoints.
fn expand_range(a: CitedId, b: CitedId) -> Vec<CitedId> {
    if a.section == b.section {
        match (a.letter, b.letter) {
            (None, None) if a.number < b.number && b.number - a.number < MAX_RANGE => {
                return (a.number..=b.number)
                    .map(|number| CitedId { number, ..a })
                    .collect();
            }
            (Some(la), Some(lb)) if a.number == b.number && la < lb => {
                return (la..=lb)
                    .map(|l| CitedId {
                        letter: Some(l),
                        ..a
                    })
                    .collect();
            }
            _ => {}
        }
    }
    vec![a, b]
}

/// The clause IDs written as word parts of a function name: `n6_5e`, `n3_9`.
pub(crate) fn ids_in_fn_name(name: &str) -> Vec<CitedId> {
    let parts: Vec<&str> = name.split('_').collect();
    let mut out = Vec::new();
    for w in parts.windows(2) {
        let (head, tail) = (w[0], w[1]);
        let section = match head {
            "n1" => 1,
            "n2" => 2,
            "n3" => 3,
            "n4" => 4,
            "n5" => 5,
            "n6" => 6,
            "n7" => 7,
            "n8" => 8,
            _ => continue,
        };
        let digits_end = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (digits, rest) = tail.split_at(digits_end);
        if digits.is_empty() || digits.len() > 6 || (digits.len() > 1 && digits.starts_with('0')) {
            continue;
        }
        let letter = match rest {
            "" => None,
            "a" | "b" | "c" | "d" | "e" => rest.chars().next(),
            _ => continue,
        };
        let Ok(number) = digits.parse::<u32>() else {
            continue;
        };
        out.push(CitedId {
            section,
            number,
            letter,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Lexer: splits a Rust file into code and comment text, line by line.

/// One source line: its code with comments removed and string contents
/// blanked, and the text of the comments (and doc strings) on it.
#[derive(Debug, Default, Clone)]
struct LexLine {
    code: String,
    comments: Vec<Comment>,
}

#[derive(Debug, Clone)]
struct Comment {
    text: String,
    /// An inner doc comment (`//!`, `/*!`): it documents the enclosing module.
    inner: bool,
}

fn doc_attr_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r"#\s*!?\s*\[\s*doc\s*=\s*$")
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex(src: &str) -> Vec<LexLine> {
    enum State {
        Code,
        Block { depth: usize, inner: bool },
        Str { doc: bool, hashes: Option<usize> },
    }
    let cs: Vec<char> = src.chars().collect();
    let n = cs.len();
    let mut lines = vec![LexLine::default()];
    let mut buf = String::new();
    let mut state = State::Code;
    let mut i = 0;
    // Flushes a comment or doc-string buffer into the current line.
    fn flush(lines: &mut [LexLine], buf: &mut String, inner: bool) {
        if !buf.trim().is_empty()
            && let Some(l) = lines.last_mut()
        {
            l.comments.push(Comment {
                text: std::mem::take(buf),
                inner,
            });
        }
        buf.clear();
    }
    while i < n {
        let c = cs[i];
        let next = cs.get(i + 1).copied();
        match state {
            State::Code => {
                let Some(line) = lines.last_mut() else {
                    break;
                };
                if c == '\n' {
                    lines.push(LexLine::default());
                    i += 1;
                } else if c == '/' && next == Some('/') {
                    let mut j = i + 2;
                    while j < n && cs[j] != '\n' {
                        j += 1;
                    }
                    let text: String = cs[i + 2..j].iter().collect();
                    let inner = text.starts_with('!');
                    line.comments.push(Comment { text, inner });
                    i = j;
                } else if c == '/' && next == Some('*') {
                    let inner = cs.get(i + 2) == Some(&'!');
                    state = State::Block { depth: 1, inner };
                    buf.clear();
                    i += 2;
                } else if c == '"' {
                    let doc = doc_attr_regex().is_some_and(|re| re.is_match(&line.code));
                    line.code.push('"');
                    state = State::Str { doc, hashes: None };
                    buf.clear();
                    i += 1;
                } else if (c == 'r' || (c == 'b' && next == Some('r')))
                    && !(i > 0 && is_ident_char(cs[i - 1]))
                {
                    let mut j = if c == 'b' { i + 2 } else { i + 1 };
                    let mut hashes = 0;
                    while j < n && cs[j] == '#' {
                        hashes += 1;
                        j += 1;
                    }
                    if j < n && cs[j] == '"' {
                        let doc = doc_attr_regex().is_some_and(|re| re.is_match(&line.code));
                        line.code.push('"');
                        state = State::Str {
                            doc,
                            hashes: Some(hashes),
                        };
                        buf.clear();
                        i = j + 1;
                    } else {
                        line.code.push(c);
                        i += 1;
                    }
                } else if c == '\'' {
                    if next == Some('\\') {
                        // An escaped char literal: skip to its closing quote.
                        let mut j = i + 3;
                        while j < n && cs[j] != '\'' && cs[j] != '\n' {
                            j += 1;
                        }
                        line.code.push_str("' '");
                        i = if j < n && cs[j] == '\'' { j + 1 } else { j };
                    } else if next.is_some_and(|x| x != '\n') && cs.get(i + 2) == Some(&'\'') {
                        line.code.push_str("' '");
                        i += 3;
                    } else {
                        // A lifetime or label.
                        line.code.push('\'');
                        i += 1;
                    }
                } else {
                    line.code.push(c);
                    i += 1;
                }
            }
            State::Block { depth, inner } => {
                if c == '\n' {
                    flush(&mut lines, &mut buf, inner);
                    lines.push(LexLine::default());
                    i += 1;
                } else if c == '/' && next == Some('*') {
                    state = State::Block {
                        depth: depth + 1,
                        inner,
                    };
                    i += 2;
                } else if c == '*' && next == Some('/') {
                    if depth <= 1 {
                        flush(&mut lines, &mut buf, inner);
                        state = State::Code;
                    } else {
                        state = State::Block {
                            depth: depth - 1,
                            inner,
                        };
                    }
                    i += 2;
                } else {
                    buf.push(c);
                    i += 1;
                }
            }
            State::Str { doc, hashes } => {
                if c == '\n' {
                    if doc {
                        flush(&mut lines, &mut buf, false);
                    }
                    buf.clear();
                    lines.push(LexLine::default());
                    i += 1;
                    continue;
                }
                let closes = match hashes {
                    None => c == '"',
                    Some(k) => c == '"' && (1..=k).all(|d| cs.get(i + d) == Some(&'#')),
                };
                if closes {
                    if doc {
                        flush(&mut lines, &mut buf, false);
                    }
                    buf.clear();
                    if let Some(line) = lines.last_mut() {
                        line.code.push('"');
                    }
                    state = State::Code;
                    i += 1 + hashes.unwrap_or(0);
                } else if hashes.is_none() && c == '\\' && next.is_some_and(|x| x != '\n') {
                    i += 2;
                } else {
                    buf.push(c);
                    i += 1;
                }
            }
        }
    }
    if let State::Block { inner, .. } = state {
        flush(&mut lines, &mut buf, inner);
    }
    lines
}

// ---------------------------------------------------------------------------
// Structure: items, their test flags, and what encloses each line.

#[derive(Debug, Clone)]
struct Item {
    /// `fn name`, `struct Name`, `impl Trait for Type`, ...
    label: String,
    /// The keyword (`fn`, `mod`, `impl`, ...).
    keyword: &'static str,
    /// The bare name (empty for `impl`).
    name: String,
    /// 0-based line of the header.
    line: usize,
    /// Marked `#[test]`-like or `#[cfg(test)]`.
    test: bool,
    cfg_test: bool,
}

#[derive(Debug, Default)]
struct Structure {
    items: Vec<Item>,
    /// Per line: the item whose header starts on the line.
    header_at: Vec<Option<usize>>,
    /// Per line, at its start: the innermost enclosing item, and whether any
    /// enclosing item is a test scope.
    enclosing: Vec<(Option<usize>, bool)>,
    /// Per line: true when the line holds only attributes.
    attr_only: Vec<bool>,
    /// `#![cfg(test)]` at the top of the file.
    file_is_test: bool,
    /// Names of `#[cfg(test)] mod name;` declarations.
    test_mod_decls: Vec<String>,
}

fn item_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(
        &RE,
        r#"^(?:pub(?:\s*\([^)]*\))?\s+)?(?:default\s+)?(?:(?:const|async|unsafe|safe|extern(?:\s*"")?)\s+)*(fn|struct|enum|union|trait|type|mod|static|const|impl|macro_rules!)(?:\s|<|$|\{)"#,
    )
}

fn name_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r"^\s*(?:mut\s+)?(r#)?([A-Za-z_][A-Za-z0-9_]*)")
}

/// Recognises an item header at the start of `code`: (keyword, name, label).
fn item_header(code: &str) -> Option<(&'static str, String, String)> {
    let caps = item_regex()?.captures(code)?;
    let kw_match = caps.get(1)?;
    let keyword: &'static str = match kw_match.as_str() {
        "fn" => "fn",
        "struct" => "struct",
        "enum" => "enum",
        "union" => "union",
        "trait" => "trait",
        "type" => "type",
        "mod" => "mod",
        "static" => "static",
        "const" => "const",
        "impl" => "impl",
        _ => "macro_rules!",
    };
    let rest = &code[kw_match.end()..];
    if keyword == "impl" {
        let rest = strip_generics(rest.trim_start());
        let end = [rest.find('{'), rest.find(" where")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(rest.len());
        let target = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        let label = if target.is_empty() {
            "impl".to_owned()
        } else {
            format!("impl {target}")
        };
        return Some((keyword, String::new(), label));
    }
    let name = name_regex()?
        .captures(rest)
        .and_then(|c| c.get(2))
        .map(|m| m.as_str().to_owned())?;
    let label = format!("{keyword} {name}");
    Some((keyword, name, label))
}

/// Drops a leading `<...>` (generic parameters of an impl).
fn strip_generics(s: &str) -> &str {
    if !s.starts_with('<') {
        return s;
    }
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return s[i + 1..].trim_start();
                }
            }
            _ => {}
        }
    }
    s
}

fn is_test_attr(attr: &str) -> bool {
    let path = attr.split(['(', ']']).next().unwrap_or("");
    path == "test" || path.ends_with("::test")
}

fn is_cfg_test_attr(attr: &str) -> bool {
    if attr == "cfg(test)" {
        return true;
    }
    attr.strip_prefix("cfg(all(")
        .is_some_and(|rest| rest.split([',', ')']).any(|tok| tok == "test"))
}

fn structure(lines: &[LexLine]) -> Structure {
    struct Open {
        item: usize,
        depth: usize,
        /// Statement items (const, static, type) end at their `;`.
        ends_at_semicolon: bool,
    }
    let mut s = Structure {
        header_at: vec![None; lines.len()],
        enclosing: vec![(None, false); lines.len()],
        attr_only: vec![false; lines.len()],
        ..Structure::default()
    };
    let mut stack: Vec<Open> = Vec::new();
    let mut depth = 0usize;
    let mut paren = 0usize;
    let mut pending: Option<usize> = None;
    let mut attrs: Vec<String> = Vec::new();
    // An attribute still open across lines: (text so far, bracket depth, inner).
    let mut open_attr: Option<(String, usize, bool)> = None;
    for (l, line) in lines.iter().enumerate() {
        s.enclosing[l] = (
            stack.last().map(|o| o.item),
            stack
                .iter()
                .any(|o| s.items[o.item].test || s.items[o.item].cfg_test),
        );
        let mut rest: &str = line.code.as_str();
        let mut saw_attr = false;
        loop {
            if let Some((mut text, mut bdepth, inner)) = open_attr.take() {
                saw_attr = true;
                let mut consumed = rest.len();
                for (i, c) in rest.char_indices() {
                    match c {
                        '[' => bdepth += 1,
                        ']' => {
                            bdepth = bdepth.saturating_sub(1);
                            if bdepth == 0 {
                                consumed = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    if !c.is_whitespace() {
                        text.push(c);
                    }
                }
                rest = &rest[consumed..];
                if bdepth == 0 {
                    if inner {
                        if text == "cfg(test)" && stack.is_empty() {
                            s.file_is_test = true;
                        }
                    } else {
                        attrs.push(text);
                    }
                } else {
                    open_attr = Some((text, bdepth, inner));
                    break;
                }
            }
            let t = rest.trim_start();
            if let Some(after) = t.strip_prefix("#!") {
                let after = after.trim_start();
                if let Some(body) = after.strip_prefix('[') {
                    open_attr = Some((String::new(), 1, true));
                    rest = body;
                    continue;
                }
            } else if let Some(after) = t.strip_prefix('#') {
                let after = after.trim_start();
                if let Some(body) = after.strip_prefix('[') {
                    open_attr = Some((String::new(), 1, false));
                    rest = body;
                    continue;
                }
            }
            rest = t;
            break;
        }
        if saw_attr && rest.trim().is_empty() {
            s.attr_only[l] = true;
        }
        if let Some((keyword, name, label)) = item_header(rest) {
            let test = attrs.iter().any(|a| is_test_attr(a));
            let cfg_test = attrs.iter().any(|a| is_cfg_test_attr(a));
            attrs.clear();
            let idx = s.items.len();
            s.items.push(Item {
                label,
                keyword,
                name,
                line: l,
                test,
                cfg_test,
            });
            if s.header_at[l].is_none() {
                s.header_at[l] = Some(idx);
            }
            if matches!(keyword, "const" | "static" | "type") {
                stack.push(Open {
                    item: idx,
                    depth,
                    ends_at_semicolon: true,
                });
                pending = None;
            } else {
                pending = Some(idx);
            }
        } else if !rest.trim().is_empty() {
            attrs.clear();
        }
        for c in rest.chars() {
            match c {
                '(' | '[' => paren += 1,
                ')' | ']' => paren = paren.saturating_sub(1),
                '{' => {
                    depth += 1;
                    if let Some(p) = pending.take() {
                        stack.push(Open {
                            item: p,
                            depth,
                            ends_at_semicolon: false,
                        });
                    }
                }
                '}' => {
                    while stack
                        .last()
                        .is_some_and(|o| !o.ends_at_semicolon && o.depth == depth)
                    {
                        stack.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                ';' if paren == 0 => {
                    if let Some(p) = pending.take() {
                        let it = &s.items[p];
                        if it.keyword == "mod" && it.cfg_test {
                            s.test_mod_decls.push(it.name.clone());
                        }
                    }
                    while stack
                        .last()
                        .is_some_and(|o| o.ends_at_semicolon && o.depth == depth)
                    {
                        stack.pop();
                    }
                }
                _ => {}
            }
        }
    }
    s
}

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
            for id in ids {
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
            for id in ids_in_text(value.as_str()) {
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
    use super::*;

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
}
