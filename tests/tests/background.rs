//! Background checks (`every`, SPEC §12): they run on their period, never from a request, are
//! unknown before their first run and stale after `max_stale`, never run twice at once, and
//! leave no task behind. Async checks on tokio's paused clock; the one sync check on real
//! threads asserts only what cannot race.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heartbeat::lifecycle::Lifecycle;
use heartbeat::{Check, Heartbeat, Kind, health_check, readiness_probe};
use heartbeat_tests::get;
use serde_json::Value;
use tokio::time::Instant;

const READINESS: &str = "/.well-known/heartbeat/readiness";

#[readiness_probe(every = "10s", max_stale = "25s", timeout = "1s")]
async fn annotated_in_the_background() -> bool {
    true
}

#[health_check(critical = false, failure_threshold = 2, success_threshold = 3)]
fn annotated_with_levels() -> bool {
    false
}

fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .lifecycle(Lifecycle::new())
}

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    (Arc::clone(&runs), runs)
}

/// An async check that counts its runs, takes `ms` of tokio's clock, then passes.
fn counted(name: &str, runs: Arc<AtomicUsize>, ms: u64) -> Check {
    Check::new_async(name, move || {
        runs.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            true
        }
    })
}

async fn check_object(app: &axum::Router, name: &str) -> (u16, Value) {
    let answer = get(app, READINESS).await;
    (
        answer.status.as_u16(),
        answer.json()["checks"][name].clone(),
    )
}

/// Lets the background tasks run: a millisecond, long before any period ends.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// On a runtime with a real clock: the check's status once its first run ended (at most 5 s).
async fn once_run(app: &axum::Router, name: &str) -> u16 {
    for _ in 0..500 {
        let (status, object) = check_object(app, name).await;
        if object["level"] != "unknown" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name} is still unknown after 5 s");
}

#[test]
fn the_attributes_record_the_new_options() {
    let checks = heartbeat::registered();
    let background = checks
        .iter()
        .find(|c| c.name() == "annotated_in_the_background")
        .unwrap();
    assert_eq!(background.kind(), Kind::Readiness);
    assert_eq!(background.every(), Some(Duration::from_secs(10)));
    assert_eq!(background.max_stale(), Some(Duration::from_secs(25)));
    assert_eq!(background.timeout(), Some(Duration::from_secs(1)));
    assert!(background.is_critical());
    let levels = checks
        .iter()
        .find(|c| c.name() == "annotated_with_levels")
        .unwrap();
    assert!(!levels.is_critical());
    assert_eq!(levels.failure_threshold(), 2);
    assert_eq!(levels.success_threshold(), 3);
    assert_eq!(levels.every(), None);
    assert_eq!(levels.max_stale(), None);
}

#[tokio::test(start_paused = true)]
async fn an_annotated_background_check_runs_and_an_annotated_non_critical_check_warns() {
    let app: axum::Router = Heartbeat::new()
        .only(["annotated_in_the_background", "annotated_with_levels"])
        .no_health_secret()
        .lifecycle(Lifecycle::new())
        .into_router();
    settle().await;
    let (status, object) = check_object(&app, "annotated_in_the_background").await;
    assert_eq!(
        (status, object["level"].as_str()),
        (200, Some("pass")),
        "{object}"
    );
    let health = get(&app, "/health/").await;
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["warnings"][0], "annotated_with_levels");
}

#[tokio::test(start_paused = true)]
async fn before_its_first_run_ends_a_background_check_is_unknown_then_it_passes() {
    let (runs, counted_runs) = counter();
    let app: axum::Router = bare()
        .readiness(
            counted("db", counted_runs, 1_000)
                .every(Duration::from_secs(10))
                .timeout(Duration::from_secs(2)),
        )
        .into_router();
    let (status, db) = check_object(&app, "db").await;
    assert_eq!(status, 500, "{db}");
    assert_eq!(db["level"], "unknown");
    assert_eq!(db["status"], false);
    assert!(
        db["message"].as_str().unwrap().starts_with("unknown:"),
        "{db}"
    );
    tokio::time::sleep(Duration::from_millis(1_001)).await;
    let (status, db) = check_object(&app, "db").await;
    assert_eq!((status, db["level"].as_str()), (200, Some("pass")), "{db}");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_non_critical_background_check_warns_while_unknown() {
    let app: axum::Router = bare()
        .readiness(
            counted("db", counter().1, 1_000)
                .every(Duration::from_secs(10))
                .critical(false),
        )
        .into_router();
    let (status, db) = check_object(&app, "db").await;
    assert_eq!((status, db["level"].as_str()), (200, Some("warn")), "{db}");
}

#[tokio::test(start_paused = true)]
async fn requests_never_run_a_background_check() {
    let (runs, counted_runs) = counter();
    let app: axum::Router = bare()
        .readiness(counted("db", counted_runs, 0).every(Duration::from_secs(10)))
        .into_router();
    settle().await;
    for _ in 0..1_000 {
        assert_eq!(get(&app, READINESS).await.status, 200);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn runs_follow_a_fixed_delay_after_each_run_with_a_jitter_under_a_tenth() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&starts);
    // Each run takes 5 s; the period is 10 s: a fixed rate would start one every 10 s.
    let check = Check::new_async("slow", move || {
        recorded.lock().unwrap().push(Instant::now());
        async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            true
        }
    })
    .every(Duration::from_secs(10))
    .timeout(Duration::from_secs(6));
    let app: axum::Router = bare().readiness(check).into_router();
    tokio::time::sleep(Duration::from_secs(120)).await;
    let starts = starts.lock().unwrap().clone();
    assert!(starts.len() >= 8, "{} runs in 120 s", starts.len());
    for pair in starts.windows(2) {
        let between = pair[1] - pair[0];
        // 5 s of run, then 9 to 10 s of delay.
        assert!(
            between >= Duration::from_secs(14) && between <= Duration::from_secs(15),
            "{between:?} between two starts"
        );
    }
    drop(app);
}

#[tokio::test(start_paused = true)]
async fn a_background_run_that_panics_or_hangs_fails_and_the_next_period_runs_again() {
    let (runs, counted_runs) = counter();
    let panicking = Check::new_async("panics", move || {
        counted_runs.fetch_add(1, Ordering::SeqCst);
        async {
            let boom = || -> bool { panic!("boom") };
            boom()
        }
    })
    .every(Duration::from_secs(10));
    let hangs = Check::new_async("hangs", || async {
        std::future::pending::<()>().await;
        true
    })
    .every(Duration::from_secs(10))
    .timeout(Duration::from_secs(1));
    let app: axum::Router = bare().readiness(panicking).readiness(hangs).into_router();
    tokio::time::sleep(Duration::from_millis(1_001)).await;
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let checks = &answer.json()["checks"];
    assert_eq!(checks["panics"]["message"], "the check panicked: boom");
    assert_eq!(checks["hangs"]["message"], "timed out after 1s");
    tokio::time::sleep(Duration::from_secs(30)).await;
    // The panicking check ran once a period, its task alive after each panic.
    assert!(runs.load(Ordering::SeqCst) >= 3, "{runs:?}");
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.json()["checks"]["hangs"]["level"], "fail");
}

#[tokio::test(start_paused = true)]
async fn a_background_check_whose_runs_stopped_fails_as_stale_after_max_stale() {
    let lifecycle = Lifecycle::new();
    let app: axum::Router = bare()
        .lifecycle(lifecycle.clone())
        .readiness(
            counted("db", counter().1, 0)
                .every(Duration::from_secs(10))
                .max_stale(Duration::from_secs(30)),
        )
        .into_router();
    settle().await;
    assert_eq!(check_object(&app, "db").await.0, 200);
    // The drain ends: background checks stop running.
    lifecycle.shutdown(Duration::ZERO).await;
    tokio::time::sleep(Duration::from_secs(29)).await;
    let (_, db) = check_object(&app, "db").await;
    assert_eq!(db["level"], "pass", "{db}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, db) = check_object(&app, "db").await;
    assert_eq!(status, 500, "{db}");
    assert_eq!(db["level"], "fail");
    let message = db["message"].as_str().unwrap();
    assert!(message.starts_with("stale: last run 31 s ago"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn no_task_is_left_behind_when_the_router_is_dropped() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let mut builder = bare();
    for i in 0..5 {
        builder = builder
            .readiness(counted(&format!("c{i}"), counter().1, 100).every(Duration::from_secs(1)));
    }
    let app: axum::Router = builder.into_router();
    let clone = app.clone();
    settle().await;
    assert!(metrics.num_alive_tasks() >= before + 5);
    tokio::time::sleep(Duration::from_secs(5)).await;
    drop(app);
    tokio::time::sleep(Duration::from_secs(5)).await;
    // A clone still serves: its tasks still run.
    assert!(metrics.num_alive_tasks() >= before + 5);
    assert_eq!(get(&clone, READINESS).await.status, 200);
    drop(clone);
    // Runs in flight end at their deadline at the latest; the tasks end at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(metrics.num_alive_tasks(), before);
}

#[tokio::test(start_paused = true)]
async fn no_task_is_left_behind_when_the_drain_is_over() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let lifecycle = Lifecycle::new();
    let app: axum::Router = bare()
        .lifecycle(lifecycle.clone())
        .readiness(counted("db", counter().1, 100).every(Duration::from_secs(1)))
        .into_router();
    settle().await;
    assert!(metrics.num_alive_tasks() > before);
    lifecycle.shutdown(Duration::from_secs(3)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(metrics.num_alive_tasks(), before);
    // A request after the drain does not start them again.
    get(&app, READINESS).await;
    settle().await;
    assert_eq!(metrics.num_alive_tasks(), before);
}

#[test]
fn a_router_built_outside_a_runtime_starts_its_checks_at_the_first_request_and_again_on_the_next_runtime()
 {
    let (runs, counted_runs) = counter();
    let app: axum::Router = bare()
        .readiness(counted("db", counted_runs, 0).every(Duration::from_secs(3_600)))
        .into_router();
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    first.block_on(async {
        let (status, db) = check_object(&app, "db").await;
        assert_eq!(
            (status, db["level"].as_str()),
            (500, Some("unknown")),
            "{db}"
        );
        assert_eq!(once_run(&app, "db").await, 200);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    drop(first);
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    second.block_on(async {
        // The last run's state is still there; the tasks start again here.
        assert_eq!(check_object(&app, "db").await.0, 200);
        for _ in 0..500 {
            if runs.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_sync_background_check_that_hangs_is_never_run_twice_at_once_and_goes_stale() {
    let (runs, counted_runs) = counter();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let hold = Mutex::new(hold);
    let check = Check::new("hangs", move || {
        counted_runs.fetch_add(1, Ordering::SeqCst);
        let _ = hold.lock().unwrap().recv();
        true
    })
    .every(Duration::from_millis(100))
    .timeout(Duration::from_millis(50))
    .max_stale(Duration::from_millis(300));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app: axum::Router = bare().readiness(check).into_router();
        assert_eq!(once_run(&app, "hangs").await, 500);
        let (_, object) = check_object(&app, "hangs").await;
        assert_eq!(object["message"], "timed out after 50ms", "{object}");
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "a second run started");
        let (status, object) = check_object(&app, "hangs").await;
        assert_eq!(status, 500);
        let message = object["message"].as_str().unwrap();
        assert!(message.starts_with("stale: last run"), "{message}");
        release.send(()).unwrap();
    });
}
