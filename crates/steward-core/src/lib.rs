//! The gate and the services built on it.
//!
//! **The one invariant** (ARCHITECTURE.md): no Service Data leaves Steward in
//! clear except through [`Steward::gate`] — authenticate the principal, decide
//! (principal, action, resource, purpose, context) by policy, append the
//! decision to the audit log (fail closed), then decrypt. Every service in
//! this crate that returns plaintext (read, export, subject listing) calls it;
//! erasure and ingest are decided and audited by the same path.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auditlog;
mod auth;
mod authorize;
mod cases;
mod clock;
pub mod config;
pub mod dsr;
mod dsr_obligation;
mod entry;
mod erasure;
mod export;
mod gate;
mod grants;
mod group_commit;
mod held_notice;
mod holds;
mod identity;
pub mod incidents;
pub mod intake;
mod lockout;
pub mod oncall;
mod outbox;
#[cfg(steward_gate_probe)]
mod probe;
mod processors;
mod rows;
mod services;
pub mod sharing;
mod tenancy;
mod transfer_zone;
mod transfers;
mod vault;
mod witness_http;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::rows::row_json;
use steward_crypto::LocalKeyring;
use steward_domain::{Principal, PrincipalKind, Team};
use steward_policy::PolicyEngine;
use steward_store::{ChangeSet, SqliteStore, Store, StoreOptions};
use thiserror::Error;

pub use auditlog::{AuditVerification, WitnessAnswer, WitnessService, checkpoint_signer};
pub use auth::{
    AuthFailure, Authenticated, IssuedToken, MAX_TOKEN_TTL_SECS, PASSWORD_CHARS, TOKEN_SCOPES,
    TokenInfo, argon2_runs_on_this_thread, hash_password, scope_allows, verify_password,
};
pub use authorize::{Authorized, ManagementAction, Target};
pub use clock::Clock;
pub use config::{Config, WitnessConfig};
pub use dsr::{
    Channel, CodeMessage, CodeSender, DsrConfig, Jurisdiction, NewRequestDetails, OutboxSender,
    Request, RequestFilter, RequestResult,
};
pub use erasure::{ErasureGuarantee, ScheduleRun};
pub use gate::{
    AccessRequest, Denied, Disclosed, DisclosureAsk, DisclosureRequest, Opened, OpenedRecord,
};
pub use grants::{GrantRequest, MAX_GRANT_DAYS, NeedToKnowGrant};
pub use held_notice::HeldNotice;
pub use holds::{
    Period, PeriodUnit, RegionSweep, RetainedRecords, RetentionRule, RetentionRules, SweepReport,
};
pub use identity::IdentityConfig;
pub use identity::merge::MergeReceipt;
pub use identity::report::ConfusableGroup;
pub use identity::rotate::{BlindIndexRotation, RotateOptions};
pub use incidents::{
    Assessment, AssessmentInput, DueItem, Incident, IncidentsConfig, NewReport, ReportDraft,
    TaskInput,
};
pub use intake::{IntakeEntry, IntakeOutcome, IntakeState};
pub use lockout::{Guarded, LockoutRule};
pub use oncall::{OutboxPager, Page, Pager, Schedule, Shift};
pub use processors::{Engagement, MAX_ENGAGEMENT_DAYS, NewEngagement};
pub use services::{AuditFilter, LegalObligation, ObligationScope, SupportCase, VerifyOutcome};
pub use steward_policy::Action;
pub use tenancy::{Organisation, Partner, Restrictions, UserAccount};
pub use transfers::{MECHANISMS, Transfer, TransferMechanism};
pub use vault::{ErasureReceipt, ExportSummary, IngestSummary, SubjectSummary};

/// Errors of Steward's services. None carries Service Data.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// Configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The policy pack could not be loaded.
    #[error("policy pack: {0}")]
    Policy(String),
    /// The gate denied the access; the denial is in the audit log.
    #[error("denied: {0}")]
    Denied(Box<Denied>),
    /// The audit log could not record the access, so it did not happen (fail closed).
    #[error("the audit log cannot be written, so nothing was read or changed (fail closed): {0}")]
    AuditUnavailable(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] steward_store::StoreError),
    /// Key handling failed.
    #[error("keys: {0}")]
    Crypto(#[from] steward_crypto::CryptoError),
    /// Bad input (names what and where; never a value).
    #[error("{0}")]
    Input(String),
    /// The thing acted on is in a state that does not allow it, or was
    /// changed concurrently (a data subject request already executing or
    /// final): read it again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The thing named does not exist (or, to this principal, might as
    /// well not): told only after the principal was decided allowed.
    #[error("not found: {0}")]
    NotFound(String),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A stored record does not open or parse (tampering or corruption).
    #[error("record {record} does not open: {reason}")]
    Integrity {
        /// Record id.
        record: String,
        /// Why.
        reason: String,
    },
}

impl CoreError {
    /// Whether the same call may succeed if retried unchanged: a concurrent
    /// writer won a record id or a blind index, or the store stayed locked
    /// past its busy timeout (issue 21). Nothing of the call was written.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CoreError::Store(
                steward_store::StoreError::RecordIdClash
                    | steward_store::StoreError::IdentifierClash
                    | steward_store::StoreError::Locked { .. }
            )
        )
    }

    /// Whether the store could not be reached or written (issue 21 item 6:
    /// a PostgreSQL server restarting or failing over, a standby not yet
    /// promoted): the call may succeed once it is back. A commit whose
    /// `COMMIT` was in flight when the connection died is reported so too,
    /// although it may have landed.
    pub fn is_store_unavailable(&self) -> bool {
        matches!(
            self,
            CoreError::Store(steward_store::StoreError::Unwritable { .. })
        )
    }
}

/// A running Steward: configuration, keyring, policy and the region's store.
pub struct Steward {
    data_dir: PathBuf,
    config: Config,
    keyring: gate::Keys,
    policy: PolicyEngine,
    /// One store per region (N4.1), in configuration order; the first is the
    /// primary region, which also keeps principals and registries.
    regions: Vec<RegionStore>,
    /// The blind-index key provider, apart from the keyring (issue 13
    /// item 3): read on every use, so a rotation another process made is
    /// seen before the next index entry.
    blind_keys: Arc<dyn steward_crypto::BlindIndexKeyProvider>,
    verifier_key: String,
    /// Whether `verifier_key` was pinned in configuration (else it was
    /// derived from the signing key file).
    verifier_pinned: bool,
    /// Ids of the data subject requests this process is executing now (with
    /// how many threads are at each):
    /// [`Steward::resume_in_progress`] never marks those interrupted.
    executing: Mutex<std::collections::HashMap<String, u32>>,
    /// This node's id (`node_` and 16 hex digits, random at each open):
    /// the holder named in the execution leases it takes (issue 21 item 5).
    node_id: String,
    /// The services' "now" (deadlines, decision dates, stored times).
    clock: Clock,
    /// Pages the on-call (N8.5); `None`: the outbox ([`oncall::OutboxPager`]).
    pager: std::sync::RwLock<Option<Arc<dyn oncall::Pager>>>,
}

impl std::fmt::Debug for Steward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steward")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// How to open Steward.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// A policy pack directory replacing the built-in pack (`--policy-dir`).
    pub policy_dir: Option<PathBuf>,
    /// How long to wait for a locked database (ms); default 5000.
    pub busy_timeout_ms: Option<u64>,
    /// The clock of every "now" in the services ([`Clock`]); default: the system clock.
    pub clock: Clock,
}

/// Copy the store at `from` into the empty store at `to` (e.g. a region's
/// SQLite file to PostgreSQL, `steward copy`), with the keyring of
/// `data_dir`. Rows are copied sealed, the audit log byte for byte; see
/// [`steward_store::copy_store`]. Check the result with
/// [`Steward::verify_records`] and [`Steward::audit_verify`] on a
/// configuration that names `to`.
pub fn copy_store(
    data_dir: &Path,
    config: &Config,
    from: &str,
    to: &str,
) -> Result<steward_store::CopySummary, CoreError> {
    let signer = checkpoint_signer(data_dir, config)?;
    let opts = |region: &str| StoreOptions {
        region: region.to_owned(),
        busy_timeout_ms: 5000,
        checkpoint_every: config.audit.checkpoint_every,
        checkpoint_every_secs: config.audit.checkpoint_every_secs,
        origin: format!("{}/{}", config.audit.origin, region),
        key_name: config.audit.key_name.clone(),
        signing_key: signer.clone(),
        allow_plaintext_store: config.allow_plaintext_store,
    };
    // The region is the one whose store is `from`, else the first.
    let region = config
        .regions
        .iter()
        .find(|r| r.store.as_deref() == Some(from))
        .unwrap_or_else(|| config.home_region())
        .name
        .clone();
    // A missing source file is not an empty store: refuse it rather than
    // create one and "copy" nothing.
    if !(from.starts_with("postgres://") || from.starts_with("postgresql://")) {
        let path = sqlite_path(data_dir, from)?;
        if !path.exists() {
            return Err(CoreError::Input(format!(
                "copy --from {}: no such store file; give the path of an existing SQLite store (relative to the data directory) or a postgres:// URL",
                path.display()
            )));
        }
    }
    let source = open_region_store(data_dir, from, opts(&region))?;
    let mut target = open_region_store(data_dir, to, opts(&region))?;
    Ok(steward_store::copy_store(
        source.as_ref(),
        target.as_mut(),
        500,
    )?)
}

/// A region and its store.
struct RegionStore {
    config: config::RegionConfig,
    store: Mutex<Box<dyn Store>>,
    /// Read-only handles on the same store, where the backend has them
    /// ([`Store::reader`]; [`READERS`] of them): the gate's look-ups go
    /// through them, so they do not wait behind a group commit's fsync on
    /// `store`, nor, mostly, for each other.
    readers: Vec<Mutex<Box<dyn Store>>>,
    /// The group commit of this region's audited accesses.
    group: group_commit::GroupCommit,
}

/// Read-only handles per region store (SQLite connections of
/// [`SqliteStore::open_reader`]). A gated read takes one about eight times
/// (principal, blind index, grants, context rows, records, key); with one
/// handle for sixteen threads on two cores the hand-overs of its lock cost
/// more than the reads.
const READERS: usize = 4;

/// This thread's preferred reader slot, given out round-robin.
fn reader_slot() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    SLOT.with(|s| *s)
}

/// Open a region's store: a PostgreSQL URL (`postgres://…`, TLS with
/// `sslmode=require`, N5.3), or a SQLite file path relative to the data
/// directory (`sqlite:` prefix optional).
fn open_region_store(
    data_dir: &Path,
    location: &str,
    opts: StoreOptions,
) -> Result<Box<dyn Store>, CoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok(steward_store::open_store(location, opts)?);
    }
    let path = sqlite_path(data_dir, location)?;
    Ok(Box::new(SqliteStore::open(&path, opts)?))
}

/// The SQLite file a store location names (relative to the data directory,
/// `sqlite:` prefix optional). A PostgreSQL URL is opened by
/// [`steward_store::open_store`]; any other `scheme://` (a typo such as
/// `postgress://`) is refused instead of becoming a file of that name.
fn sqlite_path(data_dir: &Path, location: &str) -> Result<PathBuf, CoreError> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Err(CoreError::Config(
            "internal: a PostgreSQL URL has no SQLite path".into(),
        ));
    }
    let rest = location.strip_prefix("sqlite:").unwrap_or(location);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    if location.split_once("://").is_some() && !location.starts_with("sqlite:") {
        let scheme: String = location
            .split("://")
            .next()
            .unwrap_or_default()
            .chars()
            .take(20)
            .collect();
        return Err(CoreError::Config(format!(
            "store location scheme `{scheme}` is not supported: use postgres://, postgresql://, sqlite:PATH or a file path"
        )));
    }
    if rest.is_empty() {
        return Err(CoreError::Config(
            "the store location is empty: give sqlite:PATH, a file path or a postgres:// URL"
                .into(),
        ));
    }
    Ok(data_dir.join(rest))
}

/// The data directory, readable by its owner only (issue 13 item 7):
/// created 0700 whatever the umask; an existing one that others can enter
/// is made 0700 (Steward's files are not for anyone else).
fn private_data_dir(dir: &Path) -> Result<(), CoreError> {
    let io = |e: std::io::Error| CoreError::Io {
        path: dir.display().to_string(),
        reason: format!("{e}: the data directory must be Steward's own (mode 0700)"),
    };
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).map_err(io)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    Ok(())
}

impl Steward {
    /// Open Steward on `data_dir` with `config`: create the keyring (0600) and
    /// the store on first run, apply migrations, load and validate the policy
    /// pack (refusing to start on an invalid one), and make sure the bootstrap
    /// principals exist (`operator`, a privacy-team employee, and `ingest`, an
    /// internal service).
    pub fn open(data_dir: &Path, config: Config, opts: OpenOptions) -> Result<Steward, CoreError> {
        let policy = match &opts.policy_dir {
            Some(dir) => PolicyEngine::load_dir(dir),
            None => PolicyEngine::default_pack(),
        }
        .map_err(|e| CoreError::Policy(e.to_string()))?;
        private_data_dir(data_dir)?;
        let keyring_path = data_dir.join(&config.keyring_file);
        let keyring_is_new = !keyring_path.exists();
        // Issue 13 item 2: every process sees a rotation before its next
        // wrap or unwrap, and keeps its claim on a generation for a grace.
        let grace = crate::config::parse_period(&config.kek_generation_grace)
            .ok()
            .and_then(|d| std::time::Duration::try_from(d).ok())
            .unwrap_or(steward_crypto::GENERATION_GRACE);
        let keyring = LocalKeyring::open_with_grace(&keyring_path, grace)?;
        // Issue 13 item 4: the signing key comes from a provider outside the
        // data directory, and verification from a key pinned in configuration.
        let signing_key = checkpoint_signer(data_dir, &config)?;
        let (verifier_key, verifier_pinned) =
            auditlog::verifier_key(&config.audit, signing_key.as_ref())?;
        let mut regions = Vec::with_capacity(config.regions.len());
        for region in &config.regions {
            let location = region
                .store
                .clone()
                .unwrap_or_else(|| format!("{}.sqlite3", region.name));
            let store_opts = StoreOptions {
                region: region.name.clone(),
                busy_timeout_ms: opts.busy_timeout_ms.unwrap_or(5000),
                checkpoint_every: config.audit.checkpoint_every,
                checkpoint_every_secs: config.audit.checkpoint_every_secs,
                origin: format!("{}/{}", config.audit.origin, region.name),
                key_name: config.audit.key_name.clone(),
                signing_key: signing_key.clone(),
                allow_plaintext_store: config.allow_plaintext_store,
            };
            // N4.3: every region gets the same store code, encryption, policy and audit.
            let store = open_region_store(data_dir, &location, store_opts)?;
            let mut readers = Vec::new();
            for _ in 0..READERS {
                match store.reader()? {
                    Some(r) => readers.push(Mutex::new(r)),
                    None => break,
                }
            }
            regions.push(RegionStore {
                config: region.clone(),
                store: Mutex::new(store),
                readers,
                group: Default::default(),
            });
        }
        // Issue 13 item 3: the blind-index key lives apart from the KEKs.
        let (blind_keys, blind_is_new) =
            identity::rotate::open_blind_keys(data_dir, &config, &keyring)?;
        let steward = Steward {
            data_dir: data_dir.to_owned(),
            config,
            keyring: gate::Keys::new(Arc::new(keyring)),
            policy,
            regions,
            blind_keys: Arc::new(blind_keys),
            verifier_key,
            verifier_pinned,
            executing: Mutex::new(Default::default()),
            node_id: format!("node_{:016x}", rand::random::<u64>()),
            clock: opts.clock.clone(),
            pager: std::sync::RwLock::new(None),
        };
        if keyring_is_new || blind_is_new {
            // A store that already holds data was written under another keyring:
            // a fresh one would orphan every subject (and its blind index).
            for r in &steward.regions {
                let store = r
                    .store
                    .lock()
                    .map_err(|_| CoreError::Config("store lock poisoned".into()))?;
                if store.audit_size()? > 0 || !store.subjects()?.is_empty() {
                    drop(store);
                    let mut missing = Vec::new();
                    if keyring_is_new {
                        let _ = std::fs::remove_file(&keyring_path);
                        missing.push(format!("the keyring {}", keyring_path.display()));
                    }
                    if blind_is_new {
                        let p = steward.blind_index_key_path();
                        let _ = std::fs::remove_file(&p);
                        missing.push(format!("the blind-index key file {}", p.display()));
                    }
                    return Err(CoreError::Config(format!(
                        "missing: {}, but region {}'s store already holds data: restore it from its backup (Steward will not make a new one over existing data)",
                        missing.join(" and "),
                        r.config.name
                    )));
                }
            }
        }
        steward.bootstrap_principals()?;
        // Issue 15: existing blind-index entries normalised and tenant-scoped.
        steward.migrate_identifier_index()?;
        Ok(steward)
    }

    fn bootstrap_principals(&self) -> Result<(), CoreError> {
        let mut cs = ChangeSet::default();
        let operator = self.config.operator.clone();
        let missing = |name: &str| -> Result<bool, CoreError> {
            Ok(self.store()?.principal(name)?.is_none())
        };
        if missing(&operator)? {
            let t = self.clock.today();
            let p = Principal {
                name: operator.clone(),
                kind: PrincipalKind::Employee,
                teams: vec![Team::Privacy],
                confidentiality_signed_on: Some(t),
                training_expires_on: t.checked_add(time::Duration::days(365)),
                engagement_ends_on: None,
                subject: None,
                organisations: vec![],
                revoked: false,
            };
            cs.principals.push((p.name.clone(), row_json(&p)?, false));
            cs.audit.push(gate::system_entry(
                "principal_add",
                &operator,
                "bootstrap: privacy-team operator",
                self.policy.version(),
            ));
        }
        if missing("ingest")? {
            let p = Principal {
                name: "ingest".into(),
                kind: PrincipalKind::Service,
                teams: vec![],
                confidentiality_signed_on: None,
                training_expires_on: None,
                engagement_ends_on: None,
                subject: None,
                organisations: vec![],
                revoked: false,
            };
            cs.principals.push((p.name.clone(), row_json(&p)?, false));
            cs.audit.push(gate::system_entry(
                "principal_add",
                "ingest",
                "bootstrap: internal ingest service",
                self.policy.version(),
            ));
        }
        if !cs.principals.is_empty() {
            self.store()?.commit(cs)?;
        }
        Ok(())
    }

    /// Region `i` (an index into the configured regions).
    fn region(&self, i: usize) -> Result<&RegionStore, CoreError> {
        self.regions
            .get(i)
            .ok_or_else(|| CoreError::Input(format!("no region number {i}")))
    }

    /// The primary region's store (principals, registries, system entries).
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Box<dyn Store>>, CoreError> {
        self.rstore(0)
    }

    /// The store of region `i` (an index into the configured regions).
    pub(crate) fn rstore(&self, i: usize) -> Result<MutexGuard<'_, Box<dyn Store>>, CoreError> {
        self.region(i)?
            .store
            .lock()
            .map_err(|_| group_commit::poisoned())
    }

    /// Since this process opened Steward, over every region: how many group
    /// commits [`Self::commit_grouped`] made and how many change sets (so
    /// gated accesses) they carried. Their ratio is the mean group size.
    pub fn group_commit_counts(&self) -> (u64, u64) {
        self.regions.iter().fold((0, 0), |(c, n), r| {
            let (rc, rn) = r.group.counts();
            (c + rc, n + rn)
        })
    }

    /// Region `i`'s store for look-ups only: its read-only handle where the
    /// backend has one, else the store itself. Reads through it see every
    /// commit that has returned. Never commit through it.
    pub(crate) fn rstore_read(
        &self,
        i: usize,
    ) -> Result<MutexGuard<'_, Box<dyn Store>>, CoreError> {
        let r = self.region(i)?;
        let n = r.readers.len();
        if n == 0 {
            return self.rstore(i);
        }
        // This thread's own handle if free, else any free one, else wait
        // for its own.
        let own = reader_slot() % n;
        // A reading handle holds no state a panic could leave half-made, so
        // a poisoned one is used as it is.
        for k in 0..n {
            match r.readers[(own + k) % n].try_lock() {
                Ok(g) => return Ok(g),
                Err(std::sync::TryLockError::WouldBlock) => {}
                Err(std::sync::TryLockError::Poisoned(p)) => return Ok(p.into_inner()),
            }
        }
        Ok(r.readers[own]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The primary region's store for look-ups only ([`Self::rstore_read`]).
    pub(crate) fn store_read(&self) -> Result<MutexGuard<'_, Box<dyn Store>>, CoreError> {
        self.rstore_read(0)
    }

    /// Commit `cs` in region `i`'s store together with the change sets
    /// other threads are committing at the same moment: group commit
    /// (issue 21 item 2, [`group_commit`]). Each change set succeeds or
    /// fails alone, and no caller is answered before its own change set is
    /// durable; alone, a caller commits by itself, as [`Store::commit`]
    /// would.
    ///
    /// Errors: the store's, for this change set alone.
    pub(crate) fn commit_grouped(
        &self,
        i: usize,
        cs: ChangeSet,
    ) -> Result<steward_store::Committed, CoreError> {
        let r = self.region(i)?;
        r.group.commit(&r.store, cs)
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The policy pack's version.
    pub fn policy_version(&self) -> &str {
        self.policy.version()
    }

    /// The audit log's verifier key (Go `note` vkey format), for independent verifiers.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The configured regions, in order (the first is the primary region).
    pub fn regions(&self) -> impl Iterator<Item = &config::RegionConfig> {
        self.regions.iter().map(|r| &r.config)
    }

    /// How each region's store is reached (N5.3), for the log: the region
    /// name and `local file`, or `PostgreSQL host:port/db: TLS (sslmode=…)`
    /// or the plain text allowed (loopback, `allow_plaintext_store`).
    pub fn store_transports(&self) -> Vec<(String, String)> {
        (0..self.regions.len())
            .filter_map(|i| {
                let t = self.rstore(i).ok()?.transport();
                Some((self.regions[i].config.name.clone(), t))
            })
            .collect()
    }

    /// The index of the region named `name`.
    pub fn region_index(&self, name: &str) -> Result<usize, CoreError> {
        self.regions
            .iter()
            .position(|r| r.config.name == name)
            .ok_or_else(|| {
                CoreError::Input(format!(
                    "unknown region `{name}`: configured regions are {}",
                    self.regions
                        .iter()
                        .map(|r| r.config.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The index of the region this node processes in (N4.2).
    pub(crate) fn processing_index(&self) -> usize {
        let p = &self.config.processing().name;
        self.regions
            .iter()
            .position(|r| &r.config.name == p)
            .unwrap_or(0)
    }

    /// The name of the operator principal.
    pub fn operator(&self) -> &str {
        &self.config.operator
    }
}

#[cfg(test)]
mod store_location_tests {
    use super::*;

    #[test]
    fn a_mistyped_scheme_is_refused_not_made_a_file() {
        let d = Path::new("/data");
        let e = sqlite_path(d, "postgress://db.example/steward")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`postgress`") && e.contains("postgres://"),
            "{e}"
        );
        assert_eq!(
            sqlite_path(d, "sqlite:jp.sqlite3").unwrap(),
            Path::new("/data/jp.sqlite3")
        );
        assert_eq!(
            sqlite_path(d, "sqlite:///abs/jp.sqlite3").unwrap(),
            Path::new("/abs/jp.sqlite3")
        );
        assert_eq!(
            sqlite_path(d, "jp.sqlite3").unwrap(),
            Path::new("/data/jp.sqlite3")
        );
        assert!(sqlite_path(d, "sqlite:").is_err());
    }

    #[test]
    fn copy_from_a_missing_file_is_refused_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = copy_store(dir.path(), &Config::default(), "nope.sqlite3", "to.sqlite3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such store file"), "{e}");
        assert!(!dir.path().join("nope.sqlite3").exists());
        assert!(!dir.path().join("to.sqlite3").exists());
    }
}

#[cfg(test)]
mod error_kind_tests {
    use super::*;

    /// Issue 21 item 6: an unreachable or read-only store (a PostgreSQL
    /// failover) is "unavailable" (the server answers 503), not transient
    /// and not an internal error; other store errors are neither.
    #[test]
    fn an_unwritable_store_is_unavailable_issue21_6() {
        let e = CoreError::Store(steward_store::StoreError::Unwritable {
            reason: "cannot connect to PostgreSQL".into(),
        });
        assert!(e.is_store_unavailable());
        assert!(!e.is_transient());
        let locked = CoreError::Store(steward_store::StoreError::Locked { waited_ms: 5 });
        assert!(!locked.is_store_unavailable() && locked.is_transient());
        assert!(
            !CoreError::Store(steward_store::StoreError::Database("x".into()))
                .is_store_unavailable()
        );
    }
}
