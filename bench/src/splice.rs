//! `--write FILE` after a run of some sections only (e.g. `steward-bench
//! memory --write docs/benchmarks.md`): the run's sections and their summary
//! rows replace (or join, in number order) those of the existing report,
//! and every other section, the machine table and the summary rows of the
//! other sections stay as they were. The spliced sections say that they come
//! from their own run.

/// The summary table's rows (`| N | …`) in `md`, with the byte range they span.
fn summary_rows(md: &str) -> Option<(usize, usize, Vec<String>)> {
    let head = md.find("\n## Summary\n")?;
    let mut start = None;
    let mut end = None;
    let mut rows = Vec::new();
    let mut pos = head + 1;
    for line in md[head + 1..].split_inclusive('\n') {
        let t = line.trim_end();
        if t.starts_with("| ")
            && t.split('|')
                .nth(1)
                .is_some_and(|c| c.trim().parse::<u32>().is_ok())
        {
            if start.is_none() {
                start = Some(pos);
            }
            rows.push(t.to_owned());
            end = Some(pos + line.len());
        } else if start.is_some() {
            break;
        }
        pos += line.len();
    }
    Some((start?, end?, rows))
}

fn row_num(row: &str) -> u32 {
    row.split('|')
        .nth(1)
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

/// The block of section `num` (`\n## num. …` up to the next `\n## ` or the
/// end), as a byte range of `md`.
fn section_range(md: &str, num: u8) -> Option<(usize, usize)> {
    let b = md.find(&format!("\n## {num}. "))?;
    let e = md[b + 1..]
        .find("\n## ")
        .map(|i| b + 1 + i)
        .unwrap_or(md.len());
    Some((b, e))
}

/// The leading number of each `\n## N. ` heading, with its offset.
fn numbered_headings(md: &str) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = md[from..].find("\n## ") {
        let at = from + i;
        let rest = &md[at + 4..];
        if let Some((n, _)) = rest.split_once(". ")
            && let Ok(n) = n.parse::<u32>()
        {
            out.push((at, n));
        }
        from = at + 4;
    }
    out
}

/// Splice the sections `nums` of `generated` (a report of this run) into
/// `old` (the existing file). `note` is put under each spliced heading.
/// `None` when `old` is not a report with a summary table (then write
/// `generated` as it is).
pub fn splice(old: &str, generated: &str, nums: &[u8], note: &str) -> Option<String> {
    let (_, _, new_rows) = summary_rows(generated)?;
    let (s0, s1, old_rows) = summary_rows(old)?;
    let mut rows: Vec<String> = old_rows
        .into_iter()
        .filter(|r| !nums.iter().any(|n| row_num(r) == u32::from(*n)))
        .collect();
    rows.extend(new_rows);
    rows.sort_by_key(|r| row_num(r));
    let mut md = String::with_capacity(old.len() + generated.len());
    md.push_str(&old[..s0]);
    for r in &rows {
        md.push_str(r);
        md.push('\n');
    }
    md.push_str(&old[s1..]);
    for &num in nums {
        let Some((b, e)) = section_range(generated, num) else {
            continue;
        };
        let block = &generated[b..e];
        let (heading, body) = block[1..].split_once('\n').unwrap_or((&block[1..], ""));
        let block = format!("\n{heading}\n\n_{note}_\n{body}");
        match section_range(&md, num) {
            Some((ob, oe)) => md.replace_range(ob..oe, &block),
            None => {
                // Before the first numbered section with a higher number,
                // else before the HTTP load section, else at the end.
                let at = numbered_headings(&md)
                    .into_iter()
                    .find(|(_, n)| *n > u32::from(num))
                    .map(|(at, _)| at)
                    .or_else(|| md.find("\n## HTTP load (wrk)\n"))
                    .unwrap_or(md.len());
                let mut block = block;
                if at == md.len() && !md.ends_with('\n') {
                    block.insert(0, '\n');
                }
                md.insert_str(at, &block);
            }
        }
    }
    Some(md)
}

#[cfg(test)]
mod tests {
    use super::splice;

    const OLD: &str = "# Benchmarks\n\n## Summary\n\n| # | benchmark | measured | target | met? |\n|---|---|---|---|---|\n| 1 | A | 1 | — | — |\n| 2 | B | 2 | — | — |\n\n## 1. A\n\nold a\n\n## 2. B\n\nold b\n\n## HTTP load (wrk)\n\nwrk\n<!-- http-load:end -->\n";

    #[test]
    fn a_new_section_joins_in_order_and_the_rest_stays() {
        let gen_ = "# Benchmarks\n\n## Summary\n\n| # | benchmark | measured | target | met? |\n|---|---|---|---|---|\n| 8 | M | 9 MB | < 200 MB | yes |\n\n## 8. M\n\nnew m\n";
        let got = splice(OLD, gen_, &[8], "own run").unwrap();
        assert_eq!(
            got,
            "# Benchmarks\n\n## Summary\n\n| # | benchmark | measured | target | met? |\n|---|---|---|---|---|\n| 1 | A | 1 | — | — |\n| 2 | B | 2 | — | — |\n| 8 | M | 9 MB | < 200 MB | yes |\n\n## 1. A\n\nold a\n\n## 2. B\n\nold b\n\n## 8. M\n\n_own run_\n\nnew m\n\n## HTTP load (wrk)\n\nwrk\n<!-- http-load:end -->\n"
        );
        // Run again: the section and its row are replaced, not repeated.
        let gen2 = gen_.replace("9 MB", "8 MB").replace("new m", "newer m");
        let again = splice(&got, &gen2, &[8], "own run").unwrap();
        assert_eq!(
            again,
            got.replace("9 MB", "8 MB").replace("new m", "newer m")
        );
    }

    #[test]
    fn no_summary_in_the_old_file_means_no_splice() {
        assert_eq!(splice("# nothing\n", OLD, &[1], "x"), None);
    }
}
