//! [`FileSigner`]: the default [`CheckpointSigner`] provider, an Ed25519 key
//! in a 0600 file that lives outside the data directory (by default
//! `~/.config/steward/checkpoint-signing.key`), so whoever can write the data
//! directory cannot re-sign a rewritten audit log (issue 13, item 4).

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use steward_audit::{CheckpointSigner, SignerError};
use zeroize::Zeroizing;

use crate::CryptoError;

const HEADER: &str = "steward-checkpoint-signing-key/v1";

/// An Ed25519 checkpoint signing key kept in one file (mode 0600), created
/// with a fresh random key on first use.
pub struct FileSigner {
    path: PathBuf,
    key: SigningKey,
}

impl std::fmt::Debug for FileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSigner")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

use crate::keyfile::file_err as err;

impl FileSigner {
    /// Opens the key file at `path`, creating it (and its folder, 0700) with a
    /// fresh random key and mode 0600 when it does not exist. Two processes
    /// creating it at once end up with the same key.
    ///
    /// # Errors
    /// [`CryptoError::KeyringFile`] when the file cannot be created or read,
    /// is not a Steward signing key, or (Unix) is readable by group or others.
    pub fn open_or_create(path: &Path) -> Result<Self, CryptoError> {
        if !path.exists() {
            create(path)?;
        }
        crate::keyfile::require_owner_only(path, "the checkpoint signing key")?;
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| err(path, e.to_string()))?);
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(err(
                path,
                format!("not a Steward checkpoint signing key (first line must be `{HEADER}`)"),
            ));
        }
        let seed = Zeroizing::new(
            B64.decode(lines.next().unwrap_or_default())
                .map_err(|_| err(path, "line 2 is not base64"))?,
        );
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.as_slice()
                .try_into()
                .map_err(|_| err(path, "line 2 must hold 32 bytes"))?,
        );
        Ok(Self {
            path: path.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes a new key to a private temporary file, then links it into place:
/// the link fails if another process made the file first, and theirs is kept.
fn create(path: &Path) -> Result<(), CryptoError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed[..]);
    let body = Zeroizing::new(format!("{HEADER}\n{}\n", B64.encode(&seed[..])));
    crate::keyfile::write_private(path, body.as_bytes(), crate::keyfile::Place::CreateOnly)
        .map_err(|e| err(path, format!("cannot create the key file: {e}")))
}

impl CheckpointSigner for FileSigner {
    fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        Ok(ed25519_dalek::Signer::sign(&self.key, message))
    }
}
