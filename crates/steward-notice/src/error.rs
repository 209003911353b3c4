//! The one error type of this crate. Messages say what went wrong, where
//! (a path, a line, a key) and how to fix it.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// An error of the clause register, the coverage scan, the baseline files or
/// the data map configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NoticeError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The embedded clause register (`clauses.toml`) is malformed.
    #[error("clause register clauses.toml: {detail}")]
    Register {
        /// What is wrong, naming the clause or key.
        detail: String,
    },
    /// The directory given as the repository root holds neither `crates/`
    /// nor `bench/`.
    #[error(
        "{root}: neither crates/ nor bench/ is here; pass the Steward workspace root with --root DIR"
    )]
    NotARepository {
        /// The directory given.
        root: PathBuf,
    },
    /// A command-line argument is missing, unknown or has no value.
    #[error("steward notice coverage: {detail}")]
    Usage {
        /// What is wrong with the arguments.
        detail: String,
    },
    /// The data map configuration names a category that is not one of N2.
    #[error(
        "datamap configuration: retention names unknown category `{name}`: expected one of account, billing, configuration, usage, communications"
    )]
    UnknownRetentionCategory {
        /// The name given.
        name: String,
    },
}

impl NoticeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        NoticeError::Io {
            path: path.into(),
            source,
        }
    }
}
