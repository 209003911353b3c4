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

// ------------------------------------------------------------------ cases

/// Subjects, keys, identifiers and records read back as written; records
/// carry the store's region (N4.1) and come in id order.
fn round_trip(fx: &Fixture) {
    let mut store = fx.open();
    let records = seed(store.as_mut());
    let s = store.as_ref();
    assert_eq!(s.subject(SubjectId(1)).unwrap(), Some(subject(1, 1000)));
    assert_eq!(s.subject(SubjectId(99)).unwrap(), None);
    assert_eq!(
        s.subjects().unwrap(),
        vec![subject(1, 1000), subject(2, 1001)]
    );
    // Identifiers come ordered by kind.
    let kinds: Vec<String> = s
        .identifiers(SubjectId(1))
        .unwrap()
        .into_iter()
        .map(|i| i.kind)
        .collect();
    assert_eq!(kinds, ["email", "username"]);
    assert_eq!(
        sorted(s.identifiers(SubjectId(1)).unwrap()),
        vec![ident(1, 1, "username"), ident(2, 1, "email")]
    );
    assert_eq!(s.wrapped_key(SubjectId(2)).unwrap(), Some(key(2, 1, 0xa2)));
    assert_eq!(s.wrapped_key(SubjectId(99)).unwrap(), None);
    assert_eq!(
        s.wrapped_keys().unwrap(),
        vec![key(1, 1, 0xa1), key(2, 1, 0xa2)]
    );
    let of1: Vec<RecordRow> = records
        .iter()
        .filter(|r| r.subject == SubjectId(1))
        .cloned()
        .collect();
    assert_eq!(of1.len(), 4);
    assert_eq!(s.records(SubjectId(1), None).unwrap(), of1);
    assert_eq!(s.records(SubjectId(99), None).unwrap(), vec![]);
    assert_eq!(s.record(RecordId(13)).unwrap(), Some(records[3].clone()));
    assert_eq!(s.record(RecordId(13)).unwrap().unwrap().region, REGION);
    assert_eq!(s.record(RecordId(999)).unwrap(), None);
    s.health().expect("health");
}

/// A blind index resolves to its subject; a second identifier with a blind
/// index already present is ignored (the first stays).
fn blind_index_lookup(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    assert_eq!(
        store.subject_by_blind(&[3; 32]).unwrap(),
        Some(SubjectId(2))
    );
    assert_eq!(store.subject_by_blind(&[9; 32]).unwrap(), None);
    commit(
        store.as_mut(),
        ChangeSet {
            identifiers: vec![ident(3, 1, "email"), ident(4, 1, "ip"), ident(4, 2, "ip")],
            ..Default::default()
        },
    );
    assert_eq!(
        store.subject_by_blind(&[3; 32]).unwrap(),
        Some(SubjectId(2))
    );
    assert_eq!(
        store.subject_by_blind(&[4; 32]).unwrap(),
        Some(SubjectId(1))
    );
    assert_eq!(store.identifiers(SubjectId(2)).unwrap().len(), 1);
}

/// Keys are inserted or replaced (KEK rotation); in one change set the last
/// key given for a subject wins.
fn keys_insert_or_replace(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    commit(
        store.as_mut(),
        ChangeSet {
            keys: vec![key(1, 2, 0xb1), key(1, 3, 0xc1), key(2, 2, 0xb2)],
            ..Default::default()
        },
    );
    assert_eq!(
        store.wrapped_keys().unwrap(),
        vec![key(1, 3, 0xc1), key(2, 2, 0xb2)]
    );
}

/// N8.8 crypto-shredding removes the subject's wrapped data key and
/// identifiers and marks it erased; its records stay until swept.
fn crypto_shred_n8_8(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    let before = steward_store_now_ms();
    commit(
        store.as_mut(),
        ChangeSet {
            shred: vec![SubjectId(1)],
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    let after = steward_store_now_ms();
    assert_eq!(store.wrapped_key(SubjectId(1)).unwrap(), None);
    assert_eq!(store.identifiers(SubjectId(1)).unwrap(), vec![]);
    assert_eq!(store.subject_by_blind(&[1; 32]).unwrap(), None);
    assert_eq!(store.subject_by_blind(&[2; 32]).unwrap(), None);
    let erased = store.subject(SubjectId(1)).unwrap().unwrap().erased_at_ms;
    assert!(
        erased.is_some_and(|t| t >= before && t <= after),
        "{erased:?}"
    );
    // The other subject is untouched.
    assert_eq!(
        store.wrapped_key(SubjectId(2)).unwrap(),
        Some(key(2, 1, 0xa2))
    );
    assert_eq!(
        store.subject_by_blind(&[3; 32]).unwrap(),
        Some(SubjectId(2))
    );
    assert_eq!(
        store.subject(SubjectId(2)).unwrap().unwrap().erased_at_ms,
        None
    );
    assert_eq!(store.records(SubjectId(1), None).unwrap().len(), 4);
}

fn steward_store_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The sweep deletes the records of erased subjects only.
fn sweep_deletes_records_of_erased_subjects_only(fx: &Fixture) {
    let mut store = fx.open();
    let records = seed(store.as_mut());
    assert_eq!(store.sweep_shredded().unwrap(), 0);
    commit(
        store.as_mut(),
        ChangeSet {
            shred: vec![SubjectId(2)],
            ..Default::default()
        },
    );
    let of2 = records.iter().filter(|r| r.subject == SubjectId(2)).count() as u64;
    assert_eq!(of2, 2);
    assert_eq!(store.sweep_shredded().unwrap(), of2);
    assert_eq!(store.records(SubjectId(2), None).unwrap(), vec![]);
    assert_eq!(store.record(RecordId(13)).unwrap(), None);
    assert_eq!(store.records(SubjectId(1), None).unwrap().len(), 4);
    assert_eq!(store.sweep_shredded().unwrap(), 0);
}

/// A change set that fails anywhere leaves nothing behind: no subject, key,
/// identifier, record, principal, registry row, audit entry or checkpoint.
fn failing_changeset_leaves_nothing_behind(fx: &Fixture) {
    let mut store = fx.open_with(options(1));
    seed(store.as_mut());
    let before = snapshot(store.as_ref());
    let everything = |records: Vec<RecordRow>, subjects: Vec<SubjectRow>| ChangeSet {
        subjects,
        keys: vec![key(3, 1, 0xa3), key(1, 9, 0xff)],
        identifiers: vec![ident(7, 3, "username")],
        records,
        shred: vec![SubjectId(2)],
        principals: vec![("alice".into(), "{}".into(), false)],
        registry: vec![(RegistryTable::SupportCases, "case-1".into(), "{}".into())],
        audit: vec![draft(1), draft(2)],
        ..Default::default()
    };
    // A record id that is already stored.
    let dup = store.commit(everything(
        vec![
            record(30, 3, "usage", "usage.metric"),
            record(10, 3, "usage", "usage.metric"),
        ],
        vec![subject(3, 2000)],
    ));
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // The same record id twice in one change set.
    let twice = store.commit(everything(
        vec![
            record(31, 3, "usage", "usage.metric"),
            record(31, 3, "usage", "usage.metric"),
        ],
        vec![subject(3, 2000)],
    ));
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    // A subject that already exists.
    let subj = store.commit(everything(vec![], vec![subject(3, 2000), subject(1, 5)]));
    assert!(matches!(subj, Err(StoreError::Conflict(_))), "{subj:?}");
    // A record of a subject the store does not hold.
    let orphan = store.commit(everything(
        vec![record(32, 77, "usage", "usage.metric")],
        vec![subject(3, 2000)],
    ));
    assert!(orphan.is_err(), "{orphan:?}");
    // A category outside the vocabulary.
    let mut bad = record(33, 3, "usage", "usage.metric");
    bad.category = "gossip".into();
    let cat = store.commit(everything(vec![bad], vec![subject(3, 2000)]));
    assert!(cat.is_err(), "{cat:?}");
    assert_eq!(snapshot(store.as_ref()), before);
    // The store still works afterwards, and the log continues at index 1.
    let ok = commit(
        store.as_mut(),
        everything(
            vec![record(30, 3, "usage", "usage.metric")],
            vec![subject(3, 2000)],
        ),
    );
    assert_eq!(ok.audit_indexes, vec![1, 2]);
    verify(store.as_ref());
}

/// Audit indexes are assigned contiguously across commits from the head
/// row; each entry's `prev` is the previous leaf hash.
fn audit_indexes_are_contiguous_across_commits(fx: &Fixture) {
    let mut store = fx.open();
    let mut n = 0;
    let mut expect_from = 0u64;
    for count in [1u64, 3, 0, 2, 5] {
        let c = commit(
            store.as_mut(),
            ChangeSet {
                audit: (0..count)
                    .map(|_| {
                        n += 1;
                        draft(n)
                    })
                    .collect(),
                ..Default::default()
            },
        );
        let want: Vec<u64> = (expect_from..expect_from + count).collect();
        assert_eq!(c.audit_indexes, want);
        expect_from += count;
        assert_eq!(c.audit_size, expect_from);
    }
    assert_eq!(store.audit_size().unwrap(), 11);
    let rows = scan(store.as_ref());
    assert_eq!(rows.len(), 11);
    let mut prev = None;
    for (i, (index, bytes, leaf)) in rows.iter().enumerate() {
        assert_eq!(*index, i as u64);
        assert_eq!(*leaf, steward_audit::leaf_hash(bytes));
        let entry = AuditEntry::decode(bytes).expect("canonical entry");
        assert_eq!(entry.index, i as u64);
        assert_eq!(entry.prev, prev);
        assert_eq!(entry.request_id.as_str(), format!("req-{}", i + 1));
        prev = Some(*leaf);
    }
    // Partial scans and an early stop.
    let mut seen = Vec::new();
    store
        .audit_scan(3, 6, &mut |r| {
            seen.push(r.index);
            true
        })
        .unwrap();
    assert_eq!(seen, [3, 4, 5]);
    let mut seen = Vec::new();
    store
        .audit_scan(0, 100, &mut |r| {
            seen.push(r.index);
            seen.len() < 2
        })
        .unwrap();
    assert_eq!(seen, [0, 1]);
}

/// The head row's root is the RFC 6962 root over the stored leaf hashes.
fn head_root_equals_merkle_root_of_stored_leaves(fx: &Fixture) {
    let mut store = fx.open();
    assert_eq!(store.audit_head().unwrap(), (0, steward_audit::EMPTY_ROOT));
    for batch in 0..4u64 {
        commit(
            store.as_mut(),
            ChangeSet {
                audit: (0..batch + 1).map(|i| draft(batch * 10 + i)).collect(),
                ..Default::default()
            },
        );
        let leaves: Vec<[u8; 32]> = scan(store.as_ref()).into_iter().map(|r| r.2).collect();
        assert_eq!(
            store.audit_head().unwrap(),
            (leaves.len() as u64, steward_audit::root(&leaves))
        );
    }
    assert_eq!(store.audit_size().unwrap(), 10);
}

/// A signed checkpoint is cut every N entries (and at the first append,
/// when no checkpoint was ever cut); `cut_checkpoint` cuts one on demand;
/// the whole log verifies against the signing key's verifier key.
fn checkpoints_every_n_verify(fx: &Fixture) {
    let mut store = fx.open_with(options(3));
    for i in 0..7 {
        commit(
            store.as_mut(),
            ChangeSet {
                audit: vec![draft(i)],
                ..Default::default()
            },
        );
    }
    let sizes: Vec<u64> = store
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|c| c.0)
        .collect();
    // 1: the interval since the (never cut) previous checkpoint has passed;
    // 4 and 7: three entries each since the one before.
    assert_eq!(sizes, [1, 4, 7]);
    commit(
        store.as_mut(),
        ChangeSet {
            audit: vec![draft(7)],
            ..Default::default()
        },
    );
    assert_eq!(store.cut_checkpoint().unwrap(), 8);
    // Nothing new since: no new checkpoint.
    assert_eq!(store.cut_checkpoint().unwrap(), 8);
    let cps = store.checkpoints().unwrap();
    assert_eq!(cps.iter().map(|c| c.0).collect::<Vec<_>>(), [1, 4, 7, 8]);
    let vkey = verifier_key();
    let leaves: Vec<[u8; 32]> = scan(store.as_ref()).into_iter().map(|r| r.2).collect();
    for (size, note) in &cps {
        let cp = Checkpoint::verify_note(note, &vkey).expect("signed checkpoint");
        assert_eq!(cp.origin, ORIGIN);
        assert_eq!(cp.size, *size);
        assert_eq!(cp.root, steward_audit::root(&leaves[..*size as usize]));
    }
    let report = verify(store.as_ref());
    assert_eq!(
        (
            report.entries,
            report.checkpoints_verified,
            report.signed_size
        ),
        (8, 4, 8)
    );
    // The streaming verifier agrees.
    let (size, root) = store.audit_head().unwrap();
    let mut v = LogVerifier::new(
        &stored_checkpoints(store.as_ref()),
        Some(Head { size, root }),
        &vkey,
    );
    for e in stored_entries(store.as_ref()) {
        v.push(&e).expect("entry verifies");
    }
    assert_eq!(v.finish().expect("log verifies").root, root);
    // A key other than the signing key does not verify the checkpoints.
    let other =
        VerifierKey::new(KEY_NAME, &SigningKey::from_bytes(&[8; 32]).verifying_key()).expect("key");
    assert!(
        verify_log(
            stored_entries(store.as_ref()),
            &stored_checkpoints(store.as_ref()),
            Some(Head { size, root }),
            &other
        )
        .is_err()
    );
}

/// `cut_checkpoint` on an empty log cuts nothing.
fn cut_checkpoint_on_empty_log(fx: &Fixture) {
    let mut store = fx.open();
    assert_eq!(store.cut_checkpoint().unwrap(), 0);
    assert_eq!(store.checkpoints().unwrap(), vec![]);
}

/// Principals are inserted or replaced and listed in byte order of name.
fn principals_round_trip(fx: &Fixture) {
    let mut store = fx.open();
    commit(
        store.as_mut(),
        ChangeSet {
            principals: vec![
                ("alice".into(), r#"{"role":"support"}"#.into(), false),
                ("Zed".into(), r#"{"role":"admin"}"#.into(), false),
                ("bob".into(), "{}".into(), false),
            ],
            ..Default::default()
        },
    );
    commit(
        store.as_mut(),
        ChangeSet {
            principals: vec![("bob".into(), r#"{"role":"gone"}"#.into(), true)],
            ..Default::default()
        },
    );
    assert_eq!(
        store.principal("alice").unwrap(),
        Some((r#"{"role":"support"}"#.into(), false))
    );
    assert_eq!(
        store.principal("bob").unwrap(),
        Some((r#"{"role":"gone"}"#.into(), true))
    );
    assert_eq!(store.principal("carol").unwrap(), None);
    let names: Vec<String> = store
        .principals()
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(names, ["Zed", "alice", "bob"]);
}

/// Every registry table keeps its own rows, inserted or replaced, listed by id.
fn registry_tables_round_trip(fx: &Fixture) {
    let mut store = fx.open();
    let mut registry = Vec::new();
    for (i, t) in RegistryTable::ALL.iter().enumerate() {
        registry.push((*t, format!("b-{i}"), format!(r#"{{"n":{i}}}"#)));
        registry.push((*t, format!("a-{i}"), "{}".to_owned()));
    }
    commit(
        store.as_mut(),
        ChangeSet {
            registry,
            ..Default::default()
        },
    );
    commit(
        store.as_mut(),
        ChangeSet {
            registry: vec![(RegistryTable::ALL[0], "a-0".into(), r#"{"v":2}"#.into())],
            ..Default::default()
        },
    );
    for (i, t) in RegistryTable::ALL.iter().enumerate() {
        let first = if i == 0 { r#"{"v":2}"# } else { "{}" };
        assert_eq!(
            store.registry_list(*t).unwrap(),
            vec![
                (format!("a-{i}"), first.to_owned()),
                (format!("b-{i}"), format!(r#"{{"n":{i}}}"#))
            ],
            "{}",
            t.table()
        );
        assert_eq!(
            store.registry_get(*t, &format!("b-{i}")).unwrap(),
            Some(format!(r#"{{"n":{i}}}"#))
        );
        // Another table's id is not here.
        let other = (i + 1) % RegistryTable::ALL.len();
        assert_eq!(store.registry_get(*t, &format!("b-{other}")).unwrap(), None);
    }
}

/// Record counts per category and records filtered by category agree with
/// the records written.
fn record_counts_and_category_filter(fx: &Fixture) {
    let mut store = fx.open();
    let records = seed(store.as_mut());
    for s in [SubjectId(1), SubjectId(2)] {
        let mut want: BTreeMap<u8, (String, u64)> = BTreeMap::new();
        for r in records.iter().filter(|r| r.subject == s) {
            let code = r
                .category
                .parse::<steward_domain::Category>()
                .unwrap()
                .code();
            want.entry(code).or_insert((r.category.to_string(), 0)).1 += 1;
        }
        let want: Vec<(String, u64)> = want.into_values().collect();
        assert_eq!(store.record_counts(s).unwrap(), want);
        for (cat, count) in &want {
            let got = store.records(s, Some(cat)).unwrap();
            assert_eq!(got.len() as u64, *count);
            assert!(got.iter().all(|r| r.category == *cat && r.subject == s));
            assert!(got.windows(2).all(|w| w[0].id < w[1].id));
        }
    }
    assert_eq!(
        store.record_counts(SubjectId(1)).unwrap(),
        vec![("account".to_owned(), 1), ("usage".to_owned(), 3)]
    );
    assert_eq!(
        store.records(SubjectId(1), Some("billing")).unwrap(),
        vec![]
    );
    assert_eq!(store.record_counts(SubjectId(99)).unwrap(), vec![]);
    assert!(store.records(SubjectId(1), Some("gossip")).is_err());
}

/// Keyset pages (the streaming export, N7.2) walk a subject's records in id
/// order, page after page, and together give exactly what `records` gives.
fn records_page_walks_in_id_order(fx: &Fixture) {
    let mut store = fx.open();
    let records = seed(store.as_mut());
    // Subject 1 holds ids 10, 11, 12, 14 (seed above); usage: 10, 11, 14.
    let ids = |v: &[RecordRow]| v.iter().map(|r| r.id.0).collect::<Vec<_>>();
    let s = SubjectId(1);
    let p1 = store.records_page(s, None, None, 3).unwrap();
    assert_eq!(ids(&p1), [10, 11, 12]);
    let p2 = store.records_page(s, None, Some(RecordId(12)), 3).unwrap();
    assert_eq!(ids(&p2), [14]);
    assert_eq!(
        store.records_page(s, None, Some(RecordId(14)), 3).unwrap(),
        vec![]
    );
    let mut walked = p1.clone();
    walked.extend(p2);
    assert_eq!(walked, store.records(s, None).unwrap());
    let want: Vec<RecordRow> = records.iter().filter(|r| r.subject == s).cloned().collect();
    assert_eq!(walked, want);
    let u = store
        .records_page(s, Some("usage"), Some(RecordId(10)), 10)
        .unwrap();
    assert_eq!(ids(&u), [11, 14]);
    assert_eq!(store.records_page(s, None, None, 0).unwrap(), vec![]);
    assert_eq!(
        store.records_page(SubjectId(99), None, None, 10).unwrap(),
        vec![]
    );
    assert!(store.records_page(s, Some("gossip"), None, 10).is_err());
}

/// Reopening runs the migrations again without change and finds everything.
fn reopen_keeps_everything(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    let before = snapshot(store.as_ref());
    drop(store);
    let again = fx.open();
    assert_eq!(snapshot(again.as_ref()), before);
    let third = fx.open();
    assert_eq!(snapshot(third.as_ref()), before);
}

/// Commits from two connections to the same store at once all succeed and
/// get contiguous, non-overlapping audit indexes (the head row serializes
/// them); the log verifies.
fn concurrent_commits_two_connections(fx: &Fixture) {
    const PER_THREAD: u64 = 20;
    let stores = [fx.open_with(options(7)), fx.open_with(options(7))];
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(t, mut store)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut got = Vec::new();
                for i in 0..PER_THREAD {
                    let n = t as u64 * 1000 + i;
                    let c = store
                        .commit(ChangeSet {
                            subjects: vec![subject(n as i64 + 100, n as i64)],
                            audit: vec![draft(n), draft(n + 500)],
                            ..Default::default()
                        })
                        .map_err(|e| e.to_string())?;
                    got.push(c.audit_indexes);
                }
                Ok::<_, String>(got)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        let got = h.join().expect("thread").expect("commits");
        for ix in got {
            assert_eq!(ix.len(), 2);
            assert_eq!(ix[1], ix[0] + 1, "one commit's entries are adjacent");
            all.extend(ix);
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..4 * PER_THREAD).collect::<Vec<_>>());
    let store = fx.open();
    assert_eq!(store.audit_size().unwrap(), 4 * PER_THREAD);
    assert_eq!(store.subjects().unwrap().len() as u64, 2 * PER_THREAD);
    assert_eq!(verify(store.as_ref()).entries, 4 * PER_THREAD);
}

/// A batch large enough for the bulk path (PostgreSQL: binary COPY) reads
/// back exactly; a large batch with one bad row leaves nothing behind.
fn large_batch_round_trip(fx: &Fixture) {
    let mut store = fx.open();
    commit(
        store.as_mut(),
        ChangeSet {
            subjects: (1..=3).map(|s| subject(s, 1000 + s)).collect(),
            ..Default::default()
        },
    );
    const CATS: [(&str, &str); 3] = [
        ("usage", "usage.authentication"),
        ("billing", "billing.charge"),
        ("account", "account.profile"),
    ];
    let records: Vec<RecordRow> = (0..500i64)
        .map(|i| {
            let (cat, kind) = CATS[(i % 3) as usize];
            // Ids out of order in the batch; subjects 1..=3 by i % 7.
            record(10_000 + (i * 37) % 500, 1 + (i % 7) % 3, cat, kind)
        })
        .collect();
    let c = commit(
        store.as_mut(),
        ChangeSet {
            records: records.clone(),
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    assert_eq!(c.audit_indexes, vec![0]);
    let mut total = 0;
    for s in 1..=3 {
        let mut want: Vec<RecordRow> = records
            .iter()
            .filter(|r| r.subject == SubjectId(s))
            .cloned()
            .collect();
        want.sort_by_key(|r| r.id);
        total += want.len();
        assert_eq!(store.records(SubjectId(s), None).unwrap(), want);
    }
    assert_eq!(total, 500);
    let before = snapshot(store.as_ref());
    let mut dup: Vec<RecordRow> = (0..300)
        .map(|i| record(20_000 + i, 1, "usage", "usage.metric"))
        .collect();
    dup.push(record(10_250, 2, "usage", "usage.metric"));
    let r = store.commit(ChangeSet {
        records: dup,
        audit: vec![draft(2)],
        ..Default::default()
    });
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let mut orphan: Vec<RecordRow> = (0..300)
        .map(|i| record(30_000 + i, 1, "usage", "usage.metric"))
        .collect();
    orphan[150].subject = SubjectId(4);
    let r = store.commit(ChangeSet {
        records: orphan,
        audit: vec![draft(3)],
        ..Default::default()
    });
    assert!(r.is_err(), "{r:?}");
    assert_eq!(snapshot(store.as_ref()), before);
}

/// `copy_store` from a SQLite store into this backend: everything arrives,
/// the audit log byte for byte with its checkpoints, and it still verifies;
/// importing into a non-empty log is refused.
fn copy_store_into_backend(fx: &Fixture) {
    let src_fx = sqlite_fixture();
    let mut src = src_fx.open_with(options(2));
    seed(src.as_mut());
    commit(
        src.as_mut(),
        ChangeSet {
            shred: vec![SubjectId(2)],
            principals: vec![("alice".into(), "{}".into(), false)],
            registry: vec![(RegistryTable::ALL[1], "ob-1".into(), "{}".into())],
            audit: vec![draft(1), draft(2), draft(3)],
            ..Default::default()
        },
    );
    let mut to = fx.open_with(options(2));
    let summary = match steward_store::copy_store(src.as_ref(), to.as_mut(), 1) {
        Ok(s) => s,
        Err(e) => panic!("copy: {e}"),
    };
    assert_eq!(
        (summary.subjects, summary.records, summary.audit_entries),
        (2, 6, 4)
    );
    assert_eq!(snapshot(to.as_ref()), snapshot(src.as_ref()));
    assert_eq!(verify(to.as_ref()).entries, 4);
    let r = to.import_audit(&[], &[]);
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    // The copied log goes on from where the source's ended.
    let c = commit(
        to.as_mut(),
        ChangeSet {
            audit: vec![draft(4)],
            ..Default::default()
        },
    );
    assert_eq!(c.audit_indexes, vec![4]);
    verify(to.as_ref());
}

/// The optimistic-concurrency guard of a change set: a commit whose guarded
/// registry row is what the caller read goes through; one whose row changed
/// (or exists when it must not) writes nothing at all (no row, no audit
/// entry, no other part of the change set) and is a `GuardConflict`.
fn registry_guard_compare_and_set(fx: &Fixture) {
    use steward_store::RegistryGuard;
    let mut store = fx.open();
    let t = RegistryTable::Requests;
    let guard = |expected: Option<&str>| RegistryGuard {
        table: t,
        id: "dsr_1".into(),
        expected: expected.map(str::to_owned),
    };
    // Create: the row must not exist yet.
    commit(
        store.as_mut(),
        ChangeSet {
            registry: vec![(t, "dsr_1".into(), r#"{"state":"received"}"#.into())],
            guards: vec![guard(None)],
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    // A second create of the same row is refused, and its other parts too.
    let again = store.commit(ChangeSet {
        registry: vec![
            (t, "dsr_1".into(), r#"{"state":"other"}"#.into()),
            (RegistryTable::SupportCases, "case-x".into(), "{}".into()),
        ],
        subjects: vec![subject(77, 1)],
        guards: vec![guard(None)],
        audit: vec![draft(2)],
        ..Default::default()
    });
    match again {
        Err(StoreError::GuardConflict { table, id }) => {
            assert_eq!((table, id.as_str()), ("dsr_requests", "dsr_1"))
        }
        other => panic!("expected a guard conflict, got {other:?}"),
    }
    assert_eq!(store.audit_size().unwrap(), 1);
    assert_eq!(store.subjects().unwrap().len(), 0);
    assert_eq!(
        store
            .registry_get(RegistryTable::SupportCases, "case-x")
            .unwrap(),
        None
    );
    // Update from the body read: goes through.
    commit(
        store.as_mut(),
        ChangeSet {
            registry: vec![(t, "dsr_1".into(), r#"{"state":"verified"}"#.into())],
            guards: vec![guard(Some(r#"{"state":"received"}"#))],
            audit: vec![draft(3)],
            ..Default::default()
        },
    );
    // Update from a stale body: refused, the row keeps the last write.
    let stale = store.commit(ChangeSet {
        registry: vec![(t, "dsr_1".into(), r#"{"state":"in_progress"}"#.into())],
        guards: vec![guard(Some(r#"{"state":"received"}"#))],
        audit: vec![draft(4)],
        ..Default::default()
    });
    assert!(
        matches!(stale, Err(StoreError::GuardConflict { .. })),
        "{stale:?}"
    );
    assert_eq!(
        store.registry_get(t, "dsr_1").unwrap().as_deref(),
        Some(r#"{"state":"verified"}"#)
    );
    assert_eq!(store.audit_size().unwrap(), 2);
    // Two guards in one change set: both must hold.
    let v = RegistryTable::Verifications;
    let two = store.commit(ChangeSet {
        registry: vec![(v, "dsr_1".into(), "{}".into())],
        guards: vec![
            guard(Some(r#"{"state":"verified"}"#)),
            RegistryGuard {
                table: v,
                id: "dsr_1".into(),
                expected: Some("{}".into()),
            },
        ],
        ..Default::default()
    });
    assert!(
        matches!(
            two,
            Err(StoreError::GuardConflict {
                table: "dsr_verifications",
                ..
            })
        ),
        "{two:?}"
    );
    assert_eq!(store.registry_get(v, "dsr_1").unwrap(), None);
}

/// Two connections race to move the same registry row from the body both
/// read, 25 rounds: exactly one commit wins each round (the guard is checked
/// inside the transaction, PostgreSQL: under `FOR UPDATE`), and the audit
/// log holds exactly the winners' entries.
fn registry_guard_two_connections_one_winner(fx: &Fixture) {
    use steward_store::RegistryGuard;
    const ROUNDS: usize = 25;
    let t = RegistryTable::Requests;
    let mut setup = fx.open();
    commit(
        setup.as_mut(),
        ChangeSet {
            registry: vec![(t, "dsr_race".into(), "round-0".into())],
            ..Default::default()
        },
    );
    drop(setup);
    let stores = [fx.open(), fx.open()];
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(who, mut store)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    // Both read the same body before either writes.
                    let read = store.registry_get(t, "dsr_race").expect("read");
                    barrier.wait();
                    let r = store.commit(ChangeSet {
                        registry: vec![(t, "dsr_race".into(), format!("round-{}", round + 1))],
                        guards: vec![RegistryGuard {
                            table: t,
                            id: "dsr_race".into(),
                            expected: read,
                        }],
                        audit: vec![draft((who * 1000 + round) as u64)],
                        ..Default::default()
                    });
                    match r {
                        Ok(_) => wins.push(round),
                        Err(StoreError::GuardConflict { .. }) => {}
                        Err(e) => panic!("round {round}: {e}"),
                    }
                    barrier.wait();
                }
                wins
            })
        })
        .collect();
    let mut all: Vec<usize> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..ROUNDS).collect::<Vec<_>>(), "one winner per round");
    let store = fx.open();
    assert_eq!(store.audit_size().unwrap(), ROUNDS as u64);
    assert_eq!(
        store.registry_get(t, "dsr_race").unwrap().as_deref(),
        Some(format!("round-{ROUNDS}").as_str())
    );
}

/// Legal holds (N3.7) and retention (N8.8): a record moves under a hold key
/// that survives the subject's shredding; deletions name stored rows only
/// (else nothing is written); the hold key goes with the last held record.
fn legal_hold_and_retention_n3_7_n8_8(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    let held = RecordRow {
        key_version: 1,
        sealed: vec![0xcc; 40],
        ..record(13, 2, "billing", "billing.charge")
    };
    commit(
        store.as_mut(),
        ChangeSet {
            hold_keys: vec![key(2, 1, 0xb2)],
            held: vec![HeldRecordRow {
                record: held.clone(),
                until_ms: 5000,
            }],
            shred: vec![SubjectId(2)],
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    assert_eq!(store.record(RecordId(13)).unwrap(), None);
    assert_eq!(store.wrapped_key(SubjectId(2)).unwrap(), None);
    assert_eq!(store.hold_key(SubjectId(2)).unwrap(), Some(key(2, 1, 0xb2)));
    assert_eq!(store.hold_keys().unwrap(), vec![key(2, 1, 0xb2)]);
    assert_eq!(
        store.held_records(SubjectId(2)).unwrap(),
        vec![HeldRecordRow {
            record: held,
            until_ms: 5000
        }]
    );
    assert_eq!(
        store.record_counts(SubjectId(2)).unwrap(),
        vec![("usage".to_owned(), 1)]
    );
    // Records stored at or before 1_700_000_000_012 (record(id) is stored at
    // 1_700_000_000_000 + id): 10, 11, 12; 13 was moved.
    let ids = |v: Vec<RecordMeta>| v.into_iter().map(|m| m.id.0).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .records_stored_before(1_700_000_000_012, RecordId(i64::MIN), 100)
            .unwrap()),
        vec![10, 11, 12]
    );
    let page = store
        .records_stored_before(1_700_000_000_012, RecordId(10), 1)
        .unwrap();
    assert_eq!(
        page,
        vec![RecordMeta {
            id: RecordId(11),
            subject: SubjectId(1),
            category: "usage".into(),
            kind: "usage.access".into(),
            stored_at_ms: 1_700_000_000_011,
            until_ms: None,
        }]
    );
    assert!(store.held_due(4999).unwrap().is_empty());
    let due = store.held_due(5000).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].id, due[0].subject, due[0].until_ms),
        (RecordId(13), SubjectId(2), Some(5000))
    );
    assert_eq!(due[0].kind, "billing.charge");
    // `steward copy` carries the hold (N3.7).
    let tdir = tempfile::tempdir().unwrap();
    let mut target = SqliteStore::open(&tdir.path().join("t.sqlite3"), options(10)).unwrap();
    steward_store::copy_store(store.as_ref(), &mut target, 10).unwrap();
    let t: &dyn Store = &target;
    assert_eq!(
        t.held_records(SubjectId(2)).unwrap(),
        store.held_records(SubjectId(2)).unwrap()
    );
    assert_eq!(t.hold_key(SubjectId(2)).unwrap(), Some(key(2, 1, 0xb2)));
    assert_eq!(t.record(RecordId(13)).unwrap(), None);
    // A deletion naming a record that is not stored writes nothing.
    let size = store.audit_size().unwrap();
    let e = store
        .commit(ChangeSet {
            delete_records: vec![RecordId(10), RecordId(99)],
            audit: vec![draft(2)],
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
    assert!(store.record(RecordId(10)).unwrap().is_some());
    assert_eq!(store.audit_size().unwrap(), size);
    commit(
        store.as_mut(),
        ChangeSet {
            delete_records: vec![RecordId(10)],
            delete_held: vec![RecordId(13)],
            audit: vec![draft(2)],
            ..Default::default()
        },
    );
    assert_eq!(store.record(RecordId(10)).unwrap(), None);
    assert!(store.held_records(SubjectId(2)).unwrap().is_empty());
    assert_eq!(store.hold_key(SubjectId(2)).unwrap(), None);
    let e = store
        .commit(ChangeSet {
            delete_held: vec![RecordId(13)],
            audit: vec![draft(3)],
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");
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
    registry_guard_two_connections_one_winner,
    legal_hold_and_retention_n3_7_n8_8,
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

// ------------------------------------------------------ PostgreSQL only

/// The admin client of a fixture's server.
fn admin(fx: &Fixture) -> ::postgres::Client {
    let base = &fx.pg.as_ref().expect("pg fixture").base_url;
    PostgresStore::connect_client(base).expect("admin connection")
}

/// Same tables and columns as SQLite's schema (DESIGN "Storage").
#[test]
fn postgres_schema_matches_sqlite() {
    let Some(fx) = pg_fixture() else { return };
    let _pg = fx.open();
    let sq_dir = tempfile::tempdir().unwrap();
    let sq = SqliteStore::open(&sq_dir.path().join("s.sqlite3"), options(10)).unwrap();
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let conn = sq.connection();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in names {
        let mut cols = conn
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
            ))
            .unwrap();
        let c: Vec<String> = cols
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        want.insert(t, c);
    }
    let schema = &fx.pg.as_ref().unwrap().schema;
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in admin(&fx)
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
            &[schema],
        )
        .unwrap()
    {
        got.entry(r.get(0)).or_default().push(r.get(1));
    }
    assert_eq!(
        got.remove("steward_schema_version"),
        Some(vec!["id".to_owned(), "version".to_owned()])
    );
    assert_eq!(got, want);
}

/// Scale-out: no sequences anywhere in the store's schema.
#[test]
fn postgres_uses_no_sequences() {
    let Some(fx) = pg_fixture() else { return };
    let mut store = fx.open();
    seed(store.as_mut());
    let schema = &fx.pg.as_ref().unwrap().schema;
    let n: i64 = admin(&fx)
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'S'",
            &[schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

/// Migrators that start at once on a fresh schema all succeed without
/// advisory locks (the version row serializes them).
#[test]
fn postgres_concurrent_migrators() {
    let Some(fx) = pg_fixture() else { return };
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = fx.url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                PostgresStore::open(&url, options(10))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread").expect("migrated");
    }
    let v: i64 = admin(&fx)
        .query_one(
            &format!(
                "SELECT version FROM \"{}\".steward_schema_version",
                fx.pg.as_ref().unwrap().schema
            ),
            &[],
        )
        .unwrap()
        .get(0);
    // v4: data subject requests; v5: legal holds and retention; v6: the
    // email intake ledger (issue 6).
    assert_eq!(v, 6);
    let mut store = fx.open();
    assert_eq!(
        commit(
            store.as_mut(),
            ChangeSet {
                audit: vec![draft(0)],
                ..Default::default()
            }
        )
        .audit_indexes,
        vec![0]
    );
}

fn server_ssl_on(fx: &Fixture) -> bool {
    let on: String = admin(fx).query_one("SHOW ssl", &[]).unwrap().get(0);
    on == "on"
}

/// A TLS test cannot run here: prints a skip line, or fails under `CI`
/// (`.ci/run` turns TLS on, so there it must run).
fn tls_skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set, so the PostgreSQL TLS tests must run: {why}"
    );
    println!("skip: {why}");
}

/// N5.3: `sslmode=require` encrypts the connection (rustls); without TLS
/// the same server connection is plain.
#[test]
fn postgres_tls_require_n5_3() {
    let Some(fx) = pg_fixture() else { return };
    if !server_ssl_on(&fx) {
        tls_skip("the PostgreSQL server has ssl = off, so TLS cannot be tested here");
        return;
    }
    let plain = PostgresStore::open(&fx.url, options(10)).unwrap();
    assert!(!plain.tls_in_use().unwrap());
    let mut tls = PostgresStore::open(&fx.url_with("sslmode=require"), options(10)).unwrap();
    assert!(tls.tls_in_use().unwrap());
    assert_eq!(
        tls.commit(ChangeSet {
            audit: vec![draft(0)],
            ..Default::default()
        })
        .unwrap()
        .audit_indexes,
        vec![0]
    );
    assert_eq!(plain.audit_size().unwrap(), 1);
}

/// N5.3: `verify-full` checks the chain and the host name, `verify-ca` the
/// chain only. Uses the server's own certificate as the root when it is the
/// Debian self-signed one for `localhost`.
#[test]
fn postgres_tls_verify_n5_3() {
    let Some(fx) = pg_fixture() else { return };
    if !server_ssl_on(&fx) {
        tls_skip("the PostgreSQL server has ssl = off, so TLS cannot be tested here");
        return;
    }
    let cert: String = admin(&fx)
        .query_one("SHOW ssl_cert_file", &[])
        .unwrap()
        .get(0);
    let pem = match std::fs::read_to_string(&cert) {
        Ok(p) if p.contains("BEGIN CERTIFICATE") => p,
        _ => {
            tls_skip(&format!(
                "the server certificate {cert} is not readable here"
            ));
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pem).unwrap();
    let root = root.display().to_string();
    // The base URL's host is an IP address: verify-ca accepts the chain...
    let ca = PostgresStore::open(
        &fx.url_with(&format!("sslmode=verify-ca&sslrootcert={root}")),
        options(10),
    );
    match ca {
        Ok(s) => assert!(s.tls_in_use().unwrap()),
        Err(e) => {
            // Not a self-signed certificate: it needs its CA, which we lack.
            tls_skip(&format!(
                "the server certificate {cert} is not its own root ({e})"
            ));
            return;
        }
    }
    // ... verify-full wants the name too: the certificate names `localhost`.
    let full_ip = PostgresStore::open(
        &fx.url_with(&format!("sslmode=verify-full&sslrootcert={root}")),
        options(10),
    );
    if !fx.url.contains("@127.0.0.1:") {
        tls_skip("verify-full by name needs the base URL's host to be 127.0.0.1");
        return;
    }
    let by_name = PostgresStore::open(
        &fx.url_with(&format!("sslmode=verify-full&sslrootcert={root}"))
            .replacen("@127.0.0.1:", "@localhost:", 1),
        options(10),
    );
    match (&full_ip, &by_name) {
        (Err(StoreError::Unwritable { reason }), Ok(s)) => {
            assert!(
                reason.contains("TLS") || reason.contains("certificate"),
                "{reason}"
            );
            assert!(s.tls_in_use().unwrap());
        }
        (Ok(_), Ok(_)) => println!("note: the certificate also names the IP address"),
        other => panic!("verify-full: {other:?}"),
    }
    // A root that did not sign the certificate is refused.
    let other_root = dir.path().join("other.pem");
    std::fs::write(&other_root, OTHER_CERT).unwrap();
    let wrong = PostgresStore::open(
        &fx.url_with(&format!(
            "sslmode=verify-ca&sslrootcert={}",
            other_root.display()
        )),
        options(10),
    );
    assert!(
        matches!(
            wrong,
            Err(StoreError::Unwritable { .. }) | Err(StoreError::Config(_))
        ),
        "{wrong:?}"
    );
}

/// A self-signed certificate that did not sign the server's, made with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=not-the-server -days 36500`.
const OTHER_CERT: &str = include_str!("data/other-ca.pem");

/// A lost connection fails closed (Unwritable), and the store reconnects
/// by itself on the next call.
#[test]
fn postgres_connection_loss_recovers() {
    let Some(fx) = pg_fixture() else { return };
    let app = format!("steward_conformance_{:08x}", rand::random::<u32>());
    let mut store = PostgresStore::open(
        &fx.url_with(&format!("application_name={app}")),
        options(10),
    )
    .unwrap();
    store.health().unwrap();
    let killed: i64 = admin(&fx)
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    // The backend goes away asynchronously after pg_terminate_backend:
    // poll until the store notices, with a generous bound (not a timing
    // assertion: a loaded machine may take a while).
    let mut err = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        match store.health() {
            Err(e) => {
                err = Some(e);
                break;
            }
            Ok(()) => std::thread::yield_now(),
        }
    }
    assert!(
        matches!(err, Some(StoreError::Unwritable { .. })),
        "{err:?}"
    );
    store.health().expect("reconnected");
    assert_eq!(
        store
            .commit(ChangeSet {
                audit: vec![draft(0)],
                ..Default::default()
            })
            .unwrap()
            .audit_indexes,
        vec![0]
    );
}

/// A read-only server is Unwritable for health and commits, and nothing is
/// written.
#[test]
fn postgres_read_only_is_unwritable() {
    let Some(fx) = pg_fixture() else { return };
    let mut store = PostgresStore::open(&fx.url, options(10)).unwrap();
    store
        .with_client(|c| c.batch_execute("SET default_transaction_read_only = on"))
        .unwrap()
        .unwrap();
    assert!(matches!(store.health(), Err(StoreError::Unwritable { .. })));
    let r = store.commit(ChangeSet {
        audit: vec![draft(0)],
        ..Default::default()
    });
    assert!(matches!(r, Err(StoreError::Unwritable { .. })), "{r:?}");
    store
        .with_client(|c| c.batch_execute("SET default_transaction_read_only = off"))
        .unwrap()
        .unwrap();
    store.health().unwrap();
    assert_eq!(store.audit_size().unwrap(), 0);
}

/// Tables dropped under a running store are reported like a replaced
/// SQLite file.
#[test]
fn postgres_dropped_schema_is_reported() {
    let Some(fx) = pg_fixture() else { return };
    let store = PostgresStore::open(&fx.url, options(10)).unwrap();
    store.health().unwrap();
    let schema = &fx.pg.as_ref().unwrap().schema;
    admin(&fx)
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
    assert!(matches!(
        store.health(),
        Err(StoreError::FileReplaced { .. })
    ));
}
