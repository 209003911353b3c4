//! Policy packs: a manifest (`pack.toml`), a Cedar schema
//! (`schema.cedarschema`) and `.cedar` policy files, loaded all or nothing.
//!
//! Loading parses every file, requires the annotations every policy must
//! carry (`@id`, `@clause`, and `@reason` on forbids), renames each policy to
//! its `@id`, and validates the whole set against the schema in strict mode.
//! Any error or warning of the validator is a load error: a policy that names
//! an attribute the schema lacks would otherwise never apply, and a `forbid`
//! must never be silently skipped (DESIGN "Policy").

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Effect, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;
use serde::Deserialize;
use time::Date;
use time::macros::format_description;

use crate::error::{PolicyError, ValidationIssue};

/// The manifest's file name in a pack directory.
pub const MANIFEST_FILE: &str = "pack.toml";
/// The schema's file name in a pack directory.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

pub(crate) const EMBEDDED_MANIFEST: &str = include_str!("../pack/pack.toml");
pub(crate) const EMBEDDED_SCHEMA: &str = include_str!("../pack/schema.cedarschema");
/// The default pack's policy files, as embedded in the binary: (file name, text).
pub(crate) const EMBEDDED_POLICIES: &[(&str, &str)] = &[
    (
        "00-principal-forbids.cedar",
        include_str!("../pack/00-principal-forbids.cedar"),
    ),
    (
        "10-purpose-forbids.cedar",
        include_str!("../pack/10-purpose-forbids.cedar"),
    ),
    ("20-staff.cedar", include_str!("../pack/20-staff.cedar")),
    (
        "30-administrators.cedar",
        include_str!("../pack/30-administrators.cedar"),
    ),
    (
        "40-data-subjects.cedar",
        include_str!("../pack/40-data-subjects.cedar"),
    ),
    (
        "50-services.cedar",
        include_str!("../pack/50-services.cedar"),
    ),
    (
        "60-processors.cedar",
        include_str!("../pack/60-processors.cedar"),
    ),
    (
        "70-disclosures.cedar",
        include_str!("../pack/70-disclosures.cedar"),
    ),
    (
        "80-incidents.cedar",
        include_str!("../pack/80-incidents.cedar"),
    ),
];

/// A pack's manifest (`pack.toml`): which pack, which version, governing from when (N6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackManifest {
    /// The pack's name, e.g. `steward-default`.
    pub name: String,
    /// The pack's version, e.g. `2024-01-18.1`; written into every audit entry.
    pub version: String,
    /// The day the pack starts to govern (N6.8).
    pub effective: Date,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    name: String,
    version: String,
    effective: String,
    #[serde(default)]
    #[allow(dead_code)]
    notice: Option<String>,
}

impl PackManifest {
    /// Parse `pack.toml` text. Errors: [`PolicyError::Manifest`] naming the
    /// missing key or bad value.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let bad = |message: String| PolicyError::Manifest {
            file: MANIFEST_FILE.to_owned(),
            message,
        };
        let raw: RawManifest = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if raw.name.trim().is_empty() {
            return Err(bad("`name` is empty".to_owned()));
        }
        if raw.version.trim().is_empty() {
            return Err(bad("`version` is empty".to_owned()));
        }
        let effective = Date::parse(&raw.effective, format_description!("[year]-[month]-[day]"))
            .map_err(|e| {
                bad(format!(
                    "`effective` = {:?} is not a date YYYY-MM-DD: {e}",
                    raw.effective
                ))
            })?;
        Ok(PackManifest {
            name: raw.name,
            version: raw.version,
            effective,
        })
    }
}

/// The effect of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyEffect {
    /// A `permit`: allows when it applies and no forbid does.
    Permit,
    /// A `forbid`: denies whenever it applies, whatever permits apply.
    Forbid,
}

/// What the engine knows of one loaded policy: the facts `steward notice
/// coverage` reports per clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    /// The policy's `@id`, unique in the pack.
    pub id: String,
    /// The file it came from.
    pub file: String,
    /// Permit or forbid.
    pub effect: PolicyEffect,
    /// Its `@clause` IDs, e.g. `["N3.5", "N3.8"]`.
    pub clauses: Vec<String>,
    /// Its `@reason`: the condition in plain words (required on forbids).
    pub reason: Option<String>,
    /// Its `@hint`: what a request that almost matched lacks (optional).
    pub hint: Option<String>,
}

/// A loaded, validated pack.
pub(crate) struct LoadedPack {
    pub manifest: PackManifest,
    pub schema: Schema,
    pub policies: PolicySet,
    pub infos: Vec<PolicyInfo>,
}

/// The texts of a pack directory.
pub(crate) struct PackTexts {
    /// `pack.toml`.
    pub manifest: String,
    /// `schema.cedarschema`.
    pub schema: String,
    /// (file name, text) of every `*.cedar` file, in file-name order.
    pub policies: Vec<(String, String)>,
}

/// Read a pack directory: `pack.toml`, `schema.cedarschema` and every
/// `*.cedar` file, in file-name order.
pub(crate) fn read_dir(dir: &Path) -> Result<PackTexts, PolicyError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| PolicyError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let manifest = read(&dir.join(MANIFEST_FILE))?;
    let schema = read(&dir.join(SCHEMA_FILE))?;
    let entries = std::fs::read_dir(dir).map_err(|source| PolicyError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PolicyError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "cedar") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, read(&path)?));
    }
    if files.is_empty() {
        return Err(PolicyError::NoPolicies {
            dir: dir.display().to_string(),
        });
    }
    Ok(PackTexts {
        manifest,
        schema,
        policies: files,
    })
}

/// Load a pack from its sources. `files` are (file name, text) pairs.
pub(crate) fn load(
    manifest: &str,
    schema: &str,
    files: &[(&str, &str)],
    origin: &str,
) -> Result<LoadedPack, PolicyError> {
    let manifest = PackManifest::parse(manifest)?;
    let (schema, _warnings) =
        Schema::from_cedarschema_str(schema).map_err(|e| PolicyError::Schema {
            file: SCHEMA_FILE.to_owned(),
            message: diagnostic_text(&e),
        })?;
    if files.is_empty() {
        return Err(PolicyError::NoPolicies {
            dir: origin.to_owned(),
        });
    }

    let mut set = PolicySet::new();
    let mut infos: Vec<PolicyInfo> = Vec::new();
    // Per policy id: (file index, file text) for locating validation errors.
    let mut sources: HashMap<String, usize> = HashMap::new();
    for (file_index, (file, text)) in files.iter().enumerate() {
        let parsed = PolicySet::from_str(text).map_err(|e| {
            let (line, column) = first_label(&e)
                .map(|off| line_col(text, off))
                .unwrap_or((1, 1));
            PolicyError::Parse {
                file: (*file).to_owned(),
                line,
                column,
                message: diagnostic_text(&e),
            }
        })?;
        if parsed.templates().next().is_some() {
            return Err(PolicyError::Template {
                file: (*file).to_owned(),
            });
        }
        // The parser names policies policy0, policy1, ... in source order.
        let mut policies: Vec<_> = parsed.policies().collect();
        policies.sort_by_key(|p| {
            AsRef::<str>::as_ref(p.id())
                .strip_prefix("policy")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(usize::MAX)
        });
        for (n, policy) in policies.into_iter().enumerate() {
            let position = format!("policy #{} (`{}`)", n + 1, first_line(policy));
            let id = required(policy.annotation("id"), file, &position, "id", WHY_ID)?;
            if id.chars().any(|c| c.is_whitespace() || c == ',') {
                return Err(PolicyError::BadAnnotation {
                    file: (*file).to_owned(),
                    policy: position,
                    annotation: "id",
                    value: id.to_owned(),
                    expected: "an id without spaces or commas, e.g. staff-support-read",
                });
            }
            let clause = required(policy.annotation("clause"), file, id, "clause", WHY_CLAUSE)?;
            let clauses = parse_clauses(clause).ok_or_else(|| PolicyError::BadAnnotation {
                file: (*file).to_owned(),
                policy: id.to_owned(),
                annotation: "clause",
                value: clause.to_owned(),
                expected: "comma-separated clause IDs of the register, e.g. N3.5,N3.8 or N6.5d",
            })?;
            let effect = match policy.effect() {
                Effect::Permit => PolicyEffect::Permit,
                Effect::Forbid => PolicyEffect::Forbid,
            };
            let reason = nonempty(policy.annotation("reason"));
            if effect == PolicyEffect::Forbid && reason.is_none() {
                return Err(PolicyError::MissingAnnotation {
                    file: (*file).to_owned(),
                    policy: id.to_owned(),
                    annotation: "reason",
                    why: WHY_REASON,
                });
            }
            if let Some(&first) = sources.get(id) {
                return Err(PolicyError::DuplicateId {
                    id: id.to_owned(),
                    first_file: files[first].0.to_owned(),
                    second_file: (*file).to_owned(),
                });
            }
            sources.insert(id.to_owned(), file_index);
            set.add(policy.new_id(PolicyId::new(id)))
                .map_err(|e| PolicyError::DuplicateId {
                    id: format!("{id} ({e})"),
                    first_file: (*file).to_owned(),
                    second_file: (*file).to_owned(),
                })?;
            infos.push(PolicyInfo {
                id: id.to_owned(),
                file: (*file).to_owned(),
                effect,
                clauses,
                reason: reason.map(str::to_owned),
                hint: nonempty(policy.annotation("hint")).map(str::to_owned),
            });
        }
    }

    let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    let locate = |id: &PolicyId, off: Option<usize>| -> (String, usize) {
        match sources.get(AsRef::<str>::as_ref(id)) {
            Some(&i) => {
                let (file, text) = files[i];
                let line = off.map(|o| line_col(text, o).0).unwrap_or(0);
                (file.to_owned(), line)
            }
            None => (origin.to_owned(), 0),
        }
    };
    let mut issues = Vec::new();
    for e in result.validation_errors() {
        let (file, line) = locate(e.policy_id(), first_label(e));
        issues.push(ValidationIssue {
            file,
            line,
            policy_id: e.policy_id().to_string(),
            message: diagnostic_text(e),
        });
    }
    for w in result.validation_warnings() {
        let (file, line) = locate(w.policy_id(), first_label(w));
        issues.push(ValidationIssue {
            file,
            line,
            policy_id: w.policy_id().to_string(),
            message: format!("(validator warning, refused) {}", diagnostic_text(w)),
        });
    }
    if !issues.is_empty() {
        return Err(PolicyError::Validation { issues });
    }
    Ok(LoadedPack {
        manifest,
        schema,
        policies: set,
        infos,
    })
}

const WHY_ID: &str = "every policy needs a unique @id, which decisions and the audit log name";
const WHY_CLAUSE: &str =
    "every policy needs the clause IDs it enforces, e.g. @clause(\"N3.5,N3.8\")";
const WHY_REASON: &str =
    "every forbid needs a @reason naming its condition in plain words, which denials report";

fn required<'a>(
    value: Option<&'a str>,
    file: &str,
    policy: &str,
    annotation: &'static str,
    why: &'static str,
) -> Result<&'a str, PolicyError> {
    nonempty(value).ok_or_else(|| PolicyError::MissingAnnotation {
        file: file.to_owned(),
        policy: policy.to_owned(),
        annotation,
        why,
    })
}

fn nonempty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Parse `N3.5,N3.8` into its IDs. Each is `N`, digits, optionally `.`
/// digits and one lower-case letter (`N6.5d`).
pub(crate) fn parse_clauses(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if !is_clause_id(part) {
            return None;
        }
        if !out.iter().any(|c| c == part) {
            out.push(part.to_owned());
        }
    }
    Some(out)
}

fn is_clause_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('N') else {
        return false;
    };
    let (major, minor) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match minor {
        None => true,
        Some(m) => {
            let digits = m.trim_end_matches(|c: char| c.is_ascii_lowercase());
            let letters = m.len() - digits.len();
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && letters <= 1
        }
    }
}

/// The first line of a policy's text, shortened, to point at it when it has no `@id`.
fn first_line(policy: &cedar_policy::Policy) -> String {
    let text = policy.to_string();
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('@') && !l.starts_with("//"))
        .unwrap_or("");
    line.chars().take(60).collect()
}

/// Cedar's message with its help, if any.
fn diagnostic_text(d: &dyn Diagnostic) -> String {
    let mut s = d.to_string();
    if let Some(related) = d.related() {
        for r in related {
            let r = r.to_string();
            if !s.contains(&r) {
                s.push_str("; ");
                s.push_str(&r);
            }
        }
    }
    if let Some(help) = d.help() {
        s.push_str(" (help: ");
        s.push_str(&help.to_string());
        s.push(')');
    }
    s
}

fn first_label(d: &dyn Diagnostic) -> Option<usize> {
    d.labels()?.map(|l| l.offset()).min()
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map(|i| before.len() - i)
        .unwrap_or(before.len() + 1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_ids_parse() {
        assert_eq!(
            parse_clauses("N3.5, N3.8").unwrap(),
            vec!["N3.5".to_owned(), "N3.8".to_owned()]
        );
        assert_eq!(parse_clauses("N6.5d").unwrap(), vec!["N6.5d".to_owned()]);
        assert_eq!(parse_clauses("N3").unwrap(), vec!["N3".to_owned()]);
        for bad in ["", "3.5", "N3.", "N3.5de", "N.5", "N3.5,", "n3.5", "N3.x"] {
            assert!(parse_clauses(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }

    #[test]
    fn manifest_needs_its_keys() {
        let m = PackManifest::parse(EMBEDDED_MANIFEST).unwrap();
        assert_eq!(m.version, "2024-01-18.8");
        assert_eq!(m.effective.to_string(), "2024-01-18");
        let e = PackManifest::parse("name = \"x\"\nversion = \"1\"\n").unwrap_err();
        assert!(e.to_string().contains("effective"), "{e}");
        let e = PackManifest::parse("name = \"x\"\nversion = \"1\"\neffective = \"18/01/2024\"")
            .unwrap_err();
        assert!(e.to_string().contains("not a date"), "{e}");
    }
}
