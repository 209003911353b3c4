//! `steward-bench`: Steward's benchmark program.
//!
//! Prints side-by-side ratios measured in one run: each Steward operation
//! beside a plain baseline doing the same work without Steward (plain SQLite,
//! bare AES-256-GCM, raw SHA-256, an fdatasync loop, a hand-written `match`),
//! with the target beside it. `--write FILE` writes the Markdown report
//! (`docs/benchmarks.md`).
//!
//! ```text
//! steward-bench all [--quick] [--write docs/benchmarks.md]
//! steward-bench ingest|seal|decide|append|verify [...] [--quick] [--write FILE]
//! ```
//!
//! Every section reports its errors and goes on; the program never panics on
//! purpose (a panic inside a section is caught and reported as its error).
//! Exit status: 0 when every section ran (targets met or not), 1 when a
//! section failed, 2 on bad arguments.
#![forbid(unsafe_code)]

mod audit;
mod concurrent;
mod data;
mod decide;
mod disclose;
mod machine;
mod memory;
mod report;
mod seal;
mod splice;
mod vault;

/// mimalloc: many small, short-lived allocations per record (fields, bodies)
/// fragment glibc's allocator; mimalloc keeps ingest's allocation cost flat.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use report::{Row, Section};

const USAGE: &str = "usage: steward-bench all [--quick] [--write FILE]
       steward-bench SECTION... [--quick] [--write FILE]

sections:
  ingest   1. ingest vs plain SQLite (batches of 1, 100, 10,000), then
           2. export of one subject's 100 records and 7. crypto-shred vs DELETE
           on the largest store
  seal     3. Sealer::seal vs bare AES-256-GCM
  decide   4. policy decision latency vs a hand-written match
  append   5. audit append vs raw SHA-256, durable appends vs fdatasync
  verify   6. audit verify over 1,000,000 entries, and the incident detectors
           over the same entries
  memory   8. peak memory (VmHWM of a child process) of exporting one subject
           with 1,000,000 records, streaming vs the old in-memory export
  disclose 9. a disclosure (decision, ledger row, audit entry) vs a gated
           read of the same 100 records
  concurrent 10. gated reads from 16 concurrent clients vs one client
           (durable; group commit)

  --quick        sizes / 100 (CI smoke test, under a minute; memory: 20,000 records)
  --write FILE   also write the Markdown report to FILE (a run of some
                 sections only replaces just those sections in FILE)";

struct Args {
    sections: Vec<&'static str>,
    quick: bool,
    write: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    const ALL: [&str; 8] = [
        "ingest",
        "seal",
        "decide",
        "append",
        "verify",
        "memory",
        "disclose",
        "concurrent",
    ];
    let mut sections: Vec<&'static str> = Vec::new();
    let mut quick = false;
    let mut write = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--write" => {
                write = Some(PathBuf::from(it.next().ok_or(
                    "--write needs a file name, e.g. --write docs/benchmarks.md",
                )?))
            }
            "-h" | "--help" => return Err(String::new()),
            "all" => sections.extend(ALL),
            other => match ALL.iter().find(|s| **s == other) {
                Some(s) => sections.push(s),
                None => return Err(format!("unknown argument `{other}`")),
            },
        }
    }
    if sections.is_empty() {
        return Err("name the sections to run, or `all`".into());
    }
    let mut seen = Vec::new();
    sections.retain(|s| {
        let new = !seen.contains(s);
        seen.push(*s);
        new
    });
    Ok(Args {
        sections,
        quick,
        write,
    })
}

/// Run a section, turning a panic into its error.
fn guarded(num: u8, title: &str, f: impl FnOnce() -> Section) -> Section {
    let t = Instant::now();
    let mut s = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(s) => s,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let mut s = Section::new(num, title);
            s.error = Some(format!("panicked: {msg}"));
            s
        }
    };
    s.secs = t.elapsed().as_secs_f64();
    report::print_section(&s);
    s
}

fn main() {
    // Section 8 runs each export in a child process of this program.
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(memory::CHILD_ARG) {
        memory::child_main(&argv[2..]);
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("steward-bench: {e}\n");
            }
            eprintln!("{USAGE}");
            std::process::exit(if e.is_empty() { 0 } else { 2 });
        }
    };
    // Keep the default panic message off the terminal: `guarded` reports it.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut machine = machine::describe();
    println!(
        "steward-bench{}",
        if args.quick {
            " (quick: sizes ÷ 100)"
        } else {
            ""
        }
    );
    for (k, v) in &machine {
        println!("  {k:<20} {v}");
    }
    let load_start = machine::loadavg();
    println!("  {:<20} {load_start}", "load (1 min) at start");
    let sync_start = fsync_probe();
    println!("  {:<20} {sync_start}", "fdatasync at start");
    if cfg!(debug_assertions) {
        println!("  WARNING: debug build; run with --release for meaningful figures");
    }

    let sections = run_sections(&args);
    let total = start.elapsed().as_secs_f64();
    let load_end = machine::loadavg();
    let sync_end = fsync_probe();
    machine.push((
        "load (1 min)".into(),
        format!(
            "{load_start} at start, {load_end} at end (other builds share the cores and the disk)"
        ),
    ));
    machine.push((
        "disk: 4 KiB write + fdatasync, median of 50".into(),
        format!("{sync_start} at start, {sync_end} at end"),
    ));
    println!();
    println!("== Summary ({total:.0} s, load {load_start} → {load_end})");
    print_summary(&sections);

    let mut failed = sections.iter().any(|s| s.error.is_some());
    if let Some(path) = &args.write {
        failed |= !write_report(path, &machine, &sections, args.quick, total);
    }
    if failed {
        std::process::exit(1);
    }
}

/// The median of 50 4 KiB writes with `fdatasync` in a temporary directory,
/// as text (`"123 µs"`, or why it could not be measured).
fn fsync_probe() -> String {
    tempfile::tempdir()
        .map_err(|e| e.to_string())
        .and_then(|d| data::fsync_probe(d.path(), 50))
        .map(|us| format!("{us:.0} µs"))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Run the sections `args` names, each guarded, in the order given.
fn run_sections(args: &Args) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for name in &args.sections {
        match *name {
            "ingest" => ingest_sections(args.quick, &mut sections),
            "seal" => sections.push(guarded(3, "Sealing vs bare AES-256-GCM", || {
                seal::seal(args.quick)
            })),
            "decide" => sections.push(guarded(4, "Decision latency", || {
                decide::decide(args.quick)
            })),
            "append" => sections.push(guarded(5, "Audit append vs raw SHA-256", || {
                audit::append(args.quick)
            })),
            "verify" => sections.push(guarded(6, "audit verify", || audit::verify(args.quick))),
            "disclose" => sections.push(guarded(
                9,
                "Disclosure vs gated read of the same records",
                || disclose::disclose(args.quick),
            )),
            "concurrent" => sections.push(guarded(
                10,
                "Gated reads: 16 concurrent clients vs one (group commit)",
                || concurrent::concurrent(args.quick),
            )),
            "memory" => sections.push(guarded(
                8,
                "Export of one subject's 1,000,000 records: peak memory",
                || memory::export_memory(args.quick),
            )),
            _ => {}
        }
    }
    sections
}

/// Sections 1, 2 and 7: ingest, then export and erasure on the store the
/// ingest filled (both skipped, with a reason, when the ingest failed).
fn ingest_sections(quick: bool, sections: &mut Vec<Section>) {
    let mut stores = None;
    sections.push(guarded(1, "Ingest vs plain SQLite", || {
        let (s, st) = vault::ingest(quick);
        stores = st;
        s
    }));
    match &stores {
        Some(st) => {
            sections.push(guarded(2, "Export one subject's 100 records", || {
                vault::export(st, quick)
            }));
            sections.push(guarded(7, "Crypto-shred vs DELETE", || {
                vault::erase(st, quick)
            }));
        }
        None => {
            for (n, t) in [
                (2u8, "Export one subject's 100 records"),
                (7, "Crypto-shred vs DELETE"),
            ] {
                let mut s = Section::new(n, t);
                s.error =
                    Some("skipped: needs the 10,000-batch store of section 1, which failed".into());
                if n == 2 {
                    s.rows.push(
                        Row::info(
                            "`Steward::export`",
                            "not run".into(),
                            "—".into(),
                            "n/a".into(),
                        )
                        .target("export < 10 ms", false),
                    );
                }
                report::print_section(&s);
                sections.push(s);
            }
        }
    }
}

/// The summary lines: every row with a target, met or MISSED, and each
/// section's error.
fn print_summary(sections: &[Section]) {
    let mut sorted: Vec<&Section> = sections.iter().collect();
    sorted.sort_by_key(|s| s.num);
    for s in &sorted {
        for r in s.rows.iter().filter(|r| r.met.is_some()) {
            println!(
                "  {}. {:<40} {:<28} {:<22} target {:<24} {}",
                s.num,
                format!("{} — {}", s.title, r.what),
                r.steward,
                r.ratio,
                r.target,
                if r.met == Some(true) { "met" } else { "MISSED" }
            );
        }
        if let Some(e) = &s.error {
            println!("  {}. {}: ERROR {e}", s.num, s.title);
        }
    }
}

/// `--write FILE`: the Markdown report (a run of some sections replaces just
/// those in the file; the wrk section is kept). `false` when it could not
/// be written.
fn write_report(
    path: &std::path::Path,
    machine: &[(String, String)],
    sections: &[Section],
    quick: bool,
    total: f64,
) -> bool {
    let mut cmd = String::from("steward-bench");
    for a in std::env::args().skip(1) {
        cmd.push(' ');
        cmd.push_str(&a);
    }
    let md = report::markdown(machine, sections, &cmd, quick, total);
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let nums: Vec<u8> = sections.iter().map(|s| s.num).collect();
    let partial_run = ![1u8, 2, 3, 4, 5, 6, 7, 8].iter().all(|n| nums.contains(n));
    let get = |k: &str| {
        machine
            .iter()
            .find(|(m, _)| m == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("?")
    };
    let note = format!(
        "Measured in its own run: `{cmd}`, {} build of {}, {}; load {}.",
        get("build"),
        get("source"),
        get("date"),
        get("load (1 min)")
    );
    let md = match partial_run.then(|| splice::splice(&old, &md, &nums, &note)) {
        Some(Some(spliced)) => spliced,
        _ => keep_http_load(md, &old),
    };
    match std::fs::write(path, md) {
        Ok(()) => {
            println!("\nwrote {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("steward-bench: cannot write {}: {e}", path.display());
            false
        }
    }
}

/// The section `## HTTP load (wrk)` of the file being rewritten, through its
/// `<!-- http-load:end -->` line: `scripts/load_test.sh` measures it (wrk
/// against a running `steward serve`), not this program, so `--write` keeps
/// it, appended after the generated sections. `md` unchanged when the old
/// file has no such section.
fn keep_http_load(mut md: String, old: &str) -> String {
    const HEAD: &str = "\n## HTTP load (wrk)\n";
    const END: &str = "<!-- http-load:end -->";
    if let (Some(b), Some(e)) = (old.find(HEAD), old.find(END))
        && b < e
        && !md.contains(HEAD)
    {
        if !md.ends_with('\n') {
            md.push('\n');
        }
        md.push_str(&old[b..e + END.len()]);
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod keep_http_load_tests {
    use super::keep_http_load;

    #[test]
    fn the_wrk_section_survives_a_rewrite() {
        let old = "# Benchmarks\n\nold figures\n\n## HTTP load (wrk)\n\ntext\n<!-- http-load:begin -->\n| a |\n<!-- http-load:end -->\n";
        let new = keep_http_load("# Benchmarks\n\nnew figures\n".into(), old);
        assert_eq!(
            new,
            "# Benchmarks\n\nnew figures\n\n## HTTP load (wrk)\n\ntext\n<!-- http-load:begin -->\n| a |\n<!-- http-load:end -->\n"
        );
        // Nothing to keep: unchanged.
        assert_eq!(keep_http_load("x\n".into(), "# old\n"), "x\n");
    }
}
