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
