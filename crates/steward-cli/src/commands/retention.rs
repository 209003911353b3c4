//! `steward retention sweep [--dry-run] [--json]`: delete what has expired
//! under the configured retention periods (N8.8). Thin: parses and prints;
//! the sweep itself is `Steward::retention_sweep` in steward-core.

use std::process::ExitCode;

use clap::Subcommand;
use steward_core::{CoreError, Steward};

/// Retention (N8.8).
#[derive(Subcommand)]
pub(crate) enum RetentionCmd {
    /// Delete every record whose retention period (configuration
    /// `retention_periods`, counted from the record's stored time) has
    /// expired, records kept under a legal hold included once their hold
    /// ended; print the counts per category and kind. One audit entry per
    /// region records the counts.
    Sweep {
        /// Delete nothing and record nothing: print what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run a retention command as `operator` (the configured operator principal).
///
/// Errors: those of `Steward::retention_sweep` (an unknown or revoked
/// principal, storage errors).
pub(crate) fn run(st: &Steward, operator: &str, cmd: RetentionCmd) -> Result<ExitCode, CoreError> {
    match cmd {
        RetentionCmd::Sweep { dry_run, json } => {
            let r = st.retention_sweep(operator, dry_run)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                return Ok(ExitCode::SUCCESS);
            }
            let verb = if dry_run { "would delete" } else { "deleted" };
            outln!(
                "retention sweep at {}{}: {verb} {} records ({} of them held after an erasure, hold ended)",
                r.at,
                if dry_run {
                    " (dry run: nothing changed)"
                } else {
                    ""
                },
                r.deleted,
                r.held_deleted
            );
            for (cat, n) in &r.by_category {
                let kinds: Vec<String> = r
                    .by_kind
                    .iter()
                    .filter(|(k, _)| k.split('.').next() == Some(cat.as_str()))
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                outln!("  {cat}: {n} ({})", kinds.join(", "));
            }
            for reg in &r.regions {
                if let Some(i) = reg.audit_index {
                    outln!(
                        "  region {}: {} records, audit entry {i}",
                        reg.region,
                        reg.deleted
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
