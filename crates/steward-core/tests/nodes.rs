//! Issue 21: several Steward processes on one PostgreSQL store. Two
//! instances (two connections, two keyrings opened on one data directory,
//! as two `steward serve` nodes would) started together on an empty store
//! issue exactly one bootstrap token between them.

use steward_core::{Config, OpenOptions, Steward};

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
