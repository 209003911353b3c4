//! Structure: items, their test flags, and what encloses each line.

use std::sync::OnceLock;

use regex::Regex;

use super::cached;
use super::lex::LexLine;

/// One item of a file: a function, a module, a type, an impl, ...
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// `fn name`, `struct Name`, `impl Trait for Type`, ...
    pub(super) label: String,
    /// The keyword (`fn`, `mod`, `impl`, ...).
    pub(super) keyword: &'static str,
    /// The bare name (empty for `impl`).
    pub(super) name: String,
    /// 0-based line of the header.
    pub(super) line: usize,
    /// Marked `#[test]`-like or `#[cfg(test)]`.
    pub(super) test: bool,
    pub(super) cfg_test: bool,
}

/// The items of a file and, per line, what encloses it.
#[derive(Debug, Default)]
pub(super) struct Structure {
    pub(super) items: Vec<Item>,
    /// Per line: the item whose header starts on the line.
    pub(super) header_at: Vec<Option<usize>>,
    /// Per line, at its start: the innermost enclosing item, and whether any
    /// enclosing item is a test scope.
    pub(super) enclosing: Vec<(Option<usize>, bool)>,
    /// Per line: true when the line holds only attributes.
    pub(super) attr_only: Vec<bool>,
    /// `#![cfg(test)]` at the top of the file.
    pub(super) file_is_test: bool,
    /// Names of `#[cfg(test)] mod name;` declarations.
    pub(super) test_mod_decls: Vec<String>,
}

pub(super) fn item_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(
        &RE,
        r#"^(?:pub(?:\s*\([^)]*\))?\s+)?(?:default\s+)?(?:(?:const|async|unsafe|safe|extern(?:\s*"")?)\s+)*(fn|struct|enum|union|trait|type|mod|static|const|impl|macro_rules!)(?:\s|<|$|\{)"#,
    )
}

pub(super) fn name_regex() -> Option<&'static Regex> {
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

pub(super) fn structure(lines: &[LexLine]) -> Structure {
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
    let mut open_attr: OpenAttr = None;
    for (l, line) in lines.iter().enumerate() {
        s.enclosing[l] = (
            stack.last().map(|o| o.item),
            stack
                .iter()
                .any(|o| s.items[o.item].test || s.items[o.item].cfg_test),
        );
        let (rest, saw_attr) = strip_attributes(
            &line.code,
            &mut open_attr,
            &mut attrs,
            stack.is_empty(),
            &mut s.file_is_test,
        );
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

/// An attribute still open across lines: (text so far, bracket depth, inner).
type OpenAttr = Option<(String, usize, bool)>;

/// Consumes the attributes at the start of `code` (and the rest of one left
/// open on an earlier line), collecting outer ones into `attrs` and noting a
/// top-level `#![cfg(test)]`. Returns the code after them and whether the
/// line held any attribute.
fn strip_attributes<'a>(
    code: &'a str,
    open_attr: &mut OpenAttr,
    attrs: &mut Vec<String>,
    top_level: bool,
    file_is_test: &mut bool,
) -> (&'a str, bool) {
    let mut rest: &str = code;
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
                    if text == "cfg(test)" && top_level {
                        *file_is_test = true;
                    }
                } else {
                    attrs.push(text);
                }
            } else {
                *open_attr = Some((text, bdepth, inner));
                break;
            }
        }
        let t = rest.trim_start();
        if let Some(after) = t.strip_prefix("#!") {
            let after = after.trim_start();
            if let Some(body) = after.strip_prefix('[') {
                *open_attr = Some((String::new(), 1, true));
                rest = body;
                continue;
            }
        } else if let Some(after) = t.strip_prefix('#') {
            let after = after.trim_start();
            if let Some(body) = after.strip_prefix('[') {
                *open_attr = Some((String::new(), 1, false));
                rest = body;
                continue;
            }
        }
        rest = t;
        break;
    }
    (rest, saw_attr)
}
