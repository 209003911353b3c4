//! `steward incidents` and `steward oncall` (N8.5, N5.1): report, assess,
//! roles, tasks, clocks, the due list, timelines, maildir intake,
//! detectors; on-call schedules, who is on call, iCalendar export. Every
//! operation is decided and audited by the core; this file translates and
//! prints. Output names ids, scales, principals and instants; never a
//! report's text.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use steward_core::{AssessmentInput, CoreError, NewReport, ReportDraft, Steward, TaskInput};
use steward_domain::{IncidentKind, IncidentRole, ReportChannel};

fn json<T: serde::Serialize>(v: &T) -> Result<String, CoreError> {
    serde_json::to_string_pretty(v).map_err(|e| CoreError::Input(e.to_string()))
}

fn parse<T: std::str::FromStr<Err = steward_domain::DomainError>>(
    flag: &str,
    s: &str,
) -> Result<T, CoreError> {
    s.parse()
        .map_err(|e: steward_domain::DomainError| CoreError::Input(format!("{flag}: {e}")))
}

fn read_json<T: serde::de::DeserializeOwned>(flag: &str, p: &PathBuf) -> Result<T, CoreError> {
    let text = std::fs::read_to_string(p).map_err(|e| CoreError::Io {
        path: p.display().to_string(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CoreError::Input(format!("{flag} {}: {e}", p.display())))
}

/// The principal flag every subcommand takes.
#[derive(Args, Clone)]
pub struct As {
    /// Act as this principal (default: the configured operator).
    #[arg(long = "as")]
    as_: Option<String>,
}

/// `steward incidents ...`.
#[derive(Subcommand)]
pub enum IncidentsCmd {
    /// Report a suspected incident (N8.5); the text is sealed.
    Report {
        /// unauthorised_access, disclosure, loss, alteration, anomaly, other.
        #[arg(long)]
        kind: String,
        /// A file holding what happened (`-` for standard input).
        #[arg(long)]
        text_file: PathBuf,
        /// When the provider became aware (RFC 3339; default now).
        #[arg(long)]
        aware_at: Option<String>,
        #[command(flatten)]
        who: As,
    },
    /// Assess an incident: a JSON file of the assessment (severity,
    /// priority, appi_kinds, strongly_encrypted, gdpr, data_items,
    /// subjects, audit_principal, audit_since, audit_until, people).
    Assess {
        /// The incident.
        id: String,
        /// The assessment (JSON).
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        who: As,
    },
    /// Give a role (commander, assessor, legal, product, communications)
    /// to a member; a handoff when someone held it.
    Role {
        /// The incident.
        id: String,
        /// The role.
        role: String,
        /// The principal.
        member: String,
        #[command(flatten)]
        who: As,
    },
    /// Add a task.
    Task {
        /// The incident.
        id: String,
        /// What to do.
        #[arg(long)]
        title: String,
        /// Who owns it.
        #[arg(long)]
        owner: String,
        /// Due (RFC 3339).
        #[arg(long)]
        due: String,
        #[command(flatten)]
        who: As,
    },
    /// Mark a task done.
    Done {
        /// The incident.
        id: String,
        /// The task (`t1`).
        task: String,
        #[command(flatten)]
        who: As,
    },
    /// Record a regulator's report filed: appi_preliminary, appi_final, gdpr.
    Filed {
        /// The incident.
        id: String,
        /// The clock.
        clock: String,
        #[command(flatten)]
        who: As,
    },
    /// Record individuals notified.
    Notified {
        /// The incident.
        id: String,
        /// How many more.
        count: u64,
        #[command(flatten)]
        who: As,
    },
    /// Replace the regulator's report draft (a JSON file of its items).
    Draft {
        /// The incident.
        id: String,
        /// The draft (JSON).
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        who: As,
    },
    /// Acknowledge a page.
    Ack {
        /// The incident.
        id: String,
        /// The page (`pg1`).
        page: String,
        #[command(flatten)]
        who: As,
    },
    /// Name a data subject the incident concerns (N8.5): while it is
    /// open, a security or incident-response read of that subject for
    /// `protect` may cite it (`read --incident ID`; N3.8).
    Subject {
        /// The incident.
        id: String,
        /// The subject (`username:ann` or `sub_…`).
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        who: As,
    },
    /// Close an incident.
    Close {
        /// The incident.
        id: String,
        #[command(flatten)]
        who: As,
    },
    /// List incidents; with --due, the open deadlines and tasks, soonest first.
    List {
        /// What is due (overdue marked).
        #[arg(long)]
        due: bool,
        /// The instant to judge "overdue" at (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        who: As,
    },
    /// An incident's timeline: JSON (default) or --html.
    Timeline {
        /// The incident.
        id: String,
        /// A readable HTML page.
        #[arg(long)]
        html: bool,
        #[command(flatten)]
        who: As,
    },
    /// Take incident reports by email: a maildir (new/, cur/) or a folder;
    /// each message exactly once.
    Intake {
        /// The folder.
        #[arg(long)]
        dir: PathBuf,
        /// The principal doing the intake (default: the `ingest` service).
        #[arg(long = "as", default_value = "ingest")]
        as_: String,
    },
    /// Run the detectors over the audit log (N5.1) and open incidents.
    Detect {
        /// The principal running them (default: the `ingest` service).
        #[arg(long = "as", default_value = "ingest")]
        as_: String,
    },
    /// Run the clocks: reminders, missed deadlines, page escalation.
    Tick {
        /// The instant to run them at (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        who: As,
    },
}

/// `steward oncall ...`.
#[derive(Subcommand)]
pub enum OncallCmd {
    /// Store a schedule (JSON: name, zone, handoff, layers, overrides, swaps).
    Set {
        /// The schedule (JSON).
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        who: As,
    },
    /// Who is on call at an instant (default now).
    Now {
        /// The schedule.
        name: String,
        /// The instant (RFC 3339).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        who: As,
    },
    /// The shifts of some days, as JSON or --ical (RFC 5545).
    Shifts {
        /// The schedule.
        name: String,
        /// First local date (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// How many days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// iCalendar text.
        #[arg(long)]
        ical: bool,
        #[command(flatten)]
        who: As,
    },
}

fn who<'a>(a: &'a As, operator: &'a str) -> &'a str {
    a.as_.as_deref().unwrap_or(operator)
}

/// Run `steward incidents ...`.
pub(crate) fn run(st: &Steward, operator: &str, c: IncidentsCmd) -> Result<ExitCode, CoreError> {
    use IncidentsCmd as C;
    match c {
        C::Report {
            kind,
            text_file,
            aware_at,
            who: w,
        } => report(st, who(&w, operator), &kind, &text_file, aware_at)?,
        C::Assess { id, file, who: w } => {
            let a: AssessmentInput = read_json("--file", &file)?;
            let i = st.assess_incident(who(&w, operator), &id, &a)?;
            outln!("{}", json(&i.assessment)?);
        }
        C::Role {
            id,
            role,
            member,
            who: w,
        } => {
            let r = parse::<IncidentRole>("role", &role)?;
            st.assign_role(who(&w, operator), &id, r, &member)?;
            outln!("{member} holds {role} of {id}");
        }
        C::Task {
            id,
            title,
            owner,
            due,
            who: w,
        } => {
            let t = TaskInput {
                title,
                owner,
                due_at: due,
            };
            let i = st.add_task(who(&w, operator), &id, &t)?;
            outln!("{}", i.tasks.last().map(|t| t.id.as_str()).unwrap_or(""));
        }
        C::Done { id, task, who: w } => {
            st.complete_task(who(&w, operator), &id, &task)?;
            outln!("{task} of {id} done");
        }
        C::Filed { id, clock, who: w } => {
            st.file_report(who(&w, operator), &id, &clock)?;
            outln!("{clock} report of {id} filed");
        }
        C::Notified { id, count, who: w } => {
            let i = st.record_notices(who(&w, operator), &id, count)?;
            outln!("{} individuals notified for {id}", i.notices.sent);
        }
        C::Draft { id, file, who: w } => {
            let d: ReportDraft = read_json("--file", &file)?;
            st.set_report_draft(who(&w, operator), &id, &d)?;
            outln!("draft of {id} stored");
        }
        C::Ack { id, page, who: w } => {
            st.ack_page(who(&w, operator), &id, &page)?;
            outln!("{page} of {id} acknowledged");
        }
        C::Subject {
            id,
            subject,
            who: w,
        } => {
            let i = st.add_incident_subject(who(&w, operator), &id, &subject)?;
            outln!(
                "{id} concerns {}",
                i.subjects.last().map(String::as_str).unwrap_or("-")
            );
        }
        C::Close { id, who: w } => {
            st.close_incident(who(&w, operator), &id)?;
            outln!("closed {id}");
        }
        C::List { due, at, who: w } => list(st, who(&w, operator), due, at.as_deref())?,
        C::Timeline { id, html, who: w } => {
            let text = if html {
                st.incident_timeline_html(who(&w, operator), &id)?
            } else {
                st.incident_timeline_json(who(&w, operator), &id)?
            };
            outln!("{text}");
        }
        C::Intake { dir, as_ } => intake(st, &as_, &dir)?,
        C::Detect { as_ } => {
            for i in st.run_detectors(&as_)? {
                outln!(
                    "{}\t{}\t{}",
                    i.id,
                    i.cause.as_deref().unwrap_or("-"),
                    i.firings
                );
            }
        }
        C::Tick { at, who: w } => {
            for (inc, to, reason) in st.incidents_tick(who(&w, operator), at.as_deref())? {
                outln!("paged {to} about {inc}: {reason}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `steward incidents report`: the text from `text_file` (`-`: stdin).
fn report(
    st: &Steward,
    by: &str,
    kind: &str,
    text_file: &std::path::Path,
    aware_at: Option<String>,
) -> Result<(), CoreError> {
    let text = if text_file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| CoreError::Io {
            path: "-".into(),
            reason: e.to_string(),
        })?
    } else {
        std::fs::read_to_string(&text_file).map_err(|e| CoreError::Io {
            path: text_file.display().to_string(),
            reason: e.to_string(),
        })?
    };
    let r = NewReport {
        kind: parse::<IncidentKind>("--kind", kind)?,
        channel: ReportChannel::Cli,
        text,
        aware_at,
    };
    let i = st.report_incident(by, &r)?;
    outln!("{}", i.id);
    Ok(())
}

/// `steward incidents list [--due]`.
fn list(st: &Steward, by: &str, due: bool, at: Option<&str>) -> Result<(), CoreError> {
    if due {
        for d in st.incidents_due(by, at)? {
            outln!(
                "{}\t{}\t{}\t{}\t{}",
                d.due_at,
                d.incident,
                d.what,
                d.owner.as_deref().unwrap_or("-"),
                if d.overdue { "OVERDUE" } else { "due" }
            );
        }
    } else {
        for i in st.incidents(by)? {
            let route = i
                .assessment
                .as_ref()
                .map(|a| a.route.as_str())
                .unwrap_or("-");
            outln!(
                "{}\t{}\t{}\t{}\t{}",
                i.id,
                i.state,
                i.kind,
                route,
                i.aware_at
            );
        }
    }
    Ok(())
}

/// `steward incidents intake DIR`: one line per message, then the counts.
fn intake(st: &Steward, as_: &str, dir: &std::path::Path) -> Result<(), CoreError> {
    let (mut incidents, mut rejected, mut already) = (0u64, 0u64, 0u64);
    for f in super::intake::message_files(dir)? {
        let raw = super::intake::read_message(&f).map_err(|e| CoreError::Io {
            path: f.display().to_string(),
            reason: e.to_string(),
        })?;
        let out = st.intake_incident_email(as_, &raw)?;
        let e = &out.entry;
        let what = match (&e.incident, &e.reason_code) {
            (Some(i), _) => i.clone(),
            (None, Some(code)) => format!("rejected ({code})"),
            _ => "being taken in by another run".into(),
        };
        if !out.taken {
            already += 1;
        } else if e.incident.is_some() {
            incidents += 1;
        } else {
            rejected += 1;
        }
        let prefix = if out.taken { "" } else { "already taken: " };
        outln!("{}: {prefix}{what}", f.display());
    }
    outln!("{incidents} incidents, {rejected} rejected, {already} already taken");
    Ok(())
}

/// Run `steward oncall ...`.
pub(crate) fn oncall(st: &Steward, operator: &str, c: OncallCmd) -> Result<ExitCode, CoreError> {
    match c {
        OncallCmd::Set { file, who: w } => {
            let s: steward_core::Schedule = read_json("--file", &file)?;
            st.set_schedule(who(&w, operator), &s)?;
            outln!("stored schedule {}", s.name);
        }
        OncallCmd::Now { name, at, who: w } => {
            let m = st.on_call(who(&w, operator), &name, at.as_deref())?;
            outln!("{}", m.as_deref().unwrap_or("nobody"));
        }
        OncallCmd::Shifts {
            name,
            from,
            days,
            ical,
            who: w,
        } => {
            let s = st.schedule(who(&w, operator), &name)?;
            if ical {
                let text = steward_core::oncall::ical(&s, &from, days)?;
                use std::io::Write as _;
                let _ = std::io::stdout().write_all(text.as_bytes());
            } else {
                outln!("{}", json(&steward_core::oncall::shifts(&s, &from, days)?)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
