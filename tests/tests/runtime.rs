//! Checks registered at run time on the builder, side by side with annotated ones, and the
//! builder's validation and options.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use heartbeat::{Check, Heartbeat, Kind, checks, environ_probe, health_check, readiness_probe};
use heartbeat_tests::get;
use serde_json::json;

#[readiness_probe(name = "annotated")]
fn annotated() -> bool {
    true
}

#[health_check(name = "shared-name")]
fn annotated_health() -> bool {
    true
}

#[environ_probe]
fn release() -> serde_json::Value {
    json!({ "release": "annotated", "channel": "stable" })
}

/// The seed's `base_check_api_liveliness`, as a user would port it.
fn api_liveliness(url: &'static str, expected: u16) -> impl Fn() -> Result<bool, String> {
    move || {
        let status = if url.ends_with("/up") { 200 } else { 502 };
        if status == expected {
            Ok(true)
        } else {
            Err(format!("GET {url} answered {status}, expected {expected}"))
        }
    }
}

fn base() -> Heartbeat {
    Heartbeat::new()
        .only(["annotated", "release"])
        .no_health_secret()
}

#[tokio::test]
async fn run_time_checks_serve_beside_annotated_ones() {
    let app: axum::Router = base()
        .readiness(Check::new_async("queue", || async {
            Ok::<_, String>(json!({ "depth": 3 }))
        }))
        .liveliness(Check::new("worker", || true))
        .health_check(Check::new(
            "example",
            api_liveliness("http://localhost/up", 200),
        ))
        .health_check(
            Check::new("search", api_liveliness("http://localhost/down", 200)).default(false),
        )
        .health_check(checks::always_up("always-up"))
        .health_check(checks::always_down("always-down").default(false))
        .environ(Check::new(
            "build",
            || json!({ "release": "run-time", "region": "eu" }),
        ))
        .into_router();

    let ready = get(&app, "/.well-known/heartbeat/readiness").await.json();
    assert_eq!(ready["checks"]["annotated"]["status"], true);
    assert_eq!(ready["checks"]["queue"]["depth"], 3);

    let live = get(&app, "/.well-known/heartbeat/liveliness").await.json();
    assert_eq!(
        live["checks"],
        json!({ "worker": live["checks"]["worker"] })
    );
    let alias = get(&app, "/.well-known/heartbeat/liveness").await;
    assert_eq!(alias.status, 200, "Kubernetes' spelling is an alias");
    // The same check, answered from the run liveliness just made.
    let alias = alias.json();
    assert_eq!(alias["checks"]["worker"]["status"], true);
    assert!(alias["checks"]["worker"]["age"].is_number(), "{alias}");

    let health = get(&app, "/health/").await;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["checks"],
        json!({ "always-up": true, "example": true })
    );
    let health = get(&app, "/health/?checks=search,always-down").await;
    assert_eq!(health.status, 503);
    assert_eq!(
        health.json()["checks"],
        json!({ "always-down": false, "search": false })
    );

    // Probes merge in name order: "build" before "release", so the annotated one wins.
    let environ = get(&app, "/.well-known/heartbeat/environ").await.json();
    assert_eq!(environ["release"], "annotated");
    assert_eq!(environ["region"], "eu");
    assert_eq!(environ["channel"], "stable");
}

#[tokio::test]
async fn a_failing_environ_probe_sets_status_and_errors_but_stays_200() {
    let app: axum::Router = base()
        .environ(Check::new("broken", || {
            Err::<serde_json::Value, _>("no such file")
        }))
        .into_router();
    let answer = get(&app, "/.well-known/heartbeat/environ").await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["status"], false);
    assert_eq!(body["errors"], json!({ "broken": "no such file" }));
    assert_eq!(body["release"], "annotated");
}

#[test]
fn duplicates_across_both_kinds_of_registration_name_both_sites() {
    let error = Heartbeat::new()
        .no_health_secret()
        .readiness(Check::new("annotated", || true))
        .health_check(Check::new("shared-name", || true))
        .liveliness(Check::new("annotated", || true))
        .try_into_router::<()>()
        .unwrap_err();
    let problems = error.problems();
    assert_eq!(problems.len(), 2, "{error}");
    let readiness = problems
        .iter()
        .find(|p| p.starts_with("readiness"))
        .unwrap();
    assert!(readiness.contains("\"annotated\""), "{readiness}");
    assert!(
        readiness.contains("runtime (tests/tests/runtime.rs:"),
        "{readiness}"
    );
    assert!(
        readiness.contains("tests/tests/runtime.rs:")
            && readiness.contains("(registered at run time)"),
        "{readiness}"
    );
    let health = problems.iter().find(|p| p.starts_with("health")).unwrap();
    assert!(health.contains("\"shared-name\""), "{health}");
    // The same name in different endpoints is fine: liveliness "annotated" is not reported.
    assert!(!error.to_string().contains("liveliness"), "{error}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = Heartbeat::new()
        .readiness(Check::new("", || true))
        .readiness(Check::new("a,b", || true))
        .readiness(Check::new("a/b", || true))
        .health_check(Check::new("_defaults", || true))
        .health_check(Check::new(" padded", || true))
        .liveliness(Check::new("zero", || true).timeout(Duration::ZERO))
        .default_timeout(Duration::ZERO)
        .health_prefix("health/")
        .well_known_prefix("/")
        .health_secret("")
        .try_into_router::<()>()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("heartbeat: cannot build the router:"),
        "{text}"
    );
    for expected in [
        "must not be empty",
        "must not contain `,`",
        "must not contain `/`",
        "`_defaults` is reserved",
        "white space",
        "check \"zero\"",
        "default timeout is zero",
        "`.health_prefix(\"health/\")`",
        "`.well_known_prefix(\"/\")`",
        "`.health_secret(\"\")` is empty",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(error.problems().len(), 10, "{text}");
}

#[test]
fn prefixes_axum_would_panic_on_are_refused() {
    let text = base()
        .health_prefix("/:status")
        .well_known_prefix("/probes/*all")
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("`.health_prefix(\"/:status\")` is not a path prefix"),
        "{text}"
    );
    assert!(
        text.contains("`.well_known_prefix(\"/probes/*all\")` is not a path prefix"),
        "{text}"
    );

    let error = base()
        .well_known_prefix("/x")
        .health_prefix("/x/readiness")
        .try_into_router::<()>()
        .unwrap_err();
    assert_eq!(error.problems().len(), 1, "{error}");
    assert!(
        error.problems()[0].starts_with(
            "`.well_known_prefix(\"/x\")` and `.health_prefix(\"/x/readiness\")` both serve [\"/x/readiness\", \"/x/readiness/{name}\"]"
        ),
        "{error}"
    );
    // One prefix for both families is fine: their routes do not meet.
    assert!(
        base()
            .well_known_prefix("/x")
            .health_prefix("/x")
            .try_into_router::<()>()
            .is_ok()
    );
}

#[test]
fn a_failure_status_below_400_is_refused() {
    for status in [StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::FOUND] {
        let text = base()
            .failure_status(status)
            .try_into_router::<()>()
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(&format!(
                "`.failure_status({status})` is not an error status"
            )),
            "{text}"
        );
        assert!(text.contains("give a 4xx or 5xx"), "{text}");
    }
    for status in [
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
    ] {
        assert!(
            base()
                .failure_status(status)
                .try_into_router::<()>()
                .is_ok()
        );
    }
}

#[test]
#[should_panic(
    expected = "heartbeat: cannot build the router:\n  - readiness check name \"annotated\""
)]
fn into_router_panics_with_the_full_text() {
    let _: axum::Router = base()
        .readiness(Check::new("annotated", || true))
        .into_router();
}

#[tokio::test]
async fn subsets_prefixes_and_failure_status() {
    let app: axum::Router = Heartbeat::new()
        .filter(|info| info.kind() == Kind::Readiness)
        .readiness(checks::always_down("down"))
        .well_known_prefix("/internal/probes")
        .health_prefix("/status")
        .failure_status(StatusCode::SERVICE_UNAVAILABLE)
        .into_router();
    let ready = get(&app, "/internal/probes/readiness").await;
    assert_eq!(ready.status, 503);
    let ready = ready.json();
    assert_eq!(ready["checks"]["annotated"]["status"], true);
    assert_eq!(
        ready["checks"]["down"]["message"],
        "this check always fails"
    );
    assert_eq!(
        get(&app, "/.well-known/heartbeat/readiness").await.status,
        404
    );
    assert_eq!(get(&app, "/internal/probes/liveness").await.status, 200);
    // The filter dropped the annotated health check, so no secret was needed.
    let health = get(&app, "/status/").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["available_checks"], json!([]));
    assert_eq!(get(&app, "/status/ping").await.text(), "pong");
    let environ = get(&app, "/internal/probes/environ").await.json();
    assert!(
        environ.get("release").is_none(),
        "the annotated environ probe was filtered out"
    );
}

#[tokio::test]
async fn async_closures_capture_state() {
    let healthy = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&healthy);
    let app: axum::Router = base()
        .readiness(
            Check::new_async("flag", move || {
                let flag = Arc::clone(&flag);
                async move { flag.load(Ordering::SeqCst) }
            })
            .cache(Duration::ZERO),
        )
        .into_router();
    assert_eq!(
        get(&app, "/.well-known/heartbeat/readiness").await.status,
        200
    );
    healthy.store(false, Ordering::SeqCst);
    let answer = get(&app, "/.well-known/heartbeat/readiness").await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.json()["checks"]["flag"]["message"],
        "the check returned false"
    );
}

#[test]
fn routers_merge_into_an_app_with_its_own_state() {
    #[derive(Clone)]
    struct AppState {
        _pool: Arc<()>,
    }
    let app: axum::Router<AppState> = axum::Router::new()
        .route("/", axum::routing::get(|| async { "home" }))
        .merge(base().into_router());
    let _: axum::Router = app.with_state(AppState {
        _pool: Arc::new(()),
    });
}
