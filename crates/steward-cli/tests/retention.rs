//! `steward retention sweep [--dry-run]` (N8.8), driven as a user would.
//! Five records are ingested; the test then sets their stored times (which
//! retention counts from) to known dates, so the expired set is known by
//! hand: a usage record stored in 2000 (180 days) and a billing record
//! stored in 2010 (7 years); the account profile of 2000 never expires
//! (no age-based expiry for account); the rest were stored today.
//! SQLite only: the test sets stored times in the store's file.

use std::path::Path;

mod common;
use common::ok;

fn records(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn retention_sweep_dry_run_then_sweep_n8_8() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        [
            r#"{"subject":"username:ann","kind":"usage.authentication","fields":{"event":"login","outcome":"success","account":"ann"}}"#,
            r#"{"subject":"username:ann","kind":"usage.authentication","fields":{"event":"login","outcome":"failure","account":"ann"}}"#,
            r#"{"subject":"username:ann","kind":"billing.payment","fields":{"amount":"10.00","currency":"EUR"}}"#,
            r#"{"subject":"username:ann","kind":"account.profile","fields":{"username":"ann","job_title":"Engineer"}}"#,
            r#"{"subject":"username:ann","kind":"communications.support","fields":{"channel":"email","case_id":"c-1"}}"#,
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    ok(
        &data,
        &["ingest", "--format", "jsonl", input.to_str().unwrap()],
    );
    let db = data.join("jp.sqlite3");
    assert_eq!(records(&db), 5);
    {
        // In file order (ids increase): the first login in 2000-01-01, the
        // payment in 2010-01-01 (7 years: gone 2017), the profile in 2000.
        let c = rusqlite::Connection::open(&db).unwrap();
        let ids: Vec<i64> = c
            .prepare("SELECT id FROM records ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (i, ms) in [
            (0, 946_684_800_000_i64),
            (2, 1_262_304_000_000),
            (3, 946_684_800_000),
        ] {
            c.execute(
                "UPDATE records SET stored_at = ?1 WHERE id = ?2",
                rusqlite::params![ms, ids[i]],
            )
            .unwrap();
        }
    }
    let size = |db: &Path| -> i64 {
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row("SELECT size FROM audit_head", [], |r| r.get(0))
            .unwrap()
    };

    let before = size(&db);
    let dry: serde_json::Value =
        serde_json::from_str(&ok(&data, &["retention", "sweep", "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["deleted"], 2);
    assert_eq!(
        dry["by_category"],
        serde_json::json!({"billing": 1, "usage": 1})
    );
    assert_eq!(
        dry["by_kind"],
        serde_json::json!({"billing.payment": 1, "usage.authentication": 1})
    );
    // Nothing deleted, nothing recorded.
    assert_eq!(records(&db), 5);
    assert_eq!(size(&db), before);

    let out = ok(&data, &["retention", "sweep"]);
    assert!(out.contains("deleted 2 records"), "{out}");
    assert!(out.contains("usage: 1 (usage.authentication 1)"), "{out}");
    assert!(out.contains("billing: 1 (billing.payment 1)"), "{out}");
    assert_eq!(records(&db), 3);
    assert_eq!(size(&db), before + 1);
    // The log, with the sweep's entry, verifies.
    ok(&data, &["audit", "verify"]);
    // A second sweep finds nothing.
    let again = ok(&data, &["retention", "sweep"]);
    assert!(again.contains("deleted 0 records"), "{again}");
}
