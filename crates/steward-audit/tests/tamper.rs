//! Tamper evidence: a 10,000-entry log with a signed checkpoint every 1,000
//! entries (the last one at the end), then 1,200 seeded random tamperings.
//! Each must fail verification and name the first bad index, which the test
//! computes from the tampering itself using the documented conventions
//! (entry problems at the entry, checkpoint signature problems at size-1, a
//! checkpoint root that no longer matches at the first entry no earlier
//! checkpoint proves, truncation at the first missing index).

mod common;

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use steward_audit::*;

const N: u64 = 10_000;
const EVERY: u64 = 1_000;
const TAMPERINGS: usize = 1_200;
const SEED: u64 = 0x5354_4557_4152_4431; // "STEWARD1"

#[derive(Debug, Clone, Copy)]
enum Tamper {
    /// XOR `mask` into byte `pos` of entry `k`'s bytes.
    FlipByte { k: u64, pos: usize, mask: u8 },
    /// Remove entry row `k`.
    Delete { k: u64 },
    /// Exchange the bytes and stored leaf hashes of entries `i < j` (index column kept).
    SwapContents { i: u64, j: u64 },
    /// Exchange whole rows `i < j`, index column included (storage order changed).
    SwapRows { i: u64, j: u64 },
    /// Keep only the first `k` entry rows.
    Truncate { k: u64 },
    /// Replace checkpoint `c`'s signature: random bytes under the right key id,
    /// or a real signature by another key under the same name.
    ReplaceSignature { c: usize, other_key: bool },
    /// Replace checkpoint `c` by a validly signed one with a wrong root.
    ForgeRoot { c: usize },
    /// XOR `mask` into byte `pos` of entry `k`'s stored leaf hash.
    ChangeLeafHash { k: u64, pos: usize, mask: u8 },
    /// Rewrite entry `k`'s content and store its matching leaf hash.
    Rewrite { k: u64 },
    /// Change the head row's root.
    HeadRoot,
}

fn random_tamper(rng: &mut StdRng, log: &Log) -> Tamper {
    let k = rng.random_range(0..N);
    let mask = rng.random_range(1..=255u8);
    let pair = |rng: &mut StdRng| loop {
        let (a, b) = (rng.random_range(0..N), rng.random_range(0..N));
        if a != b {
            return (a.min(b), a.max(b));
        }
    };
    let c = rng.random_range(0..log.checkpoints.len());
    match rng.random_range(0..10) {
        0 => Tamper::FlipByte {
            k,
            pos: rng.random_range(0..log.entries[k as usize].bytes.len()),
            mask,
        },
        1 => Tamper::Delete { k },
        2 => {
            let (i, j) = pair(rng);
            Tamper::SwapContents { i, j }
        }
        3 => {
            let (i, j) = pair(rng);
            Tamper::SwapRows { i, j }
        }
        4 => Tamper::Truncate { k },
        5 => Tamper::ReplaceSignature {
            c,
            other_key: rng.random(),
        },
        6 => Tamper::ForgeRoot { c },
        7 => Tamper::ChangeLeafHash {
            k,
            pos: rng.random_range(0..32),
            mask,
        },
        8 => Tamper::Rewrite { k },
        _ => Tamper::HeadRoot,
    }
}

/// The first bad index, from the tampering alone.
fn expected_index(t: Tamper, log: &Log) -> u64 {
    match t {
        Tamper::FlipByte { k, .. } => k,
        Tamper::Delete { k } => k, // deleting the last entry is a truncation at k
        Tamper::SwapContents { i, .. } | Tamper::SwapRows { i, .. } => i,
        Tamper::Truncate { k } => k,
        Tamper::ReplaceSignature { c, .. } => log.checkpoints[c].size - 1,
        // Issue 13 item 8: a root mismatch is named at the first entry no
        // checkpoint still proves (the previous checkpoint's size).
        Tamper::ForgeRoot { c } => c.checked_sub(1).map_or(0, |p| log.checkpoints[p].size),
        Tamper::ChangeLeafHash { k, .. } => k,
        // Entry k+1's prev no longer matches (reported at k); the last entry
        // has no successor, so only the final checkpoint's root shows it,
        // named at the first entry that checkpoint alone covers.
        Tamper::Rewrite { k } if k == N - 1 => N - EVERY,
        Tamper::Rewrite { k } => k,
        Tamper::HeadRoot => N - 1,
    }
}

/// The kinds the verifier may name for each tampering.
fn expected_kinds(t: Tamper) -> &'static [FailureKind] {
    use FailureKind::*;
    match t {
        Tamper::FlipByte { .. } | Tamper::ChangeLeafHash { .. } => &[LeafHashMismatch],
        Tamper::Delete { k } if k == N - 1 => &[Truncated],
        Tamper::Delete { .. } | Tamper::SwapRows { .. } => &[MissingEntry],
        Tamper::SwapContents { .. } => &[EntryIndexMismatch],
        Tamper::Truncate { .. } => &[Truncated],
        Tamper::ReplaceSignature { .. } => &[CheckpointInvalid],
        Tamper::ForgeRoot { .. } => &[CheckpointRootMismatch],
        Tamper::Rewrite { .. } => &[PrevMismatch, CheckpointRootMismatch],
        Tamper::HeadRoot => &[HeadRootMismatch],
    }
}

struct Tampered<'a> {
    entries: Vec<Cow<'a, StoredEntry>>,
    checkpoints: Vec<StoredCheckpoint>,
    head: Head,
}

fn apply<'a>(t: Tamper, log: &'a Log, rng: &mut StdRng) -> Tampered<'a> {
    let mut entries: Vec<Cow<'a, StoredEntry>> = log.entries.iter().map(Cow::Borrowed).collect();
    let mut checkpoints = log.checkpoints.clone();
    let mut head = log.head;
    match t {
        Tamper::FlipByte { k, pos, mask } => entries[k as usize].to_mut().bytes[pos] ^= mask,
        Tamper::Delete { k } => {
            entries.remove(k as usize);
        }
        Tamper::SwapContents { i, j } => {
            let (a, b) = (
                log.entries[i as usize].clone(),
                log.entries[j as usize].clone(),
            );
            let ei = entries[i as usize].to_mut();
            ei.bytes = b.bytes;
            ei.leaf_hash = b.leaf_hash;
            let ej = entries[j as usize].to_mut();
            ej.bytes = a.bytes;
            ej.leaf_hash = a.leaf_hash;
        }
        Tamper::SwapRows { i, j } => entries.swap(i as usize, j as usize),
        Tamper::Truncate { k } => entries.truncate(k as usize),
        Tamper::ReplaceSignature { c, other_key } => {
            let cp = &mut checkpoints[c];
            let body_end = cp.note.find("\n\n").unwrap() + 2;
            let body = cp.note[..body_end - 1].to_owned();
            cp.note = if other_key {
                let impostor = SigningKey::from_bytes(&rng.random::<[u8; 32]>());
                sign_note(&body, &impostor, ORIGIN).unwrap()
            } else {
                let mut raw = verifier_key().key_id().to_be_bytes().to_vec();
                raw.extend((0..64).map(|_| rng.random::<u8>()));
                format!("{body}\n\u{2014} {ORIGIN} {}\n", B64.encode(raw))
            };
        }
        Tamper::ForgeRoot { c } => {
            let cp = &mut checkpoints[c];
            let forged = Checkpoint {
                origin: ORIGIN.into(),
                size: cp.size,
                root: rng.random(),
            };
            cp.note = forged.sign(&signing_key(), ORIGIN).unwrap();
        }
        Tamper::ChangeLeafHash { k, pos, mask } => {
            entries[k as usize].to_mut().leaf_hash[pos] ^= mask
        }
        Tamper::Rewrite { k } => {
            let mut entry = AuditEntry::decode(&log.entries[k as usize].bytes).unwrap();
            entry.decision = match entry.decision {
                Decision::Deny => Decision::Allow,
                _ => Decision::Deny,
            };
            let bytes = entry.to_canonical_json();
            let e = entries[k as usize].to_mut();
            e.leaf_hash = leaf_hash(&bytes);
            e.bytes = bytes;
        }
        Tamper::HeadRoot => head.root[rng.random_range(0..32)] ^= rng.random_range(1..=255u8),
    }
    Tampered {
        entries,
        checkpoints,
        head,
    }
}

#[test]
fn untouched_log_verifies() {
    let log = build_log(N, EVERY);
    let sizes: Vec<u64> = log.checkpoints.iter().map(|c| c.size).collect();
    assert_eq!(sizes, (1..=10).map(|k| k * EVERY).collect::<Vec<_>>());
    let mean = log.entries.iter().map(|e| e.bytes.len()).sum::<usize>() / log.entries.len();
    // A realistic entry (one record, one subject, two clauses) is about 500 bytes.
    assert!((300..=600).contains(&mean), "mean entry size {mean}");

    let report = verify_log(
        &log.entries,
        &log.checkpoints,
        Some(log.head),
        &verifier_key(),
    )
    .unwrap();
    // Expected values computed independently of the verifier.
    let leaves: Vec<Hash> = log.entries.iter().map(|e| leaf_hash(&e.bytes)).collect();
    assert_eq!(
        report,
        VerifyReport {
            entries: N,
            checkpoints_verified: 10,
            signed_size: N,
            root: root(&leaves),
            size: N,
            witnessed_size: 0,
        }
    );
    // Every entry also decodes strictly.
    for (i, e) in log.entries.iter().enumerate() {
        assert_eq!(AuditEntry::decode(&e.bytes).unwrap().index, i as u64);
    }
}

#[test]
fn every_random_tampering_is_caught_at_its_first_bad_index() {
    let log = build_log(N, EVERY);
    let key = verifier_key();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut seen = std::collections::BTreeMap::<&'static str, usize>::new();
    for round in 0..TAMPERINGS {
        let t = random_tamper(&mut rng, &log);
        let tampered = apply(t, &log, &mut rng);
        let want = expected_index(t, &log);
        let got = verify_log(
            tampered.entries,
            &tampered.checkpoints,
            Some(tampered.head),
            &key,
        );
        let failure = match got {
            Ok(r) => panic!("round {round}: {t:?} was not detected: {r:?}"),
            Err(f) => f,
        };
        assert_eq!(
            failure.first_bad_index, want,
            "round {round}: {t:?} reported as {failure}"
        );
        assert!(
            expected_kinds(t).contains(&failure.kind),
            "round {round}: {t:?} reported as {:?}: {failure}",
            failure.kind
        );
        // Leaf-hash mismatches say which side was altered when a next entry exists.
        match t {
            Tamper::FlipByte { k, .. } if k + 1 < N => {
                assert!(failure.what.contains("bytes were altered"), "{failure}")
            }
            Tamper::ChangeLeafHash { k, .. } if k + 1 < N => {
                assert!(failure.what.contains("stored leaf hash"), "{failure}")
            }
            _ => {}
        }
        *seen.entry(variant_name(t)).or_default() += 1;
    }
    // Every kind of tampering was exercised many times.
    assert_eq!(seen.len(), 10, "{seen:?}");
    assert!(seen.values().all(|&n| n >= 60), "{seen:?}");
}

fn variant_name(t: Tamper) -> &'static str {
    match t {
        Tamper::FlipByte { .. } => "flip",
        Tamper::Delete { .. } => "delete",
        Tamper::SwapContents { .. } => "swap contents",
        Tamper::SwapRows { .. } => "swap rows",
        Tamper::Truncate { .. } => "truncate",
        Tamper::ReplaceSignature { .. } => "replace signature",
        Tamper::ForgeRoot { .. } => "forge root",
        Tamper::ChangeLeafHash { .. } => "leaf hash",
        Tamper::Rewrite { .. } => "rewrite",
        Tamper::HeadRoot => "head root",
    }
}

/// Hand-picked cases at the edges, with exact kinds.
#[test]
fn edge_tamperings() {
    let log = build_log(25, 10); // checkpoints at 10, 20, 25
    let key = verifier_key();
    let verify = |entries: &[StoredEntry], cps: &[StoredCheckpoint], head: Option<Head>| {
        verify_log(entries, cps, head, &key)
    };
    assert_eq!(
        log.checkpoints.iter().map(|c| c.size).collect::<Vec<_>>(),
        vec![10, 20, 25]
    );

    // Empty log, no checkpoints: verifies with the empty root.
    let empty = verify(
        &[],
        &[],
        Some(Head {
            size: 0,
            root: EMPTY_ROOT,
        }),
    )
    .unwrap();
    assert_eq!((empty.entries, empty.root), (0, EMPTY_ROOT));

    // All entries gone but checkpoints remain: truncated at 0.
    let f = verify(&[], &log.checkpoints, None).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (0, FailureKind::Truncated));

    // Entry 0 deleted.
    let f = verify(&log.entries[1..], &log.checkpoints, Some(log.head)).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (0, FailureKind::MissingEntry));

    // A duplicated row.
    let mut dup = log.entries.clone();
    dup.insert(5, log.entries[4].clone());
    let f = verify(&dup, &log.checkpoints, Some(log.head)).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (5, FailureKind::UnexpectedRow));

    // An entry appended outside an append (head not updated).
    let mut appender = Appender::resume(
        RootBuilder::from_leaf_hashes(log.entries.iter().map(|e| e.leaf_hash)).unwrap(),
        Some(log.entries[24].leaf_hash),
    )
    .unwrap();
    let mut longer = log.entries.clone();
    longer.push(appender.append(draft(25)).unwrap().into_stored());
    let f = verify(&longer, &log.checkpoints, Some(log.head)).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (25, FailureKind::BeyondHead));
    // ...and with the head updated it verifies; 25 entries are signed.
    let head = Head {
        size: 26,
        root: appender.root(),
    };
    let r = verify(&longer, &log.checkpoints, Some(head)).unwrap();
    assert_eq!(
        (r.entries, r.signed_size, r.checkpoints_verified),
        (26, 25, 3)
    );

    // A checkpoint row whose size column disagrees with its note.
    let mut cps = log.checkpoints.clone();
    cps[1].size = 21;
    let f = verify(&log.entries, &cps, Some(log.head)).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (20, FailureKind::CheckpointInvalid)
    );

    // A forged checkpoint beyond the end, not validly signed: at its size-1.
    let mut cps = log.checkpoints.clone();
    cps.push(StoredCheckpoint {
        size: 40,
        note: cps[2].note.replacen("\n25\n", "\n40\n", 1),
    });
    let f = verify(&log.entries, &cps, Some(log.head)).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (39, FailureKind::CheckpointInvalid)
    );

    // Garbage bytes with a matching stored hash: undecodable at that entry.
    let mut garbage = log.entries.clone();
    garbage[7].bytes = b"not json".to_vec();
    garbage[7].leaf_hash = leaf_hash(b"not json");
    let f = verify(&garbage, &log.checkpoints, Some(log.head)).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (7, FailureKind::EntryUndecodable)
    );
    assert!(f.what.contains("line 1 column"), "{f}");

    // Two problems: the earlier index wins (bad checkpoint at 10 vs entry 15).
    let mut cps = log.checkpoints.clone();
    cps[0].note = cps[0].note.replace("\u{2014} ", "\u{2014} x");
    let mut entries = log.entries.clone();
    entries[15].bytes[3] ^= 1;
    let f = verify(&entries, &cps, Some(log.head)).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (9, FailureKind::CheckpointInvalid)
    );

    // The push-style verifier keeps returning its first failure.
    let mut v = LogVerifier::new(&log.checkpoints, Some(log.head), &key);
    v.push(&log.entries[0]).unwrap();
    let first = v.push(&log.entries[2]).unwrap_err();
    assert_eq!(first.first_bad_index, 1);
    assert_eq!(v.push(&log.entries[1]).unwrap_err(), first);
    assert_eq!(v.finish().unwrap_err(), first);
}
