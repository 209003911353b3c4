//! The data of subjects: `read` and `export` through the gate, `erase` by
//! crypto-shredding, `sweep`, `subjects` and `find`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use steward_core::{AccessRequest, Action, CoreError, Steward};
use steward_domain::{Category, Purpose};

use super::{dsr_obligation, purpose};
use crate::ReadArgs;

/// `steward read`: one JSON line per record on standard output, the
/// decision on standard error.
pub(crate) fn read(st: &Steward, a: ReadArgs) -> Result<ExitCode, CoreError> {
    let mut req = AccessRequest {
        principal: a.as_,
        action: Action::Read,
        subject: a.subject,
        category: a
            .category
            .map(|c| c.parse::<Category>())
            .transpose()
            .map_err(|e| CoreError::Input(format!("--category: {e}")))?,
        kind: a
            .kind
            .map(|k| k.parse::<steward_domain::Kind>())
            .transpose()
            .map_err(|e| CoreError::Input(format!("--kind: {e}")))?,
        purpose: a.purpose.map(|p| purpose(&p)).transpose()?,
        case_id: a.case,
        obligation_id: a.obligation,
        grant_id: a.grant,
        incident_id: a.incident,
        organisation: None,
    };
    // A kind names its category (N2).
    if let (Some(k), None) = (req.kind, req.category) {
        req.category = Some(k.category());
    }
    // An erased subject's held records (N3.7): say so beside the read.
    for h in st.held_notice(&req.subject)? {
        errln!(
            "held under a legal hold: {} {} ({}), until {} (first goes {})",
            h.count,
            h.kind,
            h.reason,
            h.until,
            h.first_until
        );
    }
    let (opened, records) = st.read(&req)?;
    let mut out = std::io::stdout().lock();
    for r in &records {
        let line = serde_json::json!({"record_id": r.id.to_string(), "category": r.category, "kind": r.kind, "product": r.product, "occurred_at": r.body["occurred_at"], "fields": r.body["fields"]});
        let _ = writeln!(out, "{line}");
    }
    errln!(
        "{} records; allowed by {} [{}]; audit entry {}",
        records.len(),
        opened.decision.policy_ids.join(", "),
        opened.decision.clause_ids.join(", "),
        opened.audit_index
    );
    Ok(ExitCode::SUCCESS)
}

/// What `steward export` was asked (its flags).
pub(crate) struct ExportRequest<'a> {
    /// `--subject`.
    pub subject: &'a str,
    /// `--out`.
    pub out: &'a Path,
    /// `--as`, else the operator.
    pub who: &'a str,
    /// `--purpose`.
    pub purpose: &'a str,
    /// `--obligation`.
    pub obligation: Option<String>,
    /// `--progress`.
    pub progress: bool,
}

/// `steward export`: the ZIP, and its summary as JSON on standard output.
pub(crate) fn export(st: &Steward, e: ExportRequest<'_>) -> Result<ExitCode, CoreError> {
    let p = purpose(e.purpose)?;
    let ob = dsr_obligation(
        st,
        e.who,
        Action::Export,
        p,
        e.subject,
        e.obligation,
        "cli-export",
    )?;
    let mut show = ExportProgress::new(e.progress);
    let s = st.export_with_progress(e.who, p, e.subject, e.out, Some(&ob), &mut |w, t| {
        show.update(w, t)
    });
    show.finish();
    let s = s?;
    outln!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// `steward erase`: the receipt as JSON on standard output.
pub(crate) fn erase(
    st: &Steward,
    who: &str,
    subject: &str,
    p: &str,
    obligation: Option<String>,
) -> Result<ExitCode, CoreError> {
    let p = purpose(p)?;
    let ob = dsr_obligation(
        st,
        who,
        Action::Erase,
        p,
        subject,
        obligation,
        "cli-erasure",
    )?;
    // N8.8 with N3.7: an erasure to comply with a request keeps the
    // records a retention duty covers, sealed under a hold key, and
    // lists them on the receipt (`retained`).
    let r = match p {
        Purpose::Comply => st.erase_with_holds(who, subject, Some(&ob))?,
        other => st.erase(who, other, subject, Some(&ob))?,
    };
    outln!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// `steward sweep`: delete the rows of erased subjects.
pub(crate) fn sweep(st: &Steward) -> Result<ExitCode, CoreError> {
    outln!("swept {} records of erased subjects", st.sweep()?);
    Ok(ExitCode::SUCCESS)
}

/// `steward subjects`: one line per subject (or JSON), then the count.
pub(crate) fn list(
    st: &Steward,
    operator: &str,
    json: bool,
    identifiers: bool,
) -> Result<ExitCode, CoreError> {
    let list = st.subjects(operator, identifiers)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        for s in &list {
            let counts: Vec<String> = s.records.iter().map(|(k, v)| format!("{k}={v}")).collect();
            outln!(
                "{} {} {}{} {}",
                s.subject,
                s.region,
                if s.erased { "erased " } else { "" },
                counts.join(" "),
                s.identifiers.join(" ")
            );
        }
        outln!("{} subjects", list.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `steward find`: the subject id, or exit 1 when none matches.
pub(crate) fn find(
    st: &Steward,
    ip: Option<String>,
    username: Option<String>,
    email: Option<String>,
) -> Result<ExitCode, CoreError> {
    let arg = match (ip, username, email) {
        (Some(v), _, _) => format!("ip:{v}"),
        (_, Some(v), _) => format!("username:{v}"),
        (_, _, Some(v)) => format!("email:{v}"),
        _ => {
            return Err(CoreError::Input(
                "give one of --ip, --username, --email".into(),
            ));
        }
    };
    match st.find(&arg)? {
        Some(s) => {
            outln!("{s}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            errln!("no data subject matches");
            Ok(ExitCode::from(1))
        }
    }
}

/// `steward export`'s progress on stderr (issue 6 item 8): a bar when stderr
/// is a terminal; with `--progress` elsewhere, a line `export: W / T records`
/// at most once a second and at the end. Counts only, never identifiers.
struct ExportProgress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    last: Option<std::time::Instant>,
    shown: u64,
}

impl ExportProgress {
    fn new(forced: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "export {bar:40} {pos}/{len} records {per_sec}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        ExportProgress {
            bar,
            lines: forced && !terminal,
            last: None,
            shown: 0,
        }
    }

    fn update(&mut self, written: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(written);
        }
        if self.lines
            && written > self.shown
            && (written == total || self.last.is_none_or(|t| t.elapsed().as_secs() >= 1))
        {
            errln!("export: {written} / {total} records");
            self.last = Some(std::time::Instant::now());
            self.shown = written;
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
