//! `#[on_status_change]` falling behind: a subscriber more than `CHANGES_KEPT` changes behind
//! skips the oldest, the skip is logged with the subscriber's name, and it goes on with the
//! newest; probes are not held up meanwhile. A binary of its own: the flood of changes would
//! make the other tests' subscribers skip too.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use heartbeat::{CHANGES_KEPT, Check, Heartbeat, StatusChange, on_status_change};
use heartbeat_tests::get;

static RELEASE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());
/// The changes of `flood` the subscriber was called with.
static FLOODED: AtomicUsize = AtomicUsize::new(0);
/// Whether it was called with the last one.
static LAST: AtomicBool = AtomicBool::new(false);

/// Blocks on the first change of `hold` until released; counts the changes of `flood`.
#[on_status_change(timeout = "100ms")]
fn behind(change: &StatusChange) {
    if change.name == "hold" {
        let (released, wake) = &RELEASE;
        let released = released.lock().unwrap_or_else(PoisonError::into_inner);
        let _released = wake
            .wait_timeout_while(released, Duration::from_secs(60), |released| !*released)
            .unwrap_or_else(PoisonError::into_inner);
    }
    if change.name == "flood" {
        FLOODED.fetch_add(1, Ordering::SeqCst);
        if change.message.as_deref() == Some("last") {
            LAST.store(true, Ordering::SeqCst);
        }
    }
}

fn log() -> String {
    heartbeat_tests::logged()
}

async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "not within 20 s: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_far_behind_skips_the_oldest_changes_and_says_so() {
    let _ = log();
    let readiness = "/.well-known/heartbeat/readiness";
    let hold: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .readiness(Check::new("hold", || true))
        .into_router();
    assert_eq!(get(&hold, readiness).await.status, 200);

    // The subscriber is held: more changes than it may fall behind, the last one marked.
    let up = Arc::new(AtomicBool::new(true));
    let count = Arc::new(AtomicUsize::new(0));
    let flips = CHANGES_KEPT + 50;
    let (check_up, check_count) = (Arc::clone(&up), Arc::clone(&count));
    let flood: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
        .readiness(Check::new("flood", move || -> Result<(), &str> {
            let n = check_count.fetch_add(1, Ordering::SeqCst) + 1;
            match (check_up.load(Ordering::SeqCst), n == flips) {
                (true, _) => Ok(()),
                (false, true) => Err("last"),
                (false, false) => Err("down"),
            }
        }))
        .into_router();
    let started = Instant::now();
    // Pass, fail, pass…: every run a change, the last a failure with the message "last".
    assert_eq!(flips % 2, 0);
    for i in 0..flips {
        up.store(i % 2 == 0, Ordering::SeqCst);
        get(&flood, readiness).await;
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "{flips} probes took {took:?}"
    );

    let (released, wake) = &RELEASE;
    *released.lock().unwrap() = true;
    wake.notify_all();
    eventually("the subscriber gets to the last change", || {
        LAST.load(Ordering::SeqCst)
    })
    .await;
    // What its stream kept, and the one change its task may have taken out of the stream (once
    // the held call's timeout struck) to wait with for the held call to return.
    let flooded = FLOODED.load(Ordering::SeqCst);
    assert!(
        flooded <= CHANGES_KEPT + 1 && flooded > 0,
        "called {flooded} times of {flips}"
    );
    let log = log();
    let skipped = log
        .lines()
        .find(|line| line.contains("status changes behind"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        skipped.contains("on_status_change{subscriber=on_status_change_lag::behind}"),
        "{skipped}"
    );
}
