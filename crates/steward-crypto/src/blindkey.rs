//! The blind-index key provider (issue 13 item 3): the HMAC-SHA-256 key of
//! the blind index, versioned, in its own file apart from the KEK keyring.
//!
//! The default, [`LocalBlindIndexKeys`], is one JSON file (mode 0600):
//!
//! ```json
//! {"format":"steward-blind-index-v1","current":2,
//!  "keys":[{"version":1,"created_at":"…","key":"<base64 of 32 bytes>"},
//!          {"version":2,"created_at":"…","key":"…"}]}
//! ```
//!
//! It holds one version, or two while a rotation is under way: the new,
//! current one (new index entries) and the previous one (entries not yet
//! re-indexed are still found under it). [`BlindIndexKeyProvider::destroy`]
//! removes the previous version from the file once every entry is
//! re-indexed. Like the keyring, the file is replaced atomically on every
//! change, and every use checks (one `stat`) whether another process
//! changed it, so a rotation made by the CLI is seen by a running server
//! before its next blind index.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::CryptoError;
use crate::keyring::generation::{FileId, file_id, writer_lock};

const FORMAT: &str = "steward-blind-index-v1";

/// One version of the blind-index key.
#[derive(Clone)]
pub struct BlindKey {
    /// The version number (1, 2, …).
    pub version: u32,
    /// When it was made (RFC 3339 UTC).
    pub created_at: String,
    key: Zeroizing<[u8; 32]>,
}

impl BlindKey {
    /// The 256-bit HMAC key.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

impl std::fmt::Debug for BlindKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlindKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The live versions of the blind-index key.
#[derive(Debug, Clone)]
pub struct BlindKeys {
    /// The version new index entries are made under.
    pub current: BlindKey,
    /// While a rotation is under way: the version being replaced, under
    /// which entries not yet re-indexed are still found.
    pub previous: Option<BlindKey>,
}

impl BlindKeys {
    /// Every live version, current first (the order lookups try them in).
    pub fn all(&self) -> Vec<&BlindKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .collect()
    }
}

/// A source of the blind-index key, apart from the key-encryption keys.
/// The default is [`LocalBlindIndexKeys`]; a KMS implements the same trait.
pub trait BlindIndexKeyProvider: Send + Sync {
    /// The live versions, as the provider holds them now.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when they cannot be read.
    fn keys(&self) -> Result<BlindKeys, CryptoError>;
    /// Start a rotation: mint version N+1 (random) and make it current,
    /// keeping N as `previous`. When one is already under way, nothing
    /// changes (the rotation is resumed). Returns the keys after.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the file cannot be written
    /// (then nothing changed).
    fn begin_rotation(&self) -> Result<BlindKeys, CryptoError>;
    /// Destroy version `version`, which must be the `previous` one: its
    /// material leaves the file and memory. Nothing to do when it is gone.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when `version` is current, or
    /// the file cannot be written.
    fn destroy(&self, version: u32) -> Result<(), CryptoError>;
}

/// A key version as the file holds it (wiped on drop).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Entry {
    version: u32,
    created_at: String,
    key: String,
}

/// The file's content, only while read or written (wiped on drop).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct KeyFile {
    format: String,
    current: u32,
    keys: Vec<Entry>,
}

/// The default blind-index key provider: one JSON file, mode 0600, created
/// on first use (from a key moved out of an older keyring, or random).
pub struct LocalBlindIndexKeys {
    path: PathBuf,
    loaded: Mutex<(FileId, BlindKeys)>,
}

impl std::fmt::Debug for LocalBlindIndexKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBlindIndexKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

use crate::keyfile::file_err as err;

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn random32() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut k[..]);
    k
}

impl LocalBlindIndexKeys {
    /// Open the key file at `path`, creating it (and its folder, 0700) with
    /// version 1 = `seed` (a key moved out of an older keyring), else a
    /// random key, when it does not exist. Two processes creating it at
    /// once end up with the same file.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the file cannot be created,
    /// read or parsed, or (Unix) is readable by group or others.
    pub fn open_or_create(
        path: &Path,
        seed: Option<&Zeroizing<[u8; 32]>>,
    ) -> Result<Self, CryptoError> {
        if !path.exists() {
            let key = seed.cloned().unwrap_or_else(random32);
            let file = KeyFile {
                format: FORMAT.into(),
                current: 1,
                keys: vec![Entry {
                    version: 1,
                    created_at: now_rfc3339(),
                    key: B64.encode(&key[..]),
                }],
            };
            write(path, &file, true)?;
        }
        let id = file_id(path)?;
        let keys = load(path)?;
        Ok(LocalBlindIndexKeys {
            path: path.to_owned(),
            loaded: Mutex::new((id, keys)),
        })
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, (FileId, BlindKeys)>, CryptoError> {
        self.loaded.lock().map_err(|_| {
            err(
                &self.path,
                "blind-index key lock poisoned by a failed thread; restart Steward",
            )
        })
    }

    /// Write `keys` (the writer lock held) and remember them.
    fn store(&self, keys: BlindKeys) -> Result<BlindKeys, CryptoError> {
        let file = KeyFile {
            format: FORMAT.into(),
            current: keys.current.version,
            keys: keys
                .previous
                .iter()
                .chain(std::iter::once(&keys.current))
                .map(|k| Entry {
                    version: k.version,
                    created_at: k.created_at.clone(),
                    key: B64.encode(&k.key[..]),
                })
                .collect(),
        };
        write(&self.path, &file, false)?;
        let id = file_id(&self.path)?;
        *self.lock()? = (id, keys.clone());
        Ok(keys)
    }
}

impl BlindIndexKeyProvider for LocalBlindIndexKeys {
    fn keys(&self) -> Result<BlindKeys, CryptoError> {
        let id = file_id(&self.path)?;
        let mut l = self.lock()?;
        if l.0 != id {
            *l = (id, load(&self.path)?);
        }
        Ok(l.1.clone())
    }

    fn begin_rotation(&self) -> Result<BlindKeys, CryptoError> {
        let _writer = writer_lock(&self.path)?;
        let now = self.keys()?;
        if now.previous.is_some() {
            return Ok(now);
        }
        let next = BlindKeys {
            current: BlindKey {
                version: now.current.version + 1,
                created_at: now_rfc3339(),
                key: random32(),
            },
            previous: Some(now.current),
        };
        self.store(next)
    }

    fn destroy(&self, version: u32) -> Result<(), CryptoError> {
        let _writer = writer_lock(&self.path)?;
        let now = self.keys()?;
        if now.current.version == version {
            return Err(err(
                &self.path,
                format!("blind-index key version {version} is current: it cannot be destroyed"),
            ));
        }
        if now.previous.as_ref().map(|p| p.version) != Some(version) {
            return Ok(());
        }
        self.store(BlindKeys {
            current: now.current,
            previous: None,
        })
        .map(|_| ())
    }
}

/// Read and check the file: owner-only mode (Unix), the format, a current
/// version present, and at most one older version.
fn load(path: &Path) -> Result<BlindKeys, CryptoError> {
    crate::keyfile::require_owner_only(path, "the blind-index key")?;
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| err(path, e.to_string()))?);
    let file: KeyFile = serde_json::from_str(&text)
        .map_err(|e| err(path, format!("not a Steward blind-index key file: {e}")))?;
    if file.format != FORMAT {
        return Err(err(
            path,
            format!("format `{}` is not {FORMAT}", file.format),
        ));
    }
    let mut current = None;
    let mut previous = None;
    for e in &file.keys {
        let k = Zeroizing::new(
            B64.decode(&e.key)
                .map_err(|_| err(path, format!("key v{} is not base64", e.version)))?,
        );
        let key: [u8; 32] = k
            .as_slice()
            .try_into()
            .map_err(|_| err(path, format!("key v{} must be 32 bytes", e.version)))?;
        let k = BlindKey {
            version: e.version,
            created_at: e.created_at.clone(),
            key: Zeroizing::new(key),
        };
        if e.version == file.current {
            current = Some(k);
        } else if e.version < file.current && previous.is_none() {
            previous = Some(k);
        } else {
            return Err(err(
                path,
                format!(
                    "key v{} is neither the current version {} nor the one previous version: restore the file from its backup",
                    e.version, file.current
                ),
            ));
        }
    }
    let current = current.ok_or_else(|| {
        err(
            path,
            format!(
                "the current version {} is missing: restore the file from its backup",
                file.current
            ),
        )
    })?;
    Ok(BlindKeys { current, previous })
}

/// Write `file` atomically, mode 0600 (folder 0700 when made), replacing
/// the file or (`create_only`) keeping one another process made first
/// ([`crate::keyfile::write_private`]).
fn write(path: &Path, file: &KeyFile, create_only: bool) -> Result<(), CryptoError> {
    let body =
        Zeroizing::new(serde_json::to_string_pretty(file).map_err(|e| err(path, e.to_string()))?);
    let place = if create_only {
        crate::keyfile::Place::CreateOnly
    } else {
        crate::keyfile::Place::Replace
    };
    crate::keyfile::write_private(path, body.as_bytes(), place)
        .map_err(|e| err(path, format!("cannot write: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13 item 3: a rotation keeps the old version until it is
    /// destroyed, another instance on the same file sees both, and the old
    /// key's bytes leave the file when destroyed.
    #[test]
    fn rotation_keeps_the_old_version_until_destroyed_then_it_leaves_the_file_issue13_item3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bi/keys.json");
        let seed = Zeroizing::new([7u8; 32]);
        let a = LocalBlindIndexKeys::open_or_create(&path, Some(&seed)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let k = a.keys().unwrap();
        assert_eq!((k.current.version, k.current.bytes()), (1, &[7u8; 32]));
        assert!(k.previous.is_none());
        let b = LocalBlindIndexKeys::open_or_create(&path, None).unwrap();
        let r = a.begin_rotation().unwrap();
        assert_eq!(r.current.version, 2);
        assert_ne!(r.current.bytes(), &[7u8; 32]);
        // A second begin resumes: nothing new is minted.
        let again = b.begin_rotation().unwrap();
        assert_eq!(again.current.bytes(), r.current.bytes());
        let seen = b.keys().unwrap();
        assert_eq!(seen.all().len(), 2);
        assert_eq!(seen.previous.as_ref().unwrap().bytes(), &[7u8; 32]);
        assert!(b.destroy(2).is_err(), "the current version stays");
        let made = seen.previous.as_ref().unwrap().created_at.clone();
        assert_eq!(
            made, k.current.created_at,
            "a rewrite keeps when v1 was made"
        );
        let old_b64 = B64.encode([7u8; 32]);
        assert!(fs::read_to_string(&path).unwrap().contains(&old_b64));
        b.destroy(1).unwrap();
        assert!(!fs::read_to_string(&path).unwrap().contains(&old_b64));
        let after = a.keys().unwrap();
        assert_eq!(after.current.version, 2);
        assert!(after.previous.is_none());
    }

    #[test]
    fn a_file_with_a_missing_current_version_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        LocalBlindIndexKeys::open_or_create(&path, None).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let bad = text.replace("\"current\": 1", "\"current\": 3");
        assert_ne!(bad, text);
        fs::write(&path, bad).unwrap();
        let e = LocalBlindIndexKeys::open_or_create(&path, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("restore the file from its backup"), "{e}");
    }
}
