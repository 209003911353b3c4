//! [`StoreOptions`]: what every backend is opened with.

use std::sync::Arc;

use steward_audit::CheckpointSigner;

/// Options of a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// The region this store serves (N4.1).
    pub region: String,
    /// How long to wait for another process's lock before failing (ms).
    pub busy_timeout_ms: u64,
    /// Cut a signed checkpoint every this many entries.
    pub checkpoint_every: u64,
    /// ... or when this many seconds passed since the last one.
    pub checkpoint_every_secs: u64,
    /// Checkpoint origin line (c2sp.org/tlog-checkpoint), e.g. `steward.example/audit/jp`.
    pub origin: String,
    /// Signing key name in the note's signature line.
    pub key_name: String,
    /// The checkpoint signing key's provider (a key file outside the data
    /// directory by default; a KMS or HSM implements the same trait).
    pub signing_key: Arc<dyn CheckpointSigner>,
    /// Connect to a PostgreSQL store that is not on a loopback address
    /// without TLS (N5.3 requires TLS: only for a network the operator
    /// vouches for). Default off; a SQLite store ignores it.
    pub allow_plaintext_store: bool,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("region", &self.region)
            .field("origin", &self.origin)
            .field("allow_plaintext_store", &self.allow_plaintext_store)
            .finish_non_exhaustive()
    }
}
