//! `steward cases` (N3.5) and `steward obligations` (N3.7): the support
//! cases and legal obligations that reads may cite.

use std::process::ExitCode;

use steward_core::{CoreError, ObligationScope, Steward};

use crate::{CasesCmd, ObligationsCmd};

/// Run a `cases` subcommand as `operator`.
pub(crate) fn cases(st: &Steward, operator: &str, c: CasesCmd) -> Result<ExitCode, CoreError> {
    match c {
        CasesCmd::Open { subject, kind } => {
            let kind = kind
                .parse()
                .map_err(|e| CoreError::Input(format!("--kind: {e}")))?;
            let c = st.open_case_of_kind(operator, &subject, kind)?;
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
            categories,
        } => {
            let categories = categories
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.parse()
                        .map_err(|e| CoreError::Input(format!("--category[{i}]: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let scope = ObligationScope {
                organisation,
                subjects,
                cited_by,
                categories,
            };
            let o = st.record_obligation_for(operator, &kind, &reference, &scope)?;
            outln!("{}", serde_json::to_string_pretty(&o).unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}
