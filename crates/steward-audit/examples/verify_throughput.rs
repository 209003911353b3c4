//! Verification throughput, side by side, in one run.
//!
//! `cargo run --release -p steward-audit --example verify_throughput [entries]`
//!
//! Builds an in-memory log (default 1,000,000 entries, a signed checkpoint
//! every 10,000), twice: with realistic entries (one record, one subject, two
//! clause ids: about 520 bytes) and with minimal ones (about 330 bytes, near
//! the smallest an entry can be). For each it times, over the same entries:
//! SHA-256 leaf hashing alone (the floor), a full `AuditEntry::decode` of every
//! entry (what the verifier avoids), and `verify_log`; it prints entries/s and
//! the ratio to hashing alone.

use std::time::Instant;

use ed25519_dalek::SigningKey;
use steward_audit::*;

const ORIGIN: &str = "steward.bench/audit";

fn tok(s: &str) -> Token {
    match Token::new(s) {
        Ok(t) => t,
        Err(e) => panic!("bad token {s}: {e}"),
    }
}

fn realistic(i: u64) -> EntryDraft {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    EntryDraft {
        action: tok("record.read"),
        clause_ids: vec![tok("N3.5"), tok("N6.5e")],
        decision: if i.is_multiple_of(7) {
            Decision::Deny
        } else {
            Decision::Allow
        },
        policy_ids: vec![tok("support-assist")],
        policy_version: tok("2024-01-18.1"),
        principal: tok(&format!("emp_{:016x}", x % 4096)),
        purpose: Some(tok("assist")),
        reason: None,
        region: tok("eu"),
        request_id: tok(&format!("req-{x:016x}")),
        resource: Resource::new(ResourceKind::Record)
            .record(RecordRef::new(x >> 1))
            .subject(SubjectRef::new(x.rotate_left(17) >> 1)),
        time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i as i128 * 1_000_000)
            .unwrap_or_else(|e| panic!("{e}")),
    }
}

fn minimal(i: u64) -> EntryDraft {
    EntryDraft {
        action: tok("record.read"),
        clause_ids: vec![],
        decision: Decision::Allow,
        policy_ids: vec![],
        policy_version: tok("1"),
        principal: tok("svc:ingest"),
        purpose: None,
        reason: None,
        region: tok("eu"),
        request_id: tok(&format!("r{i}")),
        resource: Resource::new(ResourceKind::Record).record(RecordRef::new(i)),
        time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i as i128 * 1_000_000_000)
            .unwrap_or_else(|e| panic!("{e}")),
    }
}

struct Log {
    entries: Vec<StoredEntry>,
    checkpoints: Vec<StoredCheckpoint>,
    head: Head,
}

fn build(n: u64, make: fn(u64) -> EntryDraft, key: &SigningKey) -> Log {
    let mut a = Appender::new();
    let mut entries = Vec::with_capacity(n as usize);
    let mut checkpoints = Vec::new();
    let mut since = 0;
    for i in 0..n {
        let p = a.append(make(i)).unwrap_or_else(|e| panic!("{e}"));
        entries.push(p.into_stored());
        since += 1;
        if should_checkpoint(since, 0, 10_000, 0) || i + 1 == n {
            since = 0;
            let note = a
                .checkpoint(ORIGIN)
                .sign(key, ORIGIN)
                .unwrap_or_else(|e| panic!("{e}"));
            checkpoints.push(StoredCheckpoint { size: i + 1, note });
        }
    }
    Log {
        entries,
        checkpoints,
        head: Head {
            size: n,
            root: a.root(),
        },
    }
}

fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs
}

fn run(name: &str, log: &Log, vkey: &VerifierKey) {
    let n = log.entries.len() as u64;
    let mean = log.entries.iter().map(|e| e.bytes.len()).sum::<usize>() as f64 / n as f64;

    let t = Instant::now();
    let mut acc = 0u8;
    for e in &log.entries {
        acc ^= leaf_hash(&e.bytes)[0];
    }
    let hash_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut decoded = 0u64;
    for e in &log.entries {
        decoded += u64::from(AuditEntry::decode(&e.bytes).is_ok());
    }
    let decode_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let report = verify_log(&log.entries, &log.checkpoints, Some(log.head), vkey);
    let verify_s = t.elapsed().as_secs_f64();
    let report = report.unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.entries, n);
    assert_eq!(decoded, n);

    println!(
        "{name}: {n} entries, mean {mean:.0} bytes, {} checkpoints (xor {acc})",
        log.checkpoints.len()
    );
    println!(
        "  leaf hashing only   {:>12.0} entries/s  {:>7.3} s  1.00x",
        rate(n, hash_s),
        hash_s
    );
    println!(
        "  full decode only    {:>12.0} entries/s  {:>7.3} s  {:.2}x",
        rate(n, decode_s),
        decode_s,
        hash_s / decode_s
    );
    println!(
        "  verify_log          {:>12.0} entries/s  {:>7.3} s  {:.2}x",
        rate(n, verify_s),
        verify_s,
        hash_s / verify_s
    );
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let key = SigningKey::from_bytes(&[42; 32]);
    let vkey = VerifierKey::new(ORIGIN, &key.verifying_key()).unwrap_or_else(|e| panic!("{e}"));
    for (name, make) in [
        ("realistic", realistic as fn(u64) -> EntryDraft),
        ("minimal", minimal),
    ] {
        let t = Instant::now();
        let log = build(n, make, &key);
        let build_s = t.elapsed().as_secs_f64();
        println!(
            "{name}: built with Appender at {:.0} entries/s",
            rate(n, build_s)
        );
        run(name, &log, &vkey);
    }
}
