//! `steward intake email`: data subject requests by email (N7.4).
//!
//! One `.eml` file, or every message of a maildir-style folder (`new/` and
//! `cur/`; `tmp/` is skipped as still being delivered) or of a flat folder.
//! Each message ends as a request or a recorded rejection, exactly once
//! across runs (the `email_intake` ledger in steward-core): running again
//! over the same folder takes nothing new. Files are left where they are.
//!
//! Output names files, opaque ids, request types and reasons; never an
//! address, a name, a subject line or a body.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use steward_core::{CoreError, IntakeEntry, IntakeState, Steward};
use steward_ingest::email::MAX_MESSAGE_BYTES;

/// `steward intake ...`.
#[derive(Subcommand)]
pub enum IntakeCmd {
    /// Take in data subject requests by email (N7.4): one message file, or
    /// every message of a maildir-style folder (--dir), each exactly once.
    Email(EmailArgs),
}

/// `steward intake email`.
#[derive(Args)]
pub struct EmailArgs {
    /// One message as received (RFC 5322, e.g. an .eml file).
    #[arg(required_unless_present = "dir", conflicts_with = "dir")]
    file: Option<PathBuf>,
    /// A maildir-style folder (`new/` and `cur/` subfolders) or a flat folder
    /// of message files.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The principal doing the intake (default: the `ingest` service).
    #[arg(long = "as", default_value = "ingest")]
    as_: String,
    /// Print a JSON summary instead of lines.
    #[arg(long)]
    json: bool,
}

/// The message files of a folder: `new/` then `cur/` of a maildir, else the
/// folder's own files; hidden files skipped; each list sorted by name.
fn message_files(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
    let io = |p: &Path, e: std::io::Error| CoreError::Io {
        path: p.display().to_string(),
        reason: format!("{e}: give a maildir (new/, cur/) or a folder of message files"),
    };
    let list = |d: &Path| -> Result<Vec<PathBuf>, CoreError> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(d).map_err(|e| io(d, e))? {
            let e = e.map_err(|e| io(d, e))?;
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if !hidden && p.is_file() {
                v.push(p);
            }
        }
        v.sort();
        Ok(v)
    };
    let (new, cur) = (dir.join("new"), dir.join("cur"));
    if new.is_dir() || cur.is_dir() {
        let mut v = Vec::new();
        for d in [new, cur] {
            if d.is_dir() {
                v.extend(list(&d)?);
            }
        }
        Ok(v)
    } else {
        list(dir)
    }
}

/// Read at most one byte more than the limit: a larger message is refused
/// by size without reading it all.
fn read_message(p: &Path) -> Result<Vec<u8>, std::io::Error> {
    let mut raw = Vec::new();
    std::fs::File::open(p)?
        .take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut raw)?;
    Ok(raw)
}

#[derive(Default)]
struct Summary {
    messages: u64,
    taken: u64,
    already_taken: u64,
    unreadable: u64,
    requests: BTreeMap<String, u64>,
    unverified: u64,
    rejected: BTreeMap<String, u64>,
    in_progress: u64,
}

fn describe(e: &IntakeEntry) -> String {
    match e.state {
        IntakeState::Request => format!(
            "request {} ({}{})",
            e.request.as_deref().unwrap_or("?"),
            e.request_type.map(|t| t.as_str()).unwrap_or("?"),
            if e.unverified {
                "; unverified: the sender matches no data subject"
            } else {
                "; identity to verify by one-time code"
            }
        ),
        IntakeState::Rejected => format!(
            "rejected ({}): {}",
            e.reason_code.as_deref().unwrap_or("?"),
            e.reason.as_deref().unwrap_or("")
        ),
        IntakeState::Taking => "being taken in by another run".into(),
    }
}

/// Run `steward intake ...`.
pub fn run(st: &Steward, c: IntakeCmd) -> Result<ExitCode, CoreError> {
    let IntakeCmd::Email(a) = c;
    let files = match (&a.file, &a.dir) {
        (Some(f), _) => vec![f.clone()],
        (None, Some(d)) => message_files(d)?,
        (None, None) => {
            return Err(CoreError::Input("give a message file or --dir DIR".into()));
        }
    };
    let mut s = Summary::default();
    for f in &files {
        s.messages += 1;
        let name = f.display().to_string();
        let raw = match read_message(f) {
            Ok(r) => r,
            Err(e) => {
                s.unreadable += 1;
                errln!("{name}: cannot read: {e}");
                continue;
            }
        };
        let out = st.intake_email(&a.as_, &raw)?;
        let e = &out.entry;
        if out.taken {
            s.taken += 1;
            match e.state {
                IntakeState::Request => {
                    *s.requests
                        .entry(e.request_type.map(|t| t.as_str()).unwrap_or("?").into())
                        .or_default() += 1;
                    s.unverified += u64::from(e.unverified);
                }
                IntakeState::Rejected => {
                    *s.rejected
                        .entry(e.reason_code.clone().unwrap_or_default())
                        .or_default() += 1;
                }
                IntakeState::Taking => s.in_progress += 1,
            }
        } else if e.state == IntakeState::Taking {
            s.in_progress += 1;
        } else {
            s.already_taken += 1;
        }
        if !a.json {
            let prefix = if out.taken || e.state == IntakeState::Taking {
                ""
            } else {
                "already taken: "
            };
            outln!("{name}: {prefix}{}", describe(e));
        }
    }
    if a.json {
        let j = serde_json::json!({
            "messages": s.messages,
            "taken": s.taken,
            "already_taken": s.already_taken,
            "in_progress": s.in_progress,
            "unreadable": s.unreadable,
            "requests": s.requests,
            "unverified": s.unverified,
            "rejected": s.rejected,
        });
        outln!(
            "{}",
            serde_json::to_string_pretty(&j).map_err(|e| CoreError::Input(e.to_string()))?
        );
    } else {
        let n: u64 = s.requests.values().sum();
        let r: u64 = s.rejected.values().sum();
        outln!(
            "{} messages: {} taken ({} requests, {} unverified; {} rejected), {} already taken, {} in progress elsewhere, {} unreadable",
            s.messages,
            s.taken,
            n,
            s.unverified,
            r,
            s.already_taken,
            s.in_progress,
            s.unreadable
        );
    }
    Ok(if s.unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
