//! The clause register of the privacy notice as data: `clauses.toml`,
//! embedded in the binary and parsed at run time.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::NoticeError;

/// The text of `clauses.toml`, the register every coverage report is built on.
pub const CLAUSES_TOML: &str = include_str!("../clauses.toml");

/// One clause of the notice: an ID of `CLAUSES.md` and what the software must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clause {
    /// The clause ID: `N`, the section digit, a dot and the number.
    pub id: String,
    /// The title of the notice section the clause belongs to.
    pub section: String,
    /// True for clauses the system can enforce or prove (`[op]`), false for
    /// those that describe the organisation (`[org]`).
    pub operative: bool,
    /// What the software must do, in our own words.
    pub obligation: String,
    /// Lettered sub-clauses, in letter order (empty for most clauses).
    pub parts: Vec<ClausePart>,
}

/// A lettered sub-clause (a part) of a clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClausePart {
    /// The part's full ID: the clause ID followed by the letter.
    pub id: String,
    /// The letter, `a` to `e`.
    pub letter: char,
    /// What the software must do for this part.
    pub obligation: String,
}

/// The parsed, checked clause register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    clauses: Vec<Clause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    clause: Vec<RawClause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    id: String,
    section: String,
    operative: bool,
    obligation: String,
    #[serde(default)]
    part: Vec<RawPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    letter: String,
    obligation: String,
}

impl Register {
    /// The register embedded in this crate (`clauses.toml`).
    ///
    /// # Errors
    /// [`NoticeError::Register`] if the embedded file is malformed (a test
    /// guards against that).
    pub fn embedded() -> Result<Register, NoticeError> {
        Register::parse(CLAUSES_TOML)
    }

    /// Parses and checks a register in the format of `clauses.toml`: each ID
    /// well formed and unique, text fields not empty, part letters `a` to `e`
    /// and unique within their clause.
    ///
    /// # Errors
    /// [`NoticeError::Register`] naming the clause or TOML position at fault.
    pub fn parse(text: &str) -> Result<Register, NoticeError> {
        let raw: RawRegister = toml::from_str(text).map_err(|e| NoticeError::Register {
            detail: e.to_string(),
        })?;
        let bad = |detail: String| NoticeError::Register { detail };
        let mut seen = BTreeSet::new();
        let mut clauses = Vec::with_capacity(raw.clause.len());
        for c in raw.clause {
            if !is_clause_id(&c.id) {
                return Err(bad(format!(
                    "clause id `{}` is not of the form N<section 1-8>.<number>",
                    c.id
                )));
            }
            if !seen.insert(c.id.clone()) {
                return Err(bad(format!("clause id `{}` appears twice", c.id)));
            }
            if c.section.trim().is_empty() || c.obligation.trim().is_empty() {
                return Err(bad(format!(
                    "clause `{}`: section and obligation must not be empty",
                    c.id
                )));
            }
            let mut parts: Vec<ClausePart> = Vec::with_capacity(c.part.len());
            for p in c.part {
                let letter = match p.letter.as_str() {
                    "a" => 'a',
                    "b" => 'b',
                    "c" => 'c',
                    "d" => 'd',
                    "e" => 'e',
                    other => {
                        return Err(bad(format!(
                            "clause `{}`: part letter `{other}` is not one of a, b, c, d, e",
                            c.id
                        )));
                    }
                };
                if parts.iter().any(|q| q.letter == letter) {
                    return Err(bad(format!(
                        "clause `{}`: part `{letter}` appears twice",
                        c.id
                    )));
                }
                if p.obligation.trim().is_empty() {
                    return Err(bad(format!(
                        "clause `{}` part `{letter}`: obligation must not be empty",
                        c.id
                    )));
                }
                parts.push(ClausePart {
                    id: format!("{}{letter}", c.id),
                    letter,
                    obligation: p.obligation,
                });
            }
            parts.sort_by_key(|p| p.letter);
            clauses.push(Clause {
                id: c.id,
                section: c.section,
                operative: c.operative,
                obligation: c.obligation,
                parts,
            });
        }
        Ok(Register { clauses })
    }

    /// All clauses, in register order.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The clause with this ID, if the register has it.
    pub fn get(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// How many clauses are operative.
    pub fn operative_count(&self) -> usize {
        self.clauses.iter().filter(|c| c.operative).count()
    }
}

/// Whether `s` is a clause ID without part letter: `N`, a section digit 1-8,
/// a dot, and a number without leading zero.
fn is_clause_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('N') else {
        return false;
    };
    let Some((section, number)) = rest.split_once('.') else {
        return false;
    };
    matches!(section, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8")
        && !number.is_empty()
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IDs of CLAUSES.md with their marker, read with a parser that
    /// shares nothing with the register's.
    fn clauses_md_ids(text: &str) -> Vec<(String, bool)> {
        text.lines()
            .filter_map(|l| {
                let l = l.strip_prefix("| ")?;
                let (id, rest) = l.split_once(' ')?;
                if rest.starts_with("[op]") {
                    Some((id.to_owned(), true))
                } else if rest.starts_with("[org]") {
                    Some((id.to_owned(), false))
                } else {
                    None
                }
            })
            .collect()
    }

    #[test]
    fn register_has_48_clauses_45_operative() {
        let r = Register::embedded().unwrap();
        assert_eq!(r.clauses().len(), 48);
        assert_eq!(r.operative_count(), 45);
        let org: Vec<&str> = r
            .clauses()
            .iter()
            .filter(|c| !c.operative)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(org, ["N8.3", "N8.6", "N8.7"]);
        let parts: Vec<&str> = r
            .get("N6.5")
            .unwrap()
            .parts
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(parts, ["N6.5a", "N6.5b", "N6.5c", "N6.5d", "N6.5e"]);
    }

    #[test]
    fn register_ids_are_exactly_those_of_clauses_md() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/notice/CLAUSES.md"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            println!("skipped: {path} is absent (the shared notice folder is not mounted)");
            return;
        };
        let want = clauses_md_ids(&text);
        assert_eq!(want.len(), 48, "CLAUSES.md itself changed shape");
        let got: Vec<(String, bool)> = Register::embedded()
            .unwrap()
            .clauses()
            .iter()
            .map(|c| (c.id.clone(), c.operative))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn malformed_registers_are_refused_with_the_clause_named() {
        let dup = "[[clause]]\nid = \"N1.1\"\nsection = \"S\"\noperative = true\nobligation = \"o\"\n\
                   [[clause]]\nid = \"N1.1\"\nsection = \"S\"\noperative = true\nobligation = \"o\"\n";
        assert_eq!(
            Register::parse(dup).unwrap_err().to_string(),
            "clause register clauses.toml: clause id `N1.1` appears twice"
        );
        let bad_id =
            "[[clause]]\nid = \"N9.1\"\nsection = \"S\"\noperative = true\nobligation = \"o\"\n";
        assert_eq!(
            Register::parse(bad_id).unwrap_err().to_string(),
            "clause register clauses.toml: clause id `N9.1` is not of the form N<section 1-8>.<number>"
        );
        let bad_part = "[[clause]]\nid = \"N1.1\"\nsection = \"S\"\noperative = true\nobligation = \"o\"\n\
                        [[clause.part]]\nletter = \"f\"\nobligation = \"p\"\n";
        assert_eq!(
            Register::parse(bad_part).unwrap_err().to_string(),
            "clause register clauses.toml: clause `N1.1`: part letter `f` is not one of a, b, c, d, e"
        );
        let unknown_key = "[[clause]]\nid = \"N1.1\"\nsection = \"S\"\noperative = true\nobligation = \"o\"\ncolour = 1\n";
        assert!(Register::parse(unknown_key).is_err());
    }
}
