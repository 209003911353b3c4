//! `steward cases` (N3.5) and `steward obligations` (N3.7): the support
//! cases and legal obligations that reads may cite.

use std::process::ExitCode;

use steward_core::{CoreError, ObligationScope, Steward};

use crate::{CasesCmd, ObligationsCmd};

/// Run a `cases` subcommand as `operator`.
pub(crate) fn cases(st: &Steward, operator: &str, c: CasesCmd) -> Result<ExitCode, CoreError> {
    match c {
        CasesCmd::Open { subject } => {
            let c = st.open_case(operator, &subject)?;
            outln!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
        }
        CasesCmd::Close { id } => {
            st.close_case(operator, &id)?;
            outln!("closed {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Run an `obligations` subcommand as `operator`.
pub(crate) fn obligations(
    st: &Steward,
    operator: &str,
    c: ObligationsCmd,
) -> Result<ExitCode, CoreError> {
    match c {
        ObligationsCmd::Record {
            kind,
            reference,
            organisation,
            subjects,
            cited_by,
        } => {
            let scope = ObligationScope {
                organisation,
                subjects,
                cited_by,
            };
            let o = st.record_obligation_for(operator, &kind, &reference, &scope)?;
            outln!("{}", serde_json::to_string_pretty(&o).unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}
