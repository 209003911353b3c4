//! Issue 21: several Steward processes on one PostgreSQL store. Two
//! instances (two connections, two keyrings opened on one data directory,
//! as two `steward serve` nodes would) started together on an empty store
//! issue exactly one bootstrap token between them.

use steward_core::{Config, Guarded, LockoutRule, OpenOptions, Steward};

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

/// A configuration whose one region is a fresh schema on `url`.
fn fresh_schema(url: &str, tag: &str) -> Config {
    let schema = format!(
        "steward_nodes_{tag}_{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    Config::parse(
        &format!(
            "[[regions]]\nname = \"jp\"\ncountry = \"JP\"\nstore = \"{url}{sep}schema={schema}\"\n"
        ),
        "test.toml",
    )
    .unwrap()
}

#[test]
fn two_nodes_started_together_issue_one_bootstrap_token() {
    let Some(url) = pg_url() else { return };
    for round in 0..5 {
        let config = fresh_schema(&url, &format!("boot{round}"));
        let dir = tempfile::tempdir().unwrap();
        let one = Steward::open(dir.path(), config.clone(), OpenOptions::default()).unwrap();
        let two = Steward::open(dir.path(), config, OpenOptions::default()).unwrap();
        let barrier = std::sync::Barrier::new(2);
        let issued: Vec<Option<String>> = std::thread::scope(|sc| {
            let handles: Vec<_> = [&one, &two]
                .into_iter()
                .map(|st| {
                    let barrier = &barrier;
                    sc.spawn(move || {
                        barrier.wait();
                        st.bootstrap_token(3600).unwrap().map(|t| t.token)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let tokens: Vec<&String> = issued.iter().flatten().collect();
        assert_eq!(tokens.len(), 1, "round {round}: {} tokens", tokens.len());
        // The one token issued authenticates on both nodes; a later start
        // issues none.
        for st in [&one, &two] {
            assert!(st.authenticate_token(tokens[0]).unwrap().is_ok());
            assert!(st.bootstrap_token(3600).unwrap().is_none());
        }
    }
}

/// The lockout rule the server applies by default (README: `--lockout-after`
/// 10, lockouts of 60 s).
fn documented_rule() -> LockoutRule {
    LockoutRule {
        after: 10,
        window: std::time::Duration::from_secs(60),
    }
}

/// Failures through two nodes on one store add up (issue 21 item 5, N5.1):
/// 9 failures of one address split between the nodes lock nothing; the
/// 10th, on either node, locks the address on both for 60 s; an account
/// and another address are counted apart; after 60 s the lockout has
/// ended everywhere. `nodes` are two `Steward`s on one store.
fn lockouts_add_up_across_nodes(nodes: [&Steward; 2], last_on: usize) {
    let rule = documented_rule();
    let t0 = 1_800_000_000_000_i64;
    let ip = Guarded::Address("198.51.100.7".parse().unwrap());
    for i in 0..9 {
        let node = nodes[i % 2];
        assert!(!node.count_auth_failure(&ip, rule, t0 + i as i64).unwrap());
        for n in nodes {
            assert_eq!(
                n.lockout_left(&ip, t0 + 10).unwrap(),
                None,
                "after {} failures",
                i + 1
            );
        }
    }
    assert!(
        nodes[last_on]
            .count_auth_failure(&ip, rule, t0 + 9)
            .unwrap()
    );
    for n in nodes {
        assert_eq!(n.lockout_left(&ip, t0 + 9).unwrap(), Some(60));
        assert_eq!(n.lockout_left(&ip, t0 + 9 + 59_000).unwrap(), Some(1));
        assert_eq!(n.lockout_left(&ip, t0 + 9 + 60_000).unwrap(), None);
    }
    // Counted apart: another address, and an account of the same text.
    let other = Guarded::Address("198.51.100.8".parse().unwrap());
    let account = Guarded::Account("198.51.100.7".into());
    for n in nodes {
        assert_eq!(n.lockout_left(&other, t0 + 9).unwrap(), None);
        assert_eq!(n.lockout_left(&account, t0 + 9).unwrap(), None);
    }
    // Failures during the lockout start no second one.
    for i in 0..12 {
        assert!(
            !nodes[i % 2]
                .count_auth_failure(&ip, rule, t0 + 100 + i as i64)
                .unwrap()
        );
    }
    // Once it has ended, a fresh window starts with the next failure.
    assert!(
        !nodes[1 - last_on]
            .count_auth_failure(&ip, rule, t0 + 9 + 60_000)
            .unwrap()
    );
    assert_eq!(
        nodes[last_on].lockout_left(&ip, t0 + 9 + 60_000).unwrap(),
        None
    );
}

/// An account guessed at through both nodes at once is locked exactly
/// once: of 20 concurrent failures, one starts the lockout.
fn concurrent_account_failures_lock_once(nodes: [&Steward; 2]) {
    let rule = documented_rule();
    let t0 = 1_800_000_000_000_i64;
    let who = Guarded::Account("u-nobody".into());
    let barrier = std::sync::Barrier::new(2);
    let started: usize = std::thread::scope(|sc| {
        let handles: Vec<_> = nodes
            .into_iter()
            .map(|st| {
                let (barrier, who) = (&barrier, &who);
                sc.spawn(move || {
                    barrier.wait();
                    (0..10)
                        .filter(|i| st.count_auth_failure(who, rule, t0 + i).unwrap())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(started, 1);
    for n in nodes {
        assert_eq!(n.lockout_left(&who, t0 + 10).unwrap(), Some(59));
    }
}

#[test]
fn lockouts_are_shared_by_two_nodes_on_one_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let one = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    let two = Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap();
    lockouts_add_up_across_nodes([&one, &two], 1);
    concurrent_account_failures_lock_once([&one, &two]);
}

#[test]
fn lockouts_are_shared_by_two_nodes_on_postgres() {
    let Some(url) = pg_url() else { return };
    let config = fresh_schema(&url, "lockout");
    let schema = config.regions[0]
        .store
        .as_deref()
        .and_then(|s| s.split("schema=").nth(1))
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    {
        let one = Steward::open(dir.path(), config.clone(), OpenOptions::default()).unwrap();
        let two = Steward::open(dir.path(), config, OpenOptions::default()).unwrap();
        lockouts_add_up_across_nodes([&one, &two], 0);
        concurrent_account_failures_lock_once([&one, &two]);
    }
    let mut admin = steward_store::PostgresStore::connect_client(&url).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
}
