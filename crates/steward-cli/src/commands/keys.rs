//! `steward keys` (N5.2): rotate, retire and list key-encryption keys;
//! rotate the blind-index key (issue 13 item 3).

use std::process::ExitCode;

use steward_core::{CoreError, RotateOptions, Steward};

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
        KeysCmd::RotateBlindIndex { max_subjects } => {
            let r = st.rotate_blind_index(operator, RotateOptions { max_subjects })?;
            outln!(
                "blind-index key version {} is current; re-indexed {} identifiers of {} subjects; request references re-keyed {}, dropped {}; intake ledger rows re-keyed {}, kept {}; one-time codes forgotten {}",
                r.version,
                r.identifiers,
                r.subjects,
                r.requests_rekeyed,
                r.requests_dropped,
                r.intake_rekeyed,
                r.intake_kept,
                r.codes_forgotten
            );
            match r.destroyed {
                Some(v) => outln!("blind-index key version {v} destroyed"),
                None => outln!(
                    "the rotation is still under way (lookups use both versions): run `steward keys rotate-blind-index` again to finish it"
                ),
            }
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
