//! Envelope encryption and the blind index.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use steward_domain::{Category, IdentifierKind, RecordId, SubjectId, SubjectIdentifier};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::CryptoError;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A 256-bit AES-GCM data key (DEK) of one data subject. Zeroised on drop;
/// `Debug` prints nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

impl DataKey {
    /// A fresh random data key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        DataKey(k)
    }
    /// Wrap raw key bytes (from an unwrapped DEK).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }
    /// The raw key bytes (for wrapping only).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// A sealer with the key schedule expanded once, to seal or open many records.
    pub fn sealer(&self) -> Sealer {
        Sealer {
            cipher: Aes256Gcm::new((&self.0).into()),
        }
    }
}

/// A wrapped DEK as stored: the KEK version and `nonce(12) || ciphertext || tag(16)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedKey {
    /// The KEK version that wraps it.
    pub kek_version: u32,
    /// The wrapped bytes.
    pub bytes: Vec<u8>,
}

/// Additional authenticated data that binds a record's ciphertext to its row:
/// record id, subject, category and data-key version.
#[derive(Debug, Clone, Copy)]
pub struct RecordAad {
    /// The record's id.
    pub record: RecordId,
    /// The record's data subject.
    pub subject: SubjectId,
    /// The record's category.
    pub category: Category,
    /// The data key's version (1 unless the subject was re-keyed).
    pub key_version: u32,
}

impl RecordAad {
    /// The AAD bytes: `"steward.record.v1" 0x00 record(8, BE) subject(8, BE) category 0x00 key_version(4, BE)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(48);
        v.extend_from_slice(b"steward.record.v1\0");
        v.extend_from_slice(&self.record.0.to_be_bytes());
        v.extend_from_slice(&self.subject.0.to_be_bytes());
        v.extend_from_slice(self.category.as_str().as_bytes());
        v.push(0);
        v.extend_from_slice(&self.key_version.to_be_bytes());
        v
    }
}

/// AAD that binds an encrypted external identifier to its subject and kind.
#[derive(Debug, Clone, Copy)]
pub struct IdentifierAad {
    /// The subject the identifier belongs to.
    pub subject: SubjectId,
    /// The identifier's kind.
    pub kind: IdentifierKind,
}

impl IdentifierAad {
    /// The AAD bytes: `"steward.identifier.v1" 0x00 subject(8, BE) kind`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(40);
        v.extend_from_slice(b"steward.identifier.v1\0");
        v.extend_from_slice(&self.subject.0.to_be_bytes());
        v.extend_from_slice(self.kind.as_str().as_bytes());
        v
    }

    /// The v2 AAD bytes, which also bind the identifier row's blind index
    /// (issue 13 item 6): `"steward.identifier.v2" 0x00 subject(8, BE) kind
    /// 0x00 blind(32)`. A sealed value copied to another row of the index
    /// (another blind index, another subject) no longer opens.
    pub fn to_bytes_v2(&self, blind: &BlindIndex) -> Vec<u8> {
        let mut v = Vec::with_capacity(80);
        v.extend_from_slice(b"steward.identifier.v2\0");
        v.extend_from_slice(&self.subject.0.to_be_bytes());
        v.extend_from_slice(self.kind.as_str().as_bytes());
        v.push(0);
        v.extend_from_slice(blind);
        v
    }
}

/// AES-256-GCM with an expanded key: seals and opens with a fresh random
/// 96-bit nonce per message (NIST SP 800-38D §8.2.2; one key per subject keeps
/// the count of messages per key far below 2^32).
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<secret>)")
    }
}

impl Sealer {
    /// Seal `plaintext` bound to `aad`. Output: `nonce(12) || ciphertext || tag(16)`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        // INVARIANT: AES-GCM encryption fails only for messages over 64 GiB,
        // far beyond any record or key Steward seals (records are capped at 1 MiB).
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        out.extend_from_slice(&ct);
        out
    }

    /// Open a `nonce || ciphertext || tag` sealed with the same key and `aad`.
    ///
    /// Errors: [`CryptoError::Truncated`], [`CryptoError::Open`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Truncated { len: sealed.len() });
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Open)
    }
}

/// A blind-index value: HMAC-SHA-256 of an identifier under the blind-index key.
pub type BlindIndex = [u8; 32];

/// Compute the blind index of `id` under `key` (HMAC-SHA-256, RFC 2104) over
/// [`SubjectIdentifier::index_input`].
pub fn blind_index(key: &[u8; 32], id: &SubjectIdentifier) -> BlindIndex {
    blind_index_in(key, id, None)
}

/// Compute the blind index of `id` in the namespace of organisation
/// `tenant` (`None`: the global namespace) under `key` (HMAC-SHA-256, RFC
/// 2104) over [`SubjectIdentifier::index_input_in`] (issue 15 item 2).
pub fn blind_index_in(key: &[u8; 32], id: &SubjectIdentifier, tenant: Option<&str>) -> BlindIndex {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&id.index_input_in(tenant));
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(record: i64, subject: i64, category: Category) -> Vec<u8> {
        RecordAad {
            record: RecordId(record),
            subject: SubjectId(subject),
            category,
            key_version: 1,
        }
        .to_bytes()
    }

    #[test]
    fn sealed_record_opens_only_with_its_own_aad_n5_2() {
        let s = DataKey::generate().sealer();
        let ct = s.seal(&aad(1, 7, Category::Usage), b"hello");
        assert_eq!(ct.len(), 12 + 5 + 16);
        assert_eq!(s.open(&aad(1, 7, Category::Usage), &ct).unwrap(), b"hello");
        assert!(matches!(
            s.open(&aad(2, 7, Category::Usage), &ct),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            s.open(&aad(1, 8, Category::Usage), &ct),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            s.open(&aad(1, 7, Category::Billing), &ct),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            DataKey::generate()
                .sealer()
                .open(&aad(1, 7, Category::Usage), &ct),
            Err(CryptoError::Open)
        ));
        assert!(matches!(
            s.open(b"", &ct[..20]),
            Err(CryptoError::Truncated { len: 20 })
        ));
    }

    #[test]
    fn aes_gcm_matches_nist_vector() {
        // NIST GCM test vector (gcmEncryptExtIV256.rsp, Count = 0, Keylen 256, IVlen 96,
        // PTlen 128, AADlen 0): Key 31bdadd9..., IV 3caf4f7f..., CT a88a7a84...
        // We check through aes-gcm directly that the crate is the real thing.
        let key: [u8; 32] =
            hex32("31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22");
        let iv = hex_bytes("0d18e06c7c725ac9e362e1ce");
        let pt = hex_bytes("2db5168e932556f8089a0622981d017d");
        let cipher = Aes256Gcm::new((&key).into());
        let out = cipher
            .encrypt(Nonce::from_slice(&iv), pt.as_slice())
            .unwrap();
        assert_eq!(out[..16], hex_bytes("fa4362189661d163fcd6a56d8bf0405a")[..]);
        assert_eq!(out[16..], hex_bytes("d636ac1bbedd5cc3ee727dc2ab4a9489")[..]);
    }

    #[test]
    fn blind_index_is_keyed_and_typed() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        let a = SubjectIdentifier::new(IdentifierKind::Username, "root").unwrap();
        let b = SubjectIdentifier::new(IdentifierKind::DeviceId, "root").unwrap();
        assert_ne!(blind_index(&k1, &a), blind_index(&k2, &a));
        assert_ne!(blind_index(&k1, &a), blind_index(&k1, &b));
        assert_eq!(blind_index(&k1, &a), blind_index(&k1, &a));
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    fn hex32(s: &str) -> [u8; 32] {
        hex_bytes(s).try_into().unwrap()
    }
}
