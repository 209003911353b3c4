//! Issue 13, item 4, end to end: a `steward witness` server (this crate's
//! witness router over steward-core's `WitnessService`) cosigns the log's
//! checkpoints over HTTP (c2sp.org/tlog-witness); an honest log verifies
//! with the cosignature, and a log an insider rewrote and re-signed with the
//! log's real signing key fails `audit verify` against the witness, naming
//! why, whether or not the stored cosignatures are deleted too.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use steward_audit::{
    AuditEntry, Checkpoint, CheckpointSigner, FailureKind, RootBuilder, leaf_hash,
};
use steward_core::{Config, OpenOptions, Steward, VerifyOutcome, WitnessConfig, WitnessService};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

const ORIGIN: &str = "steward.klustr.io/audit/jp";

fn record(user: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("event".into(), "failed_password".into());
    f.insert("account".into(), user.into());
    f.insert("source_ip".into(), "192.0.2.9".into());
    f.insert(
        "message".into(),
        format!("Failed password for {user}").into(),
    );
    NewRecord::new(
        "usage.authentication".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::CloudPlatform,
        None,
        f,
    )
    .unwrap()
}

/// What an insider with the data directory and the signing key does: delete
/// entry `delete`, re-chain every later entry, re-sign every checkpoint with
/// the real key, and set the head row to match.
fn rewrite_log(db: &Path, delete: u64, signer: &dyn CheckpointSigner) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let rows: Vec<(i64, Vec<u8>)> = conn
        .prepare("SELECT idx, entry FROM audit_entries ORDER BY idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let sizes: Vec<i64> = conn
        .prepare("SELECT size FROM audit_checkpoints ORDER BY size")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (mut leaves, mut all) = (Vec::new(), Vec::new());
    for (idx, bytes) in rows {
        if idx as u64 != delete {
            let mut e = AuditEntry::decode(&bytes).unwrap();
            e.index = leaves.len() as u64;
            e.prev = leaves.last().copied();
            let b = e.to_canonical_json();
            leaves.push(leaf_hash(&b));
            all.push(b);
        }
    }
    let n = leaves.len() as i64;
    let tx = conn.unchecked_transaction().unwrap();
    tx.execute("DELETE FROM audit_entries", []).unwrap();
    for (i, (b, h)) in all.iter().zip(&leaves).enumerate() {
        tx.execute(
            "INSERT INTO audit_entries VALUES (?1, ?2, ?3)",
            rusqlite::params![i as i64, b, h.to_vec()],
        )
        .unwrap();
    }
    tx.execute("DELETE FROM audit_checkpoints", []).unwrap();
    let mut sizes: Vec<i64> = sizes.into_iter().map(|s| s.min(n)).collect();
    sizes.dedup();
    for s in sizes {
        let note = Checkpoint {
            origin: ORIGIN.into(),
            size: s as u64,
            root: steward_audit::root(&leaves[..s as usize]),
        }
        .sign_with(signer, "steward-audit")
        .unwrap();
        tx.execute(
            "INSERT INTO audit_checkpoints VALUES (?1, ?2, 0)",
            rusqlite::params![s, note],
        )
        .unwrap();
    }
    let frontier = RootBuilder::from_leaf_hashes(leaves.iter().copied()).unwrap();
    tx.execute(
        "UPDATE audit_head SET size = ?1, last_leaf = ?2, frontier = ?3, checkpoint_size = ?1 WHERE id = 1",
        rusqlite::params![n, leaves.last().unwrap().to_vec(), frontier.hashes().concat()],
    )
    .unwrap();
    tx.commit().unwrap();
}

struct Setup {
    _rt: tokio::runtime::Runtime,
    data: tempfile::TempDir,
    _keys: tempfile::TempDir,
    config: Config,
}

/// A data directory whose log is followed by a witness on a local port.
fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.audit.signing_key_file = Some(keys.path().join("checkpoint-signing.key"));
    let vkey = {
        let st = Steward::open(data.path(), config.clone(), OpenOptions::default()).unwrap();
        st.verifier_key().to_owned()
    };
    config.audit.checkpoint_verifier_key = Some(vkey.clone());
    let svc = WitnessService::open(
        "witness.test/w1",
        &keys.path().join("witness.key"),
        &keys.path().join("witness-state.json"),
        &[(ORIGIN.to_owned(), vkey)],
    )
    .unwrap();
    let wkey = svc.key_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (addr, _task) = rt
        .block_on(steward_server::start_witness(Arc::new(svc), listen))
        .unwrap();
    config.audit.witnesses = vec![WitnessConfig {
        url: format!("http://{addr}"),
        key: wkey,
    }];
    Setup {
        _rt: rt,
        data,
        _keys: keys,
        config,
    }
}

fn open(s: &Setup) -> Steward {
    Steward::open(s.data.path(), s.config.clone(), OpenOptions::default()).unwrap()
}

/// Item 4: an honest log, published after each command, verifies with the
/// witness's cosignature covering every entry.
#[test]
fn honest_log_verifies_with_the_witness_cosignature_issue13_item4() {
    let s = setup();
    let st = open(&s);
    for u in ["ann", "bob", "cai"] {
        st.ingest("ingest", vec![record(u)], &mut |_| {}).unwrap();
        let (_, notes) = st.audit_checkpoint_published().unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("witness witness.test/w1 cosigned")),
            "{notes:?}"
        );
    }
    let v = st.audit_verify_detailed().unwrap();
    let VerifyOutcome::Ok(r) = v.outcome else {
        panic!("honest log: {:?}", v.outcome)
    };
    assert!(r.entries >= 4, "{r:?}"); // one entry per ingest batch, and bootstrap
    assert_eq!(
        r.witnessed_size, r.entries,
        "the witness covers every entry"
    );
    assert!(
        v.notes.iter().all(|n| !n.contains("not pinned")),
        "{:?}",
        v.notes
    );
    // The cosignature is stored beside the log, per region and witness.
    assert!(s.data.path().join("witness/jp.json").exists());

    // Issue 12: a damaged cosignatures file is named, never read as "none"
    // (which would forget what the witnesses saw) nor overwritten.
    std::fs::write(
        s.data.path().join("witness/jp.json"),
        "{\"witness.test/w1\": [",
    )
    .unwrap();
    let v = st.audit_verify_detailed().unwrap();
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("witness/jp.json") && n.contains("does not parse")),
        "{:?}",
        v.notes
    );
    st.ingest("ingest", vec![record("dee")], &mut |_| {})
        .unwrap();
    let (_, notes) = st.audit_checkpoint_published().unwrap();
    assert!(
        notes.iter().any(|n| n.contains("does not parse")),
        "{notes:?}"
    );
    assert_eq!(
        std::fs::read_to_string(s.data.path().join("witness/jp.json")).unwrap(),
        "{\"witness.test/w1\": [",
        "the damaged file is left for the operator to restore"
    );
}

/// Item 4 (the issue's Done-when): delete an entry, re-chain, re-sign with
/// the log's own (real) key: the log's signatures verify, but `audit verify`
/// fails against the witness and says the log was rewritten. Deleting the
/// stored cosignatures does not help: the witness itself refuses.
#[test]
fn rewritten_and_resigned_log_fails_against_the_witness_issue13_item4() {
    let s = setup();
    let st = open(&s);
    for u in ["ann", "bob", "cai", "dee"] {
        st.ingest("ingest", vec![record(u)], &mut |_| {}).unwrap();
        st.audit_checkpoint_published().unwrap();
    }
    assert!(matches!(st.audit_verify().unwrap(), VerifyOutcome::Ok(_)));
    drop(st);

    let signer = steward_core::checkpoint_signer(s.data.path(), &s.config).unwrap();
    rewrite_log(&s.data.path().join("jp.sqlite3"), 4, signer.as_ref());

    // Without witnesses, the rewrite passes its own signatures.
    let mut alone = s.config.clone();
    alone.audit.witnesses.clear();
    let st = Steward::open(s.data.path(), alone, OpenOptions::default()).unwrap();
    assert!(matches!(st.audit_verify().unwrap(), VerifyOutcome::Ok(_)));
    // ... and it goes on growing past the size the witness saw.
    for u in ["eve", "fay"] {
        st.ingest("ingest", vec![record(u)], &mut |_| {}).unwrap();
        st.audit_checkpoint().unwrap();
    }
    assert!(matches!(st.audit_verify().unwrap(), VerifyOutcome::Ok(_)));
    drop(st);

    let st = open(&s);
    match st.audit_verify().unwrap() {
        VerifyOutcome::Failed(f) => {
            assert_eq!(f.kind, FailureKind::WitnessMismatch, "{f}");
            assert!(
                f.what.contains("witness witness.test/w1") && f.what.contains("rewritten"),
                "{f}"
            );
            assert!(f.first_bad_index <= 4, "{f}");
        }
        VerifyOutcome::Ok(r) => panic!("a rewritten, re-signed log verified: {r:?}"),
    }
    // The insider also deletes the stored cosignatures: the witness's own
    // state still refuses the rewritten history (422).
    std::fs::remove_dir_all(s.data.path().join("witness")).unwrap();
    match st.audit_verify().unwrap() {
        VerifyOutcome::Failed(f) => {
            assert_eq!(f.kind, FailureKind::WitnessMismatch, "{f}");
            assert!(
                f.what.contains("refuses") && f.what.contains("consistency proof"),
                "{f}"
            );
        }
        VerifyOutcome::Ok(r) => panic!("verified once the cosignatures were deleted: {r:?}"),
    }
}
