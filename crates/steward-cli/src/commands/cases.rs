//! `steward cases` (N3.5), `steward obligations` (N3.7) and `steward
//! grants` (N5.5): the support cases, legal obligations and need-to-know
//! grants that reads may cite (N3.8).

use std::process::ExitCode;

use clap::Subcommand;
use steward_core::{CoreError, GrantRequest, ObligationScope, Steward};

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
        CasesCmd::Assign { id, processor } => {
            let c = st.assign_case(operator, &id, &processor)?;
            outln!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
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
            let categories = super::categories(&categories)?;
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

/// `steward grants ...`.
#[derive(Subcommand)]
pub(crate) enum GrantsCmd {
    /// Grant a staff member need-to-know access to one subject's data of
    /// named categories for one purpose until a day (N5.5), decided by the
    /// pack (`manage_principals`) and audited; prints the grant as JSON.
    Add {
        /// The staff member granted.
        #[arg(long)]
        grantee: String,
        /// The subject (`username:ann`, `sub_…`).
        #[arg(long)]
        subject: String,
        /// The purpose (N3).
        #[arg(long)]
        purpose: String,
        /// A category the grant reaches (repeatable, at least one; N2).
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
        /// The last valid day, YYYY-MM-DD (at most 90 days ahead).
        #[arg(long)]
        expires: String,
        /// An external reference (change or ticket id).
        #[arg(long)]
        reference: String,
    },
}

/// Run a `grants` subcommand as `operator`.
pub(crate) fn grants(st: &Steward, operator: &str, c: GrantsCmd) -> Result<ExitCode, CoreError> {
    match c {
        GrantsCmd::Add {
            grantee,
            subject,
            purpose,
            categories,
            expires,
            reference,
        } => {
            let purpose = purpose
                .parse()
                .map_err(|e| CoreError::Input(format!("--purpose: {e}")))?;
            let categories = super::categories(&categories)?;
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let expires_on = time::Date::parse(&expires, &format).map_err(|e| {
                CoreError::Input(format!("--expires: `{expires}` is not YYYY-MM-DD ({e})"))
            })?;
            let g = st.grant_need_to_know(
                operator,
                &GrantRequest {
                    grantee,
                    subject,
                    purpose,
                    categories,
                    expires_on,
                    reference,
                },
            )?;
            outln!("{}", serde_json::to_string_pretty(&g).unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}
