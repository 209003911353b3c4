//! Shared fixtures: realistic entries (about 500 bytes of canonical JSON) and
//! an in-memory log with signed checkpoints.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use steward_audit::*;

pub const ORIGIN: &str = "steward.test/audit/eu";

pub fn tok(s: &str) -> Token {
    Token::new(s).unwrap()
}

/// A deterministic draft for entry `i`, varied like real gate decisions.
pub fn draft(i: u64) -> EntryDraft {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let (action, decision, reason) = match i % 5 {
        0 => ("record.read", Decision::Allow, None),
        1 => (
            "record.read",
            Decision::Deny,
            Some(tok("purpose_not_allowed")),
        ),
        2 => ("ingest.batch", Decision::Done, None),
        3 => ("subject.export", Decision::Allow, None),
        _ => ("record.lookup", Decision::Allow, None),
    };
    let mut resource = Resource::new(ResourceKind::Record)
        .record(RecordRef::new(x >> 1))
        .subject(SubjectRef::new(x.rotate_left(17) >> 1));
    if i % 5 == 4 {
        resource = resource.blind_index(BlindIndexRef::new(x.to_be_bytes().repeat(2)).unwrap());
    }
    if i % 5 == 2 {
        resource = resource.count(i % 997);
    }
    EntryDraft {
        action: tok(action),
        clause_ids: vec![tok("N3.5"), tok("N6.5e")],
        decision,
        policy_ids: vec![tok("support-assist")],
        policy_version: tok("2024-01-18.1"),
        principal: tok(&format!("emp_{:016x}", x % 4096)),
        purpose: Some(tok("assist")),
        reason,
        region: tok("eu"),
        request_id: tok(&format!("req-{x:016x}")),
        resource,
        time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i as i128 * 1_000_000)
            .unwrap(),
    }
}

pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[0x5a; 32])
}

pub fn verifier_key() -> VerifierKey {
    VerifierKey::new(ORIGIN, &signing_key().verifying_key()).unwrap()
}

/// A stored log: entry rows, checkpoint rows and the head row.
#[derive(Clone)]
pub struct Log {
    pub entries: Vec<StoredEntry>,
    pub checkpoints: Vec<StoredCheckpoint>,
    pub head: Head,
}

/// `n` entries, a checkpoint every `every` entries (via should_checkpoint) and
/// one at the end if the last entries are not yet covered.
pub fn build_log(n: u64, every: u64) -> Log {
    let key = signing_key();
    let mut appender = Appender::new();
    let mut entries = Vec::with_capacity(n as usize);
    let mut checkpoints = Vec::new();
    let mut since = 0;
    for i in 0..n {
        let p = appender.append(draft(i)).unwrap();
        entries.push(p.into_stored());
        since += 1;
        if should_checkpoint(since, 0, every, 0) {
            let note = appender.checkpoint(ORIGIN).sign(&key, ORIGIN).unwrap();
            checkpoints.push(StoredCheckpoint { size: i + 1, note });
            since = 0;
        }
    }
    if since > 0 {
        let note = appender.checkpoint(ORIGIN).sign(&key, ORIGIN).unwrap();
        checkpoints.push(StoredCheckpoint { size: n, note });
    }
    Log {
        entries,
        checkpoints,
        head: Head {
            size: n,
            root: appender.root(),
        },
    }
}
