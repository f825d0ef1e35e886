//! A binary that registers no check at all: every endpoint still answers.

use heartbeat_tests::{get, http, serve};

fn app() -> axum::Router {
    heartbeat::router()
}

#[tokio::test]
async fn probes_pass_with_no_checks() {
    for path in [
        "/.well-known/heartbeat/readiness",
        "/.well-known/heartbeat/liveliness",
    ] {
        let answer = get(&app(), path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            answer.json(),
            serde_json::json!({ "status": true, "checks": {} })
        );
    }
}

#[tokio::test]
async fn health_with_no_checks_needs_no_secret() {
    assert!(heartbeat::registered().is_empty());
    let answer = get(&app(), "/health/").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json(),
        serde_json::json!({ "health": "running", "available_checks": [], "checks": {}, "messages": {}, "warnings": [] })
    );
    let answer = get(&app(), "/health").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn ping_is_plain_text() {
    let answer = get(&app(), "/health/ping").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "pong");
    assert!(answer.header("content-type").starts_with("text/plain"));
    assert_eq!(answer.header("cache-control"), "no-cache");
}

#[tokio::test]
async fn environ_reports_the_compiler() {
    let answer = get(&app(), "/.well-known/heartbeat/environ").await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["status"], true);
    assert!(body["libraries"].is_object());
    assert!(body["uptime"].is_number());
    assert!(body.get("errors").is_none());

    // The compiler that built this test is the one on PATH (the workspace has one toolchain).
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(output.stdout).unwrap();
    let version = version.split_whitespace().nth(1).unwrap();
    let numbers: Vec<u64> = version
        .split(['.', '-'])
        .take(3)
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(body["rust"], serde_json::json!(numbers));
    assert_eq!(body["rustc"], version);
    assert!(!body["target"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_paths_are_404_over_tcp() {
    let address = serve(app()).await;
    let answer = http(address, "GET", "/.well-known/heartbeat/nope", &[]).await;
    assert_eq!(answer.status, 404);
    let answer = http(address, "GET", "/.well-known/heartbeat/readiness", &[]).await;
    assert_eq!(answer.status, 200);
}
