//! `steward ingest`: parse a file (or standard input) in one of the
//! supported formats and store its records encrypted per data subject.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use steward_core::{CoreError, Steward};

use crate::IngestArgs;

/// Run `steward ingest`: exit 1 when nothing was stored and lines were
/// rejected or skipped.
pub(crate) fn run(st: &Steward, a: IngestArgs) -> Result<ExitCode, CoreError> {
    let format = || -> Result<steward_ingest::Format, CoreError> {
        a.format
            .as_deref()
            .ok_or_else(|| CoreError::Input("give --format NAME or --mapping FILE.toml".into()))?
            .parse()
            .map_err(|e: steward_ingest::IngestError| CoreError::Input(format!("--format: {e}")))
    };
    if a.mapping.is_none() {
        format()?;
    }
    let (name, bytes) = if a.file == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| CoreError::Io {
                path: "-".into(),
                reason: e.to_string(),
            })?;
        ("-".to_string(), b)
    } else {
        let b = std::fs::read(&a.file).map_err(|e| CoreError::Io {
            path: a.file.clone(),
            reason: e.to_string(),
        })?;
        (a.file.clone(), b)
    };
    let product = a
        .product
        .parse()
        .map_err(|e: steward_domain::DomainError| CoreError::Input(format!("--product: {e}")))?;
    // Syslog stamps carry no year (issue 18, item 4): without --year, the
    // latest year that dates no line in the future, rolling forward where
    // the months go back.
    let year = a.year.unwrap_or_else(|| {
        steward_ingest::openssh::year_for(&bytes, time::OffsetDateTime::now_utc())
    });
    let opts = steward_ingest::ParseOptions { year, product };
    let parsed = match &a.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CoreError::Io {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            steward_ingest::mapping::Mapping::from_toml(path, &text)
                .map_err(|e| CoreError::Input(format!("--mapping: {e}")))?
                .parse(&name, &bytes, &opts)
        }
        None => steward_ingest::parse(format()?, &name, &bytes, &opts)
            .map_err(|e| CoreError::Input(e.to_string()))?,
    };
    let total = parsed.records.len() as u64;
    let bar = if std::io::stderr().is_terminal() && bytes.len() > 1_000_000 {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records {per_sec}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let records: Vec<_> = parsed.records.into_iter().map(|(_, r)| r).collect();
    let mut summary = st.ingest_for(
        &a.as_,
        a.region.as_deref(),
        a.organisation.as_deref(),
        records,
        &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n);
            }
        },
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    summary.rejected = parsed.rejected.len() as u64;
    for s in &parsed.skipped {
        *summary
            .skipped
            .entry(s.reason.name().to_string())
            .or_default() += 1;
    }
    // Reported only after the batch committed: a closed or full stdout or
    // stderr loses the report, never a record (issue 18, item 1).
    for r in &parsed.rejected {
        errln!("{name}:{}: rejected: {}", r.line, r.reason);
    }
    if a.json {
        outln!(
            "{}",
            json_report(&name, &summary, &parsed.rejected, &parsed.skipped)
        );
    } else {
        human_report(&name, &summary, &parsed.skipped);
    }
    if summary.stored == 0 && (summary.rejected > 0 || !summary.skipped.is_empty()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// At most this many skipped lines are named one by one in the human report
/// (every one is in `--json`'s `skips`).
const SKIPS_NAMED: usize = 20;

/// The human report: stored counts on stdout; the first [`SKIPS_NAMED`]
/// skips on stderr as `file:line[:column]: ...` (issue 18,
/// item 3), never a field value.
fn human_report(
    name: &str,
    summary: &steward_core::IngestSummary,
    skipped: &[steward_ingest::Skip],
) {
    for s in skipped.iter().take(SKIPS_NAMED) {
        errln!("{} (skipped)", s.message(name));
    }
    if skipped.len() > SKIPS_NAMED {
        errln!(
            "{name}: {} more skipped lines not named here (--json lists every one)",
            skipped.len() - SKIPS_NAMED
        );
    }
    outln!(
        "stored {} records ({} new subjects) in {:.2}s, {:.0} records/s",
        summary.stored,
        summary.new_subjects,
        summary.elapsed_secs,
        summary.records_per_sec
    );
    for (c, n) in &summary.by_category {
        outln!("  {c}: {n}");
    }
    outln!("rejected {}", summary.rejected);
    let total: u64 = summary.skipped.values().sum();
    outln!("skipped {total}");
    for (r, n) in &summary.skipped {
        outln!("  {r}: {n}");
    }
}

/// The `--json` report: the summary's fields plus `rejections`
/// (`[{file, line, reason}]`) and `skips` (`[{file, line, column, reason,
/// description}]`, `column` only for a JSON syntax error), in input order.
fn json_report(
    name: &str,
    summary: &steward_core::IngestSummary,
    rejected: &[steward_ingest::Rejection],
    skipped: &[steward_ingest::Skip],
) -> serde_json::Value {
    let mut v = serde_json::to_value(summary).unwrap_or_else(|_| serde_json::json!({}));
    let rejections: Vec<_> = rejected
        .iter()
        .map(|r| serde_json::json!({"file": name, "line": r.line, "reason": r.reason}))
        .collect();
    let skips: Vec<_> = skipped
        .iter()
        .map(|s| {
            let mut o = serde_json::json!({
                "file": name,
                "line": s.line,
                "reason": s.reason.name(),
                "description": s.reason.description(),
            });
            if let Some(c) = s.column {
                o["column"] = c.into();
            }
            o
        })
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("rejections".into(), rejections.into());
        o.insert("skips".into(), skips.into());
    }
    v
}
