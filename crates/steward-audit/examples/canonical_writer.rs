//! The canonical JSON writer beside the serde serialisation it replaced and
//! SHA-256 of the same bytes, in one run (issue 21 item 2).
//!
//! `cargo run --release -p steward-audit --example canonical_writer [entries]`
//!
//! Builds `entries` realistic entries (default 200,000: one record, one
//! subject, a blind index, two clause ids, about 560 bytes), then times over
//! the same entries, 5 rounds each, alternating: `to_canonical_json` (the
//! hand-made writer), `serde_json::to_vec` (the derived `Serialize`, the
//! former writer) and `leaf_hash` of the bytes. Prints entries/s per side
//! (median of the rounds) and the ratios. Exits 1 if the two writers ever
//! disagree.

use std::hint::black_box;
use std::time::Instant;

use steward_audit::*;

fn tok(s: &str) -> Token {
    match Token::new(s) {
        Ok(t) => t,
        Err(e) => panic!("bad token {s}: {e}"),
    }
}

fn entry(i: u64) -> AuditEntry {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let blind = BlindIndexRef::new(x.to_be_bytes().repeat(4)).unwrap_or_else(|e| panic!("{e}"));
    AuditEntry {
        action: tok("record.read"),
        clause_ids: vec![tok("N3.5"), tok("N3.8")],
        decision: Decision::Allow,
        index: i,
        policy_ids: vec![tok("staff-support-read-with-open-case")],
        policy_version: tok("2024-01-18.7"),
        prev: (i > 0).then_some([0xab; 32]),
        principal: tok(&format!("emp_{:016x}", x % 4096)),
        purpose: Some(tok("assist")),
        reason: Some(tok("case:0000000000000042")),
        region: tok("eu"),
        request_id: tok(&format!("req-{x:016x}")),
        resource: Resource::new(ResourceKind::Record)
            .record(RecordRef::new(x >> 1))
            .subject(SubjectRef::new(x.rotate_left(17) >> 1))
            .blind_index(blind),
        time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i as i128 * 1_000_000)
            .unwrap_or_else(|e| panic!("{e}")),
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let entries: Vec<AuditEntry> = (0..n as u64).map(entry).collect();
    for e in &entries {
        let serde = serde_json::to_vec(e).unwrap_or_default();
        if e.to_canonical_json() != serde {
            eprintln!("the writers disagree on entry {}", e.index);
            std::process::exit(1);
        }
    }
    let bytes: Vec<Vec<u8>> = entries.iter().map(AuditEntry::to_canonical_json).collect();
    let avg = bytes.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let (mut writer, mut serde, mut sha) = (vec![], vec![], vec![]);
    for _ in 0..5 {
        let t = Instant::now();
        for e in &entries {
            black_box(e.to_canonical_json());
        }
        writer.push(rate(n, t.elapsed().as_secs_f64()));
        let t = Instant::now();
        for e in &entries {
            black_box(serde_json::to_vec(e).unwrap_or_default());
        }
        serde.push(rate(n, t.elapsed().as_secs_f64()));
        let t = Instant::now();
        for b in &bytes {
            black_box(leaf_hash(b));
        }
        sha.push(rate(n, t.elapsed().as_secs_f64()));
    }
    let (w, s, h) = (median(writer), median(serde), median(sha));
    println!("{n} entries, {avg:.0} bytes on average; median of 5 rounds");
    println!(
        "writer (to_canonical_json)   {w:>12.0} entries/s  {:.3} µs/entry",
        1e6 / w
    );
    println!(
        "serde_json::to_vec (former)  {s:>12.0} entries/s  {:.3} µs/entry",
        1e6 / s
    );
    println!(
        "SHA-256 leaf hash            {h:>12.0} hashes/s   {:.3} µs/entry",
        1e6 / h
    );
    println!(
        "writer vs serde: {:.2}x throughput; writer vs SHA-256: {:.2}x",
        w / s,
        w / h
    );
}
