//! `steward ingest`: parse a file (or standard input) in one of the
//! supported formats and store its records encrypted per data subject.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use steward_core::{CoreError, Steward};

use crate::IngestArgs;

/// Run `steward ingest`: exit 1 when nothing was stored and lines were
/// rejected or skipped.
pub(crate) fn run(st: &Steward, a: IngestArgs) -> Result<ExitCode, CoreError> {
    let format: steward_ingest::Format = a
        .format
        .parse()
        .map_err(|e: steward_ingest::IngestError| CoreError::Input(format!("--format: {e}")))?;
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
    let year = a
        .year
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().year());
    let parsed = steward_ingest::parse(
        format,
        &name,
        &bytes,
        &steward_ingest::ParseOptions { year, product },
    )
    .map_err(|e| CoreError::Input(e.to_string()))?;
    for r in &parsed.rejected {
        eprintln!("{name}:{}: rejected: {}", r.line, r.error);
    }
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
    let mut summary = st.ingest_in(&a.as_, a.region.as_deref(), records, &mut |n| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    })?;
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
    if a.json {
        outln!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
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
        let skipped: u64 = summary.skipped.values().sum();
        outln!("skipped {skipped}");
        for (r, n) in &summary.skipped {
            outln!("  {r}: {n}");
        }
    }
    if summary.stored == 0 && (summary.rejected > 0 || !summary.skipped.is_empty()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
