//! PostgreSQL ingest rate: sealed records through `PostgresStore::commit`
//! beside plain batched inserts of same-size rows into a plain table, in one
//! run against one server.
//!
//! ```text
//! cargo run --release -p steward-store --example pg_ingest [-- RECORDS [BATCH]]
//! ```
//!
//! Defaults: 100,000 records of 356-byte sealed blobs in batches of 10,000.
//! Server: `STEWARD_BENCH_PG_URL`, else `STEWARD_TEST_PG_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`; everything happens in a fresh
//! schema `steward_bench_<hex>`, dropped at the end.
//!
//! Each side runs batch by batch, alternating, one transaction per batch:
//!
//! * store: `commit` of a `ChangeSet` with the batch's records and one
//!   audit entry (`ingest.batch`), as the ingest path writes it;
//! * plain INSERT: `INSERT INTO plain(id, subject, blob) SELECT * FROM
//!   UNNEST(...)` of the same ids, subjects and blobs (a table with a
//!   primary key and a subject index, like `records`);
//! * plain COPY: `COPY plain FROM STDIN (FORMAT binary)` of the same rows.
//!
//! Building the rows is outside the timings. The 1,000 subjects (with keys
//! and identifiers) are stored before the timed part.

use std::time::Instant;

use ed25519_dalek::SigningKey;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use steward_audit::{Decision, EntryDraft, Resource, ResourceKind, SubjectRef, Timestamp, Token};
use steward_domain::{RecordId, SubjectId};
use steward_store::{
    AuditStore, ChangeSet, IdentifierRow, PostgresStore, RecordRow, Store, StoreOptions,
    SubjectRow, WrappedKeyRow,
};

const SUBJECTS: u64 = 1000;
const BLOB: usize = 356;

/// SplitMix64: reproducible pseudo-random data.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Incompressible bytes, like a real AES-GCM sealed record.
fn blob(i: u64) -> Vec<u8> {
    (0..BLOB as u64 / 8 + 1)
        .flat_map(|k| mix(i * 64 + k).to_le_bytes())
        .take(BLOB)
        .collect()
}

fn subject_id(s: u64) -> i64 {
    (mix(s ^ 0x5eed) >> 1) as i64
}

fn draft(batch: u64, n: u64) -> Result<EntryDraft, String> {
    let t = |s: &str| Token::new(s).map_err(|e| e.to_string());
    Ok(EntryDraft {
        action: t("ingest.batch")?,
        clause_ids: vec![t("N2.4")?],
        decision: Decision::Allow,
        policy_ids: vec![t("ingest")?],
        policy_version: t("2024-01-18.1")?,
        principal: t("svc_ingest")?,
        purpose: Some(t("provide_services")?),
        reason: None,
        region: t("jp")?,
        request_id: t(&format!("bench-{batch}"))?,
        resource: Resource::new(ResourceKind::Record)
            .subject(SubjectRef::new(1))
            .count(n),
        time: Timestamp::now().map_err(|e| e.to_string())?,
    })
}

fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("pg_ingest: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let total: u64 = match args.next() {
        Some(a) => a
            .parse()
            .map_err(|_| format!("RECORDS `{a}` is not a number"))?,
        None => 100_000,
    };
    let batch: u64 = match args.next() {
        Some(a) => a
            .parse()
            .map_err(|_| format!("BATCH `{a}` is not a number"))?,
        None => 10_000,
    }
    .max(1);
    let base = std::env::var("STEWARD_BENCH_PG_URL")
        .or_else(|_| std::env::var("STEWARD_TEST_PG_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!(
        "steward_bench_{:016x}",
        mix(std::process::id().into()) ^ now_nanos()
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}schema={schema}");
    let out = measure(&url, total, batch);
    // Drop the schema whatever happened.
    match PostgresStore::connect_client(&base) {
        Ok(mut c) => {
            if let Err(e) = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            {
                eprintln!("note: could not drop schema {schema}: {e}");
            }
        }
        Err(e) => eprintln!("note: could not drop schema {schema}: {e}"),
    }
    out
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn measure(url: &str, total: u64, batch: u64) -> Result<(), String> {
    let e = |e: steward_store::StoreError| e.to_string();
    let p = |e: postgres::Error| e.to_string();
    let opts = StoreOptions {
        region: "jp".into(),
        busy_timeout_ms: 10_000,
        checkpoint_every: 1000,
        checkpoint_every_secs: 60,
        origin: "steward.bench/audit/jp".into(),
        key_name: "steward-audit".into(),
        signing_key: std::sync::Arc::new(SigningKey::from_bytes(&[7; 32])),
        allow_plaintext_store: false,
    };
    let mut store = PostgresStore::open(url, opts).map_err(e)?;
    let mut plain = PostgresStore::connect_client(url).map_err(e)?;
    plain
        .batch_execute(
            "CREATE TABLE plain_insert(id BIGINT PRIMARY KEY, subject BIGINT NOT NULL, blob BYTEA NOT NULL);
             CREATE INDEX plain_insert_subject ON plain_insert(subject);
             CREATE TABLE plain_copy(id BIGINT PRIMARY KEY, subject BIGINT NOT NULL, blob BYTEA NOT NULL);
             CREATE INDEX plain_copy_subject ON plain_copy(subject);",
        )
        .map_err(p)?;
    // Subjects first (untimed).
    store
        .commit(ChangeSet {
            subjects: (0..SUBJECTS)
                .map(|s| SubjectRow {
                    id: SubjectId(subject_id(s)),
                    region: "jp".into(),
                    created_at_ms: 1_700_000_000_000,
                    erased_at_ms: None,
                })
                .collect(),
            keys: (0..SUBJECTS)
                .map(|s| WrappedKeyRow {
                    subject: SubjectId(subject_id(s)),
                    kek_version: 1,
                    key_version: 1,
                    wrapped: blob(s)[..60].to_vec(),
                })
                .collect(),
            identifiers: (0..SUBJECTS)
                .map(|s| IdentifierRow {
                    blind: {
                        let b = blob(s ^ 0xb11d);
                        let mut a = [0u8; 32];
                        a.copy_from_slice(&b[..32]);
                        a
                    },
                    subject: SubjectId(subject_id(s)),
                    kind: "username".into(),
                    sealed: blob(s)[..40].to_vec(),
                })
                .collect(),
            ..Default::default()
        })
        .map_err(e)?;

    let (mut store_secs, mut insert_secs, mut copy_secs) = (0.0, 0.0, 0.0);
    let mut done = 0u64;
    let mut k = 0u64;
    while done < total {
        let n = batch.min(total - done);
        let ids: Vec<i64> = (done..done + n)
            .map(|i| (1_700_000_000_000i64 << 21) + i as i64)
            .collect();
        let subjects: Vec<i64> = (done..done + n)
            .map(|i| subject_id(mix(i) % SUBJECTS))
            .collect();
        let blobs: Vec<Vec<u8>> = (done..done + n).map(blob).collect();
        let records: Vec<RecordRow> = (0..n as usize)
            .map(|j| RecordRow {
                id: RecordId(ids[j]),
                subject: SubjectId(subjects[j]),
                category: "usage".into(),
                kind: "usage.authentication".into(),
                product: "cloud_platform".into(),
                region: "jp".into(),
                key_version: 1,
                stored_at_ms: 1_700_000_000_000,
                sealed: blobs[j].clone(),
            })
            .collect();
        let changes = ChangeSet {
            records,
            audit: vec![draft(k, n)?],
            ..Default::default()
        };
        let blob_refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();

        let t = Instant::now();
        store.commit(changes).map_err(e)?;
        store_secs += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut tx = plain.transaction().map_err(p)?;
        tx.execute(
            "INSERT INTO plain_insert(id, subject, blob) SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::bytea[])",
            &[&ids, &subjects, &blob_refs],
        )
        .map_err(p)?;
        tx.commit().map_err(p)?;
        insert_secs += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut tx = plain.transaction().map_err(p)?;
        {
            let sink = tx
                .copy_in("COPY plain_copy(id, subject, blob) FROM STDIN (FORMAT binary)")
                .map_err(p)?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT8, Type::BYTEA]);
            for j in 0..n as usize {
                w.write(&[&ids[j], &subjects[j], &blob_refs[j]])
                    .map_err(p)?;
            }
            w.finish().map_err(p)?;
        }
        tx.commit().map_err(p)?;
        copy_secs += t.elapsed().as_secs_f64();

        done += n;
        k += 1;
    }
    let stored: i64 = store
        .with_client(|c| {
            c.query_one("SELECT count(*) FROM records", &[])
                .map(|r| r.get(0))
        })
        .map_err(e)?
        .map_err(p)?;
    if stored as u64 != total {
        return Err(format!(
            "the store holds {stored} records, expected {total}"
        ));
    }
    let (sr, ir, cr) = (
        rate(total, store_secs),
        rate(total, insert_secs),
        rate(total, copy_secs),
    );
    println!(
        "PostgreSQL ingest: {total} records of {BLOB} B in batches of {batch} ({k} commits, one audit entry each; audit size {})",
        store.audit_size().map_err(e)?
    );
    println!("  PostgresStore::commit     {sr:>10.0} records/s  ({store_secs:.3} s)");
    println!("  plain INSERT ... UNNEST   {ir:>10.0} rows/s     ({insert_secs:.3} s)");
    println!("  plain COPY (binary)       {cr:>10.0} rows/s     ({copy_secs:.3} s)");
    println!(
        "  ratio store / plain INSERT {:.2}, store / plain COPY {:.2} (target >= 0.5)",
        sr / ir,
        sr / cr
    );
    Ok(())
}
