//! `steward intake email`: data subject requests by email (N7.4).
//!
//! One `.eml` file, or every message of a maildir-style folder (`new/` and
//! `cur/`; `tmp/` is skipped as still being delivered) or of a flat folder.
//! Each message ends as a request or a recorded rejection, exactly once
//! across runs (the `email_intake` ledger in steward-core): running again
//! over the same folder takes nothing new. `--after-seal` says what becomes
//! of a file once its message is sealed in the store (issue 13 item 5):
//! `keep` (the default) leaves it, `delete` deletes it, `move:DIR` moves it
//! into DIR (made 0700); the output counts what it left, and why.
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
    /// What to do with a message file once it is sealed in the store:
    /// `keep` (leave it), `delete`, or `move:DIR`. The raw file holds the
    /// sender's address and body in clear; an erasure cannot reach it.
    #[arg(long, default_value = "keep", value_parser = parse_after_seal)]
    after_seal: AfterSeal,
    /// Print a JSON summary instead of lines.
    #[arg(long)]
    json: bool,
}

/// `--after-seal`.
#[derive(Clone, Debug)]
enum AfterSeal {
    Keep,
    Delete,
    Move(PathBuf),
}

fn parse_after_seal(s: &str) -> Result<AfterSeal, String> {
    match s {
        "keep" => Ok(AfterSeal::Keep),
        "delete" => Ok(AfterSeal::Delete),
        _ => match s.strip_prefix("move:") {
            Some(d) if !d.is_empty() => Ok(AfterSeal::Move(PathBuf::from(d))),
            _ => Err("expected keep, delete or move:DIR".into()),
        },
    }
}

/// Apply `--after-seal` to file `f`: what became of it (`deleted`,
/// `moved`), or why it was left.
fn after_seal(how: &AfterSeal, f: &Path, sealed: bool) -> Result<&'static str, CoreError> {
    if !sealed {
        return Ok("left: not sealed in the store");
    }
    let io = |p: &Path, e: std::io::Error| CoreError::Io {
        path: p.display().to_string(),
        reason: e.to_string(),
    };
    match how {
        AfterSeal::Keep => Ok("left: --after-seal keep"),
        AfterSeal::Delete => {
            std::fs::remove_file(f).map_err(|e| io(f, e))?;
            Ok("deleted")
        }
        AfterSeal::Move(dir) => {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(|e| io(dir, e))?;
            let to = dir.join(f.file_name().unwrap_or_default());
            if to.exists() {
                return Err(CoreError::Io {
                    path: to.display().to_string(),
                    reason: "exists already: nothing was moved; move or delete it first".into(),
                });
            }
            if std::fs::rename(f, &to).is_err() {
                // Another file system: copy, then delete the original.
                std::fs::copy(f, &to).map_err(|e| io(&to, e))?;
                std::fs::remove_file(f).map_err(|e| io(f, e))?;
            }
            Ok("moved")
        }
    }
}

/// The message files of a folder: `new/` then `cur/` of a maildir, else the
/// folder's own files; hidden files skipped; each list sorted by name.
pub(crate) fn message_files(dir: &Path) -> Result<Vec<PathBuf>, CoreError> {
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
pub(crate) fn read_message(p: &Path) -> Result<Vec<u8>, std::io::Error> {
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
    /// What became of the files (`deleted`, `moved`, `left: ...`).
    files: BTreeMap<&'static str, u64>,
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
        IntakeState::Incident => format!(
            "incident report {} (steward incidents intake)",
            e.incident.as_deref().unwrap_or("?")
        ),
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
                *s.files.entry("left: unreadable").or_default() += 1;
                errln!("{name}: cannot read: {e}");
                continue;
            }
        };
        let out = st.intake_email(&a.as_, &raw)?;
        let e = &out.entry;
        let fate = after_seal(&a.after_seal, f, e.is_sealed())?;
        *s.files.entry(fate).or_default() += 1;
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
                IntakeState::Taking | IntakeState::Incident => s.in_progress += 1,
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
            outln!("{name}: {prefix}{}; file {fate}", describe(e));
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
            "files": s.files,
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
        let files: Vec<String> = s.files.iter().map(|(k, n)| format!("{n} {k}")).collect();
        outln!("files: {}", files.join(", "));
    }
    Ok(if s.unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
