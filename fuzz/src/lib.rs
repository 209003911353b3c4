//! Shared checks for Steward's fuzz targets (`fuzz_targets/*.rs`) and the
//! seed generator (`src/bin/gen_seeds.rs`).
//!
//! Every target asserts more than "does not panic": the properties each parser
//! documents (see docs/reliability.md for the list). A failed assertion is a
//! crash to libFuzzer, like a panic inside the code under test.

use steward_audit::{
    AuditEntry, Checkpoint, Decision, EntryDraft, Hash, RecordRef, Resource, ResourceKind,
    SubjectRef, Timestamp, Token, VerifierKey,
};
use steward_domain::Product;
use steward_ingest::{Format, ParseOptions};

/// The name every ingest target passes as the input's file name; rejections
/// must start with `"{SOURCE}:{line}: "`.
pub const SOURCE: &str = "fuzz.input";

/// Origin and key name of the checkpoint target's fixed key.
pub const ORIGIN: &str = "steward.example/audit/fuzz";

/// The checkpoint target's fixed Ed25519 signing key (seed `[7; 32]`; a test
/// key, never used outside fuzzing).
pub fn signing_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

/// The verifier key of [`signing_key`] under [`ORIGIN`].
pub fn verifier_key() -> VerifierKey {
    VerifierKey::new(ORIGIN, &signing_key().verifying_key()).expect("fixed key name is valid")
}

/// Parses `data` in `format` and checks the adapter's documented contract
/// (crates/steward-ingest/src/lib.rs):
///
/// * no panic, and an `Err` only for `focus` (a header that does not fit);
/// * every position is a real line: `1 ..= line_count(data)`;
/// * every rejection message starts with `fuzz.input:{line}: `;
/// * for the line formats (openssh, apache-access, jsonl): every line is in
///   exactly one of records, skipped, rejected, so
///   `records + skipped + rejected == line_count(data)`, and records and
///   rejections are each in input order.
pub fn check_ingest(format: Format, data: &[u8]) {
    // Both a leap and a common year, chosen by the input (syslog has no year).
    let year = if data.len() % 2 == 0 { 2024 } else { 2023 };
    let opts = ParseOptions {
        year,
        product: Product::CloudPlatform,
    };
    let n = steward_ingest::line_count(data);
    let parsed = match steward_ingest::parse(format, SOURCE, data, &opts) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(format, Format::Focus, "only focus fails whole inputs: {e}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(SOURCE),
                "error does not name the input: {msg}"
            );
            return;
        }
    };
    let positions: Vec<usize> = parsed
        .records
        .iter()
        .map(|(l, _)| *l)
        .chain(parsed.skipped.iter().map(|s| s.line))
        .chain(parsed.rejected.iter().map(|r| r.line))
        .collect();
    for &l in &positions {
        assert!(
            (1..=n).contains(&l),
            "{format}: position {l} outside 1..={n}"
        );
    }
    for r in &parsed.rejected {
        let prefix = format!("{SOURCE}:{}: ", r.line);
        assert!(
            r.error.starts_with(&prefix),
            "{format}: rejection does not start with {prefix:?}: {:?}",
            r.error
        );
    }
    let line_based = matches!(
        format,
        Format::Openssh | Format::ApacheAccess | Format::Jsonl
    );
    if line_based {
        assert_eq!(
            parsed.accounted(),
            n,
            "{format}: records {} + skipped {} + rejected {} != line_count {n}",
            parsed.records.len(),
            parsed.skipped.len(),
            parsed.rejected.len()
        );
        let mut sorted = positions.clone();
        sorted.sort_unstable();
        assert!(
            sorted.iter().copied().eq(1..=n),
            "{format}: some line is accounted twice and another not at all"
        );
        assert!(
            parsed.records.windows(2).all(|w| w[0].0 < w[1].0),
            "{format}: records not in input order"
        );
        assert!(
            parsed.rejected.windows(2).all(|w| w[0].line < w[1].line),
            "{format}: rejections not in input order"
        );
    }
}

fn tok(s: &str) -> Token {
    Token::new(s).expect("seed token is valid")
}

/// Canonical audit entries of several shapes, for the `audit_entry_decode`
/// seed corpus: index 0 (empty prev) and later indexes, every decision, every
/// optional field both present and absent, each resource reference kind.
pub fn sample_entries() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut prev: Option<Hash> = None;
    let resources = [
        Resource::new(ResourceKind::Record).record(RecordRef::new(0x1234)),
        Resource::new(ResourceKind::Batch)
            .id(tok("batch-01HZX"))
            .count(2000),
        Resource::new(ResourceKind::Export)
            .subject(SubjectRef::new(0xabcdef))
            .blind_index(
                steward_audit::BlindIndexRef::new(vec![0x5a; 16]).expect("16 bytes is valid"),
            ),
        Resource::new(ResourceKind::Erasure).subject(SubjectRef::new(7)),
        Resource::new(ResourceKind::Key).id(tok("kek:v2")),
        Resource::new(ResourceKind::Log),
    ];
    let decisions = [Decision::Allow, Decision::Deny, Decision::Done];
    for (i, resource) in resources.into_iter().enumerate() {
        let draft = EntryDraft {
            action: tok([
                "record.read",
                "ingest.batch",
                "subject.export",
                "subject.erase",
                "keys.rotate",
                "audit.checkpoint",
            ][i]),
            clause_ids: if i % 2 == 0 {
                vec![tok("N3.5"), tok("N6.5e")]
            } else {
                vec![]
            },
            decision: decisions[i % 3],
            policy_ids: vec![tok("staff-support-read-with-open-case")],
            policy_version: tok("2024-01-18.2"),
            principal: tok(if i % 2 == 0 {
                "emp_00000000000000a1"
            } else {
                "ingest"
            }),
            purpose: (i % 2 == 0).then(|| tok("assist")),
            reason: (i == 1).then(|| tok("no_open_case")),
            region: tok("jp"),
            request_id: tok(&format!("req-{i:04}")),
            resource,
            time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i as i128 * 1_000_123)
                .expect("time is in range"),
        };
        let entry: AuditEntry = draft.into_entry(i as u64, prev);
        let bytes = entry.to_canonical_json();
        prev = Some(steward_audit::leaf_hash(&bytes));
        out.push(bytes);
    }
    out
}

/// Signed checkpoint notes by [`signing_key`] under [`ORIGIN`], for the
/// `checkpoint_note` seed corpus: sizes 0, 1 and large, with and without an
/// extension line and a second (foreign) signature line.
pub fn sample_notes() -> Vec<String> {
    let key = signing_key();
    let mut out = Vec::new();
    for (size, root) in [(0u64, [0u8; 32]), (1, [9; 32]), (1_000_000, [0xa5; 32])] {
        let cp = Checkpoint {
            origin: ORIGIN.to_owned(),
            size,
            root,
        };
        out.push(cp.sign(&key, ORIGIN).expect("sample checkpoint signs"));
    }
    let body =
        format!("{ORIGIN}\n42\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\nextension line\n");
    let note = steward_audit::sign_note(&body, &key, ORIGIN).expect("note signs");
    out.push(note.clone());
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let foreign =
        steward_audit::sign_note(&body, &other, "other.example/witness").expect("note signs");
    let foreign_line = foreign
        .rsplit_once("\n\n")
        .map(|(_, s)| s)
        .unwrap_or_default();
    out.push(format!("{note}{foreign_line}"));
    out.push(verifier_key().to_string());
    out
}
