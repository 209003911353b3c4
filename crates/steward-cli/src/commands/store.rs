//! The stores themselves: `copy` a region's store to another and check the
//! copy, `migrate` every region's schema, `verify-records`.

use std::process::ExitCode;

use steward_core::{CoreError, OpenOptions, Steward, VerifyOutcome};

use super::redact_url;
use crate::{Cli, load_config};

/// `steward copy`: copy, then open the target and check that every record
/// opens and the audit log verifies (exit 1 when it does not).
pub(crate) fn copy(cli: &Cli, from: &str, to: &str) -> Result<ExitCode, CoreError> {
    let mut config = load_config(cli)?;
    let s = steward_core::copy_store(&cli.data_dir, &config, from, to)?;
    outln!(
        "copied {} subjects, {} records, {} audit entries, {} checkpoints, {} principals, {} registry rows to {}",
        s.subjects,
        s.records,
        s.audit_entries,
        s.checkpoints,
        s.principals,
        s.registry_rows,
        redact_url(to)
    );
    // Check the copy: a configuration whose region store is the target.
    let from_region = config
        .regions
        .iter()
        .position(|r| r.store.as_deref() == Some(from))
        .unwrap_or(0);
    config.regions[from_region].store = Some(to.to_owned());
    let st = Steward::open(
        &cli.data_dir,
        config,
        OpenOptions {
            policy_dir: cli.policy_dir.clone(),
            ..Default::default()
        },
    )?;
    let verified = st.audit_verify()?;
    let (ok, shredded) = st.verify_records(st.operator())?;
    match verified {
        VerifyOutcome::Ok(r) => {
            outln!(
                "target: {ok} records open ({shredded} of erased subjects stay unreadable); audit log verifies: {} entries, {} signed checkpoints",
                r.entries,
                r.checkpoints_verified
            );
            Ok(ExitCode::SUCCESS)
        }
        VerifyOutcome::Failed(f) => {
            outln!(
                "target audit log does NOT verify: first bad index {}: {}",
                f.first_bad_index,
                f.what
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// `steward verify-records`: authenticate every record's ciphertext.
pub(crate) fn verify_records(st: &Steward, operator: &str) -> Result<ExitCode, CoreError> {
    let (ok, shredded) = st.verify_records(operator)?;
    outln!("{ok} records open; {shredded} records of erased subjects stay unreadable");
    Ok(ExitCode::SUCCESS)
}

/// `steward migrate`: the stores were migrated when they were opened; name them.
pub(crate) fn migrate(st: &Steward) -> Result<ExitCode, CoreError> {
    for r in st.regions() {
        outln!(
            "region {} ({}): store {} is migrated",
            r.name,
            r.country,
            redact_url(r.store.as_deref().unwrap_or("(default SQLite file)"))
        );
    }
    Ok(ExitCode::SUCCESS)
}
