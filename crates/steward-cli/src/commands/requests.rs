//! `steward requests …`: data subject requests (N7.2, N7.4) from the
//! command line, as the configured operator. Output names subjects by
//! opaque id only, never by an identifier.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Subcommand;
use steward_core::dsr::{NewRequestDetails, Request, RequestFilter, parse_record_id};
use steward_core::{Channel, CoreError, Steward};
use steward_domain::{Fields, Purpose, RequestState, RequestType};

/// `steward requests` subcommands.
#[derive(Subcommand)]
pub enum RequestsCmd {
    /// Open a request on a subject's behalf (verified at once: the operator
    /// is privacy staff). Prints the request as JSON.
    Open {
        /// access, export, rectification, erasure, restriction or objection.
        #[arg(long = "type")]
        type_: String,
        /// The subject: an identifier (`username:ann`, an email) or `sub_…`.
        #[arg(long)]
        subject: String,
        /// Objection: the purpose objected to (N3).
        #[arg(long)]
        purpose: Option<String>,
        /// Rectification: the record to correct (`rec_…`).
        #[arg(long)]
        record: Option<String>,
        /// Rectification: the corrected fields, a JSON object (kept sealed).
        #[arg(long)]
        fields: Option<String>,
    },
    /// List requests (oldest first): id, type, state, deadline, subject.
    List {
        /// Only those past their deadline and not completed or rejected.
        #[arg(long)]
        overdue: bool,
        /// Only those in this state (received, verified, in_progress,
        /// completed, rejected, failed).
        #[arg(long)]
        state: Option<String>,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one request as JSON (history included).
    Show {
        /// Request id (`dsr_…`).
        id: String,
    },
    /// Send a one-time code to the registered contact of an email request
    /// (written to `<data-dir>/outbox/`).
    SendCode {
        /// Request id.
        id: String,
    },
    /// Enter the one-time code the requester received.
    Verify {
        /// Request id.
        id: String,
        /// The code.
        #[arg(long)]
        code: String,
    },
    /// Approve and execute a verified (or failed) request, exactly once.
    Approve {
        /// Request id.
        id: String,
    },
    /// Write a completed access or export request's result (the ZIP, kept
    /// sealed in the store, so any node has it) to a new file (0600).
    Result {
        /// Request id.
        id: String,
        /// Where to write the ZIP (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Reject a request, with a reason (no identifiers in it).
    Reject {
        /// Request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Extend a GDPR request's deadline by two months, once, with a reason.
    Extend {
        /// Request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

fn json(r: &Request) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

/// Write `bytes` to a new file at `path`, readable by its owner only
/// (Service Data in clear).
fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<(), CoreError> {
    let io = |e: std::io::Error| CoreError::Io {
        path: path.display().to_string(),
        reason: format!("{e} (give a new file name with --out)"),
    };
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

fn out(s: &str) {
    let _ = writeln!(std::io::stdout(), "{s}");
}

/// Run a `steward requests` subcommand as `operator`. Requests left
/// `in_progress` by a process that stopped are marked failed first
/// (`interrupted`), so none stays stuck.
pub fn run(st: &Steward, operator: &str, c: RequestsCmd) -> Result<ExitCode, CoreError> {
    for id in st.resume_in_progress()? {
        errln!(
            "request {id} was left in progress by a process that stopped: marked failed (interrupted); approve it again to re-run it"
        );
    }
    match c {
        RequestsCmd::Open {
            type_,
            subject,
            purpose,
            record,
            fields,
        } => {
            let t: RequestType = type_.parse().map_err(|e: steward_domain::DomainError| {
                CoreError::Input(format!("--type: {e}"))
            })?;
            let purpose = purpose
                .map(|p| {
                    p.parse::<Purpose>()
                        .map_err(|e: steward_domain::DomainError| {
                            CoreError::Input(format!("--purpose: {e}"))
                        })
                })
                .transpose()?;
            let record = record.map(|r| parse_record_id(&r)).transpose()?;
            let corrections = fields
                .map(|f| {
                    serde_json::from_str::<Fields>(&f).map_err(|e| {
                        // serde's message may quote the value: position only.
                        CoreError::Input(format!(
                            "--fields: not a JSON object of field names to values (line {} column {})",
                            e.line(),
                            e.column()
                        ))
                    })
                })
                .transpose()?;
            let r = st.open_request(
                operator,
                Some(&subject),
                t,
                Channel::Cli,
                NewRequestDetails {
                    purpose,
                    record,
                    corrections,
                },
            )?;
            out(&json(&r));
        }
        RequestsCmd::List {
            overdue,
            state,
            json: as_json,
        } => {
            let state = state
                .map(|s| {
                    s.parse::<RequestState>()
                        .map_err(|e: steward_domain::DomainError| {
                            CoreError::Input(format!("--state: {e}"))
                        })
                })
                .transpose()?;
            let list = st.requests_as(operator, RequestFilter { overdue, state })?;
            let today = time::OffsetDateTime::now_utc().date();
            if as_json {
                for r in &list {
                    out(&serde_json::to_string(r).unwrap_or_default());
                }
            } else {
                out(&format!(
                    "{:<20}  {:<13}  {:<11}  {:<10}  {:<7}  subject",
                    "id", "type", "state", "due", "overdue"
                ));
                for r in &list {
                    out(&format!(
                        "{:<20}  {:<13}  {:<11}  {:<10}  {:<7}  {}",
                        r.id,
                        r.request_type.as_str(),
                        r.state.as_str(),
                        r.due_on,
                        if r.overdue_on(today) { "yes" } else { "" },
                        r.subject.as_deref().unwrap_or("(no subject matched)")
                    ));
                }
                errln!("{} requests", list.len());
            }
        }
        RequestsCmd::Show { id } => out(&json(&st.request_as(operator, &id)?)),
        RequestsCmd::SendCode { id } => {
            let r = st.send_verification_as(operator, &id)?;
            out(&format!(
                "a one-time code for {} was written to the outbox ({}); it goes to the registered contact",
                r.id,
                st.data_dir().join("outbox").display()
            ));
        }
        RequestsCmd::Verify { id, code } => out(&json(&st.verify_as(operator, &id, &code)?)),
        RequestsCmd::Approve { id } => out(&json(&st.approve(&id, operator)?)),
        RequestsCmd::Result { id, out: path } => {
            let zip = st.request_result(&id, operator)?;
            write_new(&path, &zip)?;
            out(&format!("wrote {} ({} bytes)", path.display(), zip.len()));
        }
        RequestsCmd::Reject { id, reason } => out(&json(&st.reject(&id, operator, &reason)?)),
        RequestsCmd::Extend { id, reason } => out(&json(&st.extend(&id, operator, &reason)?)),
    }
    Ok(ExitCode::SUCCESS)
}
