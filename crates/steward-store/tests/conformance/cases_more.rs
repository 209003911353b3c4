//! Conformance cases, part 2: concurrency, large batches, copying a store,
//! registry guards and legal holds. Each runs on every backend.

use super::*;

/// Commits from two connections to the same store at once all succeed and
/// get contiguous, non-overlapping audit indexes (the head row serializes
/// them); the log verifies.
pub(super) fn concurrent_commits_two_connections(fx: &Fixture) {
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
pub(super) fn large_batch_round_trip(fx: &Fixture) {
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
    assert!(matches!(r, Err(StoreError::RecordIdClash)), "{r:?}");
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
pub(super) fn copy_store_into_backend(fx: &Fixture) {
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
pub(super) fn registry_guard_compare_and_set(fx: &Fixture) {
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
pub(super) fn registry_guard_two_connections_one_winner(fx: &Fixture) {
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
pub(super) fn legal_hold_and_retention_n3_7_n8_8(fx: &Fixture) {
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

/// Issue 21: a record id already stored (another node drew it in the same
/// millisecond) is `StoreError::RecordIdClash`, so the core can seal the
/// batch again under fresh ids; nothing of the change is written, on the
/// row-by-row path and on the bulk path (COPY on PostgreSQL) alike. Other
/// constraint violations stay `Conflict`.
pub(super) fn record_id_clash_is_retryable(fx: &Fixture) {
    let mut store = fx.open();
    let seeded = seed(store.as_mut());
    let before = store.audit_size().unwrap();
    // One clashing id among fresh ones: a small change, then a bulk one.
    let small = vec![
        record(100, 1, "usage", "usage.access"),
        record(13, 1, "usage", "usage.access"),
    ];
    let bulk: Vec<RecordRow> = (0..400i64)
        .map(|i| {
            record(
                if i == 399 { 12 } else { 1_000 + i },
                2,
                "usage",
                "usage.error",
            )
        })
        .collect();
    for records in [small, bulk] {
        let e = store
            .commit(ChangeSet {
                records,
                audit: vec![draft(5)],
                ..Default::default()
            })
            .unwrap_err();
        assert!(matches!(e, StoreError::RecordIdClash), "{e}");
        assert_eq!(store.audit_size().unwrap(), before);
        assert_eq!(store.record(RecordId(100)).unwrap(), None);
        assert_eq!(store.record(RecordId(1_000)).unwrap(), None);
        // The stored rows are untouched.
        assert_eq!(store.record(RecordId(13)).unwrap(), Some(seeded[3].clone()));
        assert_eq!(store.record(RecordId(12)).unwrap(), Some(seeded[2].clone()));
    }
}

/// Group commit (issue 21 item 2): `commit_group` returns one result per
/// change set, in order, each as if committed alone after the ones before
/// it. Here the second of four fails its guard (before writing anything),
/// and the third fails after it has written a subject and an identifier (a
/// re-sealed record that is not stored): neither leaves anything behind (no
/// registry row, subject, identifier or audit entry), and the first and
/// fourth are committed with consecutive audit indexes; the log verifies.
pub(super) fn group_commit_each_change_set_alone(fx: &Fixture) {
    use steward_store::RegistryGuard;
    let mut store = fx.open();
    let t = RegistryTable::Requests;
    let row = |id: &str, body: &str| (t, id.to_owned(), body.to_owned());
    let absent = |id: &str| RegistryGuard {
        table: t,
        id: id.into(),
        expected: None,
    };
    commit(
        store.as_mut(),
        ChangeSet {
            registry: vec![row("dsr_taken", "{}")],
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    let results = store.commit_group(vec![
        ChangeSet {
            registry: vec![row("dsr_a", r#"{"n":1}"#)],
            guards: vec![absent("dsr_a")],
            audit: vec![draft(2), draft(3)],
            ..Default::default()
        },
        ChangeSet {
            // "dsr_taken" exists: this guard fails.
            registry: vec![row("dsr_taken", r#"{"n":2}"#), row("dsr_b", "{}")],
            subjects: vec![subject(88, 1)],
            guards: vec![absent("dsr_taken")],
            audit: vec![draft(4)],
            ..Default::default()
        },
        ChangeSet {
            // Written first (subject, identifier), then the re-seal of a
            // record that is not stored fails the change set.
            subjects: vec![subject(89, 1)],
            identifiers: vec![ident(9, 89, "username")],
            resealed: vec![record(999, 89, "usage", "usage.access")],
            registry: vec![row("dsr_d", "{}")],
            audit: vec![draft(5)],
            ..Default::default()
        },
        ChangeSet {
            registry: vec![row("dsr_c", r#"{"n":3}"#)],
            guards: vec![absent("dsr_c")],
            audit: vec![draft(6)],
            ..Default::default()
        },
    ]);
    assert_eq!(results.len(), 4);
    match &results[0] {
        Ok(c) => assert_eq!((c.audit_indexes.clone(), c.audit_size), (vec![1, 2], 3)),
        Err(e) => panic!("first change set: {e}"),
    }
    match &results[1] {
        Err(StoreError::GuardConflict { table, id }) => {
            assert_eq!((*table, id.as_str()), ("dsr_requests", "dsr_taken"))
        }
        other => panic!("expected a guard conflict, got {other:?}"),
    }
    assert!(
        results[2].is_err(),
        "a re-seal of a record that is not stored fails: {:?}",
        results[2]
    );
    match &results[3] {
        Ok(c) => assert_eq!((c.audit_indexes.clone(), c.audit_size), (vec![3], 4)),
        Err(e) => panic!("fourth change set: {e}"),
    }
    assert_eq!(store.audit_size().unwrap(), 4);
    assert_eq!(
        store.registry_get(t, "dsr_taken").unwrap().as_deref(),
        Some("{}")
    );
    assert_eq!(store.registry_get(t, "dsr_b").unwrap(), None);
    assert_eq!(
        store.registry_get(t, "dsr_a").unwrap().as_deref(),
        Some(r#"{"n":1}"#)
    );
    assert_eq!(
        store.registry_get(t, "dsr_c").unwrap().as_deref(),
        Some(r#"{"n":3}"#)
    );
    assert_eq!(store.registry_get(t, "dsr_d").unwrap(), None);
    assert!(store.subjects().unwrap().is_empty());
    assert_eq!(store.subject_by_blind(&[9; 32]).unwrap(), None);
    // The entries are the drafts committed, in order: request ids 1, 2, 3, 6.
    let ids: Vec<String> = stored_entries(store.as_ref())
        .iter()
        .map(|e| {
            let entry = AuditEntry::decode(&e.bytes).expect("canonical entry");
            entry.request_id.as_str().to_owned()
        })
        .collect();
    assert_eq!(ids, ["req-1", "req-2", "req-3", "req-6"]);
    verify(store.as_ref());
    // An empty group commits nothing and answers nothing.
    assert!(store.commit_group(Vec::new()).is_empty());
    assert_eq!(store.audit_size().unwrap(), 4);
}

/// Reading handles (issue 21 item 2): both backends give one
/// ([`Store::reader`]: SQLite a `query_only` connection, PostgreSQL a
/// handle on the same pool), and it sees every commit acknowledged on the
/// writing handle before the read: a subject, its identifier, a registry
/// row and the audit log's size, then a second commit's changes too.
pub(super) fn reader_sees_every_acknowledged_commit(fx: &Fixture) {
    let mut store = fx.open();
    let reader = store
        .reader()
        .expect("a reading handle opens")
        .expect("both backends give a reading handle");
    let t = RegistryTable::Requests;
    commit(
        store.as_mut(),
        ChangeSet {
            subjects: vec![subject(71, 1)],
            identifiers: vec![ident(71, 71, "username")],
            registry: vec![(t, "dsr_r".into(), r#"{"n":1}"#.into())],
            audit: vec![draft(1)],
            ..Default::default()
        },
    );
    assert_eq!(
        reader.subject_by_blind(&[71; 32]).unwrap().map(|s| s.0),
        Some(71)
    );
    assert_eq!(
        reader.registry_get(t, "dsr_r").unwrap().as_deref(),
        Some(r#"{"n":1}"#)
    );
    assert_eq!(reader.audit_size().unwrap(), 1);
    let results = store.commit_group(vec![ChangeSet {
        registry: vec![(t, "dsr_r".into(), r#"{"n":2}"#.into())],
        audit: vec![draft(2)],
        ..Default::default()
    }]);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(
        reader.registry_get(t, "dsr_r").unwrap().as_deref(),
        Some(r#"{"n":2}"#)
    );
    assert_eq!(reader.audit_size().unwrap(), 2);
    // A reading handle does not write (SQLite: query_only; PostgreSQL: refused).
    let mut reader = reader;
    let refused = reader.commit(ChangeSet {
        registry: vec![(t, "dsr_w".into(), "{}".into())],
        audit: vec![draft(3)],
        ..Default::default()
    });
    assert!(refused.is_err(), "a reading handle wrote: {refused:?}");
    assert_eq!(store.registry_get(t, "dsr_w").unwrap(), None);
    assert_eq!(store.audit_size().unwrap(), 2);
}

/// A group larger than a backend's transaction holds (PostgreSQL: 48 change
/// sets per transaction) is committed whole, in order: 130 change sets, the
/// 65th failing its guard, give 129 commits with contiguous audit indexes
/// and one guard conflict in the 65th slot; the log verifies.
pub(super) fn group_commit_of_many_change_sets(fx: &Fixture) {
    use steward_store::RegistryGuard;
    let mut store = fx.open();
    let t = RegistryTable::Requests;
    commit(
        store.as_mut(),
        ChangeSet {
            registry: vec![(t, "dsr_64".into(), "{}".into())],
            audit: vec![draft(0)],
            ..Default::default()
        },
    );
    let group: Vec<ChangeSet> = (0..130u64)
        .map(|n| ChangeSet {
            registry: vec![(t, format!("dsr_{n}"), format!(r#"{{"n":{n}}}"#))],
            guards: vec![RegistryGuard {
                table: t,
                id: format!("dsr_{n}"),
                expected: None,
            }],
            audit: vec![draft(n + 1)],
            ..Default::default()
        })
        .collect();
    let results = store.commit_group(group);
    assert_eq!(results.len(), 130);
    let mut next = 1u64;
    for (n, r) in results.iter().enumerate() {
        if n == 64 {
            assert!(
                matches!(r, Err(StoreError::GuardConflict { .. })),
                "slot 64: {r:?}"
            );
            continue;
        }
        match r {
            Ok(c) => assert_eq!(c.audit_indexes, vec![next], "slot {n}"),
            Err(e) => panic!("slot {n}: {e}"),
        }
        next += 1;
    }
    assert_eq!(store.audit_size().unwrap(), 130);
    assert_eq!(
        store.registry_get(t, "dsr_64").unwrap().as_deref(),
        Some("{}")
    );
    assert_eq!(
        store.registry_get(t, "dsr_129").unwrap().as_deref(),
        Some(r#"{"n":129}"#)
    );
    verify(store.as_ref());
}
