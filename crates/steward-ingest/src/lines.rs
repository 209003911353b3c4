//! Splitting input bytes into lines: LF or CRLF, a missing final newline, a
//! leading UTF-8 byte-order mark; checks shared by the line-based adapters.

use crate::{MAX_LINE_BYTES, SkipReason};

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `input` without a leading UTF-8 byte-order mark.
pub(crate) fn strip_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(BOM).unwrap_or(input)
}

/// The number of lines in `input` as the line-based adapters count them: each
/// `\n` ends a line, and a non-empty tail after the last `\n` is one more line.
/// An empty input has 0 lines; `"a\n"` has 1; `"a\nb"` has 2; `"\n"` has 1.
///
/// For [`crate::Format::Openssh`], [`crate::Format::ApacheAccess`] and
/// [`crate::Format::Jsonl`], `records + skipped + rejected` always equals this.
pub fn line_count(input: &[u8]) -> usize {
    let input = strip_bom(input);
    let newlines = memchr::memchr_iter(b'\n', input).count();
    let tail = match memchr::memrchr(b'\n', input) {
        Some(i) => input.len() - i - 1,
        None => input.len(),
    };
    newlines + usize::from(tail > 0)
}

/// Iterator over `(1-based line number, line bytes without \n or \r\n)`.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    no: usize,
}

/// The lines of `input` (after a byte-order mark, if any).
pub(crate) fn lines(input: &[u8]) -> Lines<'_> {
    Lines {
        rest: strip_bom(input),
        no: 0,
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.no += 1;
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((self.no, line))
    }
}

/// The line as text, or why it is skipped: longer than [`MAX_LINE_BYTES`],
/// invalid UTF-8, or blank (only ASCII whitespace).
pub(crate) fn text(line: &[u8]) -> Result<&str, SkipReason> {
    if line.len() > MAX_LINE_BYTES {
        return Err(SkipReason::LineTooLong);
    }
    let s = std::str::from_utf8(line).map_err(|_| SkipReason::InvalidUtf8)?;
    if s.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(SkipReason::BlankLine);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lf_crlf_and_a_missing_final_newline() {
        let got: Vec<_> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(
            got,
            vec![
                (1, &b"a"[..]),
                (2, &b"b"[..]),
                (3, &b""[..]),
                (4, &b"c"[..])
            ]
        );
        assert_eq!(line_count(b"a\r\nb\n\nc"), 4);
        assert_eq!(lines(b"a\n").count(), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"\n"), 1);
        assert_eq!(lines(b"\n").count(), 1);
        assert_eq!(line_count(b""), 0);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\xEF\xBB\xBFx").next(), Some((1, &b"x"[..])));
    }

    #[test]
    fn text_classifies_blank_invalid_and_too_long() {
        assert_eq!(text(b" \t"), Err(SkipReason::BlankLine));
        assert_eq!(text(b"\xff\xfe"), Err(SkipReason::InvalidUtf8));
        assert_eq!(
            text(&vec![b'a'; MAX_LINE_BYTES + 1]),
            Err(SkipReason::LineTooLong)
        );
        assert_eq!(
            text(&vec![b'a'; MAX_LINE_BYTES]).map(str::len),
            Ok(MAX_LINE_BYTES)
        );
    }
}
