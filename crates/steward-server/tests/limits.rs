//! N5.1's blocking half over HTTPS: the brute-force lockout and the rate
//! limit answer 429 with `Retry-After`, and serve again once the time has
//! passed. The server's lockout and rate limit read a manual clock here, so
//! no request's timing changes what the tests see.

mod common;

use std::time::Duration;

use common::{problem, start_with};
use reqwest::StatusCode;
use steward_server::{LimitsClock, ServeOptions};

fn retry_after(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Three failed authentications from one address lock it out for the
/// configured time: then its further guesses (an invalid token) get 429
/// with `Retry-After` counting down the lockout, and 401 again once it has
/// passed; a valid token from the same address is served throughout
/// (issue 14 item 6: the lockout refuses guesses, never a credential).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_answers_429_with_retry_after_n5_1() {
    let clock = LimitsClock::manual();
    let s = start_with(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        lockout_after: 3,
        lockout_for: Duration::from_secs(120),
        limits_clock: clock.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        s.get(&s.operator, "/v1/tokens").await.status(),
        StatusCode::OK
    );
    for _ in 0..3 {
        let r = s.get("stw_not_a_token", "/v1/tokens").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = s.get("stw_not_a_token", "/v1/tokens").await;
    assert_eq!(retry_after(&r), Some(120));
    let v = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("failed authentications"),
        "{v}"
    );
    assert_eq!(
        s.get(&s.operator, "/v1/tokens").await.status(),
        StatusCode::OK,
        "a valid token from the locked-out address is served"
    );
    clock.advance(Duration::from_secs(119));
    let r = s.get("stw_not_a_token", "/v1/tokens").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&r), Some(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        s.get("stw_not_a_token", "/v1/tokens").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get(&s.operator, "/v1/tokens").await.status(),
        StatusCode::OK
    );
}

/// A principal over its rate (2 per second, bursts of 4) gets 429 with
/// `Retry-After`; half a second later one more request is served (N5.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after_n5_1() {
    let clock = LimitsClock::manual();
    let s = start_with(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate_per_principal: 2,
        limits_clock: clock.clone(),
        ..Default::default()
    })
    .await;
    for i in 0..4 {
        let r = s.get(&s.operator, "/v1/tokens").await;
        assert_eq!(r.status(), StatusCode::OK, "request {i} of the burst");
    }
    let r = s.get(&s.operator, "/v1/tokens").await;
    assert_eq!(retry_after(&r), Some(1));
    let v = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("request rate"),
        "{v}"
    );
    clock.advance(Duration::from_millis(500));
    assert_eq!(
        s.get(&s.operator, "/v1/tokens").await.status(),
        StatusCode::OK
    );
    let r = s.get(&s.operator, "/v1/tokens").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}
