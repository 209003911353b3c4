//! Errors of loading a policy pack. Each names the file, the policy `@id`
//! where there is one, and Cedar's own message, so an operator can fix the
//! pack. A pack with any error does not load: no policy is ever skipped.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// A policy pack failed to load. Nothing of it is used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A pack file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `pack.toml` is missing a key, has a bad value, or does not parse.
    #[error("{file}: {message} (expected keys: name, version, effective = \"YYYY-MM-DD\")")]
    Manifest {
        /// The manifest's file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The Cedar schema does not parse or is not well formed.
    #[error("{file}: invalid Cedar schema: {message}")]
    Schema {
        /// The schema's file name.
        file: String,
        /// Cedar's message.
        message: String,
    },
    /// The schema does not accept the entities, actions and context that the
    /// engine builds for every decision, so every decision would fail.
    #[error("{file}: the schema does not match what the engine supplies: {message}")]
    SchemaMismatch {
        /// The schema's file name.
        file: String,
        /// What did not conform, in Cedar's words.
        message: String,
    },
    /// A policy file does not parse.
    #[error("{file}:{line}:{column}: Cedar syntax error: {message}")]
    Parse {
        /// The policy file's name.
        file: String,
        /// 1-based line of the first error (1 if unknown).
        line: usize,
        /// 1-based column of the first error (1 if unknown).
        column: usize,
        /// Cedar's messages.
        message: String,
    },
    /// A policy lacks a required annotation: `@id` and `@clause` on every
    /// policy, `@reason` on every forbid.
    #[error("{file}: {policy} has no @{annotation}(\"...\") annotation; {why}")]
    MissingAnnotation {
        /// The policy file's name.
        file: String,
        /// The policy, by `@id` or by position (`policy #3`).
        policy: String,
        /// The missing annotation's name.
        annotation: &'static str,
        /// Why it is required.
        why: &'static str,
    },
    /// An annotation has a value the engine cannot use.
    #[error("{file}: policy {policy}: bad @{annotation}(\"{value}\"): {expected}")]
    BadAnnotation {
        /// The policy file's name.
        file: String,
        /// The policy's `@id` (or position).
        policy: String,
        /// The annotation's name.
        annotation: &'static str,
        /// The value given.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// Two policies have the same `@id`.
    #[error("policy id {id} is used twice: in {first_file} and in {second_file}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The file of the first use.
        first_file: String,
        /// The file of the second use.
        second_file: String,
    },
    /// A policy file holds a template; packs hold static policies only.
    #[error("{file}: templates (?principal, ?resource) are not supported in a policy pack")]
    Template {
        /// The policy file's name.
        file: String,
    },
    /// The pack has no `.cedar` file.
    #[error("{dir}: the pack has no .cedar policy files")]
    NoPolicies {
        /// The pack's directory (or `<embedded>`).
        dir: String,
    },
    /// Strict validation against the schema found problems. Every problem of
    /// every policy is listed.
    #[error("{} policy validation error(s):\n{}", issues.len(), ValidationIssues(issues))]
    Validation {
        /// The problems.
        issues: Vec<ValidationIssue>,
    },
}

/// One problem strict validation found in one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationIssue {
    /// The policy file's name.
    pub file: String,
    /// 1-based line in the file (0 if Cedar gave no location).
    pub line: usize,
    /// The policy's `@id`.
    pub policy_id: String,
    /// Cedar's message.
    pub message: String,
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}: policy {}: {}",
                self.file, self.line, self.policy_id, self.message
            )
        } else {
            write!(
                f,
                "{}: policy {}: {}",
                self.file, self.policy_id, self.message
            )
        }
    }
}

struct ValidationIssues<'a>(&'a [ValidationIssue]);

impl fmt::Display for ValidationIssues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {issue}")?;
        }
        Ok(())
    }
}

/// A name that is not one of the actions of [`crate::Action`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown action `{name}`: expected one of read, export, erase, rectify, ingest, disclose, report, admin_view, admin_change_password, admin_suspend, admin_legal_access, admin_restrict, manage_principals, audit_read, keys_rotate, dsr_handle"
)]
pub struct UnknownActionError {
    /// The name given (at most 64 characters).
    pub name: String,
}
