//! Results: rows of side-by-side figures, printed to the terminal and written
//! as Markdown (`--write FILE`).

use std::fmt::Write as _;

/// One line of a benchmark's table: what was measured, Steward's figure, the
/// baseline's, their ratio and the target.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub what: String,
    /// Steward's figure, with its unit.
    pub steward: String,
    /// The baseline's figure, with its unit.
    pub baseline: String,
    /// Steward ÷ baseline, saying whether it is a throughput or a time ratio.
    pub ratio: String,
    /// The target, or "—".
    pub target: String,
    /// Whether the target was met; `None` when the row has no target.
    pub met: Option<bool>,
}

impl Row {
    /// A row without a target.
    pub fn info(what: impl Into<String>, steward: String, baseline: String, ratio: String) -> Row {
        Row {
            what: what.into(),
            steward,
            baseline,
            ratio,
            target: "—".into(),
            met: None,
        }
    }

    /// A row with a target and whether it was met. Use it only for a row
    /// that failed before measuring (`met` false); measured rows are judged
    /// by [`Row::judged`].
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.met = Some(met);
        self
    }

    /// A row with a target judged on a figure as this row prints it: the
    /// Steward column (`Column::Steward`) or the ratio column
    /// (`Column::Ratio`), read back with [`printed_number`] and compared
    /// with `bound` by [`meets`]. A figure that does not print as a number
    /// does not meet the target.
    pub fn judged(mut self, target: impl Into<String>, on: Column, cmp: Cmp, bound: f64) -> Row {
        let printed = match on {
            Column::Steward => &self.steward,
            Column::Ratio => &self.ratio,
        };
        let met = meets(printed, cmp, bound);
        self.target = target.into();
        self.met = Some(met);
        self
    }
}

/// Which column of a row a target is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Steward's figure.
    Steward,
    /// Steward ÷ baseline.
    Ratio,
}

/// How a figure compares with a target's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `< bound`.
    Below,
    /// `<= bound`.
    AtMost,
    /// `>= bound`.
    AtLeast,
}

/// The fewest runs a target is decided on: the median of at least this
/// many independent runs, with their range printed beside it.
pub const RUNS: usize = 5;

/// The leading number of a figure as printed: `"10.0 µs"` → 10.0,
/// `"1,065,217 entries/s"` → 1065217, `"0.50× throughput"` → 0.5. `None`
/// when it does not start with a number (`"error"`, `"n/a"`).
pub fn printed_number(printed: &str) -> Option<f64> {
    let t = printed.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',' || c == '-'))
        .unwrap_or(t.len());
    let digits: String = t[..end].chars().filter(|&c| c != ',').collect();
    digits.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Whether a figure *as printed* meets `cmp bound`: the reader of the table
/// sees the rounded figure, so a p50 of 9.96 µs printed as "10.0 µs" does
/// not meet "< 10 µs".
pub fn meets(printed: &str, cmp: Cmp, bound: f64) -> bool {
    printed_number(printed).is_some_and(|x| match cmp {
        Cmp::Below => x < bound,
        Cmp::AtMost => x <= bound,
        Cmp::AtLeast => x >= bound,
    })
}

/// One figure measured in several independent runs. Targets are decided on
/// the median; the range is printed so the spread between runs shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Runs(Vec<f64>);

impl Runs {
    /// The values of the runs, in any order (non-finite values dropped).
    pub fn new(mut values: Vec<f64>) -> Runs {
        values.retain(|x| x.is_finite());
        values.sort_by(f64::total_cmp);
        Runs(values)
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The median (the mean of the two middle values for an even count;
    /// NaN when there are no runs).
    pub fn median(&self) -> f64 {
        let n = self.0.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => self.0[n / 2],
            _ => (self.0[n / 2 - 1] + self.0[n / 2]) / 2.0,
        }
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.0.first().copied().unwrap_or(f64::NAN)
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }

    /// `fmt(median)` followed by the runs and their range, as printed in a
    /// table cell: `"8.8 µs (median of 5 runs, 8.1 µs – 12.9 µs)"`. The
    /// leading figure is the one targets are judged on.
    pub fn cell(&self, fmt: impl Fn(f64) -> String) -> String {
        format!(
            "{} (median of {} runs, {} – {})",
            fmt(self.median()),
            self.len(),
            fmt(self.min()),
            fmt(self.max())
        )
    }
}

/// One benchmark's results.
#[derive(Debug, Clone)]
pub struct Section {
    /// Its number in the brief (1-7).
    pub num: u8,
    /// Title.
    pub title: String,
    /// How it was measured (sizes, repetitions, baselines).
    pub method: Vec<String>,
    /// The table.
    pub rows: Vec<Row>,
    /// Findings: where the time goes, why a target was missed, what would reach it.
    pub notes: Vec<String>,
    /// The error that stopped it, if any (the rows measured before it stay).
    pub error: Option<String>,
    /// Wall-clock seconds the section took.
    pub secs: f64,
}

impl Section {
    /// An empty section.
    pub fn new(num: u8, title: &str) -> Section {
        Section {
            num,
            title: title.into(),
            method: vec![],
            rows: vec![],
            notes: vec![],
            error: None,
            secs: 0.0,
        }
    }
}

/// `1234567.8` → `"1,234,568"`.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let n = x.round() as i128;
    let neg = n < 0;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if neg { format!("-{out}") } else { out }
}

/// A rate: `"123,456 /s"`, with `unit` before `/s`.
pub fn rate(x: f64, unit: &str) -> String {
    format!("{} {unit}/s", thousands(x))
}

/// Milliseconds with sensible precision.
pub fn ms(x: f64) -> String {
    if x < 1.0 {
        format!("{x:.3} ms")
    } else if x < 100.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.0} ms")
    }
}

/// Microseconds with sensible precision.
pub fn us(x: f64) -> String {
    if x < 1.0 {
        format!("{x:.3} µs")
    } else if x < 100.0 {
        format!("{x:.1} µs")
    } else {
        format!("{x:.0} µs")
    }
}

/// Throughput ratio Steward ÷ baseline (higher is better).
pub fn thr_ratio(steward: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.2}× throughput", steward / baseline)
    } else {
        "n/a".into()
    }
}

/// Time ratio Steward ÷ baseline (lower is better).
pub fn time_ratio(steward: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        let r = steward / baseline;
        if r >= 10.0 {
            format!("{r:.0}× the time")
        } else if r >= 0.1 {
            format!("{r:.2}× the time")
        } else {
            format!("{r:.3}× the time")
        }
    } else {
        "n/a".into()
    }
}

fn met_word(m: Option<bool>, md: bool) -> &'static str {
    match (m, md) {
        (Some(true), _) => "yes",
        (Some(false), true) => "**NO**",
        (Some(false), false) => "NO",
        (None, _) => "—",
    }
}

/// Print a section to the terminal as an aligned table.
pub fn print_section(s: &Section) {
    println!();
    println!("== {}. {}  ({:.1} s)", s.num, s.title, s.secs);
    for m in &s.method {
        println!("   {m}");
    }
    let header = ["what", "Steward", "baseline", "ratio", "target", "met?"];
    let cells: Vec<[String; 6]> = s
        .rows
        .iter()
        .map(|r| {
            [
                r.what.clone(),
                r.steward.clone(),
                r.baseline.clone(),
                r.ratio.clone(),
                r.target.clone(),
                met_word(r.met, false).to_string(),
            ]
        })
        .collect();
    let mut w = header.map(|h| h.chars().count());
    for c in &cells {
        for (i, v) in c.iter().enumerate() {
            w[i] = w[i].max(v.chars().count());
        }
    }
    let line = |vals: &[String]| {
        let mut out = String::from("   ");
        for (i, v) in vals.iter().enumerate() {
            let pad = w[i].saturating_sub(v.chars().count());
            out.push_str(v);
            out.push_str(&" ".repeat(pad + 2));
        }
        println!("{}", out.trim_end());
    };
    line(&header.map(String::from));
    for c in &cells {
        line(c);
    }
    for n in &s.notes {
        println!("   - {n}");
    }
    if let Some(e) = &s.error {
        println!("   ERROR: {e}");
    }
}

/// The whole report as Markdown.
pub fn markdown(
    machine: &[(String, String)],
    sections: &[Section],
    command: &str,
    quick: bool,
    total_secs: f64,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks");
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "Side-by-side ratios measured in one run of the benchmark program \
         (`bench/`, crate `steward-bench`), each beside a plain baseline doing the \
         same work without Steward. Written by the program itself from the run \
         below; rerun it to refresh this page:"
    );
    let _ = writeln!(md);
    let _ = writeln!(md, "```sh");
    let _ = writeln!(
        md,
        "export CARGO_TARGET_DIR=/var/tmp/steward-target   # optional"
    );
    let _ = writeln!(
        md,
        "cargo run --release -p steward-bench -- all --write docs/benchmarks.md"
    );
    let _ = writeln!(
        md,
        "cargo run --release -p steward-bench -- all --quick   # CI smoke test, sizes ÷ 100, < 1 min"
    );
    let _ = writeln!(md, "```");
    let _ = writeln!(md);
    if quick {
        let _ = writeln!(
            md,
            "> **This page was written by a `--quick` run (sizes ÷ 100).** Its figures \
             are a smoke test, not the reference: run without `--quick`."
        );
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "Ratios are Steward ÷ baseline: for throughputs higher is better, for times lower is better."
    );
    let _ = writeln!(md);
    let _ = writeln!(
        md,
        "PostgreSQL figures (store insert rate beside a plain batched INSERT and COPY \
         in one run) are in [benchmarks-postgres.md](benchmarks-postgres.md), written \
         from one run of `cargo run --release -p steward-store --example pg_ingest`; \
         the HTTP load figures come with the API."
    );
    let _ = writeln!(md);
    let _ = writeln!(md, "## Machine");
    let _ = writeln!(md);
    let _ = writeln!(md, "| | |");
    let _ = writeln!(md, "|---|---|");
    for (k, v) in machine {
        let _ = writeln!(md, "| {k} | {} |", esc(v));
    }
    let _ = writeln!(md, "| command | `{}` |", command);
    let _ = writeln!(md, "| run time | {total_secs:.0} s |");
    let _ = writeln!(md);
    let _ = writeln!(md, "## Summary");
    let _ = writeln!(md);
    let _ = writeln!(md, "| # | benchmark | measured | target | met? |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    let mut sorted: Vec<&Section> = sections.iter().collect();
    sorted.sort_by_key(|s| s.num);
    for s in &sorted {
        let targeted: Vec<&Row> = s.rows.iter().filter(|r| r.met.is_some()).collect();
        if let Some(e) = &s.error
            && targeted.is_empty()
        {
            let _ = writeln!(
                md,
                "| {} | {} | error: {} | | **NO** |",
                s.num,
                esc(&s.title),
                esc(e)
            );
            continue;
        }
        if targeted.is_empty() {
            let head = s.rows.first();
            let _ = writeln!(
                md,
                "| {} | {} | {} | — | — |",
                s.num,
                esc(&s.title),
                head.map(|r| format!(
                    "{}: {} vs {}",
                    esc(&r.what),
                    esc(&r.steward),
                    esc(&r.baseline)
                ))
                .unwrap_or_default()
            );
        }
        for r in targeted {
            let _ = writeln!(
                md,
                "| {} | {} — {} | {} ({}) | {} | {} |",
                s.num,
                esc(&s.title),
                esc(&r.what),
                esc(&r.steward),
                esc(&r.ratio),
                esc(&r.target),
                met_word(r.met, true)
            );
        }
    }
    for s in &sorted {
        section_markdown(&mut md, s);
    }
    md
}

/// One section of the Markdown report: its method, its rows, its error and
/// notes, and the time it took.
fn section_markdown(md: &mut String, s: &Section) {
    let _ = writeln!(md);
    let _ = writeln!(md, "## {}. {}", s.num, s.title);
    let _ = writeln!(md);
    for m in &s.method {
        let _ = writeln!(md, "{m}  ");
    }
    let _ = writeln!(md);
    if !s.rows.is_empty() {
        let _ = writeln!(md, "| what | Steward | baseline | ratio | target | met? |");
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for r in &s.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                esc(&r.what),
                esc(&r.steward),
                esc(&r.baseline),
                esc(&r.ratio),
                esc(&r.target),
                met_word(r.met, true)
            );
        }
        let _ = writeln!(md);
    }
    if let Some(e) = &s.error {
        let _ = writeln!(md, "**Error:** {}", esc(e));
        let _ = writeln!(md);
    }
    for n in &s.notes {
        let _ = writeln!(md, "- {n}");
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "_Section time: {:.1} s._", s.secs);
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A p50 of 9.96 µs prints as "10.0 µs" and does not meet "< 10 µs";
    /// 9.94 prints as "9.9 µs" and does.
    #[test]
    fn verdict_is_on_the_printed_value() {
        assert_eq!(us(9.96), "10.0 µs");
        assert!(!meets(&us(9.96), Cmp::Below, 10.0));
        assert!(meets(&us(9.94), Cmp::Below, 10.0));
        let row = Row::info("p50", us(9.96), us(0.03), time_ratio(9.96, 0.03)).judged(
            "p50 < 10 µs",
            Column::Steward,
            Cmp::Below,
            10.0,
        );
        assert_eq!(row.met, Some(false));
        // Ratios likewise: 0.4996 prints "0.50× throughput" and meets ≥ 0.5×.
        assert_eq!(thr_ratio(0.4996, 1.0), "0.50× throughput");
        assert!(meets(&thr_ratio(0.4996, 1.0), Cmp::AtLeast, 0.5));
        assert!(!meets(&thr_ratio(0.4949, 1.0), Cmp::AtLeast, 0.5));
        // Thousands separators are read back; a non-number never meets.
        assert_eq!(printed_number("1,065,217 entries/s"), Some(1_065_217.0));
        assert!(!meets("error", Cmp::AtLeast, 0.0));
        assert!(!meets("n/a", Cmp::Below, 1e9));
    }

    #[test]
    fn runs_median_and_range() {
        let r = Runs::new(vec![12.9, 8.1, 9.0, 8.8, 10.2]);
        assert_eq!(r.len(), 5);
        assert_eq!(r.median(), 9.0);
        assert_eq!((r.min(), r.max()), (8.1, 12.9));
        assert_eq!(r.cell(us), "9.0 µs (median of 5 runs, 8.1 µs – 12.9 µs)");
        assert_eq!(Runs::new(vec![1.0, 2.0, 4.0, 3.0]).median(), 2.5);
        assert!(Runs::new(vec![]).median().is_nan());
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(-1234.0), "-1,234");
        assert_eq!(thousands(f64::NAN), "n/a");
    }
}
