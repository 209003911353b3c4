//! `steward identity`: privacy staff's identity tools (issue 15; N7.2):
//! merge two subjects that are one person, list subjects whose
//! identifiers are confusable, and subjects without an identifier. The
//! core decides (`dsr_handle`, audited); this prints.

use std::process::ExitCode;

use clap::Subcommand;
use steward_core::{CoreError, Steward};

/// Identity tools.
#[derive(Subcommand)]
pub(crate) enum IdentityCmd {
    /// Merge the subject `--other` names into the one `--keep` names
    /// (each a sub_ id or an identifier): records re-sealed under the kept
    /// subject's key, identifiers moved, the other crypto-shredded, its
    /// requests moved; one audited transaction. Prints the receipt (JSON).
    Merge {
        /// The subject that stays.
        #[arg(long)]
        keep: String,
        /// The subject merged into it.
        #[arg(long)]
        other: String,
        /// Principal (default: the configured operator).
        #[arg(long = "as")]
        as_: Option<String>,
    },
    /// Groups of subjects whose identifiers of one kind look alike
    /// (Unicode confusable skeletons), for a request to review (JSON).
    Confusables {
        /// Principal (default: the configured operator).
        #[arg(long = "as")]
        as_: Option<String>,
    },
    /// Subjects with no identifier row (no request finds them), one per
    /// line; repair with `steward identity merge`.
    Orphans {
        /// Principal (default: the configured operator).
        #[arg(long = "as")]
        as_: Option<String>,
    },
}

/// Run an identity command as `--as`, else `operator`.
///
/// Errors: those of the core operations (denied by policy, no such
/// subject, subjects that cannot be merged, storage errors).
pub(crate) fn run(st: &Steward, operator: &str, cmd: IdentityCmd) -> Result<ExitCode, CoreError> {
    match cmd {
        IdentityCmd::Merge { keep, other, as_ } => {
            let by = as_.as_deref().unwrap_or(operator);
            let r = st.merge_subjects(by, &keep, &other)?;
            outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        }
        IdentityCmd::Confusables { as_ } => {
            let g = st.confusable_identifiers(as_.as_deref().unwrap_or(operator))?;
            outln!("{}", serde_json::to_string_pretty(&g).unwrap_or_default());
        }
        IdentityCmd::Orphans { as_ } => {
            for s in st.subjects_without_identifier(as_.as_deref().unwrap_or(operator))? {
                outln!("{s}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
