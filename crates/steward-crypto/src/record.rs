//! Records sealed in format v2 (issue 13 items 6 and 9).
//!
//! - **A key per record** (item 9): each record is sealed under its own key,
//!   HKDF-SHA256 (RFC 5869) of the subject's data key with salt
//!   `steward.record-key.v2` and the record id (8 bytes, big-endian) as
//!   info. One key then seals one message (a rectification writes a new
//!   record id), so the random 96-bit nonces never approach the 2^32
//!   messages per key of NIST SP 800-38D §8.3, however busy the subject.
//! - **Metadata bound** (item 6): the AAD ([`RecordAadV2`]) binds the kind,
//!   the product and the stored time besides record id, subject, category
//!   and key version: retention and legal holds are driven by them, so a
//!   row whose kind or stored time was changed no longer opens.
//!
//! Stored bytes: `RECORD_V2_HEADER(4) || nonce(12) || ciphertext || tag(16)`.
//! Records sealed before v2 (`nonce || ciphertext || tag` under the data key
//! itself, [`RecordAad`]) still open: [`DataKey::open_record`] reads both.

use hkdf::Hkdf;
use sha2::Sha256;
use steward_domain::{Category, RecordId, SubjectId};

use crate::CryptoError;
use crate::envelope::{DataKey, RecordAad};

/// The first bytes of a v2 sealed record. A v1 record starts with a random
/// nonce, which begins with these bytes once in 2^32 records: such a record
/// is still opened, as v1, when it does not open as v2.
pub const RECORD_V2_HEADER: [u8; 4] = *b"\xffsr2";

const RECORD_KEY_SALT: &[u8] = b"steward.record-key.v2";

/// The AAD of a v2 record: everything of its row that decides what is done
/// with it.
#[derive(Debug, Clone, Copy)]
pub struct RecordAadV2<'a> {
    /// The record's id.
    pub record: RecordId,
    /// The record's data subject.
    pub subject: SubjectId,
    /// The record's category.
    pub category: Category,
    /// The record's kind (`usage.authentication`).
    pub kind: &'a str,
    /// The record's product (N1.1).
    pub product: &'a str,
    /// When it was stored (ms since the Unix epoch): retention counts from it.
    pub stored_at_ms: i64,
    /// The data key's version (1 unless the subject was re-keyed; a hold key's version for held records).
    pub key_version: u32,
}

impl RecordAadV2<'_> {
    /// The AAD bytes: `"steward.record.v2" 0x00 record(8, BE) subject(8, BE)
    /// category 0x00 kind 0x00 product 0x00 stored_at_ms(8, BE) key_version(4, BE)`.
    /// Category, kind and product are closed vocabularies without 0x00.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(96);
        v.extend_from_slice(b"steward.record.v2\0");
        v.extend_from_slice(&self.record.0.to_be_bytes());
        v.extend_from_slice(&self.subject.0.to_be_bytes());
        for s in [self.category.as_str(), self.kind, self.product] {
            v.extend_from_slice(s.as_bytes());
            v.push(0);
        }
        v.extend_from_slice(&self.stored_at_ms.to_be_bytes());
        v.extend_from_slice(&self.key_version.to_be_bytes());
        v
    }

    /// The v1 AAD of the same row, to open records sealed before v2.
    pub fn v1(&self) -> RecordAad {
        RecordAad {
            record: self.record,
            subject: self.subject,
            category: self.category,
            key_version: self.key_version,
        }
    }
}

/// The HKDF pseudorandom key (RFC 5869 §2.2, the extract step) of one
/// data key, from which each record's key is expanded: a subject's many
/// records pay for the extract once. Wiped when dropped.
#[derive(Clone)]
pub struct RecordKeys {
    prk: zeroize::Zeroizing<[u8; 32]>,
}

impl RecordKeys {
    /// The key of record `record` (see [`DataKey::record_key`]).
    ///
    /// Errors: [`CryptoError::Open`] if HKDF refused the lengths (it cannot
    /// for 32 bytes).
    pub fn record_key(&self, record: RecordId) -> Result<DataKey, CryptoError> {
        let hk = Hkdf::<Sha256>::from_prk(&self.prk[..]).map_err(|_| CryptoError::Open)?;
        let mut okm = zeroize::Zeroizing::new([0u8; 32]);
        hk.expand(&record.0.to_be_bytes(), &mut okm[..])
            .map_err(|_| CryptoError::Open)?;
        Ok(DataKey::from_bytes(*okm))
    }

    /// Seal a record body in format v2 (see [`DataKey::seal_record`]).
    ///
    /// Errors: as [`RecordKeys::record_key`].
    pub fn seal_record(&self, aad: &RecordAadV2<'_>, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sealed = self
            .record_key(aad.record)?
            .sealer()
            .seal(&aad.to_bytes(), plain);
        let mut out = Vec::with_capacity(RECORD_V2_HEADER.len() + sealed.len());
        out.extend_from_slice(&RECORD_V2_HEADER);
        out.extend_from_slice(&sealed);
        Ok(out)
    }
}

impl DataKey {
    /// The extract step of this key's record keys, for sealing many
    /// records ([`RecordKeys`]).
    pub fn record_keys(&self) -> RecordKeys {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(RECORD_KEY_SALT), self.as_bytes());
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&prk);
        RecordKeys { prk: bytes }
    }

    /// The key of record `record`: HKDF-SHA256 of this data key, salt
    /// `steward.record-key.v2`, info the record id (8 bytes, big-endian).
    ///
    /// Errors: [`CryptoError::Open`] if HKDF refused the length (it cannot
    /// for 32 bytes; never a default key).
    pub fn record_key(&self, record: RecordId) -> Result<DataKey, CryptoError> {
        self.record_keys().record_key(record)
    }

    /// Seal a record body in format v2: under the record's own key
    /// ([`DataKey::record_key`]), bound to `aad`.
    ///
    /// Errors: as [`DataKey::record_key`].
    pub fn seal_record(&self, aad: &RecordAadV2<'_>, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.record_keys().seal_record(aad, plain)
    }

    /// Open a record sealed by [`DataKey::seal_record`] (v2) or, stored
    /// before v2, under this data key with the row's v1 AAD.
    ///
    /// Errors: [`CryptoError::Open`] when it opens as neither (wrong key,
    /// moved to another row, its kind, product or stored time changed, or
    /// tampered); [`CryptoError::Truncated`].
    pub fn open_record(
        &self,
        aad: &RecordAadV2<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if let Some(rest) = sealed.strip_prefix(&RECORD_V2_HEADER) {
            let v2 = self
                .record_key(aad.record)?
                .sealer()
                .open(&aad.to_bytes(), rest);
            if v2.is_ok() {
                return v2;
            }
            // A v1 nonce that happens to start with the header (1 in 2^32).
            return self.sealer().open(&aad.v1().to_bytes(), sealed).or(v2);
        }
        self.sealer().open(&aad.v1().to_bytes(), sealed)
    }
}

#[cfg(test)]
mod tests;
