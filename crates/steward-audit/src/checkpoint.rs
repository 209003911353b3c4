//! Signed checkpoints: the C2SP signed-note format (c2sp.org/signed-note, as
//! implemented by golang.org/x/mod/sumdb/note) with Ed25519 keys, carrying a
//! C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint).
//!
//! A note is its text (one or more lines, each ending in `\n`), a blank line,
//! and one or more signature lines `— <name> <base64(key_id[4] || sig[64])>\n`
//! (U+2014 EM DASH, a space, the key name, a space, standard base64 with
//! padding). The key id is the first 4 bytes, big-endian, of
//! `SHA-256(name || "\n" || 0x01 || pubkey[32])`. The signature is Ed25519 over
//! the text, including its final newline.
//!
//! A verifier key string is `<name>+<key id, 8 hex digits>+<base64(0x01 || pubkey[32])>`,
//! e.g. `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The signed-note algorithm byte for Ed25519 keys.
pub const ALG_ED25519: u8 = 0x01;

/// The most signature lines a note may carry (as golang.org/x/mod/sumdb/note).
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

/// Why a key, note or checkpoint was refused. Messages carry key names and
/// line numbers, never note content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// A key name is empty, has white space or `+` (c2sp.org/signed-note).
    #[error("bad key name: {reason}")]
    BadKeyName {
        /// What is wrong.
        reason: &'static str,
    },
    /// A verifier key string is not `<name>+<8 hex>+<base64(0x01||pubkey)>`.
    #[error(
        "bad verifier key: {reason}; expected <name>+<8 hex digit key id>+<base64 of 0x01 and the 32-byte Ed25519 public key>"
    )]
    BadVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// The note is not in signed-note syntax.
    #[error("malformed note: {reason}")]
    MalformedNote {
        /// What is wrong.
        reason: &'static str,
    },
    /// No signature line carries the key's name and key id.
    #[error("note has no signature by key {key}")]
    NoSignature {
        /// `<name>+<key id>`.
        key: String,
    },
    /// A signature line for the key does not verify.
    #[error("invalid signature for key {key}")]
    InvalidSignature {
        /// `<name>+<key id>`.
        key: String,
    },
    /// The signed text is not a tlog-checkpoint body.
    #[error("bad checkpoint body at line {line}: {reason}")]
    BadBody {
        /// 1-based line of the note text.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() {
        return Err(CheckpointError::BadKeyName {
            reason: "it is empty",
        });
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CheckpointError::BadKeyName {
            reason: "it contains white space or a control character",
        });
    }
    if name.contains('+') {
        return Err(CheckpointError::BadKeyName {
            reason: "it contains +",
        });
    }
    Ok(())
}

/// The signed-note key id of an Ed25519 key: the first 4 bytes (big-endian) of
/// `SHA-256(name || "\n" || 0x01 || pubkey)` (c2sp.org/signed-note).
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A parsed, checked Ed25519 verifier key: a name, its key id and public key.
/// Display and [`FromStr`] use the string form
/// `<name>+<8 hex key id>+<base64(0x01 || pubkey)>` (golang.org/x/mod/sumdb/note).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl VerifierKey {
    /// The verifier key for `key` under `name`.
    ///
    /// # Errors
    /// [`CheckpointError::BadKeyName`].
    pub fn new(name: &str, key: &VerifyingKey) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, key),
            key: *key,
        })
    }

    /// Parses and checks a verifier key string: the name is valid, the
    /// algorithm is Ed25519, the key is a valid point and the key id matches.
    ///
    /// # Errors
    /// [`CheckpointError::BadKeyName`], [`CheckpointError::BadVerifierKey`].
    pub fn parse(s: &str) -> Result<Self, CheckpointError> {
        let bad = |reason| CheckpointError::BadVerifierKey { reason };
        let (name, rest) = s.split_once('+').ok_or(bad("no + after the name"))?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or(bad("no + after the key id"))?;
        check_key_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key id is not 8 hex digits"));
        }
        let id =
            u32::from_str_radix(id_hex, 16).map_err(|_| bad("the key id is not 8 hex digits"))?;
        let raw = B64
            .decode(key_b64)
            .map_err(|_| bad("the key is not standard base64"))?;
        let Some((&alg, pk)) = raw.split_first() else {
            return Err(bad("the key is empty"));
        };
        if alg != ALG_ED25519 {
            return Err(bad("the algorithm is not Ed25519 (0x01)"));
        }
        let pk: [u8; 32] = pk
            .try_into()
            .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&pk).map_err(|_| bad("not a valid Ed25519 public key"))?;
        if key_id(name, &key) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id (see [`key_id`]).
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = [0u8; 33];
        raw[0] = ALG_ED25519;
        raw[1..].copy_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

impl FromStr for VerifierKey {
    type Err = CheckpointError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The verifier key string for `key` under `name`:
/// `<name>+<8 hex key id>+<base64(0x01 || pubkey)>`.
///
/// # Errors
/// [`CheckpointError::BadKeyName`].
pub fn verifier_key_string(name: &str, key: &VerifyingKey) -> Result<String, CheckpointError> {
    Ok(VerifierKey::new(name, key)?.to_string())
}

/// Text rules shared by signing and opening: UTF-8 (given), no control
/// characters but `\n`, non-empty, ending in `\n`.
fn check_text(text: &str) -> Result<(), CheckpointError> {
    let bad = |reason| CheckpointError::MalformedNote { reason };
    if text.is_empty() || !text.ends_with('\n') {
        return Err(bad("the text must be non-empty and end with a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(bad("the text has a control character other than newline"));
    }
    Ok(())
}

/// Signs `text` with `key` under `name` and returns the note:
/// `text`, a blank line, and one signature line. `text` must be non-empty, end
/// with `\n`, contain no blank line and no control character but `\n`.
///
/// # Errors
/// [`CheckpointError::BadKeyName`], [`CheckpointError::MalformedNote`].
pub fn sign_note(text: &str, key: &SigningKey, name: &str) -> Result<String, CheckpointError> {
    check_key_name(name)?;
    check_note_text(text)?;
    let id = key_id(name, &key.verifying_key());
    let sig = ed25519_dalek::Signer::sign(key, text.as_bytes());
    Ok(note_with_signature(text, name, id, &sig))
}

/// The rules on a note's text for signing: see [`sign_note`].
pub(crate) fn check_note_text(text: &str) -> Result<(), CheckpointError> {
    check_text(text)?;
    if text.starts_with('\n') || text.contains("\n\n") {
        return Err(CheckpointError::MalformedNote {
            reason: "the text must not contain a blank line",
        });
    }
    Ok(())
}

/// `text`, a blank line and one signature line `— <name> base64(id || sig)`.
pub(crate) fn note_with_signature(text: &str, name: &str, id: u32, sig: &Signature) -> String {
    let mut raw = Vec::with_capacity(68);
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend_from_slice(&sig.to_bytes());
    format!("{text}\n{SIG_PREFIX}{name} {}\n", B64.encode(raw))
}

/// Verifies a signed note against one key and returns its text (up to and
/// including the text's final newline). Signature lines by other keys are
/// checked for syntax and otherwise ignored, as c2sp.org/signed-note asks.
///
/// # Errors
/// [`CheckpointError::MalformedNote`] for bad syntax or more than
/// [`MAX_SIGNATURES`] signatures; [`CheckpointError::NoSignature`] when no line
/// has the key's name and id; [`CheckpointError::InvalidSignature`] when such a
/// line does not verify.
pub fn open_note<'a>(note: &'a str, key: &VerifierKey) -> Result<&'a str, CheckpointError> {
    let bad = |reason| CheckpointError::MalformedNote { reason };
    check_text(note)?;
    // The text ends at the last blank line; signature lines never contain one.
    let split = note
        .rfind("\n\n")
        .ok_or(bad("no blank line before the signatures"))?;
    let text = note.get(..split + 1).ok_or(bad("no text"))?;
    let mut sigs = note.get(split + 2..).ok_or(bad("no signatures"))?;
    if sigs.is_empty() {
        return Err(bad("no signature lines"));
    }
    let mut count = 0usize;
    let mut verified = false;
    while !sigs.is_empty() {
        let (line, rest) = sigs
            .split_once('\n')
            .ok_or(bad("a signature line has no final newline"))?;
        sigs = rest;
        count += 1;
        if count > MAX_SIGNATURES {
            return Err(bad("more than 100 signatures"));
        }
        let line = line.strip_prefix(SIG_PREFIX).ok_or(bad(
            "a signature line does not start with an em dash and a space",
        ))?;
        let (name, b64) = line
            .split_once(' ')
            .ok_or(bad("a signature line has no space after the name"))?;
        if check_key_name(name).is_err() || b64.is_empty() {
            return Err(bad("a signature line has a bad key name or no signature"));
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| bad("a signature is not standard base64"))?;
        let (id, sig) = match raw.split_first_chunk::<4>() {
            Some((id, sig)) if !sig.is_empty() => (u32::from_be_bytes(*id), sig),
            _ => return Err(bad("a signature is shorter than 5 bytes")),
        };
        if name != key.name || id != key.id {
            continue;
        }
        let ok = Signature::from_slice(sig)
            .map(|s| key.key.verify_strict(text.as_bytes(), &s).is_ok())
            .unwrap_or(false);
        if !ok {
            return Err(CheckpointError::InvalidSignature { key: key.label() });
        }
        verified = true;
    }
    if !verified {
        return Err(CheckpointError::NoSignature { key: key.label() });
    }
    Ok(text)
}

/// A tree head: the log's origin, its size and the root at that size
/// (c2sp.org/tlog-checkpoint). Its note text is
/// `"<origin>\n<size>\n<base64 root>\n"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `steward.example/audit/eu`. One non-empty line
    /// without control characters.
    pub origin: String,
    /// The tree size: number of entries covered.
    pub size: u64,
    /// The Merkle root over the first `size` entries (RFC 6962 §2.1).
    pub root: Hash,
}

impl Checkpoint {
    /// The note text `"<origin>\n<size>\n<base64 root>\n"`.
    ///
    /// # Errors
    /// [`CheckpointError::BadBody`] when the origin is empty or has a control
    /// character (a newline would frame a different checkpoint).
    pub fn body(&self) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.chars().any(char::is_control) {
            return Err(CheckpointError::BadBody {
                line: 1,
                reason: "the origin must be one non-empty line without control characters",
            });
        }
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        ))
    }

    /// Signs the checkpoint with `key` under the key name `name`; returns the
    /// note text (body, blank line, one signature line).
    ///
    /// # Errors
    /// [`CheckpointError::BadBody`], [`CheckpointError::BadKeyName`].
    pub fn sign(&self, key: &SigningKey, name: &str) -> Result<String, CheckpointError> {
        sign_note(&self.body()?, key, name)
    }

    /// Parses a tlog-checkpoint body: origin line, size (ASCII decimal, no
    /// leading zero), root (standard base64 of 32 bytes), then optional
    /// non-empty extension lines, which are ignored.
    ///
    /// # Errors
    /// [`CheckpointError::BadBody`] with the line at fault.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let bad = |line, reason| CheckpointError::BadBody { line, reason };
        let body = text
            .strip_suffix('\n')
            .ok_or(bad(1, "the body must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(bad(
                1,
                "the origin must be non-empty, without control characters",
            ));
        }
        let size = lines
            .next()
            .ok_or(bad(2, "the tree size line is missing"))?;
        let digits_ok = !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit());
        if !digits_ok || (size.len() > 1 && size.starts_with('0')) {
            return Err(bad(
                2,
                "the tree size must be decimal digits without a leading zero",
            ));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| bad(2, "the tree size does not fit in 64 bits"))?;
        let root_b64 = lines
            .next()
            .ok_or(bad(3, "the root hash line is missing"))?;
        let root = B64
            .decode(root_b64)
            .map_err(|_| bad(3, "the root hash is not standard base64"))?;
        let root: Hash = root
            .try_into()
            .map_err(|_| bad(3, "the root hash must be 32 bytes"))?;
        for (i, ext) in lines.enumerate() {
            if ext.is_empty() {
                return Err(bad(4 + i, "extension lines must not be empty"));
            }
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Verifies a checkpoint note's signature by `key` and parses its body
    /// ([`open_note`] then [`parse_body`](Self::parse_body)).
    ///
    /// # Errors
    /// Any of [`open_note`]'s, then [`CheckpointError::BadBody`].
    pub fn verify_note(note: &str, key: &VerifierKey) -> Result<Self, CheckpointError> {
        Self::parse_body(open_note(note, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let sk = key(7);
        let vk = VerifierKey::new("steward.example/audit", &sk.verifying_key()).unwrap();
        let cp = Checkpoint {
            origin: "steward.example/audit".into(),
            size: 42,
            root: [9; 32],
        };
        let note = cp.sign(&sk, "steward.example/audit").unwrap();
        assert!(note.starts_with("steward.example/audit\n42\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n\n\u{2014} steward.example/audit "));
        assert_eq!(Checkpoint::verify_note(&note, &vk).unwrap(), cp);
        let vk2: VerifierKey = vk.to_string().parse().unwrap();
        assert_eq!(vk2, vk);
        let other = VerifierKey::new("steward.example/audit", &key(8).verifying_key()).unwrap();
        assert!(matches!(
            Checkpoint::verify_note(&note, &other),
            Err(CheckpointError::NoSignature { .. })
        ));
    }

    #[test]
    fn body_rules() {
        assert!(
            Checkpoint::parse_body("o\n01\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n")
                .is_err()
        );
        assert!(Checkpoint::parse_body("o\n1\nCQkJ\n").is_err());
        assert!(
            Checkpoint::parse_body("o\n1\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n\n")
                .is_err()
        );
        assert!(
            Checkpoint::parse_body(
                "o\n18446744073709551616\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n"
            )
            .is_err()
        );
        let with_ext =
            Checkpoint::parse_body("o\n0\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\nmore\n")
                .unwrap();
        assert_eq!(with_ext.size, 0);
        let bad_origin = Checkpoint {
            origin: "a\n999".into(),
            size: 1,
            root: [0; 32],
        };
        assert!(bad_origin.sign(&key(1), "k").is_err());
    }
}
