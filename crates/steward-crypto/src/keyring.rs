//! The keyring: KEKs by version, the blind-index key and the audit signing key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use steward_domain::SubjectId;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::envelope::{DataKey, SealedKey};

/// What a keyring says about one KEK version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KekInfo {
    /// The version number (1, 2, ...).
    pub version: u32,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Whether it is retired: a retired KEK's material is destroyed, so DEKs
    /// (and backups) still wrapped under it can no longer be opened.
    pub retired: bool,
}

/// A source of key-encryption keys and of Steward's other long-lived keys.
/// The default is [`LocalKeyring`]; a KMS or HSM implements the same trait.
pub trait KeyringProvider: Send + Sync {
    /// The KEK version new DEKs are wrapped under.
    fn current_kek_version(&self) -> u32;
    /// Wrap a subject's DEK under the current KEK (AES-256-GCM, AAD binds the subject and KEK version).
    fn wrap(&self, subject: SubjectId, dek: &DataKey) -> Result<SealedKey, CryptoError>;
    /// Unwrap a DEK. Errors: [`CryptoError::UnknownKek`] if its KEK version is retired, [`CryptoError::Open`].
    fn unwrap(&self, subject: SubjectId, sealed: &SealedKey) -> Result<DataKey, CryptoError>;
    /// Make a new KEK version current; older versions keep unwrapping until retired.
    fn rotate(&self) -> Result<u32, CryptoError>;
    /// Destroy a KEK version's material. The current version cannot be retired.
    fn retire(&self, version: u32) -> Result<(), CryptoError>;
    /// All KEK versions, oldest first.
    fn keks(&self) -> Vec<KekInfo>;
    /// The 256-bit blind-index (HMAC) key, separate from every encryption key.
    fn blind_index_key(&self) -> [u8; 32];
    /// The Ed25519 key that signs audit checkpoints.
    fn audit_signing_key(&self) -> SigningKey;
}

#[derive(Serialize, Deserialize)]
struct KekEntry {
    version: u32,
    created_at: String,
    retired: bool,
    /// base64 of 32 bytes; empty when retired.
    key: String,
}

#[derive(Serialize, Deserialize)]
struct KeyringFile {
    format: String,
    current: u32,
    keks: Vec<KekEntry>,
    blind_index_key: String,
    audit_signing_seed: String,
}

const FORMAT: &str = "steward-keyring-v1";

/// The default keyring: one JSON file (mode 0600) holding the KEKs by version,
/// the blind-index key and the audit signing seed, created on first use.
/// Writes are atomic (write a temporary file, fsync, rename).
pub struct LocalKeyring {
    path: PathBuf,
    state: RwLock<KeyringFile>,
}

impl std::fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn random32() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::rng().fill_bytes(&mut k);
    k
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn file_err(path: &Path, reason: impl Into<String>) -> CryptoError {
    CryptoError::KeyringFile {
        path: path.display().to_string(),
        reason: reason.into(),
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

impl LocalKeyring {
    /// Open the keyring at `path`, creating it (and its parent folder) with
    /// fresh random keys and mode 0600 if it does not exist.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the file cannot be read,
    /// written or parsed, or (Unix) is readable by group or others.
    pub fn open_or_create(path: &Path) -> Result<Self, CryptoError> {
        if !path.exists() {
            let file = KeyringFile {
                format: FORMAT.into(),
                current: 1,
                keks: vec![KekEntry {
                    version: 1,
                    created_at: now_rfc3339(),
                    retired: false,
                    key: B64.encode(random32()),
                }],
                blind_index_key: B64.encode(random32()),
                audit_signing_seed: B64.encode(random32()),
            };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)
                    .map_err(|e| file_err(path, format!("cannot create its folder: {e}")))?;
            }
            write_atomic(path, &file)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(|e| file_err(path, e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(file_err(
                    path,
                    format!(
                        "mode {:o} lets others read the keys; run `chmod 600 {}`",
                        mode & 0o777,
                        path.display()
                    ),
                ));
            }
        }
        let text =
            Zeroizing::new(fs::read_to_string(path).map_err(|e| file_err(path, e.to_string()))?);
        let file: KeyringFile = serde_json::from_str(&text)
            .map_err(|e| file_err(path, format!("not a Steward keyring: {e}")))?;
        if file.format != FORMAT {
            return Err(file_err(
                path,
                format!("format `{}` is not {FORMAT}", file.format),
            ));
        }
        decode32(path, "blind_index_key", &file.blind_index_key)?;
        decode32(path, "audit_signing_seed", &file.audit_signing_seed)?;
        if !file
            .keks
            .iter()
            .any(|k| k.version == file.current && !k.retired)
        {
            return Err(file_err(
                path,
                "the current KEK version is missing or retired",
            ));
        }
        Ok(LocalKeyring {
            path: path.to_owned(),
            state: RwLock::new(file),
        })
    }

    fn kek(&self, version: u32) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let st = self
            .state
            .read()
            .map_err(|_| file_err(&self.path, "keyring lock poisoned"))?;
        let e = st
            .keks
            .iter()
            .find(|k| k.version == version && !k.retired)
            .ok_or(CryptoError::UnknownKek { version })?;
        decode32(&self.path, "kek", &e.key)
    }
}

fn write_atomic(path: &Path, file: &KeyringFile) -> Result<(), CryptoError> {
    let tmp = path.with_extension("tmp");
    let text = Zeroizing::new(
        serde_json::to_string_pretty(file).map_err(|e| file_err(path, e.to_string()))?,
    );
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| file_err(path, format!("cannot write: {e}")))?;
    f.write_all(text.as_bytes())
        .map_err(|e| file_err(path, e.to_string()))?;
    f.sync_all().map_err(|e| file_err(path, e.to_string()))?;
    fs::rename(&tmp, path).map_err(|e| file_err(path, e.to_string()))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn dek_aad(subject: SubjectId, version: u32) -> Vec<u8> {
    let mut v = b"steward.dek.v1\0".to_vec();
    v.extend_from_slice(&subject.0.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v
}

impl KeyringProvider for LocalKeyring {
    fn current_kek_version(&self) -> u32 {
        self.state.read().map(|s| s.current).unwrap_or(0)
    }

    fn wrap(&self, subject: SubjectId, dek: &DataKey) -> Result<SealedKey, CryptoError> {
        let version = self.current_kek_version();
        let kek = DataKey::from_bytes(*self.kek(version)?);
        let bytes = kek
            .sealer()
            .seal(&dek_aad(subject, version), dek.as_bytes());
        Ok(SealedKey {
            kek_version: version,
            bytes,
        })
    }

    fn unwrap(&self, subject: SubjectId, sealed: &SealedKey) -> Result<DataKey, CryptoError> {
        let kek = DataKey::from_bytes(*self.kek(sealed.kek_version)?);
        let raw = Zeroizing::new(
            kek.sealer()
                .open(&dek_aad(subject, sealed.kek_version), &sealed.bytes)?,
        );
        let arr: [u8; 32] = raw.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(DataKey::from_bytes(arr))
    }

    fn rotate(&self) -> Result<u32, CryptoError> {
        let mut st = self
            .state
            .write()
            .map_err(|_| file_err(&self.path, "keyring lock poisoned"))?;
        let next = st.keks.iter().map(|k| k.version).max().unwrap_or(0) + 1;
        st.keks.push(KekEntry {
            version: next,
            created_at: now_rfc3339(),
            retired: false,
            key: B64.encode(random32()),
        });
        let old = st.current;
        st.current = next;
        if let Err(e) = write_atomic(&self.path, &st) {
            st.current = old;
            st.keks.pop();
            return Err(e);
        }
        Ok(next)
    }

    fn retire(&self, version: u32) -> Result<(), CryptoError> {
        let mut st = self
            .state
            .write()
            .map_err(|_| file_err(&self.path, "keyring lock poisoned"))?;
        if st.current == version {
            return Err(file_err(
                &self.path,
                format!("KEK version {version} is current; rotate first"),
            ));
        }
        let e = st
            .keks
            .iter_mut()
            .find(|k| k.version == version && !k.retired)
            .ok_or(CryptoError::UnknownKek { version })?;
        e.retired = true;
        e.key.clear();
        write_atomic(&self.path, &st)
    }

    fn keks(&self) -> Vec<KekInfo> {
        self.state
            .read()
            .map(|s| {
                s.keks
                    .iter()
                    .map(|k| KekInfo {
                        version: k.version,
                        created_at: k.created_at.clone(),
                        retired: k.retired,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn blind_index_key(&self) -> [u8; 32] {
        // INVARIANT: validated in open_or_create.
        self.state
            .read()
            .ok()
            .and_then(|s| decode32(&self.path, "blind_index_key", &s.blind_index_key).ok())
            .map(|k| *k)
            .unwrap_or([0; 32])
    }

    fn audit_signing_key(&self) -> SigningKey {
        // INVARIANT: validated in open_or_create.
        let seed = self
            .state
            .read()
            .ok()
            .and_then(|s| decode32(&self.path, "audit_signing_seed", &s.audit_signing_seed).ok())
            .map(|k| *k)
            .unwrap_or([0; 32]);
        SigningKey::from_bytes(&seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_with_0600_and_rotation_keeps_old_versions_until_retired_n5_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/keyring.json");
        let kr = LocalKeyring::open_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let subject = SubjectId(42);
        let dek = DataKey::generate();
        let w1 = kr.wrap(subject, &dek).unwrap();
        assert_eq!(w1.kek_version, 1);
        assert_eq!(kr.rotate().unwrap(), 2);
        // Reopen from disk: the rotation persisted, v1 still unwraps.
        let kr = LocalKeyring::open_or_create(&path).unwrap();
        assert_eq!(kr.current_kek_version(), 2);
        assert_eq!(kr.unwrap(subject, &w1).unwrap().as_bytes(), dek.as_bytes());
        let w2 = kr.wrap(subject, &dek).unwrap();
        assert_eq!(w2.kek_version, 2);
        // A DEK wrapped for one subject does not unwrap as another's.
        assert!(matches!(
            kr.unwrap(SubjectId(43), &w2),
            Err(CryptoError::Open)
        ));
        assert!(kr.retire(2).is_err(), "current version cannot be retired");
        kr.retire(1).unwrap();
        assert!(matches!(
            kr.unwrap(subject, &w1),
            Err(CryptoError::UnknownKek { version: 1 })
        ));
        assert_eq!(kr.unwrap(subject, &w2).unwrap().as_bytes(), dek.as_bytes());
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&B64.encode(dek.as_bytes())),
            "DEKs never reach the keyring file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_keyring_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        LocalKeyring::open_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = LocalKeyring::open_or_create(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
