//! Witnessing: Ed25519 cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1`)
//! and the `add-checkpoint` call of the witness protocol
//! (c2sp.org/tlog-witness): the request body both sides speak, and the
//! witness's decision ([`Witness::add_checkpoint`]) as a pure function over
//! its state, so the HTTP server around it only reads, locks and persists.
//!
//! A cosignature line is `— <witness name> base64(key_id[4] || timestamp[8, big-endian] || sig[64])`,
//! the key id the first 4 bytes of `SHA-256(name || "\n" || 0x04 || pubkey)`,
//! and the signature Ed25519 over `"cosignature/v1\ntime <timestamp>\n"`
//! followed by the checkpoint body. A witness key string is
//! `<name>+<8 hex key id>+<base64(0x04 || pubkey)>`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::{Checkpoint, CheckpointError, VerifierKey};
use crate::merkle::{EMPTY_ROOT, Hash, verify_consistency};
use crate::signer::{CheckpointSigner, SignerError};

/// The key-id algorithm byte of Ed25519 cosignatures (c2sp.org/tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// At most this many consistency proof lines in a request (c2sp.org/tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

const SIG_PREFIX: &str = "\u{2014} ";

fn cosigner_key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_COSIGNATURE_V1]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A witness's public identity: its name and Ed25519 cosigning key.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignerKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignerKey({self})")
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = [0u8; 33];
        raw[0] = ALG_COSIGNATURE_V1;
        raw[1..].copy_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

impl CosignerKey {
    /// The cosigner key of `key` under `name` (name rules as signed-note key names).
    ///
    /// # Errors
    /// [`CheckpointError::BadKeyName`].
    pub fn new(name: &str, key: &VerifyingKey) -> Result<Self, CheckpointError> {
        VerifierKey::new(name, key)?;
        Ok(Self {
            name: name.to_owned(),
            id: cosigner_key_id(name, key),
            key: *key,
        })
    }

    /// Parses `<name>+<8 hex key id>+<base64(0x04 || pubkey)>` and checks the id.
    ///
    /// # Errors
    /// [`CheckpointError::BadKeyName`], [`CheckpointError::BadVerifierKey`].
    pub fn parse(s: &str) -> Result<Self, CheckpointError> {
        let bad = |reason| CheckpointError::BadVerifierKey { reason };
        let (name, rest) = s.split_once('+').ok_or(bad("no + after the name"))?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or(bad("no + after the key id"))?;
        let raw = B64
            .decode(key_b64)
            .map_err(|_| bad("the key is not standard base64"))?;
        let Some((&alg, pk)) = raw.split_first() else {
            return Err(bad("the key is empty"));
        };
        if alg != ALG_COSIGNATURE_V1 {
            return Err(bad(
                "a witness key's algorithm byte is 0x04 (cosignature/v1)",
            ));
        }
        let pk: [u8; 32] = pk
            .try_into()
            .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&pk).map_err(|_| bad("not a valid Ed25519 public key"))?;
        let k = Self::new(name, &key)?;
        let id = u32::from_str_radix(id_hex, 16).ok();
        if id_hex.len() != 8 || id != Some(k.id) {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(k)
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The cosignature line (ending in `\n`) of `signer` under `name` on a
/// checkpoint body, at `timestamp` (POSIX seconds, not zero).
///
/// # Errors
/// [`SignerError`] when the provider fails or `timestamp` is 0 or above 2^63-1.
pub fn cosign(
    body: &str,
    signer: &dyn CheckpointSigner,
    name: &str,
    timestamp: u64,
) -> Result<String, SignerError> {
    if timestamp == 0 || timestamp > i64::MAX as u64 {
        return Err(SignerError(
            "a cosignature's timestamp must be between 1 and 2^63-1".into(),
        ));
    }
    let id = cosigner_key_id(name, &signer.public_key());
    let sig = signer.sign(cosigned_message(body, timestamp).as_bytes())?;
    let mut raw = Vec::with_capacity(76);
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend_from_slice(&timestamp.to_be_bytes());
    raw.extend_from_slice(&sig.to_bytes());
    Ok(format!("{SIG_PREFIX}{name} {}\n", B64.encode(raw)))
}

/// A checkpoint a witness cosigned, as read back from a cosigned note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The checkpoint (its log signature checked too).
    pub checkpoint: Checkpoint,
    /// The cosignature's time (POSIX seconds).
    pub timestamp: u64,
}

/// Verifies a note carrying the log's signature (by `log_key`) and a
/// cosignature by `witness`.
///
/// # Errors
/// The log signature's errors ([`Checkpoint::verify_note`]);
/// [`CheckpointError::NoSignature`] when no line carries the witness's name and
/// key id; [`CheckpointError::InvalidSignature`] when it does not verify.
pub fn verify_cosigned(
    note: &str,
    log_key: &VerifierKey,
    witness: &CosignerKey,
) -> Result<Cosigned, CheckpointError> {
    let checkpoint = Checkpoint::verify_note(note, log_key)?;
    let bad = |reason| CheckpointError::MalformedNote { reason };
    let split = note.rfind("\n\n").ok_or(bad("no blank line"))?;
    let body = note.get(..split + 1).ok_or(bad("no text"))?;
    let sigs = note.get(split + 2..).unwrap_or_default();
    let label = format!("{}+{:08x}", witness.name, witness.id);
    for line in sigs.lines() {
        let Some((name, b64)) = line
            .strip_prefix(SIG_PREFIX)
            .and_then(|l| l.split_once(' '))
        else {
            continue;
        };
        let Ok(raw) = B64.decode(b64) else { continue };
        let Some((id, rest)) = raw.split_first_chunk::<4>() else {
            continue;
        };
        if name != witness.name || u32::from_be_bytes(*id) != witness.id {
            continue;
        }
        let invalid = || CheckpointError::InvalidSignature { key: label.clone() };
        let (ts, sig) = rest.split_first_chunk::<8>().ok_or_else(invalid)?;
        let timestamp = u64::from_be_bytes(*ts);
        let sig = Signature::from_slice(sig).map_err(|_| invalid())?;
        witness
            .key
            .verify_strict(cosigned_message(body, timestamp).as_bytes(), &sig)
            .map_err(|_| invalid())?;
        return Ok(Cosigned {
            checkpoint,
            timestamp,
        });
    }
    Err(CheckpointError::NoSignature { key: label })
}

/// The body of an `add-checkpoint` request: the old size, the consistency
/// proof from it, and the signed checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the latest checkpoint the witness cosigned (0 if none).
    pub old: u64,
    /// RFC 6962 consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The checkpoint as a signed note.
    pub note: String,
}

impl AddCheckpoint {
    /// The request body: `old N\n`, one base64 hash per line, a blank line, the note.
    pub fn to_body(&self) -> String {
        let mut s = format!("old {}\n", self.old);
        for h in &self.proof {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.note);
        s
    }

    /// Parses a request body.
    ///
    /// # Errors
    /// A description of the first malformed part (answered with 400).
    pub fn parse(body: &str) -> Result<Self, String> {
        let (head, note) = body
            .split_once("\n\n")
            .ok_or("no blank line between the proof and the checkpoint")?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or("the first line must be `old <size>`")?;
        if old.is_empty()
            || !old.bytes().all(|b| b.is_ascii_digit())
            || (old.len() > 1 && old.starts_with('0'))
        {
            return Err("the old size must be decimal digits without a leading zero".into());
        }
        let old: u64 = old.parse().map_err(|_| "the old size exceeds 64 bits")?;
        let mut proof = Vec::new();
        for (i, l) in lines.enumerate() {
            if i >= MAX_PROOF_LINES {
                return Err("more than 63 consistency proof lines".into());
            }
            let h = B64
                .decode(l)
                .ok()
                .and_then(|v| Hash::try_from(v).ok())
                .ok_or_else(|| format!("proof line {} is not a base64 32-byte hash", i + 2))?;
            proof.push(h);
        }
        Ok(Self {
            old,
            proof,
            note: note.to_owned(),
        })
    }
}

/// A witness's record of one log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedLog {
    /// Tree size.
    pub size: u64,
    /// Root at that size, hex.
    pub root: String,
}

/// A witness's whole state: per log origin, the latest cosigned checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// By origin line.
    pub logs: BTreeMap<String, WitnessedLog>,
}

/// Why a witness refused a checkpoint, with the HTTP status c2sp.org/tlog-witness gives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// 400: the body is malformed, or the old size is above the checkpoint's.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the witness does not know the checkpoint's origin.
    #[error("unknown log origin")]
    UnknownLog,
    /// 403: no valid signature by a key the witness trusts for the origin.
    #[error("checkpoint signature not verified: {0}")]
    Forbidden(String),
    /// 409: the old size is not the size the witness last cosigned (given).
    #[error("the witness last cosigned size {0}")]
    Conflict(u64),
    /// 422: the consistency proof fails, or equal sizes with different roots.
    #[error("not consistent with the witnessed checkpoint: {0}")]
    Inconsistent(String),
    /// 500: the witness's own key failed.
    #[error("{0}")]
    Signer(#[from] SignerError),
}

impl WitnessError {
    /// The HTTP status code for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Forbidden(_) => 403,
            Self::UnknownLog => 404,
            Self::Conflict(_) => 409,
            Self::Inconsistent(_) => 422,
            Self::Signer(_) => 500,
        }
    }
}

/// A witness: its name, its cosigning key and the logs it follows.
pub struct Witness {
    /// The witness's name (cosignature key name).
    pub name: String,
    /// Its cosigning key.
    pub signer: Box<dyn CheckpointSigner>,
    /// Followed logs: origin line to the log's verifier key.
    pub logs: BTreeMap<String, VerifierKey>,
}

impl Witness {
    /// The public key string clients pin (`<name>+<id>+<base64(0x04||pk)>`).
    ///
    /// # Errors
    /// [`CheckpointError::BadKeyName`].
    pub fn key(&self) -> Result<CosignerKey, CheckpointError> {
        CosignerKey::new(&self.name, &self.signer.public_key())
    }

    /// Decides one `add-checkpoint` request against `state` (c2sp.org/tlog-witness)
    /// and, when it is accepted, updates `state` and returns the cosignature
    /// line. The caller persists `state` before answering and holds one lock
    /// across the call and the write, so two requests cannot roll it back.
    ///
    /// # Errors
    /// [`WitnessError`], whose [`status`](WitnessError::status) is the answer.
    pub fn add_checkpoint(
        &self,
        state: &mut WitnessState,
        body: &str,
        now: u64,
    ) -> Result<String, WitnessError> {
        let req = AddCheckpoint::parse(body).map_err(WitnessError::BadRequest)?;
        let text_end = req.note.rfind("\n\n").map(|i| i + 1);
        let body_text = text_end.and_then(|e| req.note.get(..e)).ok_or_else(|| {
            WitnessError::BadRequest("the checkpoint is not a signed note".into())
        })?;
        let claimed = Checkpoint::parse_body(body_text)
            .map_err(|e| WitnessError::BadRequest(e.to_string()))?;
        let key = self
            .logs
            .get(&claimed.origin)
            .ok_or(WitnessError::UnknownLog)?;
        let cp = Checkpoint::verify_note(&req.note, key)
            .map_err(|e| WitnessError::Forbidden(e.to_string()))?;
        if req.old > cp.size {
            return Err(WitnessError::BadRequest(format!(
                "old size {} is above the checkpoint size {}",
                req.old, cp.size
            )));
        }
        let known = state.logs.get(&cp.origin);
        let known_size = known.map_or(0, |k| k.size);
        if req.old != known_size {
            return Err(WitnessError::Conflict(known_size));
        }
        if cp.size == 0 && cp.root != EMPTY_ROOT {
            return Err(WitnessError::Inconsistent(
                "a checkpoint of size 0 must have the empty tree's root".into(),
            ));
        }
        let old_root: Hash = match known {
            Some(k) => hex::decode(&k.root)
                .ok()
                .and_then(|v| Hash::try_from(v).ok())
                .ok_or_else(|| SignerError("the witness state holds a bad root".into()))?,
            None => EMPTY_ROOT,
        };
        if req.old == 0 && !req.proof.is_empty() {
            return Err(WitnessError::Inconsistent(
                "old size 0 needs an empty proof".into(),
            ));
        }
        verify_consistency(req.old, cp.size, &old_root, &cp.root, &req.proof).map_err(|e| {
            WitnessError::Inconsistent(format!(
                "size {} to {}: {e}: the log's history differs from what this witness cosigned",
                req.old, cp.size
            ))
        })?;
        let line = cosign(body_text, self.signer.as_ref(), &self.name, now)?;
        state.logs.insert(
            cp.origin.clone(),
            WitnessedLog {
                size: cp.size,
                root: hex::encode(cp.root),
            },
        );
        Ok(line)
    }
}
