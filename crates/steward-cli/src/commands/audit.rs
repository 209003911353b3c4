//! `steward audit`: verify the log, prove inclusion or consistency,
//! search, cut a checkpoint, print the verifier key.

use std::process::ExitCode;

use steward_core::{AuditFilter, CoreError, Steward, VerifyOutcome, WitnessService};

use crate::AuditCmd;

/// Run an `audit` subcommand.
pub(crate) fn run(st: &Steward, c: AuditCmd) -> Result<ExitCode, CoreError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    match c {
        AuditCmd::Verify => {
            let v = st.audit_verify_detailed()?;
            for n in &v.notes {
                eprintln!("note: {n}");
            }
            match v.outcome {
                VerifyOutcome::Ok(r) => {
                    outln!(
                        "audit log verifies: {} entries, {} signed checkpoints (signed size {}, witnessed size {}), root {}",
                        r.entries,
                        r.checkpoints_verified,
                        r.signed_size,
                        r.witnessed_size,
                        b64.encode(r.root)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                VerifyOutcome::Failed(f) => {
                    outln!(
                        "audit log does NOT verify: first bad index {}: {}",
                        f.first_bad_index,
                        f.what
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCmd::Prove { index: Some(i), .. } => {
            let (entry, note, proof) = st.audit_prove_inclusion(i)?;
            let out = serde_json::json!({
                "index": i,
                "entry": String::from_utf8_lossy(&entry),
                "checkpoint": note,
                "inclusion_proof": proof.iter().map(|h| b64.encode(h)).collect::<Vec<_>>(),
                "verifier_key": st.verifier_key(),
            });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Prove {
            consistency: Some(v),
            ..
        } => {
            let (old, new) = (v[0], v[1]);
            let (o, n, proof) = st.audit_prove_consistency(old, new)?;
            let out = serde_json::json!({
                "old_checkpoint": o,
                "new_checkpoint": n,
                "consistency_proof": proof.iter().map(|h| b64.encode(h)).collect::<Vec<_>>(),
                "verifier_key": st.verifier_key(),
            });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Prove { .. } => Err(CoreError::Input(
            "give --index N or --consistency OLD_SIZE NEW_SIZE".into(),
        )),
        AuditCmd::Search {
            principal,
            purpose,
            decision,
            action,
            since,
            until,
            subject,
        } => {
            let hits = st.audit_search(&AuditFilter {
                principal,
                purpose,
                decision,
                action,
                since,
                until,
                subject,
            })?;
            for h in &hits {
                outln!("{h}");
            }
            errln!("{} entries", hits.len());
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Checkpoint => {
            let (size, notes) = st.audit_checkpoint_published()?;
            outln!("checkpoint at size {size}");
            for n in &notes {
                outln!("{n}");
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Key => {
            outln!("{}", st.verifier_key());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `steward witness`: a minimal C2SP tlog-witness for tests and small
/// deployments, serving until Ctrl-C.
pub(crate) fn witness(a: &crate::WitnessArgs) -> Result<ExitCode, CoreError> {
    let logs = a
        .log
        .iter()
        .map(|l| {
            l.split_once('=')
                .map(|(o, k)| (o.to_owned(), k.to_owned()))
                .ok_or_else(|| {
                    CoreError::Input(format!(
                        "--log `{l}`: expected ORIGIN=VERIFIER_KEY, e.g. steward.klustr.io/audit/jp=steward-audit+1234abcd+AQ…"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let svc = WitnessService::open(&a.name, &a.key_file, &a.state, &logs)?;
    steward_server::run_witness(svc, a.listen).map_err(|e| CoreError::Input(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}
