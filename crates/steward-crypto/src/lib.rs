//! Steward's cryptography, built only from well-kept crates (RustCrypto's
//! `aes-gcm`, `hmac`, `sha2`; `ed25519-dalek`): no hand-written primitives.
//!
//! - **Envelope encryption** (N5.2): one AES-256-GCM data key (DEK) per data
//!   subject, stored only wrapped by a key-encryption key (KEK) from a
//!   [`KeyringProvider`]. Records are sealed under the DEK with an AAD that
//!   binds the ciphertext to its record id, subject, category and key version
//!   ([`RecordAad`]): a ciphertext copied into another row does not open.
//! - **Crypto-shredding** (N8.8): destroying a subject's wrapped DEK makes all
//!   of their ciphertexts unreadable.
//! - **Blind index**: HMAC-SHA-256 under its own key, separate from every
//!   encryption key, so identifiers are found without being stored in clear.
//!   The key comes from its own provider ([`BlindIndexKeyProvider`], by
//!   default [`LocalBlindIndexKeys`], a file apart from the keyring),
//!   versioned so that it can be rotated (issue 13 item 3).
//! - **Signing**: [`FileSigner`], the default provider of the Ed25519 key that
//!   signs audit checkpoints: a 0600 file outside the data directory (the
//!   keyring's own `audit_signing_seed` is no longer used for checkpoints).
//!
//! The default provider, [`LocalKeyring`], keeps its keys in one JSON file
//! created on first use with mode 0600. A KMS or HSM provider implements the
//! same trait.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod blindkey;
mod envelope;
mod keyfile;
mod keyring;
mod record;
mod signer;

pub use blindkey::{BlindIndexKeyProvider, BlindKey, BlindKeys, LocalBlindIndexKeys};
pub use envelope::{
    BlindIndex, DataKey, IdentifierAad, RecordAad, SealedKey, Sealer, blind_index, blind_index_in,
};
pub use keyring::{GENERATION_GRACE, KekInfo, KeyringProvider, LocalKeyring};
pub use record::{RECORD_V2_HEADER, RecordAadV2, RecordKeys};
pub use signer::FileSigner;
/// Zeroizing buffers, as [`KeyringProvider`] hands out key material.
pub use zeroize::Zeroizing;

use thiserror::Error;

/// Errors of Steward's cryptography. Messages never include key material or plaintext.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong AAD (the ciphertext was moved
    /// to another row, subject or category) or tampered bytes.
    #[error("ciphertext does not open: wrong key, moved to another record, or tampered")]
    Open,
    /// The ciphertext is shorter than a nonce and a tag.
    #[error("ciphertext is truncated ({len} bytes; at least 28 needed)")]
    Truncated {
        /// The length found.
        len: usize,
    },
    /// A KEK version that the keyring does not hold (retired or never made).
    #[error("key-encryption key version {version} is not in the keyring (retired or unknown)")]
    UnknownKek {
        /// The version asked for.
        version: u32,
    },
    /// The keyring file could not be read or written.
    #[error("keyring file {path}: {reason}")]
    KeyringFile {
        /// The file.
        path: String,
        /// What went wrong and how to fix it.
        reason: String,
    },
}
