//! Issue 21 item 5: two Steward instances (two "nodes": two connections, two
//! keyrings opened on one data directory, as two `steward serve` processes
//! would) on one store, SQLite always and PostgreSQL where reachable. A data
//! subject request's execution holds a lease in the store: a node that
//! stops leaves it to expire and the other takes the request over, running
//! it once in effect; two nodes racing for a lease, one wins; an access or
//! export result is stored sealed, so either node serves it, and the
//! subject's erasure removes it.

use std::path::Path;

use steward_core::dsr::{NewRequestDetails, RequestResult};
use steward_core::{AuditFilter, Channel, Clock, Config, CoreError, OpenOptions, Steward};
use steward_domain::{
    Fields, IdentifierKind, Kind, NewRecord, Product, RequestState, RequestType, SubjectIdentifier,
};

/// The default `dsr.lease_secs`, written here independently of the code.
const LEASE_SECS: i64 = 30;

/// The PostgreSQL URL, or `None` (with a skip line) where it is absent;
/// under `CI` its absence fails the test.
fn pg_url() -> Option<String> {
    let url = std::env::var("STEWARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        std::time::Duration::from_secs(2),
    )
    .is_ok();
    if !reachable {
        assert!(std::env::var("CI").is_err(), "CI must reach PostgreSQL");
        println!("skip: PostgreSQL not reachable at 127.0.0.1:5432");
        return None;
    }
    Some(url)
}

/// Where the nodes' one store is.
enum Backend {
    Sqlite,
    Postgres { url: String, schema: String },
}

/// SQLite, and PostgreSQL when reachable (a fresh schema, dropped on drop).
fn backends(tag: &str) -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if let Some(url) = pg_url() {
        let schema = format!(
            "steward_lease_{tag}_{}",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        out.push(Backend::Postgres { url, schema });
    }
    out
}

impl Backend {
    fn config(&self) -> Config {
        match self {
            Backend::Sqlite => Config::default(),
            Backend::Postgres { url, schema } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                Config::parse(
                    &format!(
                        "[[regions]]\nname = \"jp\"\ncountry = \"JP\"\nstore = \"{url}{sep}schema={schema}\"\n"
                    ),
                    "test.toml",
                )
                .unwrap()
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres { url, schema } = self
            && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Two nodes on one store and one data directory, reading one clock.
struct Nodes {
    a: Steward,
    b: Steward,
    clock: Clock,
    dir: tempfile::TempDir,
}

fn nodes(backend: &Backend) -> Nodes {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::fixed(time::OffsetDateTime::now_utc());
    let opts = OpenOptions {
        clock: clock.clone(),
        ..Default::default()
    };
    let a = Steward::open(dir.path(), backend.config(), opts.clone()).unwrap();
    let b = Steward::open(dir.path(), backend.config(), opts).unwrap();
    a.ingest(
        "ingest",
        vec![
            profile("ann", "ann@example.com", "Engineer"),
            profile("ann", "ann@example.com", "Lead"),
            profile("bob", "bob@example.com", "Analyst"),
        ],
        &mut |_| {},
    )
    .unwrap();
    Nodes { a, b, clock, dir }
}

fn profile(user: &str, email: &str, title: &str) -> NewRecord {
    let mut f = Fields::new();
    f.insert("username".into(), user.into());
    f.insert("email".into(), email.into());
    f.insert("job_title".into(), title.into());
    NewRecord::new(
        "account.profile".parse::<Kind>().unwrap(),
        Some(SubjectIdentifier::new(IdentifierKind::Username, user).unwrap()),
        Product::Workspace,
        None,
        f,
    )
    .unwrap()
}

fn open_request(st: &Steward, who: &str, t: RequestType) -> String {
    let r = st
        .open_request(
            st.operator(),
            Some(who),
            t,
            Channel::Cli,
            NewRequestDetails::default(),
        )
        .unwrap();
    assert_eq!(r.state, RequestState::Verified);
    r.id.to_string()
}

/// Audit entries of `action` about request or subject text `about`, counted
/// through the audit search (not the request code under test).
fn count(st: &Steward, action: &str, about: &str) -> usize {
    st.audit_search(&AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    })
    .unwrap()
    .iter()
    .filter(|e| about.is_empty() || e.contains(about))
    .count()
}

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn is_conflict(r: &Result<steward_core::Request, CoreError>) -> bool {
    matches!(r, Err(CoreError::Conflict(_)))
}

/// (a) Node A takes the lease of an export and dies right after
/// `in_progress` (dropped, its lease not renewed). Node B cannot take it
/// over before the lease expires (409-class conflict), takes it over after
/// (the clock moved past it) and exports once: one `export` decision, one
/// completion, the lease row gone.
#[test]
fn a_dead_nodes_export_is_taken_over_after_its_lease_expires() {
    for backend in backends("takeover") {
        let n = nodes(&backend);
        let t0 = n.clock.now();
        let id = open_request(&n.a, "ann", RequestType::Export);
        n.a.approve_and_stop(&id, n.a.operator(), false).unwrap();
        let lease = n.b.execution_lease(&id).unwrap().expect("a lease row");
        assert_eq!(lease.expires_at_ms, ms(t0) + LEASE_SECS * 1_000);
        assert!(lease.holder.starts_with("node_"), "{}", lease.holder);
        drop(n.a);
        assert_eq!(
            n.b.request(&id).unwrap().state,
            RequestState::InProgress,
            "{}",
            backend.name()
        );
        // Before expiry: refused, nothing changed.
        for secs in [0, LEASE_SECS - 1] {
            n.clock.set(t0 + time::Duration::seconds(secs));
            let r = n.b.approve(&id, n.b.operator());
            assert!(is_conflict(&r), "{}: {r:?}", backend.name());
            assert!(n.b.resume_in_progress().unwrap().is_empty());
        }
        assert_eq!(count(&n.b, "export", ""), 0);
        // After expiry: taken over and completed, once.
        n.clock.set(t0 + time::Duration::seconds(LEASE_SECS + 1));
        let done = n.b.approve(&id, n.b.operator()).unwrap();
        assert_eq!(done.state, RequestState::Completed, "{}", backend.name());
        assert_eq!(done.attempts, 2);
        assert!(
            matches!(done.result, Some(RequestResult::Export { records: 2, .. })),
            "{:?}",
            done.result
        );
        assert!(done.history.iter().any(|h| h.note.contains("taking over")));
        assert_eq!(count(&n.b, "export", ""), 1, "{}", backend.name());
        assert_eq!(count(&n.b, "dsr_complete", &id), 1);
        assert_eq!(n.b.execution_lease(&id).unwrap(), None);
        assert!(is_conflict(&n.b.approve(&id, n.b.operator())));
        // The result is served, and no clear copy stayed on disk.
        let zip = n.b.request_result(&id, n.b.operator()).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(zip_files(n.dir.path()), 0);
    }
}

/// (a), erasure: node A erases and dies before `completed`. After the lease
/// expires node B takes over and completes with A's receipt: one receipt,
/// one `erase` decision, never a second shredding.
#[test]
fn a_dead_nodes_erasure_is_finished_once_by_another_node() {
    for backend in backends("erase") {
        let n = nodes(&backend);
        let t0 = n.clock.now();
        let id = open_request(&n.a, "ann", RequestType::Erasure);
        n.a.approve_and_stop(&id, n.a.operator(), true).unwrap();
        let receipts = n.b.receipts().unwrap();
        assert_eq!(receipts.len(), 1, "{}", backend.name());
        drop(n.a);
        n.clock.set(t0 + time::Duration::seconds(LEASE_SECS - 1));
        assert!(is_conflict(&n.b.approve(&id, n.b.operator())));
        n.clock.set(t0 + time::Duration::seconds(LEASE_SECS));
        let done = n.b.approve(&id, n.b.operator()).unwrap();
        assert_eq!(done.state, RequestState::Completed);
        match done.result {
            Some(RequestResult::Erasure {
                receipt_id,
                records_unreadable,
                ..
            }) => {
                assert_eq!(receipt_id, receipts[0].receipt_id);
                assert_eq!(records_unreadable, 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(n.b.receipts().unwrap().len(), 1, "{}", backend.name());
        assert_eq!(count(&n.b, "erase", ""), 1, "{}", backend.name());
        assert_eq!(count(&n.b, "dsr_complete", &id), 1);
    }
}

/// (b) Two nodes racing, many times: for a fresh request (both approve at
/// once) and for a takeover (a dead node's lease expired, both approve at
/// once), exactly one approval executes and the other is a conflict.
#[test]
fn two_nodes_racing_for_one_lease_one_wins() {
    for backend in backends("race") {
        let n = nodes(&backend);
        let rounds = 24;
        for round in 0..rounds {
            let id = open_request(&n.a, "bob", RequestType::Restriction);
            if round % 2 == 1 {
                // A node died holding the lease; it has expired.
                n.a.approve_and_stop(&id, n.a.operator(), false).unwrap();
                let now = n.clock.now();
                assert!(is_conflict(&n.b.approve(&id, n.b.operator())));
                n.clock.set(now + time::Duration::seconds(LEASE_SECS + 1));
            }
            let barrier = std::sync::Barrier::new(2);
            let outcomes: Vec<_> = std::thread::scope(|sc| {
                let hs: Vec<_> = [&n.a, &n.b]
                    .into_iter()
                    .map(|st| {
                        let (barrier, id) = (&barrier, &id);
                        sc.spawn(move || {
                            barrier.wait();
                            st.approve(id, st.operator())
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let won = outcomes.iter().filter(|r| r.is_ok()).count();
            let lost = outcomes.iter().filter(|r| is_conflict(r)).count();
            assert_eq!(
                (won, lost),
                (1, 1),
                "{} round {round}: {outcomes:?}",
                backend.name()
            );
            assert_eq!(count(&n.a, "dsr_complete", &id), 1);
            assert_eq!(n.a.execution_lease(&id).unwrap(), None);
        }
        assert_eq!(count(&n.a, "dsr_complete", ""), rounds);
    }
}

/// (c) An export approved and executed on node A is downloaded through
/// node B byte for byte; the stored row is sealed (no ZIP in clear). (d)
/// The subject's erasure (through node B) removes the stored result:
/// neither node serves it and its row is gone.
#[test]
fn a_result_stored_by_one_node_is_served_by_the_other_until_erasure() {
    for backend in backends("results") {
        let n = nodes(&backend);
        let id = open_request(&n.a, "ann", RequestType::Access);
        let done = n.a.approve(&id, n.a.operator()).unwrap();
        assert!(matches!(
            done.result,
            Some(RequestResult::Access { records: 2, .. })
        ));
        let from_a = n.a.request_result(&id, n.a.operator()).unwrap();
        let from_b = n.b.request_result(&id, n.b.operator()).unwrap();
        assert_eq!(&from_a[..4], b"PK\x03\x04");
        assert_eq!(from_a, from_b, "{}", backend.name());
        assert_eq!(zip_files(n.dir.path()), 0);
        if let Backend::Sqlite = backend {
            let rows = result_rows(&n.dir.path().join("jp.sqlite3"));
            assert_eq!(rows.len(), 1);
            // Sealed: no ZIP header (base64 `UEsDB`) and no identifier.
            assert!(!rows[0].contains("\"sealed\":\"UEsDB"), "{}", rows[0]);
            assert!(!rows[0].contains("ann"), "{}", rows[0]);
        }
        // Another request's result is not reachable as this one's.
        let bob = open_request(&n.a, "bob", RequestType::Export);
        n.b.approve(&bob, n.b.operator()).unwrap();
        let bobs = n.a.request_result(&bob, n.a.operator()).unwrap();
        assert_ne!(bobs, from_a);
        // (d) Erasure through node B.
        let erase = open_request(&n.b, "ann", RequestType::Erasure);
        n.b.approve(&erase, n.b.operator()).unwrap();
        for st in [&n.a, &n.b] {
            match st.request_result(&id, st.operator()) {
                Err(CoreError::Input(m)) => assert!(m.contains("no longer stored"), "{m}"),
                other => panic!("{}: {other:?}", backend.name()),
            }
        }
        // Bob's result stays.
        assert_eq!(n.b.request_result(&bob, n.b.operator()).unwrap(), bobs);
        if let Backend::Sqlite = backend {
            assert_eq!(result_rows(&n.dir.path().join("jp.sqlite3")).len(), 1);
        }
        // Not a result: an erasure request has none.
        assert!(matches!(
            n.a.request_result(&erase, n.a.operator()),
            Err(CoreError::Input(_))
        ));
    }
}

/// The `dsr.lease_secs` setting is checked: outside 3 to 3,600 refused,
/// naming the key.
#[test]
fn lease_secs_outside_its_range_is_refused() {
    for bad in ["lease_secs = 0", "lease_secs = 2", "lease_secs = 3601"] {
        let e = Config::parse(&format!("[dsr]\n{bad}\n"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dsr.lease_secs"), "{e}");
    }
    let ok = Config::parse("[dsr]\nlease_secs = 3\n", "s.toml").unwrap();
    assert_eq!(ok.dsr.lease_secs, 3);
    assert_eq!(Config::default().dsr.lease_secs, LEASE_SECS as u64);
}

/// ZIP files under the data directory's `requests/` (none should stay).
fn zip_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("requests"))
        .map(|it| {
            it.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "zip"))
                .count()
        })
        .unwrap_or(0)
}

/// The raw bodies of the `dsr_results` table of a SQLite store.
fn result_rows(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c.prepare("SELECT body FROM dsr_results").unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<String>, _>>()
        .unwrap()
}
