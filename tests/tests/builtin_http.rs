//! The HTTP check against a real axum server on loopback: the expected status, a wrong one,
//! headers sent, nothing listening, a server that answers too late, and no secret in messages.

mod builtin_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::get as route;
use builtin_support::{assert_message, assert_timed_out_in, closed_port, failure, silent_server};
use heartbeat::checks::Http;
use heartbeat::{Heartbeat, Outcome, health_check};
use heartbeat_tests::{get, serve};

const SECRET: &str = "pa55-w0rd-never-shown";

fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

/// The dependency: an API with a healthy, a broken, a slow and a guarded endpoint.
async fn api() -> SocketAddr {
    let app = Router::new()
        .route("/up", route(|| async { "ok" }))
        .route("/created", route(|| async { StatusCode::CREATED }))
        .route("/broken", route(|| async { StatusCode::BAD_GATEWAY }))
        .route(
            "/slow",
            route(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/guarded",
            route(|headers: HeaderMap| async move {
                match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
                    Some("k3y") => StatusCode::NO_CONTENT,
                    _ => StatusCode::UNAUTHORIZED,
                }
            }),
        );
    serve(app).await
}

#[tokio::test]
async fn up_with_the_expected_status() {
    let api = api().await;
    let outcome = Http::get(format!("http://{api}/up")).run().await;
    assert!(outcome.passed(), "{outcome:?}");
    assert_eq!(outcome.data()["http_status"], 200);
    assert!(outcome.data()["round_trip_ms"].is_f64());

    let created = Http::get(format!("http://{api}/created"))
        .expect_status(201)
        .run()
        .await;
    assert!(created.passed(), "{created:?}");
    let head = Http::head(format!("http://{api}/up"))
        .expect_status(StatusCode::OK)
        .run()
        .await;
    assert!(head.passed(), "{head:?}");
    let any_2xx = Http::new(Method::GET, format!("http://{api}/created"))
        .expect_status(200..300)
        .run()
        .await;
    assert!(any_2xx.passed(), "{any_2xx:?}");
}

#[tokio::test]
async fn headers_are_sent() {
    let api = api().await;
    let without = Http::get(format!("http://{api}/guarded")).run().await;
    assert_message(
        without.message().unwrap(),
        &format!("GET http://{api}/guarded"),
        &["answered 401 Unauthorized, expected 200..=299"],
        None,
    );
    let with = Http::get(format!("http://{api}/guarded"))
        .header("X-Api-Key", "k3y")
        .expect_status(204)
        .run()
        .await;
    assert!(with.passed(), "{with:?}");
    let invalid = Http::get(format!("http://{api}/up"))
        .header("bad header", "x")
        .run()
        .await;
    assert_message(
        invalid.message().unwrap(),
        "GET http://",
        &["builder error"],
        None,
    );
}

#[tokio::test]
async fn down_with_a_wrong_status() {
    let api = api().await;
    let app: Router = bare()
        .health_check(Http::get(format!("http://{api}/broken")).check("api"))
        .into_router();
    let answer = get(&app, "/health/?checks=api").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["checks"]["api"], false);

    let outcome = Http::get(format!("http://{api}/broken"))
        .expect_status(200..=399)
        .run()
        .await;
    assert_message(
        outcome.message().unwrap(),
        &format!("GET http://{api}/broken"),
        &["answered 502 Bad Gateway, expected 200..=399"],
        None,
    );
}

#[tokio::test]
async fn down_when_nothing_listens_and_no_secret_is_shown() {
    let address = closed_port().await;
    let url = format!("http://user:{SECRET}@{address}/health?token={SECRET}");
    let start = Instant::now();
    let outcome = Http::get(&url).run().await;
    assert!(start.elapsed() < Duration::from_millis(600), "{outcome:?}");
    assert_message(
        outcome.message().unwrap(),
        &format!("GET http://user:***@{address}/health:"),
        &["refused"],
        Some(SECRET),
    );

    let app: Router = bare().readiness(Http::get(&url).check("api")).into_router();
    let answer = get(&app, "/.well-known/heartbeat/readiness").await;
    assert_eq!(answer.status, 500);
    assert!(!answer.text().contains(SECRET), "{}", answer.text());
    let message = failure(&answer.json()["checks"]["api"]);
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn slow_answers_and_silent_servers_time_out() {
    let api = api().await;
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let outcome = Http::get(format!("http://{api}/slow"))
        .timeout(timeout)
        .run()
        .await;
    assert_timed_out_in(start.elapsed(), timeout);
    assert_message(
        outcome.message().unwrap(),
        &format!("GET http://{api}/slow"),
        &["no answer within 300ms"],
        None,
    );

    let silent = silent_server().await;
    let app: Router = bare()
        .readiness(
            Http::get(format!("http://{silent}/"))
                .timeout(timeout)
                .check("silent"),
        )
        .into_router();
    let start = Instant::now();
    let answer = get(&app, "/.well-known/heartbeat/readiness").await;
    assert_timed_out_in(start.elapsed(), timeout);
    let message = failure(&answer.json()["checks"]["silent"]);
    assert_message(
        &message,
        &format!("GET http://{silent}/"),
        &["no answer within 300ms"],
        None,
    );
}

#[tokio::test]
async fn not_a_url() {
    let outcome = Http::get("not a url").run().await;
    assert_message(
        outcome.message().unwrap(),
        "GET not a url",
        &["not a valid URL"],
        None,
    );
}

/// The builder's check inside an annotated function, against a server the test starts.
#[health_check(name = "annotated-http", default = false)]
async fn annotated_http() -> Outcome {
    let api = api().await;
    Http::get(format!("http://{api}/up")).run().await
}

#[tokio::test]
async fn from_an_annotated_function() {
    let app: Router = Heartbeat::new()
        .only(["annotated-http"])
        .no_health_secret()
        .into_router();
    let answer = get(&app, "/health/?checks=annotated-http").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
}
