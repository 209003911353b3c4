//! The keyring: KEKs by version (and the audit signing seed). The blind-index
//! key lives apart, in [`crate::BlindIndexKeyProvider`] (issue 13 item 3): a
//! keyring file written before still holds it until it is migrated.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use steward_domain::SubjectId;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::envelope::{DataKey, SealedKey};

mod file;
pub(crate) mod generation;
use file::{FORMAT, Kek, KekEntry, KeyringFile, State, load, write_atomic, write_file};
use generation::{FileId, check_nobody_on_or_before, file_id, hold_generation, writer_lock};

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
    /// The blind-index (HMAC) key a keyring written before issue 13 item 3
    /// still holds, to be moved once into the blind-index key provider
    /// ([`crate::BlindIndexKeyProvider`]); `None` when it holds none (the
    /// default for a provider that never held one).
    ///
    /// Errors: [`CryptoError::KeyringFile`] when it cannot be read (a
    /// poisoned lock): never a fallback key (issue 13 item 10).
    fn legacy_blind_index_key(&self) -> Result<Option<Zeroizing<[u8; 32]>>, CryptoError> {
        Ok(None)
    }
    /// Remove the legacy blind-index key from the keyring, once the
    /// blind-index key provider holds it (issue 13 item 3). Nothing to do
    /// by default.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the keyring cannot be written.
    fn forget_legacy_blind_index_key(&self) -> Result<(), CryptoError> {
        Ok(())
    }
    /// The Ed25519 key that signs audit checkpoints.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the key cannot be read (a
    /// poisoned lock): never a fallback key (issue 13 item 10).
    fn audit_signing_key(&self) -> Result<SigningKey, CryptoError>;
}

/// The default keyring: one JSON file (mode 0600) holding the KEKs by version
/// and the audit signing seed, created on first use (the blind-index key is
/// not in it: [`crate::LocalBlindIndexKeys`]).
/// Writes are atomic (write a temporary file, fsync, rename).
pub struct LocalKeyring {
    path: PathBuf,
    state: RwLock<State>,
    /// The file as last read, and this process's generation lock
    /// ([`generation`], issue 13 item 2).
    loaded: Mutex<Loaded>,
    /// How long a generation's lock is kept after this process moved past
    /// it: longer than any batch that wraps keys and then commits them.
    grace: std::time::Duration,
}

/// The default [`LocalKeyring::open_with_grace`] grace: 60 s.
pub const GENERATION_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// What this process last read of the file.
struct Loaded {
    id: FileId,
    generation: u32,
    /// The shared lock on `<keyring>.gen-<generation>.lock`.
    _lock: fs::File,
    /// Generations this process moved past, with their locks, kept for the
    /// grace after it did: a batch may still commit keys it wrapped under
    /// them (issue 13 item 2).
    previous: Vec<(u32, fs::File, std::time::Instant)>,
}

impl std::fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn random32() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(&mut k[..]);
    k
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

use crate::keyfile::file_err;
impl LocalKeyring {
    /// Open the keyring at `path`, creating it (and its parent folder) with
    /// fresh random keys and mode 0600 if it does not exist.
    ///
    /// Errors: [`CryptoError::KeyringFile`] when the file cannot be read,
    /// written or parsed, or (Unix) is readable by group or others.
    pub fn open_or_create(path: &Path) -> Result<Self, CryptoError> {
        Self::open_with_grace(path, GENERATION_GRACE)
    }

    /// [`LocalKeyring::open_or_create`], keeping a generation's lock for
    /// `grace` after this process saw a newer one, so that no other process
    /// retires a KEK version this one may still have wrapped a key under
    /// that it has not committed yet (issue 13 item 2).
    pub fn open_with_grace(path: &Path, grace: std::time::Duration) -> Result<Self, CryptoError> {
        if !path.exists() {
            let file = KeyringFile {
                format: FORMAT.into(),
                current: 1,
                keks: vec![KekEntry {
                    version: 1,
                    created_at: now_rfc3339(),
                    retired: false,
                    key: B64.encode(&random32()[..]),
                }],
                blind_index_key: String::new(),
                audit_signing_seed: B64.encode(&random32()[..]),
            };
            if let Some(dir) = path.parent().filter(|d| !d.exists()) {
                // Issue 13 item 7: the keyring's folder is the owner's only.
                let mut b = fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(dir)
                    .map_err(|e| file_err(path, format!("cannot create its folder: {e}")))?;
            }
            write_file(path, &file)?;
        }
        // The identity first: a change after it is read again on next use.
        let id = file_id(path)?;
        let state = load(path)?;
        let lock = hold_generation(path, state.current)?;
        Ok(LocalKeyring {
            path: path.to_owned(),
            loaded: Mutex::new(Loaded {
                id,
                generation: state.current,
                _lock: lock,
                previous: Vec::new(),
            }),
            state: RwLock::new(state),
            grace,
        })
    }

    /// Read the file again when it changed since this process last read it
    /// (another process rotated or retired a KEK): every wrap and unwrap
    /// sees a rotation first (issue 13 item 2). One `stat` when nothing
    /// changed.
    ///
    /// Errors: the file cannot be read or parsed; a poisoned lock.
    fn refresh(&self) -> Result<(), CryptoError> {
        let id = file_id(&self.path)?;
        let mut loaded = self.loaded.lock().map_err(|_| {
            file_err(
                &self.path,
                "keyring lock poisoned by a failed thread; restart Steward",
            )
        })?;
        let grace = self.grace;
        loaded
            .previous
            .retain(|(_, _, since)| since.elapsed() < grace);
        if loaded.id == id {
            return Ok(());
        }
        let state = load(&self.path)?;
        let current = state.current;
        *self.write()? = state;
        if loaded.generation != current {
            let lock = hold_generation(&self.path, current)?;
            let old_generation = loaded.generation;
            let old = std::mem::replace(&mut loaded._lock, lock);
            if !grace.is_zero() {
                loaded
                    .previous
                    .push((old_generation, old, std::time::Instant::now()));
            }
            loaded.generation = current;
            loaded.id = id;
        } else {
            loaded.id = id;
        }
        Ok(())
    }

    /// Drop this instance's claims on generations up to `version`.
    fn release_previous_up_to(&self, version: u32) -> Result<(), CryptoError> {
        let mut l = self.loaded.lock().map_err(|_| {
            file_err(
                &self.path,
                "keyring lock poisoned by a failed thread; restart Steward",
            )
        })?;
        l.previous.retain(|(g, _, _)| *g > version);
        Ok(())
    }

    /// The generations whose locks this instance holds: its current one,
    /// and those it moved past within the grace.
    fn own_generations(&self) -> Result<Vec<u32>, CryptoError> {
        self.loaded
            .lock()
            .map(|l| {
                let mut v = vec![l.generation];
                v.extend(l.previous.iter().map(|(g, _, _)| *g));
                v
            })
            .map_err(|_| {
                file_err(
                    &self.path,
                    "keyring lock poisoned by a failed thread; restart Steward",
                )
            })
    }

    /// The state for reading. A poisoned lock (a thread panicked while
    /// holding it) is an error: never a default key (issue 13 item 10).
    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, CryptoError> {
        self.state.read().map_err(|_| {
            file_err(
                &self.path,
                "keyring lock poisoned by a failed thread; restart Steward",
            )
        })
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, State>, CryptoError> {
        self.state.write().map_err(|_| {
            file_err(
                &self.path,
                "keyring lock poisoned by a failed thread; restart Steward",
            )
        })
    }

    /// KEK `version`'s material and the current version, read together.
    fn kek(&self, version: Option<u32>) -> Result<(u32, Zeroizing<[u8; 32]>), CryptoError> {
        self.refresh()?;
        let st = self.read()?;
        let version = version.unwrap_or(st.current);
        let key = st
            .keks
            .iter()
            .find(|k| k.version == version)
            .and_then(|k| k.key.clone())
            .ok_or(CryptoError::UnknownKek { version })?;
        Ok((version, key))
    }
}

fn dek_aad(subject: SubjectId, version: u32) -> Vec<u8> {
    let mut v = b"steward.dek.v1\0".to_vec();
    v.extend_from_slice(&subject.0.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v
}

impl KeyringProvider for LocalKeyring {
    fn current_kek_version(&self) -> u32 {
        // 0 is no version: a wrap or unwrap under it fails (UnknownKek).
        if self.refresh().is_err() {
            return 0;
        }
        self.read().map(|s| s.current).unwrap_or(0)
    }

    fn wrap(&self, subject: SubjectId, dek: &DataKey) -> Result<SealedKey, CryptoError> {
        let (version, kek) = self.kek(None)?;
        let kek = DataKey::from_bytes(*kek);
        let bytes = kek
            .sealer()
            .seal(&dek_aad(subject, version), dek.as_bytes());
        Ok(SealedKey {
            kek_version: version,
            bytes,
        })
    }

    fn unwrap(&self, subject: SubjectId, sealed: &SealedKey) -> Result<DataKey, CryptoError> {
        let kek = DataKey::from_bytes(*self.kek(Some(sealed.kek_version))?.1);
        let raw = Zeroizing::new(
            kek.sealer()
                .open(&dek_aad(subject, sealed.kek_version), &sealed.bytes)?,
        );
        let arr: [u8; 32] = raw.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(DataKey::from_bytes(arr))
    }

    fn rotate(&self) -> Result<u32, CryptoError> {
        // One writer at a time, on the file as it is now.
        let _writer = writer_lock(&self.path)?;
        self.refresh()?;
        let next = self.rotate_locked()?;
        self.refresh()?;
        Ok(next)
    }

    fn retire(&self, version: u32) -> Result<(), CryptoError> {
        let _writer = writer_lock(&self.path)?;
        self.refresh()?;
        // Issue 13 item 2: not while another process may still wrap under it.
        // This process's own claims on older generations go first: it is
        // the one retiring (its locks would look like another's).
        self.release_previous_up_to(version)?;
        check_nobody_on_or_before(&self.path, version, &self.own_generations()?)?;
        self.retire_locked(version)?;
        self.refresh()
    }

    fn keks(&self) -> Vec<KekInfo> {
        if self.refresh().is_err() {
            return vec![];
        }
        self.keks_now()
    }

    fn legacy_blind_index_key(&self) -> Result<Option<Zeroizing<[u8; 32]>>, CryptoError> {
        self.refresh()?;
        Ok(self.read()?.blind_index_key.clone())
    }

    fn forget_legacy_blind_index_key(&self) -> Result<(), CryptoError> {
        let _writer = writer_lock(&self.path)?;
        self.refresh()?;
        let mut st = self.write()?;
        let Some(kept) = st.blind_index_key.take() else {
            return Ok(());
        };
        if let Err(e) = write_atomic(&self.path, &st) {
            st.blind_index_key = Some(kept);
            return Err(e);
        }
        drop(st);
        self.refresh()
    }

    fn audit_signing_key(&self) -> Result<SigningKey, CryptoError> {
        Ok(SigningKey::from_bytes(&self.read()?.audit_signing_seed))
    }
}

impl LocalKeyring {
    /// Add the next KEK version and make it current (the writer lock held).
    fn rotate_locked(&self) -> Result<u32, CryptoError> {
        let mut st = self.write()?;
        let next = st.keks.iter().map(|k| k.version).max().unwrap_or(0) + 1;
        st.keks.push(Kek {
            version: next,
            created_at: now_rfc3339(),
            key: Some(random32()),
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

    /// Wipe KEK `version` (not current), file first (the writer lock held).
    fn retire_locked(&self, version: u32) -> Result<(), CryptoError> {
        let mut st = self.write()?;
        if st.current == version {
            return Err(file_err(
                &self.path,
                format!("KEK version {version} is current; rotate first"),
            ));
        }
        let e = st
            .keks
            .iter_mut()
            .find(|k| k.version == version && k.key.is_some())
            .ok_or(CryptoError::UnknownKek { version })?;
        // Written first, wiped after: a failed write leaves the key usable.
        let kept = e.key.take();
        if let Err(err) = write_atomic(&self.path, &st) {
            if let Some(k) = st.keks.iter_mut().find(|k| k.version == version) {
                k.key = kept;
            }
            return Err(err);
        }
        // Dropping the zeroizing buffer wipes the material (issue 13 item 10).
        drop(kept);
        Ok(())
    }

    /// The KEK versions as last read.
    fn keks_now(&self) -> Vec<KekInfo> {
        self.read()
            .map(|s| {
                s.keks
                    .iter()
                    .map(|k| KekInfo {
                        version: k.version,
                        created_at: k.created_at.clone(),
                        retired: k.key.is_none(),
                    })
                    .collect()
            })
            .unwrap_or_default()
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
        // Reopen from disk: the rotation persisted, v1 still unwraps. (The
        // first instance ends first: it keeps a claim on v1 for its grace.)
        drop(kr);
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

    /// Issue 13 item 10: a keyring whose lock was poisoned (a thread
    /// panicked holding it) fails closed: the blind-index key, the signing
    /// key, wrapping and unwrapping are errors, never an all-zero key.
    #[test]
    fn a_poisoned_lock_fails_closed_never_an_all_zero_key_issue13_item10() {
        let dir = tempfile::tempdir().unwrap();
        let kr = LocalKeyring::open_or_create(&dir.path().join("keyring.json")).unwrap();
        let dek = DataKey::generate();
        let w = kr.wrap(SubjectId(1), &dek).unwrap();
        assert!(kr.legacy_blind_index_key().unwrap().is_none());
        std::thread::scope(|s| {
            let r = s
                .spawn(|| {
                    let _held = kr.state.write().unwrap();
                    panic!("a thread fails while holding the keyring lock");
                })
                .join();
            assert!(r.is_err());
        });
        assert!(kr.state.is_poisoned());
        let e = kr.legacy_blind_index_key().unwrap_err().to_string();
        assert!(e.contains("poisoned"), "{e}");
        assert!(kr.audit_signing_key().is_err());
        assert!(kr.wrap(SubjectId(1), &dek).is_err());
        assert!(kr.unwrap(SubjectId(1), &w).is_err());
        assert!(kr.rotate().is_err());
        assert!(kr.retire(1).is_err());
    }

    /// Issue 13 item 10: retiring a version removes its material from
    /// memory (the zeroizing buffer is dropped), not only from the file;
    /// and the AES key schedule is built with its `zeroize` feature (this
    /// does not compile without it).
    #[test]
    fn retire_drops_the_material_and_aes_wipes_its_key_schedule_issue13_item10() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<aes::Aes256>();
        let dir = tempfile::tempdir().unwrap();
        let kr = LocalKeyring::open_or_create(&dir.path().join("keyring.json")).unwrap();
        kr.rotate().unwrap();
        assert!(kr.state.read().unwrap().keks[0].key.is_some());
        kr.retire(1).unwrap();
        assert!(kr.state.read().unwrap().keks[0].key.is_none());
        let text = fs::read_to_string(dir.path().join("keyring.json")).unwrap();
        let file: KeyringFile = serde_json::from_str(&text).unwrap();
        assert!(file.keks[0].retired && file.keks[0].key.is_empty());
    }

    /// Issue 13 item 3: a new keyring holds no blind-index key; one
    /// written before does, hands it out, and drops it from the file when
    /// told (the KEKs stay).
    #[test]
    fn a_legacy_blind_index_key_is_handed_out_then_removed_from_the_file_issue13_item3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let kr = LocalKeyring::open_or_create(&path).unwrap();
        let dek = DataKey::generate();
        let w = kr.wrap(SubjectId(3), &dek).unwrap();
        drop(kr);
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("blind_index_key"), "{text}");
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let legacy = B64.encode([9u8; 32]);
        v["blind_index_key"] = legacy.clone().into();
        fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();

        let kr = LocalKeyring::open_or_create(&path).unwrap();
        assert_eq!(
            kr.legacy_blind_index_key().unwrap().as_deref(),
            Some(&[9u8; 32])
        );
        kr.forget_legacy_blind_index_key().unwrap();
        assert!(kr.legacy_blind_index_key().unwrap().is_none());
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("blind_index_key") && !text.contains(&legacy));
        assert_eq!(
            kr.unwrap(SubjectId(3), &w).unwrap().as_bytes(),
            dek.as_bytes()
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

    /// Issue 13 item 2: two processes on one keyring (two instances: each
    /// holds its own file locks, as two processes would). The rotation one
    /// makes is seen by the other before its next wrap; retiring the old
    /// version is refused while the other has not seen the rotation, and
    /// allowed once it has.
    #[test]
    fn a_rotation_is_seen_before_the_next_wrap_and_retire_waits_for_it_issue13_item2_n5_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let cli = LocalKeyring::open_or_create(&path).unwrap();
        let server = LocalKeyring::open_with_grace(&path, std::time::Duration::ZERO).unwrap();
        let dek = DataKey::generate();
        let old = server.wrap(SubjectId(7), &dek).unwrap();
        assert_eq!(old.kek_version, 1);

        assert_eq!(cli.rotate().unwrap(), 2);
        // The server has not used the keyring since: it may still wrap under 1.
        let refused = cli.retire(1).unwrap_err().to_string();
        assert!(refused.contains("has not seen the rotation"), "{refused}");
        // Its next wrap sees the rotation (was: version 1, from memory).
        let new = server.wrap(SubjectId(8), &dek).unwrap();
        assert_eq!(new.kek_version, 2);
        assert_eq!(server.current_kek_version(), 2);
        // Now the retirement goes through, and the server sees it too: a key
        // still wrapped under 1 no longer opens (the store re-wraps them at
        // rotation, `Steward::rotate_keys`, before a retirement).
        cli.retire(1).unwrap();
        assert!(matches!(
            server.unwrap(SubjectId(7), &old),
            Err(CryptoError::UnknownKek { version: 1 })
        ));
        assert_eq!(
            server.unwrap(SubjectId(8), &new).unwrap().as_bytes(),
            dek.as_bytes()
        );
        // A process that ends releases its generation: nothing blocks.
        drop(server);
        assert_eq!(cli.rotate().unwrap(), 3);
        cli.retire(2).unwrap();
    }

    /// Issue 13 item 2: a process that moved past a generation keeps its
    /// lock for the grace (it may still commit a key it wrapped under it).
    #[test]
    fn a_generation_seen_within_the_grace_still_blocks_its_retirement_issue13_item2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let cli = LocalKeyring::open_or_create(&path).unwrap();
        let batch =
            LocalKeyring::open_with_grace(&path, std::time::Duration::from_secs(3600)).unwrap();
        let dek = DataKey::generate();
        assert_eq!(batch.wrap(SubjectId(1), &dek).unwrap().kek_version, 1);
        cli.rotate().unwrap();
        // The batch's next wrap sees version 2, but it has not committed the
        // first key yet: version 1 stays until the grace ends.
        assert_eq!(batch.wrap(SubjectId(2), &dek).unwrap().kek_version, 2);
        assert!(cli.retire(1).is_err());
        drop(batch);
        cli.retire(1).unwrap();
    }
}
