//! Published test vectors, reproduced exactly.
//!
//! * RFC 6962 Merkle tree: the reference leaves, roots of sizes 1..8 and the
//!   inclusion and consistency proofs of transparency-dev/merkle
//!   `proof/verify_test.go`, commit 02194e9afb6c1d95b5381350007963aa70fff472
//!   (<https://github.com/transparency-dev/merkle/blob/02194e9afb6c1d95b5381350007963aa70fff472/proof/verify_test.go>),
//!   the same data as google/certificate-transparency's reference tests. The
//!   corruption probes below port that file's `corruptInclusionProof` and
//!   `corruptConsistencyProof` and its `TestVerifyConsistency` edge cases.
//! * Signed notes: golang/mod `sumdb/note/note_test.go`, commit
//!   02c991387e35f9e4c0a9b7ce137717055f8d716d
//!   (<https://github.com/golang/mod/blob/02c991387e35f9e4c0a9b7ce137717055f8d716d/sumdb/note/note_test.go>):
//!   the PeterNeumann and EnochRoot keys, the signed note, and its
//!   `TestNewVerifier` / `TestOpen` rejections.
//! * Checkpoint: transparency-dev/formats `log/note_test.go`, commit
//!   7d98d39a5b4b716489f3193e2961aacfa6471a94
//!   (<https://github.com/transparency-dev/formats/blob/7d98d39a5b4b716489f3193e2961aacfa6471a94/log/note_test.go>),
//!   `TestSumDBNoteParsing`: a real sum.golang.org tree head with the Go
//!   toolchain's pinned key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use steward_audit::*;

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn leaves_data() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| hex::decode(s).unwrap())
    .collect()
}

fn leaf_hashes() -> Vec<Hash> {
    leaves_data().iter().map(|d| leaf_hash(d)).collect()
}

/// `roots` of verify_test.go: MTH of the first 1..8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn root_of(size: u64) -> Hash {
    h(ROOTS[size as usize - 1])
}

/// `inclusionProofs` of verify_test.go as (leaf index, tree size, proof). The
/// Go table numbers leaves from 1; these are 0-based.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// `consistencyProofs` of verify_test.go as (size1, size2, proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";
const EMPTY_TREE_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn rfc6962_empty_tree_and_roots_of_sizes_1_to_8() {
    assert_eq!(EMPTY_ROOT, h(EMPTY_TREE_HASH));
    let leaves = leaf_hashes();
    let mut builder = RootBuilder::new();
    for size in 1..=8u64 {
        assert_eq!(
            root(&leaves[..size as usize]),
            root_of(size),
            "root({size})"
        );
        builder.push(leaves[size as usize - 1]).unwrap();
        assert_eq!(builder.root(), root_of(size), "RootBuilder at {size}");
    }
}

#[test]
fn rfc6962_inclusion_proofs_are_generated_and_verified_exactly() {
    let leaves = leaf_hashes();
    for (index, size, proof) in inclusion_vectors() {
        assert_eq!(
            inclusion_proof(&leaves, index, size).unwrap(),
            proof,
            "proof for {index} in {size}"
        );
        let leaf = leaves[index as usize];
        let root = root_of(size);
        assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
        for (desc, p) in corrupt_inclusion(index, size, &proof, &root, &leaf) {
            assert!(
                verify_inclusion(&p.leaf, p.index, p.size, &p.proof, &p.root).is_err(),
                "{desc} verified for {index}/{size}"
            );
        }
    }
}

#[test]
fn rfc6962_consistency_proofs_are_generated_and_verified_exactly() {
    let leaves = leaf_hashes();
    for (size1, size2, proof) in consistency_vectors() {
        assert_eq!(
            consistency_proof(&leaves, size1, size2).unwrap(),
            proof,
            "proof {size1}->{size2}"
        );
        let (r1, r2) = (root_of(size1), root_of(size2));
        assert_eq!(verify_consistency(size1, size2, &r1, &r2, &proof), Ok(()));
        if proof.is_empty() {
            continue;
        }
        for (desc, p) in corrupt_consistency(size1, size2, &r1, &r2, &proof) {
            assert!(
                verify_consistency(p.size1, p.size2, &p.root1, &p.root2, &p.proof).is_err(),
                "{desc} verified for {size1}->{size2}"
            );
        }
    }
}

/// verify_test.go `TestVerifyInclusion`: invalid (index, size) pairs with an
/// empty proof never verify.
#[test]
fn inclusion_edge_cases() {
    let some = h(SOME_HASH);
    let empty = h(EMPTY_TREE_HASH);
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        assert!(
            verify_inclusion(&some, index, size, &[], &empty).is_err(),
            "{index}/{size}"
        );
    }
    // TestVerifyInclusionSingleEntry: a one-leaf tree's root is its leaf hash.
    let leaf = leaf_hash(b"data");
    assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
    assert!(verify_inclusion(&leaf, 0, 1, &[], &empty).is_err());
}

/// verify_test.go `TestVerifyConsistency` edge cases.
#[test]
fn consistency_edge_cases() {
    let root1 = leaf_hash(b"don't care 1");
    let root2 = leaf_hash(b"don't care 2");
    let empty = h(EMPTY_TREE_HASH);
    let cases: [(u64, u64, Hash, Hash, Vec<Hash>, bool); 13] = [
        (0, 0, root1, root2, vec![], true),
        (1, 1, root1, root2, vec![], true),
        // Sizes that are always consistent.
        (0, 0, root1, root1, vec![], false),
        (0, 1, root1, root2, vec![], false),
        (1, 1, root2, root2, vec![], false),
        // Time travel to the past.
        (1, 0, root1, root2, vec![], true),
        (2, 1, root1, root2, vec![], true),
        // Empty proof.
        (1, 2, root1, root2, vec![], true),
        // Roots don't match.
        (0, 0, empty, root2, vec![], true),
        (1, 1, empty, root2, vec![], true),
        // Roots match but the proof is not empty.
        (0, 0, empty, empty, vec![empty], true),
        (0, 1, empty, empty, vec![empty], true),
        (1, 1, empty, empty, vec![empty], true),
    ];
    for (s1, s2, r1, r2, proof, want_err) in cases {
        assert_eq!(
            verify_consistency(s1, s2, &r1, &r2, &proof).is_err(),
            want_err,
            "{s1}->{s2}"
        );
    }
}

struct InclusionProbe {
    index: u64,
    size: u64,
    root: Hash,
    leaf: Hash,
    proof: Vec<Hash>,
}

fn corrupt_inclusion(
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
    leaf: &Hash,
) -> Vec<(String, InclusionProbe)> {
    let p = |desc: &str, index: u64, size: u64, root: Hash, leaf: Hash, proof: Vec<Hash>| {
        (
            desc.to_owned(),
            InclusionProbe {
                index,
                size,
                root,
                leaf,
                proof,
            },
        )
    };
    let with = |extra: Hash, front: bool| {
        let mut v = proof.to_vec();
        if front {
            v.insert(0, extra);
        } else {
            v.push(extra);
        }
        v
    };
    let mut out = vec![
        p(
            "index - 1",
            index.wrapping_sub(1),
            size,
            *root,
            *leaf,
            proof.to_vec(),
        ),
        p("index + 1", index + 1, size, *root, *leaf, proof.to_vec()),
        p("index ^ 2", index ^ 2, size, *root, *leaf, proof.to_vec()),
        p("size * 2", index, size * 2, *root, *leaf, proof.to_vec()),
        p("size / 2", index, size / 2, *root, *leaf, proof.to_vec()),
        p(
            "wrong leaf",
            index,
            size,
            *root,
            leaf_hash(b"WrongLeaf"),
            proof.to_vec(),
        ),
        p(
            "empty root",
            index,
            size,
            h(EMPTY_TREE_HASH),
            *leaf,
            proof.to_vec(),
        ),
        p(
            "random root",
            index,
            size,
            h(SOME_HASH),
            *leaf,
            proof.to_vec(),
        ),
        p(
            "trailing garbage",
            index,
            size,
            *root,
            *leaf,
            with([0; 32], false),
        ),
        p(
            "trailing root",
            index,
            size,
            *root,
            *leaf,
            with(*root, false),
        ),
        p(
            "preceding garbage",
            index,
            size,
            *root,
            *leaf,
            with([0; 32], true),
        ),
        p(
            "preceding root",
            index,
            size,
            *root,
            *leaf,
            with(*root, true),
        ),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i][0] ^= 8;
        out.push(p(
            &format!("modified proof[{i}] bit 3"),
            index,
            size,
            *root,
            *leaf,
            wrong,
        ));
    }
    if !proof.is_empty() {
        out.push(p(
            "removed component",
            index,
            size,
            *root,
            *leaf,
            proof[..proof.len() - 1].to_vec(),
        ));
    }
    if proof.len() > 1 {
        let mut wrong = vec![proof[0], h(SOME_HASH)];
        wrong.extend_from_slice(&proof[1..]);
        out.push(p("inserted component", index, size, *root, *leaf, wrong));
    }
    out
}

struct ConsistencyProbe {
    size1: u64,
    size2: u64,
    root1: Hash,
    root2: Hash,
    proof: Vec<Hash>,
}

fn corrupt_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Vec<(String, ConsistencyProbe)> {
    let p = |desc: &str, size1: u64, size2: u64, root1: Hash, root2: Hash, proof: Vec<Hash>| {
        (
            desc.to_owned(),
            ConsistencyProbe {
                size1,
                size2,
                root1,
                root2,
                proof,
            },
        )
    };
    let with = |extra: Hash, front: bool| {
        let mut v = proof.to_vec();
        if front {
            v.insert(0, extra);
        } else {
            v.push(extra);
        }
        v
    };
    let wrong_root = leaf_hash(b"WrongRoot");
    let (r1, r2) = (*root1, *root2);
    let mut out = vec![
        p("size1 - 1", size1 - 1, size2, r1, r2, proof.to_vec()),
        p("size1 + 1", size1 + 1, size2, r1, r2, proof.to_vec()),
        p("size1 ^ 2", size1 ^ 2, size2, r1, r2, proof.to_vec()),
        p("size2 * 2", size1, size2 * 2, r1, r2, proof.to_vec()),
        p("size2 / 2", size1, size2 / 2, r1, r2, proof.to_vec()),
        p("wrong root1", size1, size2, wrong_root, r2, proof.to_vec()),
        p("wrong root2", size1, size2, r1, wrong_root, proof.to_vec()),
        p("swapped roots", size1, size2, r2, r1, proof.to_vec()),
        p("empty proof", size1, size2, r1, r2, vec![]),
        p(
            "trailing garbage",
            size1,
            size2,
            r1,
            r2,
            with([0; 32], false),
        ),
        p("trailing root1", size1, size2, r1, r2, with(r1, false)),
        p("trailing root2", size1, size2, r1, r2, with(r2, false)),
        p(
            "preceding garbage",
            size1,
            size2,
            r1,
            r2,
            with([0; 32], true),
        ),
        p("preceding root1", size1, size2, r1, r2, with(r1, true)),
        p("preceding root2", size1, size2, r1, r2, with(r2, true)),
        p(
            "preceding proof[0]",
            size1,
            size2,
            r1,
            r2,
            with(proof[0], true),
        ),
        p(
            "truncated proof",
            size1,
            size2,
            r1,
            r2,
            proof[..proof.len() - 1].to_vec(),
        ),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i][0] ^= 16;
        out.push(p(
            &format!("modified proof[{i}] bit 4"),
            size1,
            size2,
            r1,
            r2,
            wrong,
        ));
    }
    out
}

// ---------------------------------------------------------------------------
// Signed notes (golang/mod sumdb/note/note_test.go).

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/// The Go private key string is `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
fn peter_signing_key() -> SigningKey {
    // The base64 itself contains '+': take everything after the 4th '+'.
    let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
    let raw = B64.decode(b64).unwrap();
    assert_eq!(raw[0], ALG_ED25519);
    SigningKey::from_bytes(&raw[1..].try_into().unwrap())
}

#[test]
fn go_verifier_key_parses_and_matches_the_private_key() {
    let vk = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!(vk.name(), "PeterNeumann");
    assert_eq!(vk.key_id(), 0xc74f20a3);
    assert_eq!(vk.to_string(), PETER_VKEY);
    let sk = peter_signing_key();
    assert_eq!(sk.verifying_key(), *vk.verifying_key());
    assert_eq!(
        verifier_key_string("PeterNeumann", &sk.verifying_key()).unwrap(),
        PETER_VKEY
    );
    assert_eq!(key_id("PeterNeumann", &sk.verifying_key()), 0xc74f20a3);
}

/// `TestNewVerifier`: every proper substring and every single-byte increment
/// of the key string is refused, and two hand-made bad keys too.
#[test]
fn go_verifier_key_manglings_are_refused() {
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(VerifierKey::parse(s).is_err(), "accepted {s:?}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let s = String::from_utf8(m).unwrap();
        assert!(VerifierKey::parse(&s).is_err(), "accepted {s:?}");
    }
    // Wrong length key, with adjusted key hash; unknown algorithm, with adjusted key hash.
    assert!(
        VerifierKey::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert!(
        VerifierKey::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .is_err()
    );
}

/// `TestSign`: signing the text with the published private key gives the
/// published note byte for byte (Ed25519 is deterministic).
#[test]
fn go_signed_note_is_reproduced_byte_for_byte() {
    let want = format!("{TEXT}\n{PETER_SIG}");
    assert_eq!(
        sign_note(TEXT, &peter_signing_key(), "PeterNeumann").unwrap(),
        want
    );
    assert!(sign_note("abc", &peter_signing_key(), "PeterNeumann").is_err());
    assert!(sign_note(TEXT, &peter_signing_key(), "a+b").is_err());
}

/// `TestOpen`.
#[test]
fn go_signed_note_opens_and_bad_notes_are_refused() {
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    let enoch = VerifierKey::parse(ENOCH_VKEY).unwrap();
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    assert_eq!(open_note(&both, &peter).unwrap(), TEXT);
    assert_eq!(open_note(&both, &enoch).unwrap(), TEXT);

    // No verifiable signature.
    let only_enoch = format!("{TEXT}\n{ENOCH_SIG}");
    assert_eq!(
        open_note(&only_enoch, &peter),
        Err(CheckpointError::NoSignature {
            key: "PeterNeumann+c74f20a3".into()
        })
    );

    // Too many signatures.
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
    assert!(matches!(
        open_note(&many, &peter),
        Err(CheckpointError::MalformedNote { .. })
    ));
    let hundred = format!("{TEXT}\n{}", PETER_SIG.repeat(100));
    assert_eq!(open_note(&hundred, &peter).unwrap(), TEXT);

    // Invalid signature: 4 base64 characters inserted at byte 60 of the line.
    let bad_sig = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(
        open_note(&bad_sig, &peter),
        Err(CheckpointError::InvalidSignature {
            key: "PeterNeumann+c74f20a3".into()
        })
    );
    // An unknown key's corrupt signature is ignored.
    let enoch_abcd = format!(
        "{TEXT}\n{PETER_SIG}{}ABCD{}",
        &ENOCH_SIG[..60],
        &ENOCH_SIG[60..]
    );
    assert_eq!(open_note(&enoch_abcd, &peter).unwrap(), TEXT);

    // Invalid encoded message syntax.
    let bad_msgs = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in &bad_msgs {
        assert!(
            matches!(
                open_note(msg, &peter),
                Err(CheckpointError::MalformedNote { .. })
            ),
            "accepted {msg:?}"
        );
    }
    // A different name or key id on the line is not the key's signature.
    let misnamed = format!(
        "{TEXT}\n{}",
        PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    );
    assert!(matches!(
        open_note(&misnamed, &peter),
        Err(CheckpointError::NoSignature { .. })
    ));
    let wrong_hash = format!("{TEXT}\n{}", PETER_SIG.replace("x08g", "xxxx"));
    assert!(matches!(
        open_note(&wrong_hash, &peter),
        Err(CheckpointError::NoSignature { .. })
    ));
}

// ---------------------------------------------------------------------------
// A real checkpoint (transparency-dev/formats log/note_test.go).

const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_NOTE: &str = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n\u{2014} sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";

#[test]
fn sumdb_checkpoint_verifies_with_the_go_toolchain_key() {
    let vk = VerifierKey::parse(SUMDB_VKEY).unwrap();
    assert_eq!(vk.key_id(), 0x033de0ae);
    let cp = Checkpoint::verify_note(SUMDB_NOTE, &vk).unwrap();
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 6_476_701);
    assert_eq!(
        B64.encode(cp.root),
        "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="
    );
    // Our body encoding reproduces the signed text exactly.
    assert_eq!(
        cp.body().unwrap(),
        SUMDB_NOTE.split("\n\n").next().unwrap().to_owned() + "\n"
    );

    // Any changed body byte breaks the signature.
    let tampered = SUMDB_NOTE.replacen("6476701", "6476702", 1);
    assert!(matches!(
        Checkpoint::verify_note(&tampered, &vk),
        Err(CheckpointError::InvalidSignature { .. })
    ));
    // Another key does not verify it.
    let peter = VerifierKey::parse(PETER_VKEY).unwrap();
    assert!(matches!(
        Checkpoint::verify_note(SUMDB_NOTE, &peter),
        Err(CheckpointError::NoSignature { .. })
    ));
}

/// The same file's BenchmarkParse adds a witness signature from `monkeys`
/// over the same tree head.
#[test]
fn sumdb_checkpoint_cosigned_by_a_witness() {
    let monkeys =
        VerifierKey::parse("monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT")
            .unwrap();
    let note = format!(
        "{SUMDB_NOTE}\u{2014} monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n"
    );
    let by_log = Checkpoint::verify_note(&note, &VerifierKey::parse(SUMDB_VKEY).unwrap()).unwrap();
    let by_witness = Checkpoint::verify_note(&note, &monkeys).unwrap();
    assert_eq!(by_log, by_witness);
}
