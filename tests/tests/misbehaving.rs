//! The engine's promises when checks misbehave (SPEC §11): each test is the regression test of
//! one defect found in the first engine, named after what must hold.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use futures::future::join_all;
use heartbeat::lifecycle::Lifecycle;
use heartbeat::{Check, Heartbeat};
use heartbeat_tests::get;
use serde_json::json;

const READINESS: &str = "/.well-known/heartbeat/readiness";

fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

/// An async check that blocks its thread for `ms` (as a careless `std::thread::sleep` or a
/// blocking client call in an `async fn` does), then passes.
fn blocking(name: &str, ms: u64) -> Check {
    Check::new_async(name, move || async move {
        std::thread::sleep(Duration::from_millis(ms));
        true
    })
}

/// Defect 1: the waiting request has its own deadline, so a check that blocks its thread is a
/// timeout at the deadline, not a pass 1.5 s later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_check_that_blocks_its_thread_times_out_at_its_deadline() {
    let app: axum::Router = bare()
        .readiness(
            blocking("blocks", 1_500)
                .timeout(Duration::from_millis(100))
                .cache(Duration::from_secs(60)),
        )
        .into_router();
    let start = Instant::now();
    let answer = get(&app, READINESS).await;
    let elapsed = start.elapsed();
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert_eq!(
        answer.json()["checks"]["blocks"]["message"],
        "timed out after 100ms"
    );
    assert!(
        elapsed < Duration::from_millis(1_000),
        "answered after {elapsed:?}"
    );

    // When it returns, its pass counts as a failure: it came after its timeout.
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = answer.json()["checks"]["blocks"]["message"].clone();
    let message = message.as_str().unwrap();
    assert!(
        message.starts_with("returned after its timeout of 100ms") && message.ends_with("(passed)"),
        "{message}"
    );
}

/// Defect 1, on a `current_thread` runtime: nothing can answer while the check holds the only
/// thread, and the answer, when it comes, is a failure, never a pass.
#[test]
fn on_a_current_thread_runtime_a_blocking_check_fails_when_it_returns() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app: axum::Router = bare()
            .readiness(blocking("blocks", 300).timeout(Duration::from_millis(100)))
            .into_router();
        let start = Instant::now();
        let answer = get(&app, READINESS).await;
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!(answer.status, 500, "{}", answer.text());
        let message = answer.json()["checks"]["blocks"]["message"].clone();
        assert!(
            message
                .as_str()
                .unwrap()
                .starts_with("returned after its timeout of 100ms"),
            "{message}"
        );
    });
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// One router for two runtimes, as two `#[tokio::test]`s sharing a `LazyLock<Router>` have.
static SHARED: LazyLock<axum::Router> = LazyLock::new(|| {
    bare()
        .readiness(Check::new_async("takes-300ms", || async {
            RUNS.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            true
        }))
        .into_router()
});

/// Defect 2: a run whose task is dropped (its runtime shut down) still frees the check.
#[test]
fn a_router_outlives_the_runtime_that_ran_its_check() {
    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(async {
        // The client gives up before the run ends, and the runtime ends with the run in flight.
        let answer = tokio::time::timeout(Duration::from_millis(50), get(&SHARED, READINESS)).await;
        assert!(answer.is_err());
    });
    drop(first);

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let start = Instant::now();
        let answer = get(&SHARED, READINESS).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(answer.json()["checks"]["takes-300ms"]["status"], true);
    });
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
}

/// Defect 3: a name asked for in a result never hides another check.
#[tokio::test]
async fn a_name_asked_for_never_hides_another_check() {
    let app: axum::Router = bare()
        .readiness(Check::new("a", || ("b", false, json!({}))))
        .readiness(Check::new("b", || true))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    let checks = answer.json()["checks"].clone();
    assert_eq!(checks["a"]["status"], false, "{checks}");
    assert_eq!(checks["a"]["asked_name"], "b", "{checks}");
    assert_eq!(checks["b"]["status"], true, "{checks}");

    // A free name is used, and the status agrees with what is shown.
    let app: axum::Router = bare()
        .readiness(Check::new("a", || ("renamed", false, json!({}))))
        .readiness(Check::new("b", || true))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let checks = answer.json()["checks"].clone();
    assert_eq!(checks.as_object().unwrap().len(), 2, "{checks}");
    assert_eq!(checks["renamed"]["status"], false, "{checks}");
    assert!(checks.get("a").is_none(), "{checks}");

    // Two checks asking for one free name: the first in name order gets it.
    let app: axum::Router = bare()
        .readiness(Check::new("x", || ("same", true, json!({}))))
        .readiness(Check::new("y", || ("same", false, json!({}))))
        .into_router();
    let checks = get(&app, READINESS).await.json()["checks"].clone();
    assert_eq!(checks["same"]["status"], true, "{checks}");
    assert_eq!(checks["y"]["status"], false, "{checks}");
    assert_eq!(checks["y"]["asked_name"], "same", "{checks}");
}

/// Defect 6: the lifecycle is read after the checks ran, so a probe in flight when the
/// shutdown begins fails; a router can have a lifecycle of its own.
#[tokio::test(start_paused = true)]
async fn a_probe_in_flight_when_the_shutdown_begins_fails() {
    let lifecycle = Lifecycle::new();
    let app: axum::Router = bare()
        .lifecycle(lifecycle.clone())
        .readiness(Check::new_async("slow", || async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            true
        }))
        .into_router();
    let probe = tokio::spawn({
        let app = app.clone();
        async move { get(&app, READINESS).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let draining = tokio::spawn({
        let lifecycle = lifecycle.clone();
        async move { lifecycle.shutdown(Duration::from_secs(5)).await }
    });
    let answer = probe.await.unwrap();
    assert_eq!(answer.status, 500, "{}", answer.text());
    let checks = answer.json()["checks"].clone();
    assert_eq!(checks["slow"]["status"], true, "{checks}");
    assert_eq!(checks["shutdown"]["status"], false, "{checks}");
    draining.abort();

    // The process-wide lifecycle was not touched.
    assert!(!heartbeat::lifecycle::is_draining());
    let own: axum::Router = bare()
        .readiness(Check::new_async("ok", || async { true }))
        .into_router();
    assert_eq!(get(&own, READINESS).await.status, 200);
}

/// Defect 9: under load, 1,000 trivial sync checks answer 200 to every request, run on a
/// bounded number of threads, and concurrent requests share one evaluation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sync_checks_under_load_pass_on_few_threads() {
    let runs = Arc::new(AtomicUsize::new(0));
    let mut builder = bare().default_cache(Duration::ZERO);
    for i in 0..1_000 {
        let runs = Arc::clone(&runs);
        builder = builder.readiness(Check::new(format!("sync-{i:04}"), move || {
            runs.fetch_add(1, Ordering::Relaxed);
            true
        }));
    }
    let app: axum::Router = builder.into_router();
    let threads_before = threads();
    for _ in 0..5 {
        let answers = join_all((0..400).map(|_| get(&app, READINESS))).await;
        for answer in &answers {
            assert_eq!(
                answer.status,
                200,
                "{}",
                &answer.text()[..answer.text().len().min(2_000)]
            );
        }
    }
    let threads_after = threads();
    // Heartbeat's own threads for sync checks are at most 16, however many checks run.
    assert!(
        threads_after <= threads_before + 16,
        "threads: {threads_before} before, {threads_after} after"
    );
    // 2,000 requests of 1,000 checks each: shared evaluations, not 2 million runs.
    let runs = runs.load(Ordering::Relaxed);
    assert!(runs < 500_000, "{runs} runs for 2,000 requests");
}

/// The threads of this process, from `/proc` (Linux).
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
