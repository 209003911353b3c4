//! Where a checkpoint's signature comes from: the [`CheckpointSigner`]
//! provider trait. A file-backed key (steward-crypto's `FileSigner`), an
//! in-memory Ed25519 key (tests, tools) and a KMS or HSM client all implement
//! the same two methods, so the log never needs the private key itself.

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::checkpoint::{Checkpoint, CheckpointError, VerifierKey, key_id, note_with_signature};

/// A signer refused or failed to sign (a KMS that is unreachable, a key that
/// was disabled). The message names the provider and the key, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint signer failed: {0}")]
pub struct SignerError(pub String);

/// A provider of the log's Ed25519 checkpoint signature (c2sp.org/signed-note).
///
/// Implementations must be safe to share between threads: a store signs from
/// whichever thread commits.
pub trait CheckpointSigner: Send + Sync {
    /// The Ed25519 public key whose signatures this provider makes.
    fn public_key(&self) -> VerifyingKey;
    /// Signs `message` (the note text, final newline included).
    ///
    /// # Errors
    /// [`SignerError`] when the provider cannot sign now.
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError>;
}

/// An in-memory Ed25519 key is a signer (tests, tools, and the file provider).
impl CheckpointSigner for SigningKey {
    fn public_key(&self) -> VerifyingKey {
        self.verifying_key()
    }
    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        Ok(ed25519_dalek::Signer::sign(self, message))
    }
}

/// Why a note could not be signed through a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignNoteError {
    /// The text or key name breaks the signed-note rules.
    #[error(transparent)]
    Note(#[from] CheckpointError),
    /// The provider failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// Signs `text` under `name` through `signer` (see
/// [`sign_note`](crate::sign_note) for the rules on `text`).
///
/// # Errors
/// [`SignNoteError`].
pub fn sign_note_with(
    text: &str,
    signer: &dyn CheckpointSigner,
    name: &str,
) -> Result<String, SignNoteError> {
    let vk = VerifierKey::new(name, &signer.public_key())?;
    crate::checkpoint::check_note_text(text)?;
    let sig = signer.sign(text.as_bytes())?;
    // A provider returning a signature of another key would make a note no
    // verifier accepts: refuse it here rather than store it.
    if vk
        .verifying_key()
        .verify_strict(text.as_bytes(), &sig)
        .is_err()
    {
        return Err(SignerError(format!(
            "the signature returned for key {name}+{:08x} does not verify under its public key",
            key_id(name, &signer.public_key())
        ))
        .into());
    }
    Ok(note_with_signature(text, name, vk.key_id(), &sig))
}

impl Checkpoint {
    /// Signs the checkpoint through a [`CheckpointSigner`] provider (a key
    /// file, a KMS, an HSM) under the key name `name`.
    ///
    /// # Errors
    /// [`SignNoteError`]: a bad body or key name, or the provider failed.
    pub fn sign_with(
        &self,
        signer: &dyn CheckpointSigner,
        name: &str,
    ) -> Result<String, SignNoteError> {
        sign_note_with(&self.body()?, signer, name)
    }
}
