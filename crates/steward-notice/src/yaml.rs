//! The little YAML this crate writes: every string scalar double-quoted and
//! escaped, so that no value can be read as another type or break the layout.

use std::fmt::Write as _;

/// `s` as a YAML double-quoted scalar. Escapes `"` and `\`, the common
/// control characters by name, and every other character outside YAML's
/// printable set as `\uXXXX` (or `\UXXXXXXXX`).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// YAML 1.1/1.2 printable characters (what PyYAML accepts unescaped), less
/// the line separators and the byte order mark, which are escaped too.
fn printable(c: char) -> bool {
    matches!(c as u32,
        0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(quote("x\ny\tz"), "\"x\\ny\\tz\"");
        assert_eq!(quote("yes"), "\"yes\"");
        assert_eq!(quote("\u{7f}\u{85}\u{2028}é"), "\"\\u007F\\u0085\\u2028é\"");
        assert_eq!(quote("#: - &*"), "\"#: - &*\"");
    }
}
