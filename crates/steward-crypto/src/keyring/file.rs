//! The keyring file (`steward-keyring-v1`): its JSON shape, the state in
//! memory it decodes to (every key in a zeroizing buffer, issue 13 item 10),
//! and reading and writing it (owner-only, atomic).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::CryptoError;
use crate::keyfile::file_err;

/// A KEK entry as the file holds it (wiped on drop).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(super) struct KekEntry {
    pub(super) version: u32,
    pub(super) created_at: String,
    pub(super) retired: bool,
    /// base64 of 32 bytes; empty when retired.
    pub(super) key: String,
}

/// The file's content, only while it is read or written (wiped on drop).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(super) struct KeyringFile {
    pub(super) format: String,
    pub(super) current: u32,
    pub(super) keks: Vec<KekEntry>,
    /// Only in files written before issue 13 item 3 (moved out at open).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) blind_index_key: String,
    pub(super) audit_signing_seed: String,
}

pub(super) const FORMAT: &str = "steward-keyring-v1";

/// One KEK version in memory: its material in a zeroizing buffer, `None`
/// once retired (the buffer was wiped when dropped).
pub(super) struct Kek {
    pub(super) version: u32,
    pub(super) created_at: String,
    pub(super) key: Option<Zeroizing<[u8; 32]>>,
}

/// The keyring in memory (issue 13 item 10): every key in a zeroizing
/// buffer, never as base64 text.
pub(super) struct State {
    pub(super) current: u32,
    pub(super) keks: Vec<Kek>,
    /// A legacy blind-index key, until it is moved out (issue 13 item 3).
    pub(super) blind_index_key: Option<Zeroizing<[u8; 32]>>,
    pub(super) audit_signing_seed: Zeroizing<[u8; 32]>,
}

impl State {
    /// The file's content (base64 strings, wiped when it is dropped).
    pub(super) fn to_file(&self) -> KeyringFile {
        KeyringFile {
            format: FORMAT.into(),
            current: self.current,
            keks: self
                .keks
                .iter()
                .map(|k| KekEntry {
                    version: k.version,
                    created_at: k.created_at.clone(),
                    retired: k.key.is_none(),
                    key: k
                        .key
                        .as_ref()
                        .map(|b| B64.encode(&b[..]))
                        .unwrap_or_default(),
                })
                .collect(),
            blind_index_key: self
                .blind_index_key
                .as_ref()
                .map(|k| B64.encode(&k[..]))
                .unwrap_or_default(),
            audit_signing_seed: B64.encode(&self.audit_signing_seed[..]),
        }
    }

    /// Decode the file's content.
    pub(super) fn from_file(path: &Path, file: &KeyringFile) -> Result<State, CryptoError> {
        let mut keks = Vec::with_capacity(file.keks.len());
        for k in &file.keks {
            keks.push(Kek {
                version: k.version,
                created_at: k.created_at.clone(),
                key: if k.retired {
                    None
                } else {
                    Some(decode32(path, &format!("kek v{}", k.version), &k.key)?)
                },
            });
        }
        Ok(State {
            current: file.current,
            keks,
            blind_index_key: if file.blind_index_key.is_empty() {
                None
            } else {
                Some(decode32(path, "blind_index_key", &file.blind_index_key)?)
            },
            audit_signing_seed: decode32(path, "audit_signing_seed", &file.audit_signing_seed)?,
        })
    }
}

fn decode32(path: &Path, what: &str, s: &str) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let v = Zeroizing::new(
        B64.decode(s)
            .map_err(|_| file_err(path, format!("{what} is not base64")))?,
    );
    let arr: [u8; 32] = v
        .as_slice()
        .try_into()
        .map_err(|_| file_err(path, format!("{what} must be 32 bytes")))?;
    Ok(Zeroizing::new(arr))
}

/// Read and check the keyring file: owner-only mode (Unix), the format, and
/// a current KEK version that exists and is not retired.
pub(super) fn load(path: &Path) -> Result<State, CryptoError> {
    crate::keyfile::require_owner_only(path, "the keys")?;
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| file_err(path, e.to_string()))?);
    let file: KeyringFile = serde_json::from_str(&text)
        .map_err(|e| file_err(path, format!("not a Steward keyring: {e}")))?;
    if file.format != FORMAT {
        return Err(file_err(
            path,
            format!("format `{}` is not {FORMAT}", file.format),
        ));
    }
    let state = State::from_file(path, &file)?;
    if !state
        .keks
        .iter()
        .any(|k| k.version == state.current && k.key.is_some())
    {
        return Err(file_err(
            path,
            "the current KEK version is missing or retired",
        ));
    }
    Ok(state)
}

pub(super) fn write_atomic(path: &Path, state: &State) -> Result<(), CryptoError> {
    write_file(path, &state.to_file())
}

pub(super) fn write_file(path: &Path, file: &KeyringFile) -> Result<(), CryptoError> {
    let text = Zeroizing::new(
        serde_json::to_string_pretty(file).map_err(|e| file_err(path, e.to_string()))?,
    );
    crate::keyfile::write_private(path, text.as_bytes(), crate::keyfile::Place::Replace)
        .map_err(|e| file_err(path, format!("cannot write: {e}")))
}
