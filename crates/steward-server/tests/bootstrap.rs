//! Issue 18, item 2: the bootstrap token of a first `steward serve` that
//! cannot bind its port is not made (so it cannot be lost): the next start
//! that binds prints it.

use std::sync::Arc;

use steward_core::{Config, OpenOptions, Steward};
use steward_server::{ServeOptions, ServerError};

#[tokio::test]
async fn a_first_start_that_cannot_bind_keeps_the_bootstrap_token_for_the_next_issue18_2() {
    let dir = tempfile::tempdir().unwrap();
    let st =
        Arc::new(Steward::open(dir.path(), Config::default(), OpenOptions::default()).unwrap());
    // The port is taken by another listener.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = ServeOptions {
        listen: taken.local_addr().unwrap(),
        ..Default::default()
    };
    match steward_server::start(st.clone(), busy).await {
        Err(ServerError::Bind { .. }) => {}
        Err(e) => panic!("expected a bind error, got {e}"),
        Ok(_) => panic!("the port was taken; the start should have failed"),
    }
    let free = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let running = steward_server::start(st.clone(), free).await.unwrap();
    let token = running
        .bootstrap_token
        .clone()
        .expect("the first start that bound prints the bootstrap token");
    let auth = st
        .authenticate_token(&token)
        .unwrap()
        .expect("it authenticates");
    assert_eq!(auth.principal.name, st.operator());
    running.shutdown().await;
}
