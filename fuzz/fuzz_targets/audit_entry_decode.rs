//! `steward_audit::AuditEntry::decode` on arbitrary bytes, and the log
//! verifier's fast path on the same bytes as a one-entry log.
//!
//! Checks: no panic; whatever decodes is canonical (re-encodes to exactly the
//! input) and passes `validate`; a one-entry log holding a decodable index-0
//! entry verifies (the verifier's byte-level fast path never refuses what the
//! full decoder accepts).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward_audit::{AuditEntry, Head, StoredEntry, VerifierKey, leaf_hash, verify_log};

static KEY: LazyLock<VerifierKey> = LazyLock::new(steward_fuzz::verifier_key);

fuzz_target!(|data: &[u8]| {
    let decoded = AuditEntry::decode(data);
    match &decoded {
        Ok(entry) => {
            assert_eq!(
                entry.to_canonical_json(),
                data,
                "decode accepted bytes that do not re-encode to themselves"
            );
            entry.validate().expect("a decoded entry validates");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let h = leaf_hash(data);
    let row = StoredEntry {
        index: 0,
        bytes: data.to_vec(),
        leaf_hash: h,
    };
    let report = verify_log([&row], &[], Some(Head { size: 1, root: h }), &KEY);
    if let Ok(entry) = &decoded
        && entry.index == 0
    {
        let r =
            report.unwrap_or_else(|f| panic!("decodable index-0 entry fails verification: {f}"));
        assert_eq!((r.entries, r.root), (1, h));
    }
});
