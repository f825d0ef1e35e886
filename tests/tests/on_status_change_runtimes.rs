//! `#[on_status_change]` across runtimes: the subscribers' tasks run on the runtime of the first
//! router or request, and start again on the next request's runtime once that one shut down
//! (two `#[tokio::test]`s sharing a router, one after the other). A binary of its own: the tasks
//! are the process's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use heartbeat::{Heartbeat, Level, StatusChange, on_status_change, readiness_probe};
use heartbeat_tests::get;

static UP: AtomicBool = AtomicBool::new(true);

#[readiness_probe(cache = "0s")]
fn switch() -> bool {
    UP.load(Ordering::SeqCst)
}

static SEEN: Mutex<Vec<(Level, Level)>> = Mutex::new(Vec::new());

#[on_status_change]
async fn record(change: &StatusChange) {
    if change.name == "switch" {
        SEEN.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((change.from, change.to));
    }
}

fn seen() -> Vec<(Level, Level)> {
    SEEN.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Waits, on the current runtime, until the subscriber has seen `count` changes (10 s at most).
async fn until_seen(count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen().len() < count {
        assert!(Instant::now() < deadline, "not within 10 s: {:?}", seen());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_subscribers_start_again_on_the_next_runtime() {
    // Built outside any runtime: the tasks start with its first request.
    let app: axum::Router = Heartbeat::new()
        .filter(|check| check.name() == "switch")
        .no_health_secret()
        .into_router();
    let readiness = "/.well-known/heartbeat/readiness";

    let first = current_thread();
    first.block_on(async {
        assert_eq!(get(&app, readiness).await.status, 200);
        until_seen(1).await;
    });
    // Its tasks end with it.
    drop(first);

    let second = current_thread();
    second.block_on(async {
        UP.store(false, Ordering::SeqCst);
        assert_eq!(get(&app, readiness).await.status, 500);
        until_seen(2).await;
    });
    assert_eq!(
        seen(),
        [(Level::Unknown, Level::Pass), (Level::Pass, Level::Fail)]
    );
}
