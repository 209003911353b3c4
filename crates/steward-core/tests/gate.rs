//! The gate's fail-closed behaviour and the audit log's tamper evidence,
//! through the same library calls the CLI makes.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use steward_audit::{Decision, EntryDraft, Resource, ResourceKind, Timestamp, Token};
use steward_core::{AccessRequest, Action, Config, CoreError, OpenOptions, Steward, VerifyOutcome};
use steward_domain::{Category, NewRecord, Purpose};
use steward_store::{AuditStore, ChangeSet, SqliteStore, Store, StoreOptions};

mod common;

fn open(dir: &Path, busy_ms: u64) -> Steward {
    Steward::open(
        dir,
        Config::default(),
        OpenOptions {
            busy_timeout_ms: Some(busy_ms),
            ..Default::default()
        },
    )
    .unwrap()
}

fn record(user: &str, ip: &str) -> NewRecord {
    let message = format!("Failed password for {user} from {ip} port 22 ssh2");
    common::username_record(
        "usage.authentication",
        user,
        &[
            ("event", "failed_password"),
            ("account", user),
            ("source_ip", ip),
            ("message", &message),
        ],
    )
}

fn security_read(st: &Steward) -> AccessRequest {
    AccessRequest::new("sec", Action::Read, "alice")
        .category(Category::Usage)
        .purpose(Purpose::Protect)
        .clone_for(st)
}

trait CloneFor {
    fn clone_for(self, st: &Steward) -> Self;
}
impl CloneFor for AccessRequest {
    /// Cite the need-to-know grant `add_security_staff` made (issue 17,
    /// N3.8: a person's read of one subject names its justification).
    fn clone_for(self, _st: &Steward) -> Self {
        let grant = GRANT.with(|g| g.borrow().clone());
        self.grant(grant.as_deref())
    }
}

thread_local! {
    /// The grant of "sec" on alice's usage, for protect, of this test.
    static GRANT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn add_security_staff(st: &Steward) {
    let today = time::OffsetDateTime::now_utc().date();
    st.add_principal(
        st.operator(),
        &common::trained_staff("sec", vec![steward_domain::Team::Security]),
    )
    .unwrap();
    // N5.5, N3.8: security reads alice's usage under a need-to-know grant.
    let g = st
        .grant_need_to_know(
            st.operator(),
            &steward_core::GrantRequest {
                grantee: "sec".into(),
                subject: "alice".into(),
                purpose: Purpose::Protect,
                categories: vec![Category::Usage],
                expires_on: today,
                reference: "SEC-1".into(),
            },
        )
        .ok();
    GRANT.with(|cell| *cell.borrow_mut() = g.map(|g| g.id));
}

/// Fail closed (DESIGN): the audit store locked by another process -> the read
/// is refused and nothing is decrypted; released -> the next read succeeds in
/// the same process, without a restart. N5.5: revocation is immediate.
#[test]
fn locked_audit_store_refuses_read_then_recovers_n5_5() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path(), 200);
    st.ingest("ingest", vec![record("alice", "192.0.2.7")], &mut |_| {})
        .unwrap();
    add_security_staff(&st);
    let (_, recs) = st.read(&security_read(&st)).unwrap();
    assert_eq!(recs.len(), 1);

    let other = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
    other
        .execute_batch("BEGIN EXCLUSIVE; INSERT INTO principals VALUES ('x', '{}', 0);")
        .unwrap();
    let size_before = {
        let r = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
        r.query_row("SELECT size FROM audit_head", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    match st.read(&security_read(&st)) {
        Err(CoreError::AuditUnavailable(msg)) => {
            assert!(msg.contains("locked"), "{msg}");
            assert!(!msg.contains("192.0.2.7") && !msg.contains("alice"));
        }
        other => panic!("expected a fail-closed refusal, got {other:?}"),
    }
    other.execute_batch("ROLLBACK").unwrap();
    let (opened, recs) = st.read(&security_read(&st)).unwrap();
    assert_eq!(
        recs.len(),
        1,
        "the next read succeeds once the log is writable"
    );
    assert_eq!(
        opened.audit_index, size_before as u64,
        "the refused read left no audit entry behind"
    );

    st.revoke_principal(st.operator(), "sec").unwrap();
    assert!(
        matches!(st.read(&security_read(&st)), Err(CoreError::Denied(_))),
        "revocation takes effect on the next request"
    );
}

/// A store file deleted underneath a running process is detected, not silently lost.
#[test]
fn deleted_store_is_detected_and_nothing_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path(), 200);
    st.ingest("ingest", vec![record("alice", "192.0.2.7")], &mut |_| {})
        .unwrap();
    add_security_staff(&st);
    for f in ["jp.sqlite3", "jp.sqlite3-wal", "jp.sqlite3-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    match st.read(&security_read(&st)) {
        Err(CoreError::AuditUnavailable(msg)) => {
            assert!(msg.contains("deleted or replaced"), "{msg}")
        }
        other => panic!("expected detection of the deleted store, got {other:?}"),
    }
}

fn t(s: &str) -> Token {
    Token::new(s).unwrap()
}

fn draft(i: u64) -> EntryDraft {
    EntryDraft {
        action: t("read"),
        clause_ids: vec![t("N3.6")],
        decision: if i.is_multiple_of(7) {
            Decision::Deny
        } else {
            Decision::Allow
        },
        policy_ids: vec![t("staff-security-protect")],
        policy_version: t("test"),
        principal: t("sec"),
        purpose: Some(t("protect")),
        reason: None,
        region: t("jp"),
        request_id: t(&format!("req-{i:016x}")),
        resource: Resource::new(ResourceKind::Subject)
            .subject(steward_audit::SubjectRef::new(i * 31 + 7)),
        time: Timestamp::parse("2026-11-29T12:00:00Z").unwrap(),
    }
}

/// Over 1,000 random tamperings of a 10,000-entry log, `audit verify` fails
/// every time and names the first bad index computed from the tampering
/// itself; the untouched log verifies.
#[test]
fn random_tamperings_of_a_10000_entry_log_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path(), 2000);
    let base = st.audit_verify().unwrap();
    let VerifyOutcome::Ok(r) = base else {
        panic!("fresh log must verify")
    };
    let start = r.entries;
    {
        // Append through the store with Steward's checkpoint signer, 1,000 per commit.
        let signer = steward_core::checkpoint_signer(dir.path(), &Config::default()).unwrap();
        let mut store = SqliteStore::open(
            &dir.path().join("jp.sqlite3"),
            StoreOptions {
                region: "jp".into(),
                busy_timeout_ms: 2000,
                checkpoint_every: 1000,
                checkpoint_every_secs: 3600,
                origin: "steward.klustr.io/audit/jp".into(),
                key_name: "steward-audit".into(),
                signing_key: signer,
                allow_plaintext_store: false,
            },
        )
        .unwrap();
        for b in 0..10 {
            let audit = (0..1000).map(|i| draft(b * 1000 + i)).collect();
            store
                .commit(ChangeSet {
                    audit,
                    ..Default::default()
                })
                .unwrap();
        }
        store.cut_checkpoint().unwrap();
    }
    let VerifyOutcome::Ok(r) = st.audit_verify().unwrap() else {
        panic!("untouched log must verify")
    };
    let n = r.entries;
    assert_eq!(n, start + 10_000);

    let conn = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
    let entry = |i: u64| -> (Vec<u8>, Vec<u8>) {
        conn.query_row(
            "SELECT entry, leaf_hash FROM audit_entries WHERE idx = ?1",
            [i as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let checkpoints: Vec<(i64, String)> = conn
        .prepare("SELECT size, note FROM audit_checkpoints ORDER BY size")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(6962);
    let mut kinds: BTreeMap<&str, u32> = BTreeMap::new();
    for round in 0..1000 {
        let kind = round % 6;
        let i = rng.random_range(0..n);
        let (expected, undo): (u64, Box<dyn Fn(&rusqlite::Connection)>) = match kind {
            0 => {
                let (e, _) = entry(i);
                let mut bad = e.clone();
                let pos = rng.random_range(0..bad.len());
                bad[pos] ^= 1 << rng.random_range(0..8);
                conn.execute(
                    "UPDATE audit_entries SET entry = ?1 WHERE idx = ?2",
                    rusqlite::params![bad, i as i64],
                )
                .unwrap();
                kinds
                    .entry("flip_byte")
                    .and_modify(|c| *c += 1)
                    .or_insert(1);
                (
                    i,
                    Box::new(move |c: &rusqlite::Connection| {
                        c.execute(
                            "UPDATE audit_entries SET entry = ?1 WHERE idx = ?2",
                            rusqlite::params![e, i as i64],
                        )
                        .unwrap();
                    }),
                )
            }
            1 => {
                let (e, h) = entry(i);
                conn.execute("DELETE FROM audit_entries WHERE idx = ?1", [i as i64])
                    .unwrap();
                kinds.entry("delete").and_modify(|c| *c += 1).or_insert(1);
                (
                    i,
                    Box::new(move |c: &rusqlite::Connection| {
                        c.execute(
                            "INSERT INTO audit_entries VALUES (?1, ?2, ?3)",
                            rusqlite::params![i as i64, e, h],
                        )
                        .unwrap();
                    }),
                )
            }
            2 => {
                let j = (i + 1 + rng.random_range(0..n - 1)) % n;
                let (a, b) = (i.min(j), i.max(j));
                let (ea, ha) = entry(a);
                let (eb, hb) = entry(b);
                conn.execute(
                    "UPDATE audit_entries SET entry = ?1, leaf_hash = ?2 WHERE idx = ?3",
                    rusqlite::params![eb, hb, a as i64],
                )
                .unwrap();
                conn.execute(
                    "UPDATE audit_entries SET entry = ?1, leaf_hash = ?2 WHERE idx = ?3",
                    rusqlite::params![ea, ha, b as i64],
                )
                .unwrap();
                kinds.entry("swap").and_modify(|c| *c += 1).or_insert(1);
                (
                    a,
                    Box::new(move |c: &rusqlite::Connection| {
                        c.execute(
                            "UPDATE audit_entries SET entry = ?1, leaf_hash = ?2 WHERE idx = ?3",
                            rusqlite::params![ea, ha, a as i64],
                        )
                        .unwrap();
                        c.execute(
                            "UPDATE audit_entries SET entry = ?1, leaf_hash = ?2 WHERE idx = ?3",
                            rusqlite::params![eb, hb, b as i64],
                        )
                        .unwrap();
                    }),
                )
            }
            3 => {
                let k = i.max(1);
                let saved: Vec<(i64, Vec<u8>, Vec<u8>)> = conn
                    .prepare("SELECT idx, entry, leaf_hash FROM audit_entries WHERE idx >= ?1")
                    .unwrap()
                    .query_map([k as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                conn.execute("DELETE FROM audit_entries WHERE idx >= ?1", [k as i64])
                    .unwrap();
                kinds.entry("truncate").and_modify(|c| *c += 1).or_insert(1);
                (
                    k,
                    Box::new(move |c: &rusqlite::Connection| {
                        let tx = c.unchecked_transaction().unwrap();
                        for (idx, e, h) in &saved {
                            tx.execute(
                                "INSERT INTO audit_entries VALUES (?1, ?2, ?3)",
                                rusqlite::params![idx, e, h],
                            )
                            .unwrap();
                        }
                        tx.commit().unwrap();
                    }),
                )
            }
            4 => {
                let (size, note) = checkpoints[rng.random_range(0..checkpoints.len())].clone();
                // Replace the signature: keep the key id, change the signature bytes.
                let (body, sig) = note.rsplit_once(' ').unwrap();
                let mut raw = base64_decode(sig.trim_end());
                let p = 4 + rng.random_range(0..64);
                raw[p] ^= 0x40;
                let bad = format!("{body} {}\n", base64_encode(&raw));
                conn.execute(
                    "UPDATE audit_checkpoints SET note = ?1 WHERE size = ?2",
                    rusqlite::params![bad, size],
                )
                .unwrap();
                kinds
                    .entry("checkpoint_signature")
                    .and_modify(|c| *c += 1)
                    .or_insert(1);
                (
                    (size - 1) as u64,
                    Box::new(move |c: &rusqlite::Connection| {
                        c.execute(
                            "UPDATE audit_checkpoints SET note = ?1 WHERE size = ?2",
                            rusqlite::params![note, size],
                        )
                        .unwrap();
                    }),
                )
            }
            _ => {
                let (_, h) = entry(i);
                let mut bad = h.clone();
                bad[rng.random_range(0..32)] ^= 0x01;
                conn.execute(
                    "UPDATE audit_entries SET leaf_hash = ?1 WHERE idx = ?2",
                    rusqlite::params![bad, i as i64],
                )
                .unwrap();
                kinds
                    .entry("leaf_hash")
                    .and_modify(|c| *c += 1)
                    .or_insert(1);
                (
                    i,
                    Box::new(move |c: &rusqlite::Connection| {
                        c.execute(
                            "UPDATE audit_entries SET leaf_hash = ?1 WHERE idx = ?2",
                            rusqlite::params![h, i as i64],
                        )
                        .unwrap();
                    }),
                )
            }
        };
        match st.audit_verify().unwrap() {
            VerifyOutcome::Failed(f) => assert_eq!(
                f.first_bad_index, expected,
                "round {round} (kind {kind}): {}",
                f.what
            ),
            VerifyOutcome::Ok(_) => {
                panic!("round {round}: tampering of kind {kind} at {i} was not detected")
            }
        }
        undo(&conn);
    }
    assert!(
        matches!(st.audit_verify().unwrap(), VerifyOutcome::Ok(_)),
        "restored log verifies again"
    );
    println!("tamperings by kind: {kinds:?}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
