//! Issue 13 item 3: the blind-index (HMAC) key lives apart from the
//! key-encryption keys, in its own versioned file, and it can be rotated:
//! every identifier is re-indexed, request rows and the email intake
//! ledger re-keyed, and the old version destroyed last, so a rotation
//! stopped midway still resolves everything and can be resumed (N5.2).
//!
//! Expected HMACs are computed here with the `hmac` crate from the key
//! bytes read from the files, over the documented inputs (`kind 0x00
//! value` for the index; `steward-email-intake 0x00 kind 0x00 value` for
//! the ledger), not through Steward's code.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use steward_core::{AuditFilter, Channel, Config, CoreError, OpenOptions, RotateOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Principal, PrincipalKind, Product, RequestType,
    SubjectIdentifier, Team,
};

fn open(dir: &Path) -> Steward {
    Steward::open(dir, Config::default(), OpenOptions::default()).unwrap()
}

fn profile(user: &str, email: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn mail(from: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nMessage-ID: <{id}>\r\nTo: privacy@provider.example\r\nSubject: My data\r\nDate: Mon, 4 Mar 2024 09:15:00 +0100\r\n\r\nHello.\r\n"
    )
    .into_bytes()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The blind index of a global identifier: HMAC(key, kind 0x00 value).
fn blind(key: &[u8], kind: &str, value: &str) -> [u8; 32] {
    hmac(key, &[kind.as_bytes(), b"\0", value.as_bytes()])
}

/// The intake ledger key of a Message-ID.
fn ledger_key(key: &[u8], message_id: &str) -> String {
    let tag = hmac(
        key,
        &[
            b"steward-email-intake\0",
            b"message_id",
            b"\0",
            message_id.as_bytes(),
        ],
    );
    format!("eml_{}", hex::encode(&tag[..16]))
}

fn key_file(dir: &Path) -> std::path::PathBuf {
    dir.join("blind-index/keys.json")
}

/// The blind-index key file's versions: (version, key bytes).
fn key_versions(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file(dir)).unwrap()).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["version"].as_u64().unwrap(),
                B64.decode(k["key"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Every blind index the identifier table holds.
fn stored_blinds(dir: &Path) -> HashSet<Vec<u8>> {
    let conn = rusqlite::Connection::open(dir.join("jp.sqlite3")).unwrap();
    let mut s = conn.prepare("SELECT blind FROM identifiers").unwrap();
    s.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn staff(st: &Steward, name: &str, team: Team) {
    let today = time::OffsetDateTime::now_utc().date();
    let p = Principal {
        name: name.into(),
        kind: PrincipalKind::Employee,
        teams: vec![team],
        confidentiality_signed_on: Some(today),
        training_expires_on: Some(today + time::Duration::days(30)),
        engagement_ends_on: None,
        subject: None,
        organisations: vec![],
        revoked: false,
    };
    st.add_principal(st.operator(), &p).unwrap();
}

/// The keyring file holds the key-encryption keys only: the blind-index
/// key is in its own file (issue 13 item 3). Read from the raw files.
#[test]
fn the_keyring_file_holds_no_blind_index_key_issue13_item3() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let keyring = std::fs::read_to_string(dir.path().join("keys/keyring.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&keyring).unwrap();
    assert!(
        parsed.get("blind_index_key").is_none(),
        "the keyring still holds a blind-index key: {}",
        parsed
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let versions = key_versions(dir.path());
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].0, 1);
    assert_eq!(versions[0].1.len(), 32);
    assert!(!keyring.contains(&B64.encode(&versions[0].1)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_file(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A keyring written before holds the blind-index key: it is moved into
/// the blind-index key file once, and removed from the keyring; the
/// subjects indexed under it are still found.
#[test]
fn a_keyring_written_before_has_its_key_moved_out_once_issue13_item3() {
    let dir = tempfile::tempdir().unwrap();
    let ann = {
        let st = open(dir.path());
        st.ingest(
            "ingest",
            vec![profile("ann", "ann@example.com")],
            &mut |_| {},
        )
        .unwrap();
        st.find("email:ann@example.com").unwrap().unwrap()
    };
    // Make the data directory as an older Steward left it: the key in the
    // keyring, no blind-index key file.
    let key = key_versions(dir.path()).remove(0).1;
    let kr_path = dir.path().join("keys/keyring.json");
    let mut kr: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kr_path).unwrap()).unwrap();
    kr["blind_index_key"] = B64.encode(&key).into();
    std::fs::write(&kr_path, serde_json::to_string_pretty(&kr).unwrap()).unwrap();
    std::fs::remove_file(key_file(dir.path())).unwrap();

    let st = open(dir.path());
    assert_eq!(st.find("email:ann@example.com").unwrap(), Some(ann));
    assert_eq!(st.find("username:ann").unwrap(), Some(ann));
    assert_eq!(key_versions(dir.path()), vec![(1, key.clone())]);
    let text = std::fs::read_to_string(&kr_path).unwrap();
    assert!(!text.contains("blind_index_key"), "{text}");
    assert!(!text.contains(&B64.encode(&key)));
    // The identifier rows were not touched: still the HMAC under that key.
    assert!(stored_blinds(dir.path()).contains(blind(&key, "email", "ann@example.com").as_slice()));
    drop(st);
    // Once: a second open changes nothing.
    let st = open(dir.path());
    assert_eq!(st.find("email:ann@example.com").unwrap(), Some(ann));
    assert_eq!(key_versions(dir.path()), vec![(1, key)]);
}

/// A lost blind-index key file is not replaced by a new key over a store
/// that holds data (every subject would be orphaned).
#[test]
fn a_missing_blind_index_key_is_not_replaced_over_existing_data_issue13_item3() {
    let dir = tempfile::tempdir().unwrap();
    {
        let st = open(dir.path());
        st.ingest(
            "ingest",
            vec![profile("ann", "ann@example.com")],
            &mut |_| {},
        )
        .unwrap();
    }
    std::fs::rename(key_file(dir.path()), dir.path().join("bi.bak")).unwrap();
    let e = Steward::open(dir.path(), Config::default(), OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("blind-index key file") && e.contains("restore"),
        "{e}"
    );
    assert!(!key_file(dir.path()).exists(), "no new key was left behind");
    std::fs::rename(dir.path().join("bi.bak"), key_file(dir.path())).unwrap();
    assert!(open(dir.path()).find("username:ann").unwrap().is_some());
}

/// A rotation re-indexes every identifier under the new version, re-keys
/// the request rows and the intake ledger, and destroys the old version:
/// everything still resolves and matches; no stored HMAC is the old key's.
#[test]
fn a_rotation_reindexes_everything_and_destroys_the_old_key_issue13_item3_n5_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    st.ingest(
        "ingest",
        vec![
            profile("ann", "ann@example.com"),
            profile("bob", "bob@example.com"),
        ],
        &mut |_| {},
    )
    .unwrap();
    let ann = st.find("email:ann@example.com").unwrap().unwrap();
    let bob = st.find("username:bob").unwrap().unwrap();
    let old = key_versions(dir.path()).remove(0).1;
    let old_ann = blind(&old, "email", "ann@example.com");
    assert!(stored_blinds(dir.path()).contains(old_ann.as_slice()));
    let req = st
        .open_request(
            &op,
            Some("email:ann@example.com"),
            RequestType::Access,
            Channel::Cli,
            Default::default(),
        )
        .unwrap();
    assert_eq!(req.identifier_ref, Some(hex::encode(old_ann)));
    let raw = mail("ann@example.com", "m1@example.com");
    assert!(st.intake_email("ingest", &raw).unwrap().taken);
    let ledger = st.intake_entries().unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].key, ledger_key(&old, "m1@example.com"));

    let r = st
        .rotate_blind_index(&op, RotateOptions::default())
        .unwrap();
    assert_eq!((r.version, r.destroyed), (2, Some(1)));
    // ann: username and email; bob: username and email.
    assert_eq!(r.identifiers, 4);
    assert_eq!(r.requests_rekeyed, 1);
    assert_eq!(r.intake_rekeyed, 1);

    let versions = key_versions(dir.path());
    assert_eq!(versions.len(), 1, "the old version is gone from the file");
    assert_eq!(versions[0].0, 2);
    let new = versions[0].1.clone();
    assert_ne!(new, old);
    let text = std::fs::read_to_string(key_file(dir.path())).unwrap();
    assert!(!text.contains(&B64.encode(&old)));

    // Every subject resolves by every identifier.
    assert_eq!(st.find("email:ann@example.com").unwrap(), Some(ann));
    assert_eq!(st.find("username:ann").unwrap(), Some(ann));
    assert_eq!(st.find("email:bob@example.com").unwrap(), Some(bob));
    assert_eq!(st.find("username:bob").unwrap(), Some(bob));
    // The stored HMACs are the new key's, none the old key's.
    let stored = stored_blinds(dir.path());
    let expect: HashSet<Vec<u8>> = [
        blind(&new, "email", "ann@example.com"),
        blind(&new, "username", "ann"),
        blind(&new, "email", "bob@example.com"),
        blind(&new, "username", "bob"),
    ]
    .into_iter()
    .map(|b| b.to_vec())
    .collect();
    assert_eq!(stored, expect);
    assert!(!stored.contains(old_ann.as_slice()));
    // The request row names the identifier under the new key.
    assert_eq!(
        st.request(&req.id).unwrap().identifier_ref,
        Some(hex::encode(blind(&new, "email", "ann@example.com")))
    );
    // The intake ledger still recognises the message.
    let ledger = st.intake_entries().unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].key, ledger_key(&new, "m1@example.com"));
    assert!(!st.intake_email("ingest", &raw).unwrap().taken);
    assert_eq!(st.intake_entries().unwrap().len(), 1);
    // No new subject was made by anything after the rotation.
    assert_eq!(st.subjects(&op, false).unwrap().len(), 2);
    // The rotation is on the record, allowed and done.
    let done = st
        .audit_search(&AuditFilter {
            principal: Some(op.clone()),
            ..Default::default()
        })
        .unwrap();
    assert!(
        done.iter()
            .any(|e| e.contains("\"blind_index_rotate\"") && e.contains("blind-index-v2")),
        "{done:?}"
    );
    // And a new one works again from there.
    let r = st
        .rotate_blind_index(&op, RotateOptions::default())
        .unwrap();
    assert_eq!((r.version, r.destroyed), (3, Some(2)));
    assert_eq!(st.find("email:ann@example.com").unwrap(), Some(ann));
}

/// A rotation stopped after part of the subjects (as a crash would leave
/// it) keeps both versions: every identifier still resolves, also after a
/// restart, ingest finds the existing subjects, and running the rotation
/// again resumes it (no third version) and finishes it.
#[test]
fn a_rotation_stopped_midway_resolves_everything_and_resumes_issue13_item3() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let op = st.operator().to_owned();
    let people = [
        ("ann", "ann@example.com"),
        ("bob", "bob@example.com"),
        ("cai", "cai@example.com"),
    ];
    st.ingest(
        "ingest",
        people.iter().map(|(u, e)| profile(u, e)).collect(),
        &mut |_| {},
    )
    .unwrap();
    let ids: Vec<_> = people
        .iter()
        .map(|(u, _)| st.find(&format!("username:{u}")).unwrap().unwrap())
        .collect();
    let old = key_versions(dir.path()).remove(0).1;

    let r = st
        .rotate_blind_index(
            &op,
            RotateOptions {
                max_subjects: Some(1),
            },
        )
        .unwrap();
    assert_eq!((r.version, r.destroyed, r.subjects), (2, None, 1));
    let versions = key_versions(dir.path());
    assert_eq!(versions.iter().map(|v| v.0).collect::<Vec<_>>(), vec![1, 2]);
    let new = versions.iter().find(|v| v.0 == 2).unwrap().1.clone();
    // Part of the rows under each version.
    let stored = stored_blinds(dir.path());
    let under = |key: &[u8]| {
        people
            .iter()
            .filter(|(_, e)| stored.contains(blind(key, "email", e).as_slice()))
            .count()
    };
    assert_eq!((under(&new), under(&old)), (1, 2));

    let check = |st: &Steward| {
        for ((u, e), id) in people.iter().zip(&ids) {
            assert_eq!(st.find(&format!("username:{u}")).unwrap(), Some(*id));
            assert_eq!(st.find(&format!("email:{e}")).unwrap(), Some(*id));
        }
    };
    check(&st);
    // Ingest while the rotation is under way joins the existing subjects.
    st.ingest(
        "ingest",
        vec![profile("cai", "cai@example.com")],
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(st.subjects(&op, false).unwrap().len(), 3);
    // A restart (as after a crash) still resolves both halves.
    drop(st);
    let st = open(dir.path());
    check(&st);

    let r = st
        .rotate_blind_index(&op, RotateOptions::default())
        .unwrap();
    assert_eq!((r.version, r.destroyed, r.subjects), (2, Some(1), 2));
    assert_eq!(key_versions(dir.path()), vec![(2, new.clone())]);
    check(&st);
    let stored = stored_blinds(dir.path());
    for (u, e) in people {
        assert!(stored.contains(blind(&new, "email", e).as_slice()));
        assert!(stored.contains(blind(&new, "username", u).as_slice()));
        assert!(!stored.contains(blind(&old, "email", e).as_slice()));
    }
    assert_eq!(st.subjects(&op, false).unwrap().len(), 3);
}

/// The rotation is decided by the pack (`keys_rotate`, protect): support
/// staff are refused, audited, and nothing is minted; security staff may.
#[test]
fn a_rotation_is_refused_for_a_principal_the_pack_does_not_allow_issue13_item3_n5_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    staff(&st, "sup", Team::Support);
    staff(&st, "sec", Team::Security);
    st.ingest(
        "ingest",
        vec![profile("ann", "ann@example.com")],
        &mut |_| {},
    )
    .unwrap();
    let before = key_versions(dir.path());
    let e = st
        .rotate_blind_index("sup", RotateOptions::default())
        .unwrap_err();
    assert!(matches!(e, CoreError::Denied(_)), "{e}");
    assert_eq!(key_versions(dir.path()), before, "nothing was minted");
    let denied = st
        .audit_search(&AuditFilter {
            principal: Some("sup".into()),
            decision: Some("deny".into()),
            action: Some("keys_rotate".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(denied.len(), 1, "{denied:?}");
    let r = st
        .rotate_blind_index("sec", RotateOptions::default())
        .unwrap();
    assert_eq!(r.destroyed, Some(1));
    assert!(st.find("email:ann@example.com").unwrap().is_some());
}
