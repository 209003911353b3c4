//! `steward transfers` (N4.4): transfer mechanisms on record, and the
//! transfer register.

use std::process::ExitCode;

use steward_core::{CoreError, Steward};

use crate::TransfersCmd;

/// Run a `transfers` subcommand as `operator`.
pub(crate) fn run(st: &Steward, operator: &str, c: TransfersCmd) -> Result<ExitCode, CoreError> {
    match c {
        TransfersCmd::AddMechanism {
            from_region,
            to_country,
            mechanism,
            reference,
        } => {
            let m = st.add_transfer_mechanism(
                operator,
                &from_region,
                &to_country,
                &mechanism,
                &reference,
            )?;
            outln!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
        }
        TransfersCmd::Mechanisms => {
            for m in st.transfer_mechanisms()? {
                outln!(
                    "{} {} -> {} {} ({})",
                    m.id,
                    m.from_region,
                    m.to_country,
                    m.mechanism,
                    m.reference
                );
            }
        }
        TransfersCmd::List { json } => {
            let list = st.transfers()?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else {
                for t in &list {
                    outln!(
                        "{} {} {}({}) -> {}({}) {} [{}] subjects={}",
                        t.time,
                        t.id,
                        t.from_region,
                        t.from_country,
                        t.to_region,
                        t.to_country,
                        t.mechanism,
                        t.categories.join(","),
                        t.subject_count
                    );
                }
                outln!("{} transfers", list.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
