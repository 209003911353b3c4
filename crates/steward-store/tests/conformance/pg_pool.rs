//! PostgreSQL only: the connection pool (issue 21 item 5). Threads sharing
//! one store work on connections of their own, and a connection whose
//! backend was terminated is replaced without the caller seeing it.
//!
//! Waits between threads are bounded (`recv_timeout`): with one connection
//! behind a lock the tests fail instead of hanging. They assert what
//! happened, never how fast.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::*;

/// How long a thread waits for another before the test fails.
const BOUND: Duration = Duration::from_secs(60);

fn assert_send_sync<T: Send + Sync>() {}

fn open_pool(fx: &Fixture, extra: &str) -> Arc<PostgresStore> {
    assert_send_sync::<PostgresStore>();
    Arc::new(PostgresStore::open(&fx.url_with(extra), options(1000)).expect("open"))
}

fn backend_pid(c: &mut ::postgres::Client) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[])
        .expect("pg_backend_pid")
        .get(0)
}

/// Four threads each hold a pooled connection at the same time (each waits
/// until all four have one): four distinct server backends, and the pool
/// opened no more than its `pool_max_size` of 4.
#[test]
fn postgres_pool_threads_hold_connections_of_their_own() {
    let Some(fx) = pg_fixture() else { return };
    let store = open_pool(&fx, "pool_max_size=4");
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let mut go = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..4 {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        go.push(go_tx);
        let (store, arrived_tx) = (store.clone(), arrived_tx.clone());
        threads.push(std::thread::spawn(move || {
            store
                .with_client(|c| {
                    let pid = backend_pid(c);
                    arrived_tx.send(()).expect("main thread");
                    go_rx.recv_timeout(BOUND).map(|()| pid)
                })
                .expect("a pooled connection")
        }));
    }
    for n in 0..4 {
        assert!(
            arrived.recv_timeout(BOUND).is_ok(),
            "only {n} of 4 threads got a connection while the others held theirs"
        );
    }
    assert_eq!(store.open_connections(), 4);
    for g in &go {
        g.send(()).expect("thread waiting");
    }
    let pids: BTreeSet<i32> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("released"))
        .collect();
    assert_eq!(pids.len(), 4, "backends seen: {pids:?}");
    assert!(store.open_connections() <= 4);
}

/// One thread holds a transaction open on its connection while another
/// commits and reads through the same store; then eight threads commit at
/// once, and every commit gets its own audit index, contiguous, in a log
/// that verifies.
#[test]
fn postgres_pool_commits_beside_an_open_transaction() {
    let Some(fx) = pg_fixture() else { return };
    let store = open_pool(&fx, "pool_max_size=8");
    let (began_tx, began) = mpsc::channel::<i32>();
    let (done_tx, done) = mpsc::channel::<u64>();
    let holder = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .with_client(|c| {
                    let mut tx = c.transaction().expect("begin");
                    let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
                    began_tx.send(pid).expect("main thread");
                    // The other thread's commit lands while this
                    // transaction is still open.
                    let size = done.recv_timeout(BOUND);
                    tx.commit().expect("commit the held transaction");
                    size
                })
                .expect("a pooled connection")
        })
    };
    let held_pid = began.recv_timeout(BOUND).expect("holder began");
    let committed = store
        .commit_shared(ChangeSet {
            audit: vec![draft(0)],
            ..Default::default()
        })
        .expect("commit beside the open transaction");
    assert_eq!(committed.audit_indexes, vec![0]);
    let other_pid = store.with_client(backend_pid).expect("client");
    assert_ne!(other_pid, held_pid);
    done_tx.send(store.audit_size().expect("size")).unwrap();
    assert_eq!(
        holder.join().expect("holder"),
        Ok(1),
        "the commit landed while the other transaction was open"
    );

    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..5u64)
                    .map(|i| {
                        store
                            .commit_shared(ChangeSet {
                                audit: vec![draft(1 + t * 5 + i)],
                                ..Default::default()
                            })
                            .expect("concurrent commit")
                            .audit_indexes
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut indexes: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .flatten()
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (1..41).collect::<Vec<u64>>());
    assert_eq!(store.audit_size().unwrap(), 41);
    assert_eq!(verify(store.as_ref()).size, 41);
}

/// Terminates every backend of `app` from another connection and waits
/// until the server has let them go; returns how many there were.
fn terminate(fx: &Fixture, app: &str) -> i64 {
    let mut admin = PostgresStore::connect_client(&fx.pg.as_ref().unwrap().base_url).unwrap();
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
            &[&app],
        )
        .unwrap()
        .get(0);
    // The backends exit asynchronously: poll with a generous bound (not a
    // timing assertion).
    let deadline = Instant::now() + BOUND;
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            return killed;
        }
        assert!(
            Instant::now() < deadline,
            "{left} backends outlived pg_terminate_backend"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pooled connection whose backend was killed (`pg_terminate_backend`
/// from another connection) is dropped and replaced: the read, the commit
/// and the health check after the kill succeed on a new backend, first
/// with one pooled connection, then with three, all killed.
#[test]
fn postgres_pool_replaces_a_killed_connection() {
    let Some(fx) = pg_fixture() else { return };
    let app = format!("steward_pool_{:08x}", rand::random::<u32>());
    let store = open_pool(&fx, &format!("application_name={app}&pool_max_size=3"));
    let first = store.with_client(backend_pid).unwrap();
    assert_eq!(store.open_connections(), 1);
    assert_eq!(terminate(&fx, &app), 1);
    // A read first.
    assert_eq!(store.audit_size().expect("read after the kill"), 0);
    let second = store.with_client(backend_pid).unwrap();
    assert_ne!(second, first);
    assert_eq!(store.open_connections(), 1);
    assert_eq!(terminate(&fx, &app), 1);
    // A commit first.
    let c = store
        .commit_shared(ChangeSet {
            audit: vec![draft(0)],
            ..Default::default()
        })
        .expect("commit after the kill");
    assert_eq!(c.audit_indexes, vec![0]);
    assert_ne!(store.with_client(backend_pid).unwrap(), second);

    // Three connections open at once, then all three killed: the next
    // commit and read discard the dead ones and succeed.
    let (arrived_tx, arrived) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Arc::new(std::sync::Mutex::new(go_rx));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (store, arrived_tx, go_rx) = (store.clone(), arrived_tx.clone(), go_rx.clone());
            std::thread::spawn(move || {
                store
                    .with_client(|c| {
                        let pid = backend_pid(c);
                        arrived_tx.send(()).unwrap();
                        let _ = go_rx.lock().unwrap().recv_timeout(BOUND);
                        pid
                    })
                    .unwrap()
            })
        })
        .collect();
    let third = store
        .with_client(|c| {
            for _ in 0..2 {
                arrived
                    .recv_timeout(BOUND)
                    .expect("holders got connections");
            }
            backend_pid(c)
        })
        .unwrap();
    go_tx.send(()).unwrap();
    go_tx.send(()).unwrap();
    let mut before: BTreeSet<i32> = holders.into_iter().map(|h| h.join().unwrap()).collect();
    before.insert(third);
    assert_eq!(before.len(), 3);
    assert_eq!(store.open_connections(), 3);
    assert_eq!(terminate(&fx, &app), 3);
    let c = store
        .commit_shared(ChangeSet {
            audit: vec![draft(1)],
            ..Default::default()
        })
        .expect("commit after three kills");
    assert_eq!(c.audit_indexes, vec![1]);
    store.health().expect("health after the kills");
    assert_eq!(store.audit_size().unwrap(), 2);
    let after = store.with_client(backend_pid).unwrap();
    assert!(!before.contains(&after));
    assert_eq!(verify(store.as_ref()).size, 2);
}
