//! Section 7: crypto-shredding a subject vs deleting rows.

use crate::data::{median, secs};
use crate::report::{Row, Section, ms, thousands, time_ratio};
use rusqlite::params;
use std::time::Instant;
use steward_domain::Purpose;

use super::{Stores, core, sq};

/// Section 7: crypto-shredding a subject vs deleting rows.
pub fn erase(stores: &Stores, quick: bool) -> Section {
    let mut s = Section::new(7, "Crypto-shred vs DELETE");
    let subjects: u64 = if quick { 3 } else { 10 };
    s.method.push(format!(
        "On the stores of section 1. Steward: `Steward::erase` of {subjects} subjects (`username:user0001`…, \
         about {} records each) as the operator for `comply` against a recorded obligation; median. Baselines: a single-row \
         `DELETE … WHERE id = ?` + commit in the plain table (median of 20), and deleting all of a subject's rows \
         (`DELETE … WHERE subject = ?` + commit) for the same subjects; then one `Steward::sweep`, which deletes the erased \
         subjects' sealed rows.",
        thousands(stores.records as f64 / crate::data::SUBJECTS as f64)
    ));
    let st = &stores.steward;
    let mut run = || -> Result<(), String> {
        let ob = st
            .record_obligation(st.operator(), "data_subject_request", "bench-erasure")
            .map_err(core)?
            .id;
        let mut er = Vec::new();
        let mut unreadable = 0;
        for k in 1..=subjects {
            let t = Instant::now();
            let receipt = st
                .erase(
                    st.operator(),
                    Purpose::Comply,
                    &format!("username:user{k:04}"),
                    Some(&ob),
                )
                .map_err(core)?;
            er.push(secs(t) * 1e3);
            unreadable += receipt.records_unreadable;
        }
        let delete = |sql: &str, v: i64| -> Result<(f64, usize), String> {
            let t = Instant::now();
            let tx = stores.plain.unchecked_transaction().map_err(sq)?;
            let n = tx.execute(sql, params![v]).map_err(sq)?;
            tx.commit().map_err(sq)?;
            Ok((secs(t) * 1e3, n))
        };
        // Rows of subjects that are not erased below: spread over the table.
        let mut one = Vec::new();
        for k in 0..20i64 {
            let id = 1 + (k * 7919 + 13) % stores.records as i64;
            let (el, n) = delete("DELETE FROM plain WHERE id = ?1", id)?;
            if n == 1 {
                one.push(el);
            }
        }
        let mut all = Vec::new();
        let mut rows = 0;
        for k in 1..=subjects as i64 {
            let (el, n) = delete("DELETE FROM plain WHERE subject = ?1", k)?;
            all.push(el);
            rows += n;
        }
        // Crypto-shredding leaves the sealed rows until a sweep deletes them.
        let t = Instant::now();
        let swept = st.sweep().map_err(core)?;
        let sweep_ms = secs(t) * 1e3;
        let all_total: f64 = all.iter().sum();
        let (e, o, a) = (median(&mut er), median(&mut one), median(&mut all));
        s.rows.push(Row::info(
            "`Steward::erase` vs single-row DELETE",
            ms(e),
            ms(o),
            time_ratio(e, o),
        ));
        s.rows.push(Row::info(
            "`Steward::erase` vs DELETE of the subject's rows",
            ms(e),
            ms(a),
            time_ratio(e, a),
        ));
        s.rows.push(Row::info(
            format!("later: one `Steward::sweep` of the {subjects} erased subjects' rows vs the {subjects} DELETEs, total"),
            ms(sweep_ms),
            ms(all_total),
            time_ratio(sweep_ms, all_total),
        ));
        if swept as usize != rows {
            s.notes.push(format!(
                "`Steward::sweep` deleted {swept} rows; the plain DELETEs {rows}."
            ));
        }
        s.notes.push(format!(
            "Steward made {} records unreadable in {} erasures ({} per subject) by deleting one wrapped data key \
             and the identifiers in one audited transaction; the plain DELETE removed {} rows ({} per subject). \
             Steward's rows themselves go later, with `Steward::sweep`.",
            thousands(unreadable as f64),
            subjects,
            thousands(unreadable as f64 / subjects as f64),
            thousands(rows as f64),
            thousands(rows as f64 / subjects as f64)
        ));
        Ok(())
    };
    if let Err(e) = run() {
        s.error = Some(e);
    }
    s
}
