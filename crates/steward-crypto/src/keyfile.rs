//! What every key file of Steward shares (the keyring, the blind-index key
//! file, the checkpoint signing key): its error, and the owner-only check
//! made before any key is read from it (issue 13 item 7).

use std::path::Path;

use crate::CryptoError;

/// [`CryptoError::KeyringFile`] naming `path`.
pub(crate) fn file_err(path: &Path, reason: impl Into<String>) -> CryptoError {
    CryptoError::KeyringFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Refuse a key file that group or others may read (Unix), naming the fix.
/// `what` says whose keys it holds ("the keys", "the blind-index key").
///
/// Errors: [`CryptoError::KeyringFile`] when the file's metadata cannot be
/// read or its mode lets others read it.
pub(crate) fn require_owner_only(path: &Path, what: &str) -> Result<(), CryptoError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| file_err(path, e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(file_err(
                path,
                format!(
                    "mode {:o} lets others read {what}; run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// How [`write_private`] puts the new file in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Rename over `path` (a rewrite of a file this process holds the
    /// writer's lock for).
    Replace,
    /// Hard-link into place, keeping a file another process made first
    /// (two processes creating a key at once end up with the same key).
    CreateOnly,
}

/// Write `body` to `path` atomically with mode 0600 (its folder made 0700
/// when missing): a private temporary file beside it (unique name, created
/// new), fsync, then placed as `place` says, and the folder fsynced. The
/// temporary file is removed whatever happens.
///
/// Errors: the I/O error of the step that failed; the caller names the file.
pub(crate) fn write_private(path: &Path, body: &[u8], place: Place) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let placed = opts
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(body)?;
            f.sync_all()
        })
        .and_then(|()| match place {
            Place::Replace => std::fs::rename(&tmp, path),
            Place::CreateOnly => match std::fs::hard_link(&tmp, path) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                r => r,
            },
        });
    let _ = std::fs::remove_file(&tmp);
    placed?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
