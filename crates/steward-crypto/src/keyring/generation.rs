//! Several processes on one keyring file (N5.2 key management; issue 13,
//! item 2): each sees a rotation or retirement before its next wrap or
//! unwrap, and a retirement waits for every process to have seen the
//! rotation.
//!
//! - **Checked on use.** The file is replaced atomically on every change
//!   (a new inode), so one `stat` before each use tells whether it changed;
//!   if so, it is read again.
//! - **Who is on which generation.** A process whose current KEK version is
//!   `g` holds a shared `flock` on `<keyring>.gen-<g>.lock` (Linux
//!   `flock(2)`, through `std::fs::File::lock_shared`), and moves to the new
//!   file when it sees a rotation. Retiring version `v` tries an exclusive
//!   lock on every `gen-<g>.lock` with `g <= v`: one held elsewhere is a
//!   process that has not seen a rotation past `v` and may still wrap under
//!   it, so the retirement is refused, naming it. A process keeps the lock
//!   of a generation it moved past for a grace (default 60 s), longer than
//!   any batch that wraps keys before it commits them. Locks end with their
//!   process, so a crashed process never blocks a retirement.
//! - **One writer.** Rotation and retirement hold an exclusive lock on
//!   `<keyring>.lock` and re-read the file first, so two processes never
//!   overwrite each other's change.

use std::fs;
use std::path::{Path, PathBuf};

use super::file_err;
use crate::CryptoError;

/// The identity of the keyring file as last read: (device, inode, length,
/// modification time in ns). An atomic rewrite changes the inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FileId(u64, u64, u64, i128);

/// The identity of the file at `path` now.
pub(crate) fn file_id(path: &Path) -> Result<FileId, CryptoError> {
    let m = fs::metadata(path).map_err(|e| file_err(path, e.to_string()))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(FileId(m.dev(), m.ino(), m.len(), mtime))
    }
    #[cfg(not(unix))]
    {
        Ok(FileId(0, 0, m.len(), mtime))
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keyring".into());
    path.with_file_name(format!("{name}.{suffix}"))
}

fn open_lock_file(path: &Path) -> Result<fs::File, CryptoError> {
    let mut o = fs::OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
        .map_err(|e| file_err(path, format!("cannot open lock file: {e}")))
}

/// The shared lock that says "this process's current KEK version is
/// `generation`"; held until dropped.
pub(super) fn hold_generation(keyring: &Path, generation: u32) -> Result<fs::File, CryptoError> {
    let p = sibling(keyring, &format!("gen-{generation}.lock"));
    let f = open_lock_file(&p)?;
    f.lock_shared()
        .map_err(|e| file_err(&p, format!("cannot lock: {e}")))?;
    Ok(f)
}

/// The writers' exclusive lock on the keyring (rotation, retirement); held
/// until dropped.
pub(crate) fn writer_lock(keyring: &Path) -> Result<fs::File, CryptoError> {
    let p = sibling(keyring, "lock");
    let f = open_lock_file(&p)?;
    f.lock()
        .map_err(|e| file_err(&p, format!("cannot lock: {e}")))?;
    Ok(f)
}

/// Refuse to retire `version` while another process's current KEK version
/// is `version` or older (it holds `gen-<g>.lock` for some `g <= version`
/// and has not seen a later rotation, or saw it less than its grace ago).
/// `own`: the generations whose locks this instance holds itself.
pub(super) fn check_nobody_on_or_before(
    keyring: &Path,
    version: u32,
    own: &[u32],
) -> Result<(), CryptoError> {
    for g in 1..=version {
        if own.contains(&g) {
            continue;
        }
        let p = sibling(keyring, &format!("gen-{g}.lock"));
        if !p.exists() {
            continue;
        }
        let f = open_lock_file(&p)?;
        match f.try_lock() {
            Ok(()) => {
                let _ = f.unlock();
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(file_err(
                    keyring,
                    format!(
                        "KEK version {version} cannot be retired yet: another process (a running `steward serve`?) still has KEK version {g} as current and has not seen the rotation (or saw it less than a minute ago, and may still commit a key wrapped under it); it sees it on its next request: retry in a minute, or restart it"
                    ),
                ));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(file_err(&p, format!("cannot test the lock: {e}")));
            }
        }
    }
    Ok(())
}
