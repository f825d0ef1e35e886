//! Redis `PING` against a real server from `HEARTBEAT_TEST_REDIS_URL`
//! (`source <(bash .ci/services)`): up, down (nothing listens, or a wrong password: the message
//! never shows it) and slow (a server that accepts and never answers).

mod builtin_support;

use std::time::{Duration, Instant};

use builtin_support::{
    assert_message, assert_timed_out_in, closed_port, failure, server_url, silent_server,
    with_password,
};
use heartbeat::Heartbeat;
use heartbeat::checks::{self, Redis};
use heartbeat_tests::get;

const REDIS: &str = "HEARTBEAT_TEST_REDIS_URL";
const READINESS: &str = "/.well-known/heartbeat/readiness";
const SECRET: &str = "pa55-w0rd-never-shown";

fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

fn client(url: &str) -> redis::Client {
    redis::Client::open(url).unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_redis),
    ignore = "needs Redis: HEARTBEAT_TEST_REDIS_URL was not set at build time (source <(bash .ci/services))"
)]
async fn up() {
    let url = server_url(REDIS);
    let outcome = Redis::new(client(&url)).run().await;
    assert!(outcome.passed(), "{outcome:?}");
    assert!(outcome.data()["round_trip_ms"].is_f64());

    let app: axum::Router = bare()
        .readiness(checks::redis("cache", client(&url)))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["cache"]["round_trip_ms"].is_f64());
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_redis),
    ignore = "needs Redis: HEARTBEAT_TEST_REDIS_URL was not set at build time (source <(bash .ci/services))"
)]
async fn up_on_an_open_connection() {
    let url = server_url(REDIS);
    let mut connection = client(&url)
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let outcome = checks::redis::ping(&mut connection).await;
    assert!(outcome.passed(), "{outcome:?}");
}

#[tokio::test]
async fn down_refused() {
    let address = closed_port().await;
    let url = format!("redis://:{SECRET}@{address}/");
    let start = Instant::now();
    let outcome = Redis::new(client(&url)).run().await;
    assert!(start.elapsed() < Duration::from_millis(600), "{outcome:?}");
    assert_message(
        outcome.message().unwrap(),
        &format!("Redis PING to {address}"),
        &["refused"],
        Some(SECRET),
    );

    let app: axum::Router = bare()
        .readiness(checks::redis("cache", client(&url)))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = failure(&answer.json()["checks"]["cache"]);
    assert_message(&message, "Redis PING to", &["refused"], Some(SECRET));
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_redis),
    ignore = "needs Redis: HEARTBEAT_TEST_REDIS_URL was not set at build time (source <(bash .ci/services))"
)]
async fn down_wrong_password() {
    let url = server_url(REDIS);
    let outcome = Redis::new(client(&with_password(&url, SECRET))).run().await;
    assert_message(
        outcome.message().unwrap(),
        "Redis PING to 127.0.0.1:",
        &["authentication failed", "WRONGPASS"],
        Some(SECRET),
    );
}

#[tokio::test]
async fn slow() {
    let address = silent_server().await;
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let outcome = Redis::new(client(&format!("redis://{address}/")))
        .timeout(timeout)
        .run()
        .await;
    assert_timed_out_in(start.elapsed(), timeout);
    assert_message(
        outcome.message().unwrap(),
        &format!("Redis PING to {address}"),
        &["no answer within 300ms"],
        None,
    );

    let app: axum::Router = bare()
        .readiness(
            Redis::new(client(&format!("redis://{address}/")))
                .timeout(timeout)
                .check("cache"),
        )
        .into_router();
    let answer = get(&app, READINESS).await;
    let message = failure(&answer.json()["checks"]["cache"]);
    assert!(message.contains("no answer within 300ms"), "{message}");
}

/// The host is looked up by heartbeat first (one lookup per name at a time, on a thread of its
/// own), so that a hung resolver cannot leave a thread of the client's behind at every timeout:
/// an unknown name is reported by heartbeat's lookup.
#[tokio::test]
async fn the_host_is_looked_up_by_heartbeat_first() {
    let outcome = Redis::new(client(&format!(
        "redis://:{SECRET}@no-such-host.invalid:6379/"
    )))
    .run()
    .await;
    let message = outcome.message().unwrap();
    assert!(
        message.starts_with(
            "Redis PING to no-such-host.invalid:6379: cannot resolve no-such-host.invalid"
        ),
        "{message}"
    );
}
