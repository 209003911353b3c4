//! `steward tokens issue`: an API token from the data directory (issue 18,
//! item 2: the operator's way back in when the bootstrap token was lost).

use std::process::ExitCode;

use steward_core::{CoreError, Steward};

use crate::TokensCmd;

/// Run a `tokens` subcommand as `operator`; the core decides and audits.
pub(crate) fn run(st: &Steward, operator: &str, c: TokensCmd) -> Result<ExitCode, CoreError> {
    match c {
        TokensCmd::Issue {
            principal,
            days,
            scope,
            json,
        } => {
            let ttl = days
                .checked_mul(24 * 3600)
                .ok_or_else(|| CoreError::Input("--days: 1 to 366".into()))?;
            let who = principal.as_deref().unwrap_or(operator);
            let t = st.issue_token(operator, who, ttl, scope)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"token": t.token, "id": t.info.id, "principal": t.info.principal, "scopes": t.info.scopes, "expires_at": t.info.expires_at})
                );
            } else {
                outln!(
                    "API token for {} (id {}, expires at {} Unix seconds; shown once, only its hash is stored):\n{}",
                    t.info.principal,
                    t.info.id,
                    t.info.expires_at,
                    t.token
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
