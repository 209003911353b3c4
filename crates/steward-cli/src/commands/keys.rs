//! `steward keys` (N5.2): rotate, retire and list key-encryption keys.

use std::process::ExitCode;

use steward_core::{CoreError, Steward};

use crate::KeysCmd;

/// Run a `keys` subcommand as `operator`.
pub(crate) fn run(st: &Steward, operator: &str, c: KeysCmd) -> Result<ExitCode, CoreError> {
    match c {
        KeysCmd::Rotate { if_due: true } => {
            let run = st.rotate_keys_if_due(operator)?;
            match run.rotated {
                Some((v, n)) => outln!("KEK version {v} is current; re-wrapped {n} subject keys"),
                None => outln!("no rotation due"),
            }
            for v in &run.retired {
                outln!("KEK version {v} retired (destroyed)");
            }
            outln!("next rotation due {}", run.next_rotation);
        }
        KeysCmd::Rotate { if_due: false } => {
            let (v, n) = st.rotate_keys(operator)?;
            outln!(
                "KEK version {v} is current; re-wrapped {n} subject keys (records were not re-encrypted)"
            );
        }
        KeysCmd::Retire { version } => {
            st.retire_kek(operator, version)?;
            outln!("KEK version {version} retired");
        }
        KeysCmd::List => {
            for k in st.keks() {
                outln!(
                    "v{} created {}{}",
                    k.version,
                    k.created_at,
                    if k.retired { " retired" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
