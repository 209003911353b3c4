//! `steward principals`: add, change, list, show and revoke principals (N5.5).

use std::process::ExitCode;

use steward_core::{CoreError, Steward};
use steward_domain::{Principal, PrincipalKind, Team};

use super::parse_date;
use crate::PrincipalsCmd;

/// The principal the arguments describe (kind, teams and dates parsed).
fn principal(
    name: String,
    kind: &str,
    teams: &[String],
    confidentiality_signed: &Option<String>,
    training_expires: &Option<String>,
    ends: &Option<String>,
) -> Result<Principal, CoreError> {
    let kind: PrincipalKind = kind
        .parse()
        .map_err(|e| CoreError::Input(format!("--kind: {e}")))?;
    let teams = teams
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<Team>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CoreError::Input(format!("--teams: {e}")))?;
    Ok(Principal {
        name,
        kind,
        teams,
        confidentiality_signed_on: parse_date("--confidentiality-signed", confidentiality_signed)?,
        training_expires_on: parse_date("--training-expires", training_expires)?,
        engagement_ends_on: parse_date("--ends", ends)?,
        subject: None,
        organisations: vec![],
        revoked: false,
    })
}

/// Run a `principals` subcommand as `operator`.
pub(crate) fn run(st: &Steward, operator: &str, c: PrincipalsCmd) -> Result<ExitCode, CoreError> {
    match c {
        PrincipalsCmd::Add {
            name,
            kind,
            teams,
            confidentiality_signed,
            training_expires,
            ends,
        } => {
            let p = principal(
                name,
                &kind,
                &teams,
                &confidentiality_signed,
                &training_expires,
                &ends,
            )?;
            // Decided by the core (principal_add); a name that exists is refused.
            st.add_principal(operator, &p)?;
            outln!("added {}", p.name);
        }
        PrincipalsCmd::Change {
            name,
            kind,
            teams,
            confidentiality_signed,
            training_expires,
            ends,
        } => {
            let p = principal(
                name,
                &kind,
                &teams,
                &confidentiality_signed,
                &training_expires,
                &ends,
            )?;
            // Decided by the core (principal_change), audited.
            let n = st.change_principal(operator, &p)?;
            outln!("changed {}: {n} tokens revoked", p.name);
        }
        PrincipalsCmd::List => {
            for p in st.principals()? {
                outln!(
                    "{} {} [{}]{}",
                    p.name,
                    p.kind,
                    p.teams
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    if p.revoked { " revoked" } else { "" }
                );
            }
        }
        PrincipalsCmd::Show { name } => {
            let p = st.principal(&name)?;
            outln!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
        }
        PrincipalsCmd::Revoke { name } => {
            st.revoke_principal(operator, &name)?;
            outln!("revoked {name}: denied from the next request on");
        }
    }
    Ok(ExitCode::SUCCESS)
}
