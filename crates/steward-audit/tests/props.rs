//! Property tests: Merkle proofs against a direct transcription of the
//! RFC 6962 §2.1 definitions, and no panic on any input to the decoders.

mod common;

use common::*;
use proptest::collection::vec;
use proptest::prelude::*;
use steward_audit::*;

/// `MTH(D[n])` transcribed from RFC 6962 §2.1, independent of the crate's
/// compact-range implementation.
fn naive_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&d[..k]), &naive_mth(&d[k..]))
        }
    }
}

fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

fn flip(proof: &[Hash], at: usize, mask: u8) -> Vec<Hash> {
    let mut p = proof.to_vec();
    let n = p.len() * 32;
    let at = at % n;
    p[at / 32][at % 32] ^= mask;
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn root_builder_matches_the_rfc_definition_at_every_size(n in 0u64..130) {
        let l = leaves(n);
        let mut b = RootBuilder::new();
        prop_assert_eq!(b.root(), naive_mth(&[]));
        for (i, leaf) in l.iter().enumerate() {
            b.push(*leaf).unwrap();
            prop_assert_eq!(b.root(), naive_mth(&l[..=i]));
        }
        prop_assert_eq!(root(&l), naive_mth(&l));
    }

    #[test]
    fn inclusion_proofs_verify_and_any_flipped_byte_fails(
        size in 1u64..300, index_seed in any::<u64>(), at in any::<usize>(), mask in 1u8..=255,
    ) {
        let l = leaves(size);
        let index = index_seed % size;
        let r = naive_mth(&l);
        let proof = inclusion_proof(&l, index, size).unwrap();
        let leaf = l[index as usize];
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &r), Ok(()));
        if !proof.is_empty() {
            let bad = flip(&proof, at, mask);
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &bad, &r), Err(ProofError::RootMismatch));
        }
        let mut bad_leaf = leaf;
        bad_leaf[at % 32] ^= mask;
        prop_assert!(verify_inclusion(&bad_leaf, index, size, &proof, &r).is_err());
        if index + 1 < size {
            prop_assert!(verify_inclusion(&leaf, index + 1, size, &proof, &r).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_any_flipped_byte_fails(
        new_size in 1u64..300, old_seed in any::<u64>(), at in any::<usize>(), mask in 1u8..=255,
    ) {
        let l = leaves(new_size);
        let old_size = old_seed % (new_size + 1);
        let old_root = naive_mth(&l[..old_size as usize]);
        let new_root = naive_mth(&l);
        let proof = consistency_proof(&l, old_size, new_size).unwrap();
        prop_assert_eq!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof), Ok(()));
        if !proof.is_empty() {
            let bad = flip(&proof, at, mask);
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &bad).is_err());
            let mut other = new_root;
            other[at % 32] ^= mask;
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &other, &proof).is_err());
            let mut other = old_root;
            other[at % 32] ^= mask;
            prop_assert!(verify_consistency(old_size, new_size, &other, &new_root, &proof).is_err());
        }
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2048)) {
        let _ = AuditEntry::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_json_shaped_input(
        s in r#"\{("[a-z_]{1,14}":("[a-zA-Z0-9_:. @-]{0,24}"|[0-9]{1,22}|-?[0-9.e+]{1,8}|null|true|\[\]|\{\}|\["[a-z0-9_]{0,20}"\]),?){0,16}\}"#,
    ) {
        let _ = AuditEntry::decode(s.as_bytes());
    }

    #[test]
    fn mutated_entries_never_panic_and_only_canonical_bytes_decode(
        i in 0u64..1000, edits in vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let prev = if i == 0 { None } else { Some(leaf_hash(&i.to_be_bytes())) };
        let mut bytes = draft(i).into_entry(i, prev).to_canonical_json();
        for (at, b) in edits {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        if let Ok(e) = AuditEntry::decode(&bytes) {
            prop_assert_eq!(e.to_canonical_json(), bytes);
        }
    }

    #[test]
    fn entries_round_trip_through_canonical_json(i in 0u64..100_000, index in 0u64..=MAX_INDEX, prev in any::<[u8; 32]>()) {
        let prev = if index == 0 { None } else { Some(prev) };
        let e = draft(i).into_entry(index, prev);
        prop_assert_eq!(AuditEntry::decode(&e.to_canonical_json()), Ok(e));
    }

    #[test]
    fn note_parsers_never_panic(s in any::<String>()) {
        let key = verifier_key();
        let _ = VerifierKey::parse(&s);
        let _ = open_note(&s, &key);
        let _ = Checkpoint::parse_body(&s);
        let _ = Checkpoint::verify_note(&s, &key);
    }

    #[test]
    fn mutated_checkpoint_notes_never_verify(at in any::<usize>(), mask in 1u8..=255, size in 0u64..1_000_000, root in any::<[u8; 32]>()) {
        let note = Checkpoint { origin: ORIGIN.into(), size, root }.sign(&signing_key(), ORIGIN).unwrap();
        let mut bytes = note.into_bytes();
        let at = at % bytes.len();
        bytes[at] ^= mask;
        if let Ok(s) = String::from_utf8(bytes) {
            prop_assert!(Checkpoint::verify_note(&s, &verifier_key()).is_err());
        }
    }

    #[test]
    fn verify_log_never_panics_on_garbage(
        rows in vec((0u64..8, vec(any::<u8>(), 0..64), any::<[u8; 32]>()), 0..8),
        sizes in vec(0u64..10, 0..3),
        head in proptest::option::of((0u64..10, any::<[u8; 32]>())),
    ) {
        let entries: Vec<StoredEntry> = rows
            .into_iter()
            .map(|(index, bytes, leaf_hash)| StoredEntry { index, bytes, leaf_hash })
            .collect();
        let cps: Vec<StoredCheckpoint> = sizes
            .into_iter()
            .map(|size| StoredCheckpoint { size, note: format!("x\n{size}\n\n\u{2014} y z\n") })
            .collect();
        let head = head.map(|(size, root)| Head { size, root });
        let _ = verify_log(&entries, &cps, head, &verifier_key());
    }
}
