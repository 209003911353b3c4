//! C2SP signed-note and tlog-checkpoint parsing in steward-audit on arbitrary
//! text, with a fixed test key (`steward_fuzz::signing_key`).
//!
//! Checks: no panic in `open_note`, `Checkpoint::verify_note`,
//! `Checkpoint::parse_body`, `VerifierKey::parse`, or the log verifier given
//! the text as a checkpoint row; a verified note's text is a prefix of the
//! note; a body of exactly three lines that parses re-encodes to itself; a
//! parsed verifier key prints back as the same string (up to the case of its
//! hex key id); a note that verifies with the fixed key was signed by it
//! (re-signing its text gives the same signature line: Ed25519 is
//! deterministic).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use steward_audit::{
    Checkpoint, StoredCheckpoint, StoredEntry, VerifierKey, open_note, sign_note, verify_log,
};

static KEY: LazyLock<VerifierKey> = LazyLock::new(steward_fuzz::verifier_key);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(body) = open_note(text, &KEY) {
        assert!(
            text.starts_with(body),
            "opened text is not the note's prefix"
        );
        let resigned = sign_note(body, &steward_fuzz::signing_key(), steward_fuzz::ORIGIN)
            .expect("a verified text can be signed again");
        let line = resigned
            .rsplit_once("\n\n")
            .map(|(_, l)| l)
            .unwrap_or_default();
        assert!(
            text[body.len()..].split_inclusive('\n').any(|l| l == line),
            "verified note carries no signature line equal to the fixed key's"
        );
    }
    let verified = Checkpoint::verify_note(text, &KEY);
    if let Ok(cp) = Checkpoint::parse_body(text) {
        if text.matches('\n').count() == 3 {
            assert_eq!(cp.body().expect("a parsed body re-encodes"), text);
        }
    }
    if let Ok(k) = VerifierKey::parse(text) {
        // Prints back as the input, but for the case of the key id's hex digits.
        let mut parts = text.splitn(3, '+');
        let (name, id, key) = (parts.next(), parts.next(), parts.next());
        let want = format!(
            "{}+{}+{}",
            name.unwrap_or_default(),
            id.unwrap_or_default().to_ascii_lowercase(),
            key.unwrap_or_default()
        );
        assert_eq!(k.to_string(), want, "verifier key does not print back");
        assert_eq!(VerifierKey::parse(&k.to_string()).ok(), Some(k));
    }
    // The same text as a stored checkpoint row, at its own size and at 0 and 1:
    // the verifier parses every row up front.
    let own = verified.as_ref().map(|cp| cp.size).unwrap_or(0);
    for size in [own, 0, 1] {
        let rows = [StoredCheckpoint {
            size,
            note: text.to_owned(),
        }];
        let _ = verify_log(std::iter::empty::<StoredEntry>(), &rows, None, &KEY);
    }
});
