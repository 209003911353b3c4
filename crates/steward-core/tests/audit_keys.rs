//! Issue 13, items 4 and 8, through the library calls `steward audit verify`
//! makes: the checkpoint key lives outside the data directory and the
//! verifier key is pinned, so a log rewritten and re-signed with the key in
//! the data directory fails; a cut tail with an adjusted head row is reported
//! as truncation (exit 1), not as a storage error (exit 2).

use std::path::Path;

use steward_audit::{
    AuditEntry, Checkpoint, CheckpointSigner, FailureKind, RootBuilder, leaf_hash,
};
use steward_core::{Config, CoreError, OpenOptions, Steward, VerifyOutcome};
use steward_crypto::{KeyringProvider, LocalKeyring};
use steward_domain::{Fields, IdentifierKind, Kind, NewRecord, Product, SubjectIdentifier};

fn config(key_dir: &Path) -> Config {
    let mut c = Config::default();
    c.audit.signing_key_file = Some(key_dir.join("checkpoint-signing.key"));
    c
}

fn open(dir: &Path, c: Config) -> Result<Steward, CoreError> {
    Steward::open(dir, c, OpenOptions::default())
}

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

/// A log of a few commands, each followed by a checkpoint (as the CLI does).
fn populate(st: &Steward) {
    for u in ["ann", "bob", "cai", "dee"] {
        st.ingest("ingest", vec![record(u)], &mut |_| {}).unwrap();
        st.audit_checkpoint().unwrap();
    }
}

/// What an insider with write access to the data directory does: delete
/// entry `delete`, re-chain and re-hash every later entry, re-sign every
/// checkpoint with `signer`, and set the head row to match.
pub fn rewrite_log(
    db: &Path,
    delete: u64,
    signer: &dyn CheckpointSigner,
    origin: &str,
    key_name: &str,
) {
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
    let mut leaves = Vec::new();
    let mut bytes_all = Vec::new();
    for (idx, bytes) in rows {
        if idx as u64 == delete {
            continue;
        }
        let mut e = AuditEntry::decode(&bytes).unwrap();
        e.index = leaves.len() as u64;
        e.prev = leaves.last().copied();
        let b = e.to_canonical_json();
        leaves.push(leaf_hash(&b));
        bytes_all.push(b);
    }
    let n = leaves.len() as i64;
    let tx = conn.unchecked_transaction().unwrap();
    tx.execute("DELETE FROM audit_entries", []).unwrap();
    for (i, (b, h)) in bytes_all.iter().zip(&leaves).enumerate() {
        tx.execute(
            "INSERT INTO audit_entries VALUES (?1, ?2, ?3)",
            rusqlite::params![i as i64, b, h.to_vec()],
        )
        .unwrap();
    }
    tx.execute("DELETE FROM audit_checkpoints", []).unwrap();
    let mut sizes: Vec<i64> = sizes.into_iter().map(|s| s.min(n)).collect();
    sizes.dedup();
    for s in &sizes {
        let note = Checkpoint {
            origin: origin.into(),
            size: *s as u64,
            root: steward_audit::root(&leaves[..*s as usize]),
        }
        .sign_with(signer, key_name)
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

/// Item 4: the key in the data directory (the keyring's old checkpoint seed)
/// no longer signs checkpoints, and `audit verify` checks against the pinned
/// verifier key: deleting an entry, re-chaining and re-signing with the
/// data-directory key fails, naming the checkpoint whose signature is not by
/// the pinned key. On main this rewrite gave "audit log verifies".
#[test]
fn rewrite_resigned_with_the_data_dir_key_fails_issue13_item4() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let st = open(dir.path(), config(keys.path())).unwrap();
    populate(&st);
    let pinned = st.verifier_key().to_owned();
    assert!(!st.verifier_pinned());
    drop(st);
    let mut c = config(keys.path());
    c.audit.checkpoint_verifier_key = Some(pinned.clone());
    let st = open(dir.path(), c.clone()).unwrap();
    assert!(st.verifier_pinned());
    let VerifyOutcome::Ok(r) = st.audit_verify().unwrap() else {
        panic!("honest log verifies")
    };
    // One entry per ingest batch, each followed by a checkpoint.
    assert!(r.entries >= 5 && r.checkpoints_verified >= 4, "{r:?}");
    drop(st);

    let kr = LocalKeyring::open_or_create(&dir.path().join(&c.keyring_file)).unwrap();
    let data_dir_key = kr.audit_signing_key().unwrap();
    rewrite_log(
        &dir.path().join("jp.sqlite3"),
        3,
        &data_dir_key,
        "steward.klustr.io/audit/jp",
        "steward-audit",
    );
    let st = open(dir.path(), c).unwrap();
    match st.audit_verify().unwrap() {
        VerifyOutcome::Failed(f) => {
            assert_eq!(f.kind, FailureKind::CheckpointInvalid, "{f}");
            assert!(f.what.contains("no signature by key steward-audit+"), "{f}");
        }
        VerifyOutcome::Ok(r) => {
            panic!("a log re-signed with the data-directory key verified: {r:?}")
        }
    }
}

/// Item 4: a signing key file inside the data directory is refused, with
/// how to fix it; the default lies outside it and is created 0600.
#[test]
fn signing_key_inside_the_data_dir_is_refused_issue13_item4() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Config::default();
    c.audit.signing_key_file = Some(dir.path().join("keys/checkpoint.key"));
    let e = open(dir.path(), c).unwrap_err().to_string();
    assert!(e.contains("inside the data directory"), "{e}");
    let keys = tempfile::tempdir().unwrap();
    let _st = open(dir.path(), config(keys.path())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.path().join("checkpoint-signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// Item 8: the tail cut and the head row's size set to the new end (its
/// compact range left as it was): truncation at the first missing index,
/// naming the last index a checkpoint proves. On main: a storage error
/// ("audit_head.frontier"), exit 2, no index.
#[test]
fn cut_tail_with_adjusted_head_is_truncation_issue13_item8() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let st = open(dir.path(), config(keys.path())).unwrap();
    populate(&st);
    let VerifyOutcome::Ok(r) = st.audit_verify().unwrap() else {
        panic!("honest log verifies")
    };
    let n = r.entries;
    let keep = n - 3;
    {
        let conn = rusqlite::Connection::open(dir.path().join("jp.sqlite3")).unwrap();
        conn.execute("DELETE FROM audit_entries WHERE idx >= ?1", [keep as i64])
            .unwrap();
        conn.execute(
            "UPDATE audit_head SET size = ?1 WHERE id = 1",
            [keep as i64],
        )
        .unwrap();
    }
    match st.audit_verify().unwrap() {
        VerifyOutcome::Failed(f) => {
            assert_eq!(
                (f.first_bad_index, f.kind),
                (keep, FailureKind::Truncated),
                "{f}"
            );
            assert!(f.what.contains(&format!("up to index {}", n - 1)), "{f}");
        }
        VerifyOutcome::Ok(r) => panic!("a cut tail verified: {r:?}"),
    }
}
