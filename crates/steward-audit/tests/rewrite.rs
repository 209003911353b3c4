//! Issue 13, items 4 and 8: an insider's rewrite of the log. Item 8: an
//! entry changed and every later entry re-chained is named at the first
//! entry no checkpoint still proves, not at the end of the failing range.
//! Item 4: a rewrite re-signed with the log's own key passes the log's own
//! signatures but fails against a head a witness cosigned; and the witness
//! itself (c2sp.org/tlog-witness) refuses an inconsistent checkpoint.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use steward_audit::*;

/// Re-chains `entries` from `from` on: each entry's `prev` becomes the leaf
/// hash of the entry before it, and its stored leaf hash its own hash, as an
/// insider with write access would do after changing or deleting an entry.
fn rechain(entries: &mut [StoredEntry], from: usize) {
    for i in from..entries.len() {
        let mut e = AuditEntry::decode(&entries[i].bytes).unwrap();
        e.index = i as u64;
        e.prev = if i == 0 {
            None
        } else {
            Some(entries[i - 1].leaf_hash)
        };
        let bytes = e.to_canonical_json();
        entries[i].index = i as u64;
        entries[i].leaf_hash = leaf_hash(&bytes);
        entries[i].bytes = bytes;
    }
}

/// Checkpoints and head for `entries`, signed by `key` at `sizes` (the
/// insider's re-signing).
fn resign(
    entries: &[StoredEntry],
    sizes: &[u64],
    key: &SigningKey,
) -> (Vec<StoredCheckpoint>, Head) {
    let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    let cps = sizes
        .iter()
        .map(|&s| StoredCheckpoint {
            size: s,
            note: Checkpoint {
                origin: ORIGIN.into(),
                size: s,
                root: root(&leaves[..s as usize]),
            }
            .sign(key, ORIGIN)
            .unwrap(),
        })
        .collect();
    let head = Head {
        size: entries.len() as u64,
        root: root(&leaves),
    };
    (cps, head)
}

fn flip_decision(e: &mut StoredEntry) {
    let mut entry = AuditEntry::decode(&e.bytes).unwrap();
    entry.decision = match entry.decision {
        Decision::Deny => Decision::Allow,
        _ => Decision::Deny,
    };
    e.bytes = entry.to_canonical_json();
    e.leaf_hash = leaf_hash(&e.bytes);
}

/// Item 8: entry 20 (the first after the checkpoint of size 20) changed and
/// entries 21.. re-chained: reported at 20, the changed entry, with the
/// checkpoint root mismatch. Before the fix it was reported at 29, the end
/// of the failing checkpoint's range.
#[test]
fn changed_and_rechained_entry_is_named_not_the_range_end_issue13_item8() {
    let log = build_log(40, 10); // checkpoints at 10, 20, 30, 40
    let mut entries = log.entries.clone();
    flip_decision(&mut entries[20]);
    rechain(&mut entries, 21);
    let f = verify_log(&entries, &log.checkpoints, Some(log.head), &verifier_key()).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (20, FailureKind::CheckpointRootMismatch),
        "{f}"
    );
    assert!(f.what.contains("checkpoint of size 30"), "{f}");

    // Changed inside a range (entry 24): the first entry no checkpoint still
    // proves is 20, and the message bounds the change to entries 20 to 29.
    let mut entries = log.entries.clone();
    flip_decision(&mut entries[24]);
    rechain(&mut entries, 25);
    let f = verify_log(&entries, &log.checkpoints, Some(log.head), &verifier_key()).unwrap_err();
    assert_eq!(
        (f.first_bad_index, f.kind),
        (20, FailureKind::CheckpointRootMismatch)
    );
    assert!(f.what.contains("among 20 to 29"), "{f}");

    // Entry 29 rewritten with its stored hash but not re-chained: entry 30's
    // prev shows it, so the exact entry is named (the chain refines the range).
    let mut entries = log.entries.clone();
    flip_decision(&mut entries[29]);
    let f = verify_log(&entries, &log.checkpoints, Some(log.head), &verifier_key()).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (29, FailureKind::PrevMismatch));
}

/// Item 8: the tail cut (entries 25..40 deleted) and the head row set to the
/// new end: reported as truncation at 25, naming the last index the signed
/// checkpoint proves (39).
#[test]
fn cut_tail_with_adjusted_head_is_truncation_issue13_item8() {
    let log = build_log(40, 10);
    let entries = &log.entries[..25];
    let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    let head = Head {
        size: 25,
        root: root(&leaves),
    };
    let f = verify_log(entries, &log.checkpoints, Some(head), &verifier_key()).unwrap_err();
    assert_eq!((f.first_bad_index, f.kind), (25, FailureKind::Truncated));
    assert!(f.what.contains("up to index 39"), "{f}");
}

/// Item 4: entry 13 deleted, the rest re-chained and re-signed with the log's
/// own key: the log's own signatures verify, but the head a witness cosigned
/// at size 20 does not match, so verification fails and says why.
#[test]
fn resigned_rewrite_fails_against_the_witnessed_head_issue13_item4() {
    let log = build_log(40, 10);
    let leaves: Vec<Hash> = log.entries.iter().map(|e| e.leaf_hash).collect();
    let witnessed = vec![
        Witnessed {
            size: 10,
            root: root(&leaves[..10]),
            by: "w1".into(),
        },
        Witnessed {
            size: 20,
            root: root(&leaves[..20]),
            by: "w1".into(),
        },
    ];
    // Honest log: passes, witnessed up to 20.
    let mut v = LogVerifier::new(&log.checkpoints, Some(log.head), &verifier_key())
        .with_witnessed(witnessed.clone());
    for e in &log.entries {
        v.push(e).unwrap();
    }
    assert_eq!(v.finish().unwrap().witnessed_size, 20);

    let mut entries = log.entries.clone();
    entries.remove(13);
    rechain(&mut entries, 13);
    let (cps, head) = resign(&entries, &[10, 20, 30, 39], &signing_key());
    // Without a witness, the rewrite passes.
    let report = verify_log(&entries, &cps, Some(head), &verifier_key()).unwrap();
    assert_eq!(report.entries, 39);
    // With the witnessed heads, it fails at 10: entries 0..9 match the
    // witness's size-10 head, the size-20 head does not.
    let mut v = LogVerifier::new(&cps, Some(head), &verifier_key()).with_witnessed(witnessed);
    let f = entries
        .iter()
        .find_map(|e| v.push(e).err())
        .unwrap_or_else(|| v.finish().unwrap_err());
    assert_eq!(
        (f.first_bad_index, f.kind),
        (10, FailureKind::WitnessMismatch)
    );
    assert!(
        f.what.contains("witness w1") && f.what.contains("rewritten"),
        "{f}"
    );
}

fn witness(logs: &[(&str, VerifierKey)]) -> Witness {
    Witness {
        name: "witness.test/w1".into(),
        signer: Box::new(SigningKey::from_bytes(&[0x77; 32])),
        logs: logs
            .iter()
            .map(|(o, k)| ((*o).to_owned(), k.clone()))
            .collect(),
    }
}

fn note_at(entries: &[StoredEntry], size: u64, key: &SigningKey) -> String {
    let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash).collect();
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root(&leaves[..size as usize]),
    }
    .sign(key, ORIGIN)
    .unwrap()
}

/// Item 4 (c2sp.org/tlog-witness): the witness cosigns a consistent
/// checkpoint, answers 409 with its size to a wrong old size, 404 for an
/// unknown origin, 403 for a signature it cannot verify, and 422 for a
/// checkpoint of a rewritten log, even one signed with the log's real key.
#[test]
fn witness_cosigns_only_consistent_checkpoints_issue13_item4() {
    let log = build_log(40, 10);
    let leaves: Vec<Hash> = log.entries.iter().map(|e| e.leaf_hash).collect();
    let w = witness(&[(ORIGIN, verifier_key())]);
    let wkey = w.key().unwrap();
    let wkey2 = CosignerKey::parse(&wkey.to_string()).unwrap();
    assert_eq!(wkey2, wkey);
    let mut state = WitnessState::default();
    let body =
        |old: u64, proof: Vec<Hash>, note: String| AddCheckpoint { old, proof, note }.to_body();

    let n20 = note_at(&log.entries, 20, &signing_key());
    let line = w
        .add_checkpoint(&mut state, &body(0, vec![], n20.clone()), 1_700_000_000)
        .unwrap();
    let c = verify_cosigned(&format!("{n20}{line}"), &verifier_key(), &wkey).unwrap();
    assert_eq!((c.checkpoint.size, c.timestamp), (20, 1_700_000_000));
    assert_eq!(state.logs[ORIGIN].size, 20);

    // The signature covers the timestamp (cosignature/v1): a changed time fails.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (name, sig) = line.trim_end().rsplit_once(' ').unwrap();
    let mut raw = b64.decode(sig).unwrap();
    assert_eq!(raw.len(), 4 + 8 + 64);
    assert_eq!(
        u64::from_be_bytes(raw[4..12].try_into().unwrap()),
        1_700_000_000
    );
    raw[11] ^= 1;
    let forged = format!("{name} {}\n", b64.encode(raw));
    assert!(matches!(
        verify_cosigned(&format!("{n20}{forged}"), &verifier_key(), &wkey),
        Err(CheckpointError::InvalidSignature { .. })
    ));

    let n40 = note_at(&log.entries, 40, &signing_key());
    let e = w
        .add_checkpoint(&mut state, &body(0, vec![], n40.clone()), 1)
        .unwrap_err();
    assert_eq!((e.status(), e.clone()), (409, WitnessError::Conflict(20)));
    let proof = consistency_proof(&leaves, 20, 40).unwrap();
    w.add_checkpoint(&mut state, &body(20, proof, n40), 2)
        .unwrap();
    assert_eq!(state.logs[ORIGIN].size, 40);

    let other = witness(&[("other.origin", verifier_key())]);
    let e = other
        .add_checkpoint(
            &mut WitnessState::default(),
            &body(0, vec![], n20.clone()),
            3,
        )
        .unwrap_err();
    assert_eq!(e.status(), 404);
    let impostor = note_at(&log.entries, 20, &SigningKey::from_bytes(&[1; 32]));
    let e = w
        .add_checkpoint(&mut WitnessState::default(), &body(0, vec![], impostor), 4)
        .unwrap_err();
    assert_eq!(e.status(), 403);

    // The insider's rewrite (entry 13 deleted, re-chained, re-signed with the
    // real key): no consistency proof from 40 leads to it.
    let mut rewritten = log.entries.clone();
    rewritten.remove(13);
    rechain(&mut rewritten, 13);
    rewritten.push(log.entries[39].clone());
    rechain(&mut rewritten, 39);
    rewritten.push(log.entries[39].clone());
    rechain(&mut rewritten, 40);
    let rl: Vec<Hash> = rewritten.iter().map(|e| e.leaf_hash).collect();
    let n41 = note_at(&rewritten, 41, &signing_key());
    let proof = consistency_proof(&rl, 40, 41).unwrap();
    let e = w
        .add_checkpoint(&mut state, &body(40, proof, n41), 5)
        .unwrap_err();
    assert_eq!(e.status(), 422, "{e}");
    assert_eq!(
        state.logs[ORIGIN].size, 40,
        "a refusal leaves the state as it was"
    );
    // Same size, other root: 422 too.
    let n40b = note_at(&rewritten, 40, &signing_key());
    let e = w
        .add_checkpoint(&mut state, &body(40, vec![], n40b), 6)
        .unwrap_err();
    assert_eq!(e.status(), 422);
}

/// The request body round-trips and bad bodies are 400.
#[test]
fn add_checkpoint_body_rules_issue13_item4() {
    let req = AddCheckpoint {
        old: 7,
        proof: vec![[1; 32], [2; 32]],
        note: "o\n9\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n\u{2014} k AAAA\n".into(),
    };
    let body = req.to_body();
    assert!(body.starts_with("old 7\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nAgIC"));
    assert_eq!(AddCheckpoint::parse(&body).unwrap(), req);
    assert!(AddCheckpoint::parse("old 07\n\nx").is_err());
    assert!(AddCheckpoint::parse("old 1\nnot-base64\n\nx").is_err());
    assert!(AddCheckpoint::parse("new 1\n\nx").is_err());
}
