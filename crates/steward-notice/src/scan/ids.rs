//! Clause IDs in comment text and in function names, ranges expanded.

use std::sync::OnceLock;

use regex::Regex;

/// A clause ID found in text: section, number and optional part letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CitedId {
    pub(crate) section: u8,
    pub(crate) number: u32,
    pub(crate) letter: Option<char>,
    /// Found by expanding a range (`N6.3-N6.7`): names no clause by itself,
    /// so it proves nothing (neither enforcing code nor a test).
    pub(crate) ranged: bool,
}

impl CitedId {
    /// The clause ID without part letter, `N6.5`.
    pub(crate) fn clause(self) -> String {
        format!("N{}.{}", self.section, self.number)
    }
}

/// The largest number of IDs one range may expand to; a longer range is
/// taken as its two endpoints only.
const MAX_RANGE: u32 = 50;

/// Compiles `pattern` once. The patterns are literals covered by a test, so
/// `None` (a pattern that does not compile) only means "finds nothing".
pub(super) fn cached(
    cell: &'static OnceLock<Option<Regex>>,
    pattern: &str,
) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

pub(super) fn id_regex() -> Option<&'static Regex> {
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
                ranged: false,
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
                    .map(|number| CitedId {
                        number,
                        ranged: true,
                        ..a
                    })
                    .collect();
            }
            (Some(la), Some(lb)) if a.number == b.number && la < lb => {
                return (la..=lb)
                    .map(|l| CitedId {
                        letter: Some(l),
                        ranged: true,
                        ..a
                    })
                    .collect();
            }
            _ => {}
        }
    }
    vec![CitedId { ranged: true, ..a }, CitedId { ranged: true, ..b }]
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
            ranged: false,
        });
    }
    out
}
