//! What the engine logs (defect 11 of the first engine): every check's status change once,
//! whatever made it fail (a hung sync check included), a late result with its panic, and no
//! flood from a check that fails on every request. One global subscriber collects the lines;
//! each test reads those of its own check.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use heartbeat::{Check, Heartbeat};
use heartbeat_tests::get;

const READINESS: &str = "/.well-known/heartbeat/readiness";

/// The lines logged so far in the span of the check `name`.
fn lines_of(name: &str) -> Vec<String> {
    let text = heartbeat_tests::logged();
    let span = format!("name={name}}}");
    text.lines()
        .filter(|l| l.contains(&span))
        .map(str::to_owned)
        .collect()
}

fn bare() -> Heartbeat {
    // Set up the subscriber before any span is made.
    let _ = lines_of("");
    Heartbeat::new().filter(|_| false).no_health_secret()
}

#[tokio::test]
async fn a_hung_sync_check_is_logged_once_and_its_late_panic_with_its_message() {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let app: axum::Router = bare()
        .readiness(
            Check::new("hangs", move || -> bool {
                let _ = released.lock().unwrap().recv();
                panic!("boom, late")
            })
            .timeout(Duration::from_millis(50))
            .cache(Duration::ZERO),
        )
        .into_router();
    for _ in 0..20 {
        assert_eq!(get(&app, READINESS).await.status, 500);
    }
    let lines = lines_of("hangs");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("WARN"), "{lines:#?}");
    assert!(lines[0].contains("check is failing"), "{lines:#?}");
    assert!(lines[0].contains("timed out after 50ms"), "{lines:#?}");

    release.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines_of("hangs").len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines = lines_of("hangs");
    let late = lines
        .iter()
        .find(|l| l.contains("check returned after its timeout"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(late.contains("boom, late"), "{late}");
}

#[tokio::test]
async fn a_check_failing_on_every_request_does_not_flood_the_log() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let app: axum::Router = bare()
        .readiness(
            Check::new_async("panics", move || {
                counted.fetch_add(1, Ordering::Relaxed);
                async {
                    let boom = || -> bool { panic!("boom") };
                    boom()
                }
            })
            .cache(Duration::ZERO),
        )
        .into_router();
    for _ in 0..2_000 {
        assert_eq!(get(&app, READINESS).await.status, 500);
    }
    assert!(runs.load(Ordering::Relaxed) > 1_000);
    let lines = lines_of("panics");
    // The change to failing, and at most one "still failing" a minute.
    assert!(!lines.is_empty() && lines.len() <= 2, "{lines:#?}");
    assert!(lines[0].contains("the check panicked: boom"), "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_check_that_blocks_its_thread_is_logged_once() {
    let app: axum::Router = bare()
        .readiness(
            Check::new_async("blocks-its-thread", || async {
                std::thread::sleep(Duration::from_millis(150));
                true
            })
            .timeout(Duration::from_secs(5))
            .cache(Duration::ZERO),
        )
        .into_router();
    for _ in 0..3 {
        assert_eq!(get(&app, READINESS).await.status, 200);
    }
    let lines = lines_of("blocks-its-thread");
    let blocked: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("an async check blocked its thread"))
        .collect();
    assert_eq!(blocked.len(), 1, "{lines:#?}");
}
