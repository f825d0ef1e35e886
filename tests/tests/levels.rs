//! Levels (SPEC §12): pass, warn, fail and unknown in every output; `critical = false`; the
//! failure and success thresholds. Async checks on tokio's paused clock, each request its own
//! run (`cache` zero), so that every step of a script is one run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heartbeat::{Check, Heartbeat, Level, Outcome};
use heartbeat_tests::get;
use serde_json::{Value, json};

const READINESS: &str = "/.well-known/heartbeat/readiness";
const LIVELINESS: &str = "/.well-known/heartbeat/liveliness";
const HEALTH: &str = "/health/";

fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
}

/// A check whose runs return the outcomes of a script, one per run (then passes).
fn scripted(name: &str, script: &Arc<Mutex<VecDeque<Outcome>>>) -> Check {
    let script = Arc::clone(script);
    Check::new_async(name, move || {
        let next = script.lock().unwrap().pop_front();
        async move { next.unwrap_or_else(Outcome::pass) }
    })
}

fn script(outcomes: impl IntoIterator<Item = Outcome>) -> Arc<Mutex<VecDeque<Outcome>>> {
    Arc::new(Mutex::new(outcomes.into_iter().collect()))
}

/// The status and the check's object of one readiness request.
async fn step(app: &axum::Router, name: &str) -> (u16, Value) {
    let answer = get(app, READINESS).await;
    (
        answer.status.as_u16(),
        answer.json()["checks"][name].clone(),
    )
}

/// One readiness request per expected step: its status, the check's level and message.
async fn steps(app: &axum::Router, name: &str, expected: &[(u16, &str, Option<&str>)]) {
    for (i, &(status, level, message)) in expected.iter().enumerate() {
        let (got, object) = step(app, name).await;
        assert_eq!(
            (got, object["level"].as_str()),
            (status, Some(level)),
            "run {i}: {object}"
        );
        assert_eq!(object["message"].as_str(), message, "run {i}: {object}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_warning_answers_200_and_shows_its_level_and_message_everywhere() {
    let check = || {
        Check::new_async("disk", || async {
            Outcome::warn("disk 91% full").with("used", 0.91)
        })
    };
    let app: axum::Router = bare()
        .readiness(check())
        .liveliness(check())
        .health_check(check())
        .health_check(Check::new_async("ok", || async { true }))
        .into_router();
    for path in [READINESS, LIVELINESS] {
        let answer = get(&app, path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        let disk = &answer.json()["checks"]["disk"];
        assert_eq!(disk["status"], true, "{path}: {disk}");
        assert_eq!(disk["level"], "warn", "{path}: {disk}");
        assert_eq!(disk["message"], "disk 91% full", "{path}: {disk}");
        assert_eq!(disk["used"], 0.91, "{path}: {disk}");
    }
    let health = get(&app, HEALTH).await;
    assert_eq!(health.status, 200, "{}", health.text());
    let body = health.json();
    assert_eq!(body["checks"], json!({"disk": true, "ok": true}));
    assert_eq!(body["health"], "running");
    assert_eq!(body["warnings"], json!(["disk"]));
}

#[tokio::test(start_paused = true)]
async fn a_pass_shows_level_pass_and_health_an_empty_warning_list() {
    let app: axum::Router = bare()
        .readiness(Check::new_async("ok", || async { true }))
        .health_check(Check::new_async("ok", || async { true }))
        .into_router();
    let (status, ok) = step(&app, "ok").await;
    assert_eq!(status, 200);
    assert_eq!(ok["level"], "pass");
    assert!(ok.get("message").is_none(), "{ok}");
    let health = get(&app, HEALTH).await.json();
    assert_eq!(health["warnings"], json!([]));
}

#[tokio::test(start_paused = true)]
async fn a_failure_fails_with_level_fail_and_health_is_degraded() {
    let app: axum::Router = bare()
        .readiness(Check::new_async("down", || async {
            Outcome::fail("refused")
        }))
        .health_check(Check::new_async("down", || async {
            Outcome::fail("refused")
        }))
        .into_router();
    let (status, down) = step(&app, "down").await;
    assert_eq!(status, 500);
    assert_eq!(down["status"], false);
    assert_eq!(down["level"], "fail");
    assert_eq!(down["message"], "refused");
    let health = get(&app, HEALTH).await;
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["health"], "degraded");
    assert_eq!(health.json()["warnings"], json!([]));
}

#[tokio::test(start_paused = true)]
async fn a_check_that_is_not_critical_warns_for_its_failures_timeouts_and_panics() {
    let failing = Check::new_async("failing", || async { Outcome::fail("refused") });
    let slow = Check::new_async("slow", || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        true
    })
    .timeout(Duration::from_millis(100));
    let panicking = Check::new_async("panicking", || async {
        let boom = || -> bool { panic!("boom") };
        boom()
    });
    let app: axum::Router = bare()
        .readiness(failing.critical(false))
        .readiness(slow.critical(false))
        .readiness(panicking.critical(false))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let checks = &answer.json()["checks"];
    for (name, message) in [
        ("failing", "refused"),
        ("slow", "timed out after 100ms"),
        ("panicking", "the check panicked: boom"),
    ] {
        assert_eq!(checks[name]["level"], "warn", "{name}: {checks}");
        assert_eq!(checks[name]["status"], true, "{name}: {checks}");
        assert_eq!(checks[name]["message"], message, "{name}: {checks}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_failure_threshold_warns_until_n_failures_in_a_row_except_before_any_pass() {
    let refused = || Outcome::fail("refused");
    let runs = script([
        refused(),       // never passed: fails at once
        Outcome::pass(), // passes
        refused(),       // failing 1 of 3: warns
        refused(),       // failing 2 of 3: warns
        Outcome::pass(), // a pass resets the count
        refused(),       // failing 1 of 3 again
        refused(),
        refused(), // the third in a row: fails
        refused(), // and goes on failing
    ]);
    let app: axum::Router = bare()
        .readiness(scripted("db", &runs).failure_threshold(3))
        .into_router();
    let expected = [
        (500, "fail", Some("refused")),
        (200, "pass", None),
        (200, "warn", Some("failing 1 of 3: refused")),
        (200, "warn", Some("failing 2 of 3: refused")),
        (200, "pass", None),
        (200, "warn", Some("failing 1 of 3: refused")),
        (200, "warn", Some("failing 2 of 3: refused")),
        (500, "fail", Some("refused")),
        (500, "fail", Some("refused")),
    ];
    steps(&app, "db", &expected).await;
}

#[tokio::test(start_paused = true)]
async fn the_success_threshold_keeps_a_failed_check_failing_until_n_passes_in_a_row() {
    let runs = script([
        Outcome::pass(),
        Outcome::fail("refused"),
        Outcome::pass(), // 1 of 2
        Outcome::fail("refused"),
        Outcome::pass(),       // 1 of 2
        Outcome::warn("slow"), // a warning counts as a pass: 2 of 2
        Outcome::pass(),
    ]);
    let app: axum::Router = bare()
        .readiness(scripted("db", &runs).success_threshold(2))
        .into_router();
    let recovering = "recovering: passed 1 of the 2 runs in a row it needs to pass again";
    let expected = [
        (200, "pass", None),
        (500, "fail", Some("refused")),
        (500, "fail", Some(recovering)),
        (500, "fail", Some("refused")),
        (500, "fail", Some(recovering)),
        (200, "warn", Some("slow")),
        (200, "pass", None),
    ];
    steps(&app, "db", &expected).await;
}

#[tokio::test(start_paused = true)]
async fn every_transition_between_pass_warn_and_fail_is_shown() {
    let runs = script([
        Outcome::pass(),
        Outcome::warn("w1"), // pass → warn
        Outcome::fail("f1"), // warn → fail
        Outcome::warn("w2"), // fail → warn
        Outcome::pass(),     // warn → pass
        Outcome::fail("f2"), // pass → fail
        Outcome::pass(),     // fail → pass
    ]);
    let app: axum::Router = bare().readiness(scripted("x", &runs)).into_router();
    let expected = [
        (200, "pass", None),
        (200, "warn", Some("w1")),
        (500, "fail", Some("f1")),
        (200, "warn", Some("w2")),
        (200, "pass", None),
        (500, "fail", Some("f2")),
        (200, "pass", None),
    ];
    steps(&app, "x", &expected).await;
}

#[tokio::test(start_paused = true)]
async fn thresholds_and_critical_combine_a_non_critical_check_never_fails_its_endpoint() {
    let runs = script([
        Outcome::fail("refused"), // never passed: would fail, warns
        Outcome::pass(),          // recovering 1 of 2: would fail, warns
        Outcome::pass(),
        Outcome::fail("refused"), // failing 1 of 2
        Outcome::fail("refused"), // would fail: warns
        Outcome::pass(),          // recovering 1 of 2
        Outcome::pass(),
    ]);
    let app: axum::Router = bare()
        .readiness(
            scripted("cache", &runs)
                .critical(false)
                .failure_threshold(2)
                .success_threshold(2),
        )
        .into_router();
    let recovering = "recovering: passed 1 of the 2 runs in a row it needs to pass again";
    let expected = [
        (200, "warn", Some("refused")),
        (200, "warn", Some(recovering)),
        (200, "pass", None),
        (200, "warn", Some("failing 1 of 2: refused")),
        (200, "warn", Some("refused")),
        (200, "warn", Some(recovering)),
        (200, "pass", None),
    ];
    steps(&app, "cache", &expected).await;
}

#[test]
fn levels_say_which_answer_200() {
    assert!(Level::Pass.is_ok() && Level::Warn.is_ok());
    assert!(!Level::Fail.is_ok() && !Level::Unknown.is_ok());
    let names: Vec<&str> = [Level::Pass, Level::Warn, Level::Fail, Level::Unknown]
        .iter()
        .map(|l| l.as_str())
        .collect();
    assert_eq!(names, ["pass", "warn", "fail", "unknown"]);
}

#[test]
fn option_rules_are_config_errors_for_checks_registered_at_run_time() {
    let check = || Check::new("c", || true);
    let error = bare()
        .readiness(check().failure_threshold(0))
        .liveliness(check().success_threshold(0))
        .health_check(
            check()
                .every(Duration::from_secs(1))
                .cache(Duration::from_secs(1)),
        )
        .health_check(
            Check::new("d", || true)
                .every(Duration::from_secs(10))
                .max_stale(Duration::from_secs(10)),
        )
        .health_check(
            Check::new("e", || true)
                .every(Duration::from_secs(1))
                .timeout(Duration::from_secs(2)),
        )
        .health_check(Check::new("f", || true).max_stale(Duration::from_secs(1)))
        .environ(Check::new("g", || true).critical(false))
        .health_check(Check::new("h", || true).every(Duration::ZERO))
        .try_into_router::<()>()
        .unwrap_err();
    let text = error.to_string();
    for expected in [
        "readiness check \"c\"",
        "`failure_threshold` is zero",
        "liveliness check \"c\"",
        "`success_threshold` is zero",
        "`every` and `cache` do not go together",
        "health check \"d\"",
        "`max_stale` must be longer than `every`",
        "health check \"e\"",
        "the `timeout` is longer than `every`",
        "health check \"f\"",
        "`max_stale` applies only to a background check",
        "environ check \"g\"",
        "an environ probe has no level",
        "health check \"h\"",
        "`every` is zero",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert_eq!(error.problems().len(), 8, "{text}");
}
