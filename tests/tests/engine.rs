//! How checks run: concurrently, bounded by timeouts, panics contained, one run in flight per
//! check, results reused for the cache time. Timing runs on tokio's paused clock wherever the
//! checks are async (exact and instant); sync checks run on real threads, so their tests
//! assert orders of magnitude only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use futures::future::join_all;
use heartbeat::{Check, Heartbeat, readiness_probe};
use heartbeat_tests::{Captured, get};
use serde_json::json;

#[readiness_probe(name = "slow-annotated", timeout = "100ms")]
async fn slow_annotated() {
    tokio::time::sleep(Duration::from_secs(30)).await;
}

/// A builder with only run-time checks.
fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

const READINESS: &str = "/.well-known/heartbeat/readiness";

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    (Arc::clone(&runs), runs)
}

/// An async check that sleeps `ms` on tokio's clock, then passes.
fn sleeping(name: &str, ms: u64) -> Check {
    Check::new_async(name, move || async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        true
    })
}

#[tokio::test(start_paused = true)]
async fn async_checks_of_one_request_run_concurrently() {
    let mut builder = bare().default_timeout(Duration::from_secs(20));
    for i in 0..20 {
        builder = builder.readiness(sleeping(&format!("async-{i}"), 250));
    }
    let app: axum::Router = builder.into_router();
    let start = tokio::time::Instant::now();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["checks"].as_object().unwrap().len(), 20);
    // 20 × 250 ms one after another would be 5 s.
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test]
async fn sync_checks_of_one_request_run_concurrently() {
    let mut builder = bare().default_timeout(Duration::from_secs(20));
    for i in 0..10 {
        builder = builder.readiness(Check::new(format!("sync-{i}"), || {
            std::thread::sleep(Duration::from_millis(250));
            true
        }));
    }
    let app: axum::Router = builder.into_router();
    let start = Instant::now();
    let answer = get(&app, READINESS).await;
    let elapsed = start.elapsed();
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        elapsed < Duration::from_millis(2_000),
        "took {elapsed:?}: not concurrent (2.5 s one after another)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_check_fails_at_its_timeout_with_a_message() {
    let app: axum::Router = bare()
        .readiness(sleeping("hung", 60_000).timeout(Duration::from_millis(100)))
        .readiness(Check::new_async("fine", || async { true }))
        .into_router();
    let start = tokio::time::Instant::now();
    let answer = get(&app, READINESS).await;
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(answer.status, 500);
    let checks = &answer.json()["checks"];
    assert_eq!(checks["hung"]["status"], false);
    assert_eq!(checks["hung"]["message"], "timed out after 100ms");
    assert_eq!(checks["hung"]["time"], 0.1);
    assert_eq!(checks["fine"]["status"], true);
}

#[tokio::test(start_paused = true)]
async fn the_attribute_timeout_and_the_default_timeout_apply() {
    let app: axum::Router = Heartbeat::new()
        .only(["slow-annotated"])
        .readiness(sleeping("no-timeout-given", 60_000))
        .into_router();
    let start = tokio::time::Instant::now();
    let answer = get(&app, READINESS).await.json();
    assert_eq!(start.elapsed(), Duration::from_millis(800));
    assert_eq!(
        answer["checks"]["slow-annotated"]["message"],
        "timed out after 100ms"
    );
    assert_eq!(
        answer["checks"]["no-timeout-given"]["message"],
        "timed out after 800ms"
    );

    let app: axum::Router = bare()
        .default_timeout(Duration::from_millis(50))
        .readiness(sleeping("router-default", 60_000))
        .into_router();
    let answer = get(&app, READINESS).await.json();
    assert_eq!(
        answer["checks"]["router-default"]["message"],
        "timed out after 50ms"
    );
}

#[tokio::test]
async fn a_panicking_check_fails_and_nothing_else_does() {
    let app: axum::Router = bare()
        .readiness(Check::new("sync-panic", || -> bool {
            panic!("boom in sync")
        }))
        .readiness(Check::new_async("async-panic", || async {
            let boom = || -> bool { panic!("boom in {}", "async") };
            boom()
        }))
        .readiness(Check::new_async(
            "panics-before-its-future",
            || -> std::future::Ready<bool> { panic!("boom while making the future") },
        ))
        .readiness(Check::new("fine", || true))
        .default_cache(Duration::ZERO)
        .into_router();
    for _ in 0..3 {
        let answer = get(&app, READINESS).await;
        assert_eq!(answer.status, 500);
        let checks = &answer.json()["checks"];
        assert_eq!(
            checks["sync-panic"]["message"],
            "the check panicked: boom in sync"
        );
        assert_eq!(
            checks["async-panic"]["message"],
            "the check panicked: boom in async"
        );
        assert_eq!(
            checks["panics-before-its-future"]["message"],
            "the check panicked: boom while making the future"
        );
        assert_eq!(checks["fine"]["status"], true);
    }
}

#[tokio::test(start_paused = true)]
async fn fifty_parallel_requests_share_one_run() {
    let (runs, count) = counter();
    let app: axum::Router = bare()
        .readiness(
            Check::new_async("shared", move || {
                let runs = Arc::clone(&runs);
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    true
                }
            })
            .timeout(Duration::from_secs(20))
            .cache(Duration::ZERO),
        )
        .into_router();
    let answers = join_all((0..50).map(|_| get(&app, READINESS))).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "50 requests started more than one run"
    );
}

#[tokio::test]
async fn a_hung_sync_check_is_never_started_twice_and_its_late_result_counts_from_its_start() {
    let (runs, count) = counter();
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let app: axum::Router = bare()
        .readiness(
            Check::new("hung", move || {
                runs.fetch_add(1, Ordering::SeqCst);
                let _ = released.lock().unwrap().recv();
                true
            })
            .timeout(Duration::from_millis(50))
            .cache(Duration::from_secs(60)),
        )
        .into_router();
    let started = Instant::now();
    let first = get(&app, READINESS).await.json();
    assert_eq!(first["checks"]["hung"]["message"], "timed out after 50ms");
    for _ in 0..5 {
        let again = get(&app, READINESS).await.json();
        assert_eq!(again["checks"]["hung"]["message"], "timed out after 50ms");
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "a hung check was started again"
    );

    // It returns a pass, late: a failure that says so, aged from the run's start.
    std::thread::sleep(Duration::from_millis(300));
    release.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let late = loop {
        let answer = get(&app, READINESS).await.json();
        let message = answer["checks"]["hung"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if message != "timed out after 50ms" || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let hung = &late["checks"]["hung"];
    let message = hung["message"].as_str().unwrap();
    assert!(
        message.starts_with("returned after its timeout of 50ms,") && message.ends_with("(passed)"),
        "{message}"
    );
    assert_eq!(hung["status"], false);
    let age = hung["age"].as_f64().unwrap();
    assert!(
        age >= 0.3 && age <= started.elapsed().as_secs_f64(),
        "age {age}"
    );
    assert!(hung["time"].as_f64().unwrap() >= 0.3, "{hung}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_result_is_reused_for_the_cache_time_counted_from_the_runs_start() {
    let (runs, count) = counter();
    let app: axum::Router = bare()
        .readiness(
            Check::new_async("cached", move || {
                let runs = Arc::clone(&runs);
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    json!({ "run": true })
                }
            })
            .timeout(Duration::from_secs(5))
            .cache(Duration::from_secs(10)),
        )
        .into_router();
    let first = get(&app, READINESS).await.json();
    assert!(first["checks"]["cached"].get("age").is_none(), "{first}");
    // The run took 2 s of its 10 s: reused for 8 s more, with its age from its start.
    tokio::time::advance(Duration::from_secs(7)).await;
    let again = get(&app, READINESS).await.json();
    assert_eq!(again["checks"]["cached"]["age"], 9.0, "{again}");
    assert_eq!(again["checks"]["cached"]["run"], true);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    let _ = get(&app, READINESS).await;
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_zero_cache_runs_every_time() {
    let (runs, count) = counter();
    let app: axum::Router = bare()
        .default_cache(Duration::ZERO)
        .readiness(Check::new_async("uncached", move || {
            let runs = Arc::clone(&runs);
            async move { runs.fetch_add(1, Ordering::SeqCst) < usize::MAX }
        }))
        .into_router();
    for _ in 0..10 {
        let answer = get(&app, READINESS).await.json();
        assert!(answer["checks"]["uncached"].get("age").is_none());
    }
    assert_eq!(count.load(Ordering::SeqCst), 10);
}

#[tokio::test(start_paused = true)]
async fn the_default_cache_is_a_second() {
    let (runs, count) = counter();
    let app: axum::Router = bare()
        .readiness(Check::new_async("default-cache", move || {
            let runs = Arc::clone(&runs);
            async move { runs.fetch_add(1, Ordering::SeqCst) < usize::MAX }
        }))
        .into_router();
    for _ in 0..20 {
        let _ = get(&app, READINESS).await;
        tokio::time::advance(Duration::from_millis(49)).await;
    }
    assert_eq!(count.load(Ordering::SeqCst), 1, "20 requests within 980 ms");
    tokio::time::advance(Duration::from_millis(20)).await;
    let _ = get(&app, READINESS).await;
    assert_eq!(count.load(Ordering::SeqCst), 2, "a request after 1 s");
}

#[tokio::test(flavor = "current_thread")]
async fn a_status_change_is_logged_once_in_the_checks_span() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // Async checks run on this thread's runtime, so a thread-local subscriber sees them.
    let _guard = tracing::subscriber::set_default(subscriber);

    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = Arc::clone(&healthy);
    let app: axum::Router = bare()
        .default_cache(Duration::ZERO)
        .readiness(Check::new_async("flappy", move || {
            let flag = Arc::clone(&flag);
            async move { flag.load(Ordering::SeqCst) }
        }))
        .into_router();
    for passes in [true, false, false, false, true, true] {
        healthy.store(passes, Ordering::SeqCst);
        let status = get(&app, READINESS).await.status;
        assert_eq!(status == 200, passes);
    }
    let log = captured.text();
    assert_eq!(log.matches("check is failing").count(), 1, "{log}");
    assert_eq!(log.matches("check passes again").count(), 1, "{log}");
    let failing = log
        .lines()
        .find(|l| l.contains("check is failing"))
        .unwrap();
    assert!(failing.contains("WARN"), "{failing}");
    assert!(
        failing.contains("heartbeat_check{kind=readiness name=flappy}"),
        "{failing}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_shared_answer_never_hides_a_new_state() {
    // Large answers are shared by requests within 10 ms that find the same states: a state
    // that changed in between must show at once.
    let flips = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&flips);
    let mut builder = bare().readiness(
        Check::new_async("flips", move || {
            let counted = Arc::clone(&counted);
            async move { counted.fetch_add(1, Ordering::SeqCst) % 2 == 0 }
        })
        .cache(Duration::ZERO),
    );
    for i in 0..20 {
        builder = builder.readiness(
            Check::new_async(format!("steady-{i:02}"), || async { true })
                .cache(Duration::from_secs(60)),
        );
    }
    let app: axum::Router = builder.into_router();
    let first = get(&app, READINESS).await;
    let second = get(&app, READINESS).await;
    let third = get(&app, READINESS).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(second.status, 500, "{}", second.text());
    assert_eq!(second.json()["checks"]["flips"]["status"], false);
    assert_eq!(third.status, 200);
}

#[tokio::test(start_paused = true)]
async fn a_large_endpoint_never_answers_from_states_that_changed() {
    // 20 checks: reads with every state fresh are kept and given again while they hold.
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut builder = bare().default_cache(Duration::from_secs(1));
    for i in 0..19 {
        builder = builder.readiness(Check::new_async(format!("c{i:02}"), || async { true }));
    }
    let flag = Arc::clone(&failing);
    builder = builder.readiness(Check::new_async("flips", move || {
        let failing = flag.load(Ordering::SeqCst);
        async move { !failing }
    }));
    let app: axum::Router = builder.into_router();
    for _ in 0..3 {
        assert_eq!(get(&app, READINESS).await.status, 200);
    }
    failing.store(true, Ordering::SeqCst);
    // Still within the cache time: the kept read holds.
    assert_eq!(get(&app, READINESS).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1_001)).await;
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert_eq!(answer.json()["checks"]["flips"]["status"], false);
    // Every check ran again, the failing one too; the next request reads the new states.
    assert_eq!(get(&app, READINESS).await.status, 500);
    failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_001)).await;
    assert_eq!(get(&app, READINESS).await.status, 200);
}
