//! One conformance suite, run against every backend (DESIGN "Storage"): each
//! case below runs once on a fresh SQLite store in a temporary directory
//! (`sqlite::NAME`) and once on PostgreSQL (`postgres::NAME`), both opened
//! through `open_store`, the way the core routes a region to its store.
//!
//! PostgreSQL: `STEWARD_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Every case makes its own
//! schema `steward_test_<16 hex>` and drops it at the end, so runs cannot
//! collide. When the server cannot be reached, a case prints
//! `skip: PostgreSQL not reachable at ...` and passes, unless `CI` is set:
//! then it fails, because CI must run it.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use ed25519_dalek::SigningKey;
use steward_audit::{
    AuditEntry, Checkpoint, Decision, EntryDraft, Head, LogVerifier, RecordRef, Resource,
    ResourceKind, StoredCheckpoint, StoredEntry, Timestamp, Token, VerifierKey, verify_log,
};
use steward_domain::{RecordId, SubjectId};
use steward_store::{
    AuditStore, ChangeSet, HeldRecordRow, IdentifierRow, PostgresStore, RecordMeta, RecordRow,
    RegistryTable, SqliteStore, Store, StoreError, StoreOptions, SubjectRow, WrappedKeyRow,
    open_store,
};

mod cases_core;
mod cases_counters;
mod cases_lookup;
mod cases_more;
mod pg_only;
mod pg_pool;

use cases_core::*;
use cases_counters::*;
use cases_lookup::*;
use cases_more::*;

const REGION: &str = "jp";
const ORIGIN: &str = "steward.test/audit/jp";
const KEY_NAME: &str = "steward-audit";

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn options(checkpoint_every: u64) -> StoreOptions {
    StoreOptions {
        region: REGION.into(),
        busy_timeout_ms: 10_000,
        checkpoint_every,
        checkpoint_every_secs: 3600,
        origin: ORIGIN.into(),
        key_name: KEY_NAME.into(),
        signing_key: std::sync::Arc::new(signing_key()),
        allow_plaintext_store: false,
    }
}

fn verifier_key() -> VerifierKey {
    VerifierKey::new(KEY_NAME, &signing_key().verifying_key()).expect("verifier key")
}

// ---------------------------------------------------------------- fixtures

/// A fresh, empty store location: a temporary SQLite file or a PostgreSQL
/// schema of its own (dropped when the fixture is).
struct Fixture {
    url: String,
    pg: Option<PgSchema>,
    _dir: Option<tempfile::TempDir>,
}

struct PgSchema {
    base_url: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        match PostgresStore::connect_client(&self.base_url) {
            Ok(mut c) => {
                if let Err(e) = c.batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                    self.schema
                )) {
                    eprintln!("note: could not drop schema {}: {e}", self.schema);
                }
            }
            Err(e) => eprintln!("note: could not drop schema {}: {e}", self.schema),
        }
    }
}

impl Fixture {
    fn open_with(&self, opts: StoreOptions) -> Box<dyn Store> {
        match open_store(&self.url, opts) {
            Ok(s) => s,
            Err(e) => panic!("open {}: {e}", self.url),
        }
    }

    fn open(&self) -> Box<dyn Store> {
        self.open_with(options(1000))
    }

    /// The URL with extra libpq options (PostgreSQL only).
    fn url_with(&self, extra: &str) -> String {
        format!("{}&{extra}", self.url)
    }
}

fn sqlite_fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    Fixture {
        url: format!("sqlite:{}", dir.path().join("store.sqlite3").display()),
        pg: None,
        _dir: Some(dir),
    }
}

fn pg_base_url() -> String {
    std::env::var("STEWARD_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The URL without a password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// A fresh schema on the test server, or `None` (after printing the skip
/// line) when the server is unreachable and `CI` is unset.
fn pg_fixture() -> Option<Fixture> {
    let base = pg_base_url();
    if let Err(e) = PostgresStore::connect_client(&base) {
        let msg = format!("PostgreSQL not reachable at {} ({e})", redacted(&base));
        if std::env::var_os("CI").is_some() {
            panic!("CI is set, so the PostgreSQL conformance run is required: {msg}");
        }
        // Once per run, on the real stdout (not the test harness's capture),
        // so a plain `cargo test` shows why the PostgreSQL half did not run.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), "skip: {msg}");
        });
        return None;
    }
    let schema = format!("steward_test_{:016x}", rand::random::<u64>());
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(Fixture {
        url: format!("{base}{sep}schema={schema}"),
        pg: Some(PgSchema {
            base_url: base,
            schema,
        }),
        _dir: None,
    })
}

// ------------------------------------------------------------------- data

fn tok(s: &str) -> Token {
    Token::new(s).expect("token")
}

fn draft(n: u64) -> EntryDraft {
    EntryDraft {
        action: tok("record.read"),
        clause_ids: vec![tok("N3.5")],
        decision: Decision::Allow,
        policy_ids: vec![tok("support-assist")],
        policy_version: tok("2024-01-18.1"),
        principal: tok("emp_00000000000000a1"),
        purpose: Some(tok("assist")),
        reason: None,
        region: tok(REGION),
        request_id: tok(&format!("req-{n}")),
        resource: Resource::new(ResourceKind::Record).record(RecordRef::new(n)),
        time: Timestamp::from_unix_nanos(1_705_570_200_000_000_000 + i128::from(n)).expect("time"),
    }
}

fn subject(id: i64, created: i64) -> SubjectRow {
    SubjectRow {
        id: SubjectId(id),
        region: REGION.into(),
        created_at_ms: created,
        erased_at_ms: None,
    }
}

fn key(s: i64, kek: u32, wrapped: u8) -> WrappedKeyRow {
    WrappedKeyRow {
        subject: SubjectId(s),
        kek_version: kek,
        key_version: 1,
        wrapped: vec![wrapped; 60],
    }
}

fn ident(blind: u8, s: i64, kind: &str) -> IdentifierRow {
    IdentifierRow {
        blind: [blind; 32],
        subject: SubjectId(s),
        kind: kind.into(),
        sealed: vec![blind ^ 0x5a; 40],
    }
}

fn record(id: i64, s: i64, category: &'static str, kind: &'static str) -> RecordRow {
    RecordRow {
        id: RecordId(id),
        subject: SubjectId(s),
        category: category.into(),
        kind: kind.into(),
        product: "cloud_platform".into(),
        region: REGION.into(),
        key_version: 1,
        stored_at_ms: 1_700_000_000_000 + id,
        sealed: (0..356).map(|i| (i as u8) ^ (id as u8)).collect(),
    }
}

fn commit(store: &mut dyn Store, c: ChangeSet) -> steward_store::Committed {
    match store.commit(c) {
        Ok(c) => c,
        Err(e) => panic!("commit: {e}"),
    }
}

/// Two subjects with keys, identifiers and records of several categories.
fn seed(store: &mut dyn Store) -> Vec<RecordRow> {
    let records = vec![
        record(10, 1, "usage", "usage.authentication"),
        record(11, 1, "usage", "usage.access"),
        record(12, 1, "account", "account.profile"),
        record(13, 2, "billing", "billing.charge"),
        record(14, 1, "usage", "usage.error"),
        record(15, 2, "usage", "usage.authentication"),
    ];
    commit(
        store,
        ChangeSet {
            subjects: vec![subject(1, 1000), subject(2, 1001)],
            keys: vec![key(1, 1, 0xa1), key(2, 1, 0xa2)],
            identifiers: vec![
                ident(1, 1, "username"),
                ident(2, 1, "email"),
                ident(3, 2, "username"),
            ],
            records: records.clone(),
            audit: vec![draft(0)],
            ..Default::default()
        },
    );
    records
}

/// Everything a store holds, read through the traits.
#[derive(Debug, PartialEq)]
struct Snapshot {
    subjects: Vec<SubjectRow>,
    identifiers: Vec<Vec<IdentifierRow>>,
    keys: Vec<WrappedKeyRow>,
    records: Vec<Vec<RecordRow>>,
    audit: Vec<(u64, Vec<u8>, [u8; 32])>,
    head: (u64, [u8; 32]),
    checkpoints: Vec<(u64, String)>,
    principals: Vec<(String, String, bool)>,
    registry: Vec<Vec<(String, String)>>,
}

fn snapshot(store: &dyn Store) -> Snapshot {
    let subjects = store.subjects().expect("subjects");
    let ids: Vec<SubjectId> = subjects
        .iter()
        .map(|s| s.id)
        .chain([SubjectId(99)])
        .collect();
    Snapshot {
        identifiers: ids
            .iter()
            .map(|s| sorted(store.identifiers(*s).expect("identifiers")))
            .collect(),
        records: ids
            .iter()
            .map(|s| store.records(*s, None).expect("records"))
            .collect(),
        subjects,
        keys: store.wrapped_keys().expect("keys"),
        audit: scan(store),
        head: store.audit_head().expect("head"),
        checkpoints: store.checkpoints().expect("checkpoints"),
        principals: store.principals().expect("principals"),
        registry: RegistryTable::ALL
            .iter()
            .map(|t| store.registry_list(*t).expect("registry"))
            .collect(),
    }
}

fn sorted(mut v: Vec<IdentifierRow>) -> Vec<IdentifierRow> {
    v.sort_by_key(|a| a.blind);
    v
}

fn scan(store: &dyn Store) -> Vec<(u64, Vec<u8>, [u8; 32])> {
    let mut out = Vec::new();
    store
        .audit_scan(0, u64::MAX, &mut |r| {
            out.push((r.index, r.entry, r.leaf_hash));
            true
        })
        .expect("scan");
    out
}

fn stored_entries(store: &dyn Store) -> Vec<StoredEntry> {
    scan(store)
        .into_iter()
        .map(|(index, bytes, leaf_hash)| StoredEntry {
            index,
            bytes,
            leaf_hash,
        })
        .collect()
}

fn stored_checkpoints(store: &dyn Store) -> Vec<StoredCheckpoint> {
    store
        .checkpoints()
        .expect("checkpoints")
        .into_iter()
        .map(|(size, note)| StoredCheckpoint { size, note })
        .collect()
}

fn verify(store: &dyn Store) -> steward_audit::VerifyReport {
    let (size, root) = store.audit_head().expect("head");
    match verify_log(
        stored_entries(store),
        &stored_checkpoints(store),
        Some(Head { size, root }),
        &verifier_key(),
    ) {
        Ok(r) => r,
        Err(f) => panic!("audit log does not verify: {f:?}"),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::sqlite_fixture());
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(fx) = super::pg_fixture() {
                    super::$name(&fx);
                }
            })*
        }
    };
}

conformance!(
    round_trip,
    blind_index_lookup,
    keys_insert_or_replace,
    crypto_shred_n8_8,
    sweep_deletes_records_of_erased_subjects_only,
    failing_changeset_leaves_nothing_behind,
    audit_indexes_are_contiguous_across_commits,
    head_root_equals_merkle_root_of_stored_leaves,
    checkpoints_every_n_verify,
    cut_checkpoint_on_empty_log,
    principals_round_trip,
    registry_tables_round_trip,
    record_counts_and_category_filter,
    records_page_walks_in_id_order,
    reopen_keeps_everything,
    concurrent_commits_two_connections,
    large_batch_round_trip,
    copy_store_into_backend,
    registry_guard_compare_and_set,
    group_commit_each_change_set_alone,
    reader_sees_every_acknowledged_commit,
    group_commit_of_many_change_sets,
    registry_guard_two_connections_one_winner,
    legal_hold_and_retention_n3_7_n8_8,
    record_id_clash_is_retryable,
    counters_window_lockout_and_sweep,
    counters_two_connections_add_up,
    registry_lookups_follow_every_write,
);

/// The bulk path with `record_insert=unnest` (engines or roles without COPY).
#[test]
fn postgres_large_batch_without_copy() {
    let Some(fx) = pg_fixture() else { return };
    let url = fx.url_with("record_insert=unnest");
    let fx = Fixture { url, ..fx };
    large_batch_round_trip(&fx);
}

// ------------------------------------------------- open_store (no server)

#[test]
fn open_store_routes_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("a.sqlite3");
    let mut s = open_store(plain.to_str().unwrap(), options(10)).unwrap();
    commit(
        s.as_mut(),
        ChangeSet {
            audit: vec![draft(0)],
            ..Default::default()
        },
    );
    drop(s);
    assert!(plain.exists());
    let again = open_store(&format!("sqlite:{}", plain.display()), options(10)).unwrap();
    assert_eq!(again.audit_size().unwrap(), 1);
    let abs = open_store(&format!("sqlite://{}", plain.display()), options(10)).unwrap();
    assert_eq!(abs.audit_size().unwrap(), 1);
    for bad in ["", "sqlite:", "mysql://h/db"] {
        match open_store(bad, options(10)) {
            Err(StoreError::Config(m)) => assert!(!m.is_empty()),
            Err(e) => panic!("{bad:?}: wrong error {e}"),
            Ok(_) => panic!("{bad:?}: accepted"),
        }
    }
    // A bad PostgreSQL URL is a configuration error before any connection.
    assert!(matches!(
        open_store("postgres://h/db?schema=no-dashes", options(10)),
        Err(StoreError::Config(_))
    ));
}
