//! `/health/`: the default set, `?checks=` selection, the shared secret, `/health/ping`.

use std::sync::atomic::{AtomicUsize, Ordering};

use heartbeat::{Heartbeat, health_check};
use heartbeat_tests::{get, http, request, run_alone, serve};
use serde_json::json;

#[health_check(name = "true")]
fn check_true() -> bool {
    true
}

#[health_check(name = "false", default = false)]
fn check_false() -> bool {
    false
}

#[health_check]
async fn database() -> Result<(), String> {
    Ok(())
}

static GUARDED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Selected only by `no_check_runs_before_the_caller_is_authorised`.
#[health_check(name = "guarded", default = false, cache = "0s")]
fn guarded() -> bool {
    GUARDED_RUNS.fetch_add(1, Ordering::SeqCst);
    true
}

const SECRET: &str = "correct horse";

fn app() -> axum::Router {
    Heartbeat::new().health_secret(SECRET).into_router()
}

async fn health(query: &str) -> heartbeat_tests::Answer {
    let separator = if query.is_empty() { "" } else { "&" };
    get(
        &app(),
        &format!("/health/?auth=correct%20horse{separator}{query}"),
    )
    .await
}

#[tokio::test]
async fn absent_checks_means_the_default_set() {
    let answer = health("").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.header("cache-control"), "no-cache");
    assert_eq!(
        answer.json(),
        json!({
            "health": "running",
            "available_checks": ["database", "false", "guarded", "true"],
            "checks": { "database": true, "true": true },
            "messages": {},
            "warnings": [],
        })
    );
}

#[tokio::test]
async fn empty_checks_means_none() {
    let answer = health("checks=").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["checks"], json!({}));
    assert_eq!(answer.json()["health"], "running");
}

#[tokio::test]
async fn a_failing_selected_check_is_503_degraded() {
    let answer = health("checks=true,false").await;
    assert_eq!(answer.status, 503);
    let body = answer.json();
    assert_eq!(body["health"], "degraded");
    assert_eq!(body["checks"], json!({ "false": false, "true": true }));
}

#[tokio::test]
async fn items_are_trimmed_defaults_expand_and_duplicates_run_once() {
    let answer = health("checks=%20true%20,_defaults,,true,%20false").await;
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert_eq!(
        answer.json()["checks"],
        json!({ "database": true, "false": false, "true": true })
    );
    // Repeated `checks=` parameters are one list.
    let answer = health("checks=true&checks=database").await;
    assert_eq!(
        answer.json()["checks"],
        json!({ "database": true, "true": true })
    );
}

#[tokio::test]
async fn unknown_names_are_a_400_that_lists_them_and_the_available_ones() {
    let answer = health("checks=true,nope,Database").await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["error"], "unknown checks");
    assert_eq!(body["unknown_checks"], json!(["Database", "nope"]));
    assert_eq!(
        body["available_checks"],
        json!(["database", "false", "guarded", "true"])
    );
    assert!(body["message"].as_str().unwrap().contains("\"nope\""));
}

#[tokio::test]
async fn many_unknown_names_are_a_small_400() {
    let names: Vec<String> = (0..200).map(|i| format!("no-such-check-{i}")).collect();
    let answer = health(&format!("checks={}", names.join(","))).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json()["unknown_checks"].as_array().unwrap().len(),
        20
    );
    assert!(answer.body.len() < 4_096, "{} bytes", answer.body.len());
}

#[tokio::test]
async fn more_than_256_names_are_a_400_and_repeats_cost_nothing_more() {
    // 6,400 × `_defaults` (a 64 KB query) used to expand the default set 6,400 times.
    let repeated = vec!["_defaults"; 6_400].join(",");
    let answer = health(&format!("checks={repeated}")).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["error"], "too many checks");
    assert!(
        body["message"].as_str().unwrap().contains("at most 256"),
        "{body}"
    );
    assert_eq!(
        body["available_checks"],
        json!(["database", "false", "guarded", "true"])
    );

    // Up to the cap, repeats select each check once.
    let repeated = vec!["_defaults,false"; 128].join(",");
    let answer = health(&format!("checks={repeated}")).await;
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert_eq!(
        answer.json()["checks"],
        json!({ "database": true, "false": false, "true": true })
    );
}

#[tokio::test]
async fn no_check_runs_before_the_caller_is_authorised() {
    let app = app();
    let target = "/health/?checks=guarded";
    let attempts: [(String, Vec<(&str, &str)>); 5] = [
        (target.to_owned(), vec![]),
        (format!("{target}&auth=wrong"), vec![]),
        (format!("{target}&auth="), vec![]),
        (target.to_owned(), vec![("authorization", "Bearer wrong")]),
        (
            target.to_owned(),
            vec![("authorization", "Basic Y29ycmVjdCBob3JzZQ==")],
        ),
    ];
    for (uri, headers) in &attempts {
        let answer = request(&app, axum::http::Method::GET, uri, headers).await;
        assert_eq!(answer.status, 401, "{uri} {headers:?}");
        assert_eq!(answer.header("www-authenticate"), "Bearer");
        let text = answer.text();
        for name in ["guarded", "true", "false", "database"] {
            assert!(!text.contains(name), "401 reveals {name}: {text}");
        }
    }
    // An unknown name is not revealed either: the secret comes first.
    let answer = get(&app, "/health/?checks=nope").await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        GUARDED_RUNS.load(Ordering::SeqCst),
        0,
        "a check ran before authorisation"
    );

    let answer = request(
        &app,
        axum::http::Method::GET,
        target,
        &[("authorization", "Bearer correct horse")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["checks"], json!({ "guarded": true }));
    let answer = get(&app, &format!("{target}&auth=correct+horse")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(GUARDED_RUNS.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn auth_given_twice_is_a_400() {
    let answer = health("auth=x").await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["message"].as_str().unwrap().contains("auth"));
}

#[tokio::test]
async fn both_paths_and_ping_are_served_and_ping_is_never_protected() {
    let address = serve(app()).await;
    for path in ["/health", "/health/"] {
        assert_eq!(http(address, "GET", path, &[]).await.status, 401);
        let answer = http(address, "GET", &format!("{path}?auth=correct+horse"), &[]).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.json()["health"], "running");
    }
    let ping = http(address, "GET", "/health/ping", &[]).await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.text(), "pong");
    assert!(ping.header("content-type").starts_with("text/plain"));
}

#[tokio::test]
async fn no_health_secret_serves_it_open() {
    let app = Heartbeat::new().no_health_secret().into_router();
    let answer = get(&app, "/health/?checks=true").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["checks"], json!({ "true": true }));
}

#[test]
fn refuses_to_build_without_a_secret_decision() {
    let (passed, output) = run_alone("alone_without_secret", &[("HEALTH_URL_SECRET", None)]);
    assert!(passed, "{output}");
}

#[test]
#[ignore = "run by refuses_to_build_without_a_secret_decision in its own process"]
fn alone_without_secret() {
    let error = Heartbeat::new().try_into_router::<()>().unwrap_err();
    let text = error.to_string();
    assert!(text.contains("HEALTH_URL_SECRET"), "{text}");
    assert!(text.contains(".no_health_secret()"), "{text}");
    assert!(text.contains("database, false, guarded, true"), "{text}");
    let panic = std::panic::catch_unwind(heartbeat::router::<()>).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(message, &text, "router() panics with the full text");
}

#[test]
fn takes_the_secret_from_the_environment() {
    let (passed, output) = run_alone(
        "alone_with_env_secret",
        &[("HEALTH_URL_SECRET", Some("from-env"))],
    );
    assert!(passed, "{output}");
    let (passed, output) = run_alone(
        "alone_with_empty_env_secret",
        &[("HEALTH_URL_SECRET", Some(""))],
    );
    assert!(passed, "{output}");
    let (passed, output) = run_alone(
        "alone_with_newline_env_secret",
        &[("HEALTH_URL_SECRET", Some("from-env\n"))],
    );
    assert!(passed, "{output}");
}

#[test]
#[ignore = "run by takes_the_secret_from_the_environment in its own process"]
fn alone_with_newline_env_secret() {
    let text = Heartbeat::new()
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("HEALTH_URL_SECRET ends with white space ('\\n')"),
        "{text}"
    );
    assert!(text.contains("printf %s"), "{text}");
    assert!(
        !text.contains("from-env"),
        "the secret is never shown: {text}"
    );
}

#[test]
fn refuses_a_secret_no_token_can_match() {
    for (secret, why) in [
        ("correct horse\n", "ends with white space ('\\n')"),
        (" correct horse", "starts with white space (' ')"),
        ("correct\u{7}horse", "holds a control character ('\\u{7}')"),
    ] {
        let text = Heartbeat::new()
            .health_secret(secret)
            .try_into_router::<()>()
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(&format!("`.health_secret(…)` {why}")),
            "{text}"
        );
        assert!(!text.contains("horse"), "the secret is never shown: {text}");
    }
    // White space inside the secret is fine.
    assert!(
        Heartbeat::new()
            .health_secret("correct horse")
            .try_into_router::<()>()
            .is_ok()
    );
}

#[tokio::test]
#[ignore = "run by takes_the_secret_from_the_environment in its own process"]
async fn alone_with_env_secret() {
    let from_env = heartbeat::router();
    assert_eq!(
        get(&from_env, "/health/?auth=correct+horse").await.status,
        401
    );
    assert_eq!(get(&from_env, "/health/?auth=from-env").await.status, 200);
    // The builder's secret wins over the environment's.
    assert_eq!(get(&app(), "/health/?auth=from-env").await.status, 401);
}

#[test]
#[ignore = "run by takes_the_secret_from_the_environment in its own process"]
fn alone_with_empty_env_secret() {
    let error = Heartbeat::new().try_into_router::<()>().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("HEALTH_URL_SECRET is set but empty"),
        "{error}"
    );
}

#[tokio::test]
async fn environ_asks_for_the_secret_only_when_told_to() {
    let path = "/.well-known/heartbeat/environ";
    assert_eq!(get(&app(), path).await.status, 200, "open by default");
    let protected: axum::Router = Heartbeat::new()
        .health_secret(SECRET)
        .protect_environ()
        .into_router();
    let refused = get(&protected, path).await;
    assert_eq!(refused.status, 401);
    assert!(!refused.text().contains("rust"), "{}", refused.text());
    assert_eq!(
        get(&protected, &format!("{path}?auth=correct+horse"))
            .await
            .status,
        200
    );
    let bearer = [("authorization", "Bearer correct horse")];
    let answer = request(&protected, axum::http::Method::GET, path, &bearer).await;
    assert_eq!(answer.status, 200);
    assert!(answer.json()["rust"].is_array());

    let error = Heartbeat::new()
        .no_health_secret()
        .protect_environ()
        .try_into_router::<()>()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`.protect_environ()` needs a secret"),
        "{error}"
    );
}
