//! Conformance cases, part 1: rows, keys, erasure, atomic change sets, the
//! audit log and its checkpoints, principals, registries and record pages.
//! Each runs on every backend (see `conformance!` in `main.rs`).

use super::*;

/// Subjects, keys, identifiers and records read back as written; records
/// carry the store's region (N4.1) and come in id order.
pub(super) fn round_trip(fx: &Fixture) {
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

/// Issue 15 item 3: the blind-index key decides. An identifier row whose
/// blind index another subject holds (in the store, or earlier in the same
/// change set) is a clash: the whole change fails with
/// `StoreError::IdentifierClash` and nothing of it is written, never
/// ignored. The same subject's row given again is kept; a row deleted by
/// `delete_identifiers` can be given to another subject (a merge moves it);
/// `resealed` rewrites a record in place under another subject.
pub(super) fn blind_index_lookup(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    assert_eq!(
        store.subject_by_blind(&[3; 32]).unwrap(),
        Some(SubjectId(2))
    );
    assert_eq!(store.subject_by_blind(&[9; 32]).unwrap(), None);
    let before = store.audit_size().unwrap();
    for clash in [
        vec![ident(4, 1, "ip"), ident(3, 1, "email")],
        vec![ident(4, 1, "ip"), ident(4, 2, "ip")],
    ] {
        let r = store.commit(ChangeSet {
            identifiers: clash,
            audit: vec![draft(9)],
            ..Default::default()
        });
        assert!(matches!(r, Err(StoreError::IdentifierClash)), "{r:?}");
        assert_eq!(store.subject_by_blind(&[4; 32]).unwrap(), None);
        assert_eq!(store.audit_size().unwrap(), before);
    }
    // The same subject's entry again: kept, no clash.
    commit(
        store.as_mut(),
        ChangeSet {
            identifiers: vec![ident(3, 2, "username"), ident(4, 1, "ip")],
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
    // Moved: deleted first, then given to subject 1; record 13 re-sealed
    // in place under subject 1.
    let mut moved = record(13, 1, "billing", "billing.charge");
    moved.key_version = 2;
    moved.sealed = vec![0xee; 48];
    commit(
        store.as_mut(),
        ChangeSet {
            delete_identifiers: vec![[3; 32]],
            identifiers: vec![ident(3, 1, "username")],
            resealed: vec![moved.clone()],
            ..Default::default()
        },
    );
    assert_eq!(
        store.subject_by_blind(&[3; 32]).unwrap(),
        Some(SubjectId(1))
    );
    assert!(store.identifiers(SubjectId(2)).unwrap().is_empty());
    let r13 = store
        .records(SubjectId(1), Some("billing"))
        .unwrap()
        .into_iter()
        .find(|r| r.id == RecordId(13))
        .expect("record 13 is subject 1's now");
    assert_eq!((r13.key_version, r13.sealed), (2, vec![0xee; 48]));
    assert!(
        store
            .records(SubjectId(2), Some("billing"))
            .unwrap()
            .is_empty()
    );
    // Re-sealing a record that is not stored fails, nothing written.
    let r = store.commit(ChangeSet {
        resealed: vec![record(99, 1, "usage", "usage.error")],
        ..Default::default()
    });
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}

/// Keys are inserted or replaced (KEK rotation); in one change set the last
/// key given for a subject wins.
pub(super) fn keys_insert_or_replace(fx: &Fixture) {
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
pub(super) fn crypto_shred_n8_8(fx: &Fixture) {
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

pub(super) fn steward_store_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The sweep deletes the records of erased subjects only.
pub(super) fn sweep_deletes_records_of_erased_subjects_only(fx: &Fixture) {
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
pub(super) fn failing_changeset_leaves_nothing_behind(fx: &Fixture) {
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
    // Issue 21: a record id clash is its own error, retried by the core.
    assert!(matches!(dup, Err(StoreError::RecordIdClash)), "{dup:?}");
    // The same record id twice in one change set.
    let twice = store.commit(everything(
        vec![
            record(31, 3, "usage", "usage.metric"),
            record(31, 3, "usage", "usage.metric"),
        ],
        vec![subject(3, 2000)],
    ));
    assert!(matches!(twice, Err(StoreError::RecordIdClash)), "{twice:?}");
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
pub(super) fn audit_indexes_are_contiguous_across_commits(fx: &Fixture) {
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
pub(super) fn head_root_equals_merkle_root_of_stored_leaves(fx: &Fixture) {
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
pub(super) fn checkpoints_every_n_verify(fx: &Fixture) {
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
pub(super) fn cut_checkpoint_on_empty_log(fx: &Fixture) {
    let mut store = fx.open();
    assert_eq!(store.cut_checkpoint().unwrap(), 0);
    assert_eq!(store.checkpoints().unwrap(), vec![]);
}

/// Principals are inserted or replaced and listed in byte order of name.
pub(super) fn principals_round_trip(fx: &Fixture) {
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
pub(super) fn registry_tables_round_trip(fx: &Fixture) {
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
pub(super) fn record_counts_and_category_filter(fx: &Fixture) {
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
pub(super) fn records_page_walks_in_id_order(fx: &Fixture) {
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
pub(super) fn reopen_keeps_everything(fx: &Fixture) {
    let mut store = fx.open();
    seed(store.as_mut());
    let before = snapshot(store.as_ref());
    drop(store);
    let again = fx.open();
    assert_eq!(snapshot(again.as_ref()), before);
    let third = fx.open();
    assert_eq!(snapshot(third.as_ref()), before);
}
