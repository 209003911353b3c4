//! The lexer: splits a Rust file into code and comment text, line by line.

use std::sync::OnceLock;

use regex::Regex;

use super::cached;

/// One source line: its code with comments removed and string contents
/// blanked, and the text of the comments (and doc strings) on it.
#[derive(Debug, Default, Clone)]
pub(super) struct LexLine {
    pub(super) code: String,
    pub(super) comments: Vec<Comment>,
}

/// The text of one comment, or of one line of a `#[doc = "..."]` string.
#[derive(Debug, Clone)]
pub(super) struct Comment {
    pub(super) text: String,
    /// An inner doc comment (`//!`, `/*!`, `#![doc]`): it documents the
    /// enclosing module.
    pub(super) inner: bool,
    /// A doc comment (`///`, `/** */`, `//!`, `/*! */` or a `#[doc]` string),
    /// as opposed to a plain `//` or `/* */` comment.
    pub(super) doc: bool,
}

pub(super) fn doc_attr_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    cached(&RE, r"#\s*!?\s*\[\s*doc\s*=\s*$")
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where the lexer is.
#[derive(Clone, Copy)]
enum State {
    Code,
    Block {
        depth: usize,
        inner: bool,
        doc: bool,
    },
    Str {
        /// The string of a `#[doc = ...]` attribute (`Some(inner)`).
        doc: Option<bool>,
        hashes: Option<usize>,
    },
}

struct Lexer {
    cs: Vec<char>,
    i: usize,
    lines: Vec<LexLine>,
    buf: String,
    state: State,
}

impl Lexer {
    fn line(&mut self) -> &mut LexLine {
        if self.lines.is_empty() {
            self.lines.push(LexLine::default());
        }
        let last = self.lines.len() - 1;
        &mut self.lines[last]
    }

    fn at(&self, k: usize) -> Option<char> {
        self.cs.get(self.i + k).copied()
    }

    /// Flushes a comment or doc-string buffer into the current line.
    fn flush(&mut self, inner: bool, doc: bool) {
        if !self.buf.trim().is_empty() {
            let text = std::mem::take(&mut self.buf);
            self.line().comments.push(Comment { text, inner, doc });
        }
        self.buf.clear();
    }

    /// The `#[doc = ` attribute this string opens, if any: `Some(inner)`.
    fn doc_string(&mut self) -> Option<bool> {
        let code = &self.line().code;
        doc_attr_regex()
            .is_some_and(|re| re.is_match(code))
            .then(|| {
                code.rfind('#')
                    .is_some_and(|h| code[h + 1..].trim_start().starts_with('!'))
            })
    }

    fn code(&mut self) {
        let (c, next) = (self.cs[self.i], self.at(1));
        let n = self.cs.len();
        if c == '\n' {
            self.lines.push(LexLine::default());
            self.i += 1;
        } else if c == '/' && next == Some('/') {
            let mut j = self.i + 2;
            while j < n && self.cs[j] != '\n' {
                j += 1;
            }
            let text: String = self.cs[self.i + 2..j].iter().collect();
            let inner = text.starts_with('!');
            let doc = inner || (text.starts_with('/') && !text.starts_with("//"));
            self.line().comments.push(Comment { text, inner, doc });
            self.i = j;
        } else if c == '/' && next == Some('*') {
            let inner = self.at(2) == Some('!');
            let doc = inner || (self.at(2) == Some('*') && !matches!(self.at(3), Some('*' | '/')));
            self.state = State::Block {
                depth: 1,
                inner,
                doc,
            };
            self.buf.clear();
            self.i += 2;
        } else if c == '"' {
            let doc = self.doc_string();
            self.line().code.push('"');
            self.state = State::Str { doc, hashes: None };
            self.buf.clear();
            self.i += 1;
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !(self.i > 0 && is_ident_char(self.cs[self.i - 1]))
        {
            let mut j = if c == 'b' { self.i + 2 } else { self.i + 1 };
            let mut hashes = 0;
            while j < n && self.cs[j] == '#' {
                hashes += 1;
                j += 1;
            }
            if j < n && self.cs[j] == '"' {
                let doc = self.doc_string();
                self.line().code.push('"');
                self.state = State::Str {
                    doc,
                    hashes: Some(hashes),
                };
                self.buf.clear();
                self.i = j + 1;
            } else {
                self.line().code.push(c);
                self.i += 1;
            }
        } else if c == '\'' {
            self.quote(next);
        } else {
            self.line().code.push(c);
            self.i += 1;
        }
    }

    /// A char literal, a lifetime or a label.
    fn quote(&mut self, next: Option<char>) {
        let n = self.cs.len();
        if next == Some('\\') {
            // An escaped char literal: skip to its closing quote.
            let mut j = self.i + 3;
            while j < n && self.cs[j] != '\'' && self.cs[j] != '\n' {
                j += 1;
            }
            self.line().code.push_str("' '");
            self.i = if j < n && self.cs[j] == '\'' {
                j + 1
            } else {
                j
            };
        } else if next.is_some_and(|x| x != '\n') && self.at(2) == Some('\'') {
            self.line().code.push_str("' '");
            self.i += 3;
        } else {
            // A lifetime or label.
            self.line().code.push('\'');
            self.i += 1;
        }
    }

    fn block(&mut self, depth: usize, inner: bool, doc: bool) {
        let (c, next) = (self.cs[self.i], self.at(1));
        if c == '\n' {
            self.flush(inner, doc);
            self.lines.push(LexLine::default());
            self.i += 1;
        } else if c == '/' && next == Some('*') {
            self.state = State::Block {
                depth: depth + 1,
                inner,
                doc,
            };
            self.i += 2;
        } else if c == '*' && next == Some('/') {
            if depth <= 1 {
                self.flush(inner, doc);
                self.state = State::Code;
            } else {
                self.state = State::Block {
                    depth: depth - 1,
                    inner,
                    doc,
                };
            }
            self.i += 2;
        } else {
            self.buf.push(c);
            self.i += 1;
        }
    }

    fn string(&mut self, doc: Option<bool>, hashes: Option<usize>) {
        let (c, next) = (self.cs[self.i], self.at(1));
        if c == '\n' {
            if let Some(inner) = doc {
                self.flush(inner, true);
            }
            self.buf.clear();
            self.lines.push(LexLine::default());
            self.i += 1;
            return;
        }
        let closes = match hashes {
            None => c == '"',
            Some(k) => c == '"' && (1..=k).all(|d| self.at(d) == Some('#')),
        };
        if closes {
            if let Some(inner) = doc {
                self.flush(inner, true);
            }
            self.buf.clear();
            self.line().code.push('"');
            self.state = State::Code;
            self.i += 1 + hashes.unwrap_or(0);
        } else if hashes.is_none() && c == '\\' && next.is_some_and(|x| x != '\n') {
            self.i += 2;
        } else {
            self.buf.push(c);
            self.i += 1;
        }
    }
}

/// Splits `src` into lines of code (comments removed, string contents
/// blanked) and comment text.
pub(super) fn lex(src: &str) -> Vec<LexLine> {
    let mut lx = Lexer {
        cs: src.chars().collect(),
        i: 0,
        lines: vec![LexLine::default()],
        buf: String::new(),
        state: State::Code,
    };
    while lx.i < lx.cs.len() {
        match lx.state {
            State::Code => lx.code(),
            State::Block { depth, inner, doc } => lx.block(depth, inner, doc),
            State::Str { doc, hashes } => lx.string(doc, hashes),
        }
    }
    if let State::Block { inner, doc, .. } = lx.state {
        lx.flush(inner, doc);
    }
    lx.lines
}
