//! Execution: the policy version pinned at receipt, exactly-once under
//! concurrent approvals, idempotent retry, resumption after a crash, and who
//! may decide requests.

use super::*;

/// The policy version in force at receipt is pinned: a Steward running
/// another pack refuses to execute it, naming both versions; the pinned
/// version executes it.
#[test]
fn policy_version_is_pinned_at_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let pinned = st.policy_version().to_owned();
    let r = cli(
        &st,
        "ann",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    assert_eq!(r.policy_version, pinned);
    drop(st);
    // The same pack under another version number.
    let pack = dir.path().join("pack-next");
    std::fs::create_dir_all(&pack).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../steward-policy/pack");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, pack.join(p.file_name().unwrap())).unwrap();
    }
    let toml = std::fs::read_to_string(pack.join("pack.toml")).unwrap();
    let next = toml.replace(
        &format!("version = \"{pinned}\""),
        "version = \"2099-01-01.1\"",
    );
    assert_ne!(toml, next);
    std::fs::write(pack.join("pack.toml"), next).unwrap();
    let st = open_with(dir.path(), Config::default(), Some(pack));
    assert_eq!(st.policy_version(), "2099-01-01.1");
    let e = st.approve(&r.id, st.operator()).unwrap_err().to_string();
    assert!(e.contains(&pinned) && e.contains("2099-01-01.1"), "{e}");
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::Verified);
    drop(st);
    let st = open(dir.path());
    assert_eq!(
        st.approve(&r.id, st.operator()).unwrap().state,
        RequestState::Completed
    );
}

/// Two approvals of the same request at once, from two Steward instances
/// (two store connections) on two threads, 100 times: exactly one approval
/// succeeds and exactly one export is executed each time, counted from the
/// audit log.
#[test]
fn concurrent_approvals_execute_exactly_once() {
    const ROUNDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(open(dir.path()));
    seed(&a);
    let b = Arc::new(open(dir.path()));
    let db = dir.path().join("jp.sqlite3");
    let exports_before = count_action(&db, "export");
    for round in 0..ROUNDS {
        let r = cli(&a, "bob", RequestType::Access, NewRequestDetails::default());
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|st| {
                let (barrier, id) = (barrier.clone(), r.id.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    st.approve(&id, st.operator())
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {outcomes:?}");
        for o in &outcomes {
            if let Err(e) = o {
                assert!(matches!(e, CoreError::Conflict(_)), "round {round}: {e}");
            }
        }
        assert_eq!(
            count_action(&db, "export") - exports_before,
            round as i64 + 1,
            "round {round}"
        );
        let done = a.request(&r.id).unwrap();
        assert_eq!(done.state, RequestState::Completed);
        assert_eq!(done.attempts, 1);
    }
}

/// A store that becomes unreachable mid-request: the request ends failed
/// naming the region and store, never completed; a retry once the store is
/// back re-runs it, and the result stays of the request's type.
#[test]
fn failed_request_names_the_store_and_retries_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.regions.push(steward_core::config::RegionConfig {
        name: "eu".into(),
        country: "DE".into(),
        store: Some("eu.sqlite3".into()),
        products: config.regions[0].products.clone(),
    });
    // This node processes in the EU, the subjects' home (no cross-region read, N4.2).
    config.processing_region = Some("eu".into());
    let st = open_with(dir.path(), config, None);
    st.ingest_in(
        "ingest",
        Some("eu"),
        vec![
            profile("eve", "eve@example.com", "A"),
            profile("eve", "eve@example.com", "B"),
            profile("eve", "eve@example.com", "C"),
            profile("ida", "ida@example.com", "A"),
        ],
        &mut |_| {},
    )
    .unwrap();
    let erase = cli(
        &st,
        "eve",
        RequestType::Erasure,
        NewRequestDetails::default(),
    );
    let access = cli(
        &st,
        "ida",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    assert_eq!(erase.jurisdiction, Jurisdiction::Gdpr);
    let eu = dir.path().join("eu.sqlite3");
    let away = dir.path().join("eu.sqlite3.away");
    std::fs::rename(&eu, &away).unwrap();
    for r in [&erase, &access] {
        assert!(st.approve(&r.id, st.operator()).is_err());
        let failed = st.request(&r.id).unwrap();
        assert_eq!(failed.state, RequestState::Failed);
        let reason = failed.reason.unwrap();
        assert!(
            reason.contains("region `eu`") && reason.contains("eu.sqlite3"),
            "{reason}"
        );
        assert_eq!(failed.result, None);
    }
    std::fs::rename(&away, &eu).unwrap();
    let done = st.approve(&erase.id, st.operator()).unwrap();
    assert_eq!(done.attempts, 2);
    match done.result.unwrap() {
        RequestResult::Erasure {
            records_unreadable, ..
        } => assert_eq!(records_unreadable, 3),
        other => panic!("{other:?}"),
    }
    let done = st.approve(&access.id, st.operator()).unwrap();
    match done.result.unwrap() {
        RequestResult::Access { records, .. } => assert_eq!(records, 1),
        other => panic!("an access request must give an access result: {other:?}"),
    }
    drop(st);
    assert_eq!(count_action(&eu, "crypto_shred"), 1);
}

/// A request left in_progress by a process that died (the in_progress row
/// committed, then the Steward dropped) is resumable after reopening: it
/// becomes failed, "interrupted", and a new approval completes it.
#[test]
fn request_left_in_progress_is_resumed_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    let r = cli(
        &st,
        "ann",
        RequestType::Export,
        NewRequestDetails::default(),
    );
    drop(st);
    // The crash: the in_progress transition committed, nothing after it.
    let db = dir.path().join("jp.sqlite3");
    let mut v: serde_json::Value = serde_json::to_value(&r).unwrap();
    v["state"] = "in_progress".into();
    v["attempts"] = 1.into();
    let started = "2026-03-02T10:00:00Z";
    v["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"at": started, "state": "in_progress", "by": "operator", "note": "execution 1 started"}));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE dsr_requests SET body = ?1 WHERE id = ?2",
            [v.to_string(), r.id.to_string()],
        )
        .unwrap();
    let st = open(dir.path());
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::InProgress);
    let e = st.approve(&r.id, st.operator()).unwrap_err();
    assert!(matches!(e, CoreError::Conflict(_)), "{e}");
    // 10 minutes after it started: another process may still be at it.
    let t = datetime!(2026-03-02 10:10 UTC);
    assert!(at_time(t, || st.resume_in_progress()).unwrap().is_empty());
    // 16 minutes after: interrupted.
    let t = datetime!(2026-03-02 10:16 UTC);
    assert_eq!(
        at_time(t, || st.resume_in_progress()).unwrap(),
        vec![r.id.clone()]
    );
    let failed = st.request(&r.id).unwrap();
    assert_eq!(failed.state, RequestState::Failed);
    assert!(failed.reason.unwrap().starts_with("interrupted"));
    let done = st.approve(&r.id, st.operator()).unwrap();
    assert_eq!((done.state, done.attempts), (RequestState::Completed, 2));
    assert!(matches!(
        done.result,
        Some(RequestResult::Export { records: 2, .. })
    ));
}

/// N7.2, N7.4: who decides requests is the pack's `dsr_handle` action
/// (policy `staff-privacy-handle-requests`: privacy-team staff, for
/// `comply`), each decision audited. Security staff are refused approve,
/// reject and extend (denied, audited, the request unchanged); a privacy
/// employee approves; a security employee cannot open one verified at once.
#[test]
fn only_privacy_staff_decide_requests_by_the_pack_n7_2() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    seed(&st);
    staff(&st, "sec", Team::Security);
    staff(&st, "pia", Team::Privacy);
    let db = dir.path().join("jp.sqlite3");
    let r = cli(
        &st,
        "ann",
        RequestType::Access,
        NewRequestDetails::default(),
    );
    let before = count_action(&db, "dsr_handle");
    let refusals = [
        st.approve(&r.id, "sec").unwrap_err(),
        st.reject(&r.id, "sec", "not needed").unwrap_err(),
        st.extend(&r.id, "sec", "complex request").unwrap_err(),
    ];
    for e in refusals {
        match e {
            CoreError::Denied(d) => {
                assert!(d.audit_index.is_some(), "{d:?}");
                assert!(
                    !d.policy_ids
                        .contains(&"staff-privacy-handle-requests".to_owned()),
                    "{d:?}"
                );
            }
            other => panic!("expected an audited denial, got {other}"),
        }
    }
    assert_eq!(count_action(&db, "dsr_handle") - before, 3);
    assert_eq!(st.request(&r.id).unwrap().state, RequestState::Verified);
    // Security staff opening on ann's behalf: recorded, not verified at once.
    let by_sec = st.open_request(
        "sec",
        Some("ann"),
        RequestType::Access,
        Channel::Cli,
        NewRequestDetails::default(),
    );
    assert!(
        by_sec.is_err() || by_sec.as_ref().unwrap().state != RequestState::Verified,
        "{by_sec:?}"
    );
    let done = st.approve(&r.id, "pia").unwrap();
    assert_eq!(done.state, RequestState::Completed);
    assert_eq!(count_action(&db, "dsr_handle") - before, 4);
}

/// Issue 6 item 7, and `steward serve`'s pass every minute: a request this
/// process is executing is never marked interrupted, however old its
/// `in_progress` looks. A second thread moves the clock a day ahead and
/// runs the resume pass, over and over, while an export of 3,000 records runs;
/// the export completes, and the pass saw the request `in_progress` (so
/// the test exercised the race). A bad `interrupted_after_secs` is refused.
#[test]
fn a_running_execution_is_never_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let st = Arc::new(open(dir.path()));
    let many: Vec<NewRecord> = (0..3000)
        .map(|i| profile("ann", "ann@example.com", &format!("Title {i}")))
        .collect();
    st.ingest("ingest", many, &mut |_| {}).unwrap();
    let r = cli(
        &st,
        "ann",
        RequestType::Export,
        NewRequestDetails::default(),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (st, stop, id) = (st.clone(), stop.clone(), r.id.clone());
        // The Steward's clock, moved a day further ahead on every pass.
        let clock = clock();
        std::thread::spawn(move || {
            let mut seen_running = 0usize;
            let mut marked = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if st.request(&id).unwrap().state == RequestState::InProgress {
                    seen_running += 1;
                }
                clock.set(clock.now() + time::Duration::days(1));
                marked.extend(st.resume_in_progress().unwrap());
            }
            (seen_running, marked)
        })
    };
    let done = st.approve(&r.id, st.operator());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen_running, marked) = watcher.join().unwrap();
    let done = done.unwrap();
    assert_eq!(done.state, RequestState::Completed);
    assert!(matches!(
        done.result,
        Some(RequestResult::Export { records: 3000, .. })
    ));
    assert!(marked.is_empty(), "{marked:?}");
    assert!(seen_running > 0, "the pass never saw the request running");

    for bad in ["interrupted_after_secs = 0", "interrupted_after_secs = 59"] {
        let e = Config::parse(&format!("[dsr]\n{bad}\n"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dsr.interrupted_after_secs"), "{e}");
    }
}
