//! `#[on_status_change]` (SPEC §13): functions registered by the attribute are called for each
//! change of a check's level and not for a result at the same level, sync and async; a slow
//! subscriber (a sync one that blocks, an async one that never ends) delays no probe and no
//! other subscriber, is timed out and called once at a time; a panicking one is logged with its
//! name and called again on the next change. A binary of its own: registration is global.
//!
//! Every test runs on one multi-threaded runtime that lives as long as the binary, as a server's
//! does: the subscribers' tasks start on it with the first router and serve every test.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use heartbeat::{Check, Heartbeat, Level, StatusChange, on_status_change, readiness_probe};
use heartbeat_tests::get;

const READINESS: &str = "/.well-known/heartbeat/readiness";

// ---- the checks, each driven by its own flag ----

static FLIP: AtomicBool = AtomicBool::new(true);
static STUCK: AtomicBool = AtomicBool::new(true);
static BOOM: AtomicBool = AtomicBool::new(true);

#[readiness_probe(cache = "0s")]
fn flip() -> bool {
    FLIP.load(Ordering::SeqCst)
}

#[readiness_probe(cache = "0s")]
fn stuck() -> bool {
    STUCK.load(Ordering::SeqCst)
}

#[readiness_probe(cache = "0s")]
fn boom() -> bool {
    BOOM.load(Ordering::SeqCst)
}

// ---- what each subscriber was given ----

/// The changes a subscriber was called with: check name, from, to.
type Seen = Mutex<Vec<(String, Level, Level)>>;

static RECORD_SYNC: Seen = Mutex::new(Vec::new());
static RECORD_ASYNC: Seen = Mutex::new(Vec::new());
/// When `slow_sync` was called, and when it returned.
static SLOW_SYNC: Seen = Mutex::new(Vec::new());
static SLOW_SYNC_DONE: Seen = Mutex::new(Vec::new());
/// How many calls of `slow_sync` run now, and the most that ever ran at once.
static SLOW_SYNC_RUNNING: AtomicUsize = AtomicUsize::new(0);
static SLOW_SYNC_MOST: AtomicUsize = AtomicUsize::new(0);
static SLOW_ASYNC: Seen = Mutex::new(Vec::new());
/// How many of `slow_async`'s futures were dropped while stuck.
static SLOW_ASYNC_DROPPED: AtomicUsize = AtomicUsize::new(0);
static PANICS_SYNC: Seen = Mutex::new(Vec::new());
static PANICS_ASYNC: Seen = Mutex::new(Vec::new());

fn push(seen: &Seen, change: &StatusChange) {
    seen.lock().unwrap_or_else(PoisonError::into_inner).push((
        change.name.clone(),
        change.from,
        change.to,
    ));
}

/// The changes of check `name` that a subscriber was called with, in order.
fn of(seen: &Seen, name: &str) -> Vec<(Level, Level)> {
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(check, _, _)| check == name)
        .map(|(_, from, to)| (*from, *to))
        .collect()
}

// ---- the subscribers ----

#[on_status_change]
fn record_sync(change: &StatusChange) {
    push(&RECORD_SYNC, change);
}

#[on_status_change]
async fn record_async(change: &StatusChange) {
    tokio::task::yield_now().await;
    push(&RECORD_ASYNC, change);
}

/// Released by the slow-subscriber test.
static RELEASE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Blocks its thread on every change of `stuck` until released (a minute at most, so that a
/// failing test cannot hang the binary).
#[on_status_change(timeout = "100ms")]
fn slow_sync(change: &StatusChange) {
    let running = SLOW_SYNC_RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    SLOW_SYNC_MOST.fetch_max(running, Ordering::SeqCst);
    push(&SLOW_SYNC, change);
    if change.name == "stuck" {
        let (released, wake) = &RELEASE;
        let released = released.lock().unwrap_or_else(PoisonError::into_inner);
        let _released = wake
            .wait_timeout_while(released, Duration::from_secs(60), |released| !*released)
            .unwrap_or_else(PoisonError::into_inner);
    }
    push(&SLOW_SYNC_DONE, change);
    SLOW_SYNC_RUNNING.fetch_sub(1, Ordering::SeqCst);
}

/// Counts itself dropped.
struct Dropped;

impl Drop for Dropped {
    fn drop(&mut self) {
        SLOW_ASYNC_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Never ends when `stuck` fails.
#[on_status_change(timeout = "100ms")]
async fn slow_async(change: &StatusChange) {
    push(&SLOW_ASYNC, change);
    if change.name == "stuck" && change.to == Level::Fail {
        let _dropped = Dropped;
        std::future::pending::<()>().await;
    }
}

/// Panics when `boom` fails.
#[on_status_change]
fn panics_sync(change: &StatusChange) {
    push(&PANICS_SYNC, change);
    if change.name == "boom" && change.to == Level::Fail {
        panic!("sync subscriber went boom");
    }
}

/// Panics (after an await) when `boom` fails; returns an error when it recovers.
#[on_status_change]
async fn panics_async(change: &StatusChange) -> Result<(), String> {
    push(&PANICS_ASYNC, change);
    tokio::task::yield_now().await;
    if change.name == "boom" && change.to == Level::Fail {
        panic!("async subscriber went boom");
    }
    if change.name == "boom" && change.from == Level::Fail {
        return Err("boom recovered, an error to log".to_owned());
    }
    Ok(())
}

// ---- the harness ----

/// The binary's runtime: it outlives every test, as a server's does.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
});

fn log() -> String {
    heartbeat_tests::logged()
}

/// Runs a test on the binary's runtime, the log set up first.
fn run<F: Future>(test: F) -> F::Output {
    let _ = log();
    RUNTIME.block_on(test)
}

/// A router of the one registered check `name`, built inside the runtime (so the subscribers'
/// tasks run before its first change).
fn router(name: &'static str) -> axum::Router {
    Heartbeat::new()
        .filter(move |check| check.name() == name)
        .no_health_secret()
        .into_router()
}

/// The probe's status, which must come within 5 s (it takes milliseconds).
async fn probe(app: &axum::Router) -> u16 {
    tokio::time::timeout(Duration::from_secs(5), get(app, READINESS))
        .await
        .expect("a probe is never delayed by a subscriber")
        .status
        .as_u16()
}

/// Waits until `done` holds, for 10 s at most.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "not within 10 s: {what}; seen: {:#?}",
            [
                ("record_sync", &RECORD_SYNC),
                ("record_async", &RECORD_ASYNC),
                ("slow_sync", &SLOW_SYNC),
                ("slow_sync returned", &SLOW_SYNC_DONE),
                ("slow_async", &SLOW_ASYNC),
                ("panics_sync", &PANICS_SYNC),
                ("panics_async", &PANICS_ASYNC),
            ]
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until both recorders were called with `changes` of check `name`, in order.
///
/// Each test waits for a change to be delivered before it makes the next: two changes of one
/// check made back to back can be published in the other order (the engine publishes a change
/// after it records the state, outside the check's lock: `engine/run.rs`, `finish`), and this
/// binary tests delivery, not the engine's publishing.
async fn recorded(name: &str, changes: &[(Level, Level)]) {
    eventually(&format!("{name}: {changes:?} reach both recorders"), || {
        of(&RECORD_SYNC, name) == changes && of(&RECORD_ASYNC, name) == changes
    })
    .await;
}

/// A check seen for the first time (a change from unknown) by every subscriber: once each has
/// seen it, each has been called for every change published before it.
async fn marker(name: &'static str) {
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .readiness(Check::new(name, || true))
        .into_router();
    assert_eq!(probe(&app).await, 200);
    eventually("the marker reaches both recorders", || {
        of(&RECORD_SYNC, name).len() == 1 && of(&RECORD_ASYNC, name).len() == 1
    })
    .await;
}

/// The lines logged about subscriber `function` of this binary.
fn lines_of(function: &str) -> Vec<String> {
    let field = format!("subscriber=on_status_change::{function} ");
    log()
        .lines()
        .filter(|line| line.contains(&field))
        .map(str::to_owned)
        .collect()
}

const UP: (Level, Level) = (Level::Unknown, Level::Pass);
const DOWN: (Level, Level) = (Level::Pass, Level::Fail);
const BACK: (Level, Level) = (Level::Fail, Level::Pass);

// ---- the tests ----

#[test]
fn sync_and_async_subscribers_are_called_for_each_change_and_not_for_the_same_level() {
    run(async {
        let app = router("flip");
        FLIP.store(true, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 200);
        eventually("the first result reaches both", || {
            of(&RECORD_SYNC, "flip") == [UP] && of(&RECORD_ASYNC, "flip") == [UP]
        })
        .await;

        // The same level again: no call. A later change reaching both proves it.
        assert_eq!(probe(&app).await, 200);
        marker("flip-marker").await;
        assert_eq!(of(&RECORD_SYNC, "flip"), [UP]);
        assert_eq!(of(&RECORD_ASYNC, "flip"), [UP]);

        FLIP.store(false, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 500);
        assert_eq!(probe(&app).await, 500);
        recorded("flip", &[UP, DOWN]).await;
        FLIP.store(true, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 200);
        eventually("the failure and the recovery reach both, in order", || {
            of(&RECORD_SYNC, "flip") == [UP, DOWN, BACK]
                && of(&RECORD_ASYNC, "flip") == [UP, DOWN, BACK]
        })
        .await;
        marker("flip-marker-2").await;
        assert_eq!(of(&RECORD_SYNC, "flip"), [UP, DOWN, BACK]);
        assert_eq!(of(&RECORD_ASYNC, "flip"), [UP, DOWN, BACK]);
    });
}

#[test]
fn a_slow_subscriber_delays_no_probe_and_no_other_subscriber() {
    run(async {
        let app = router("stuck");
        STUCK.store(true, Ordering::SeqCst);
        // `slow_sync` blocks on this change, on its thread.
        assert_eq!(probe(&app).await, 200);
        eventually("the fast subscribers see the change", || {
            of(&RECORD_SYNC, "stuck") == [UP] && of(&RECORD_ASYNC, "stuck") == [UP]
        })
        .await;
        eventually("slow_sync is called", || of(&SLOW_SYNC, "stuck") == [UP]).await;
        assert!(
            of(&SLOW_SYNC_DONE, "stuck").is_empty(),
            "slow_sync is still stuck"
        );

        // Two more changes: `slow_async` never ends on the failure, and is dropped at its
        // timeout; every other subscriber goes on.
        STUCK.store(false, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 500);
        recorded("stuck", &[UP, DOWN]).await;
        STUCK.store(true, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 200);
        eventually("the fast subscribers see both changes", || {
            of(&RECORD_SYNC, "stuck") == [UP, DOWN, BACK]
                && of(&RECORD_ASYNC, "stuck") == [UP, DOWN, BACK]
        })
        .await;
        eventually(
            "slow_async is timed out on the failure and called for the recovery",
            || {
                SLOW_ASYNC_DROPPED.load(Ordering::SeqCst) == 1
                    && of(&SLOW_ASYNC, "stuck") == [UP, DOWN, BACK]
            },
        )
        .await;
        eventually("both timeouts are logged", || {
            lines_of("slow_sync")
                .iter()
                .any(|l| l.contains("did not return within its timeout"))
                && lines_of("slow_async")
                    .iter()
                    .any(|l| l.contains("did not return within its timeout"))
        })
        .await;
        // One call in flight at most: the stuck one is not called again, for three times its
        // timeout after the timeout (a second call would start at once).
        let window = Instant::now() + Duration::from_millis(300);
        while Instant::now() < window {
            assert_eq!(of(&SLOW_SYNC, "stuck"), [UP]);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(of(&SLOW_SYNC_DONE, "stuck").is_empty());
        let slow = lines_of("slow_sync");
        assert!(
            slow.iter()
                .any(|l| l.contains("WARN") && l.contains("not called again until it returns")),
            "{slow:#?}"
        );

        // Released, it returns late (logged) and is given the changes it missed, in order.
        let (released, wake) = &RELEASE;
        *released.lock().unwrap() = true;
        wake.notify_all();
        eventually("slow_sync catches up", || {
            of(&SLOW_SYNC_DONE, "stuck") == [UP, DOWN, BACK]
        })
        .await;
        assert_eq!(of(&SLOW_SYNC, "stuck"), [UP, DOWN, BACK]);
        assert_eq!(SLOW_SYNC_MOST.load(Ordering::SeqCst), 1);
        eventually("the late return is logged", || {
            lines_of("slow_sync")
                .iter()
                .any(|l| l.contains("returned after its timeout"))
        })
        .await;
    });
}

#[test]
fn a_panicking_subscriber_is_logged_and_called_again() {
    run(async {
        let app = router("boom");
        BOOM.store(true, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 200);
        recorded("boom", &[UP]).await;
        BOOM.store(false, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 500);
        eventually("both panic on the failure", || {
            of(&PANICS_SYNC, "boom") == [UP, DOWN] && of(&PANICS_ASYNC, "boom") == [UP, DOWN]
        })
        .await;
        BOOM.store(true, Ordering::SeqCst);
        assert_eq!(probe(&app).await, 200);
        eventually(
            "the next change reaches them, and every other subscriber",
            || {
                of(&PANICS_SYNC, "boom") == [UP, DOWN, BACK]
                    && of(&PANICS_ASYNC, "boom") == [UP, DOWN, BACK]
                    && of(&RECORD_SYNC, "boom") == [UP, DOWN, BACK]
                    && of(&RECORD_ASYNC, "boom") == [UP, DOWN, BACK]
            },
        )
        .await;
        eventually("the panics are logged with the subscriber's name", || {
            lines_of("panics_sync")
                .iter()
                .any(|l| l.contains("ERROR") && l.contains("sync subscriber went boom"))
                && lines_of("panics_async")
                    .iter()
                    .any(|l| l.contains("ERROR") && l.contains("async subscriber went boom"))
        })
        .await;
        let panics = lines_of("panics_sync");
        let panic = panics.iter().find(|l| l.contains("panicked")).unwrap();
        assert!(panic.contains("check=readiness boom"), "{panic}");
        assert!(panic.contains("from=pass to=fail"), "{panic}");
        assert!(panic.contains("called again on the next change"), "{panic}");
        eventually("the returned error is logged", || {
            lines_of("panics_async").iter().any(|l| {
                l.contains("returned an error") && l.contains("boom recovered, an error to log")
            })
        })
        .await;
    });
}

#[test]
fn the_attribute_leaves_the_function_callable() {
    let change = run(async {
        // A change of a check of its own, to call the functions with.
        let app: axum::Router = Heartbeat::new()
            .filter(|_| false)
            .no_health_secret()
            .readiness(Check::new("callable", || true))
            .into_router();
        let mut changes = heartbeat::subscribe();
        assert_eq!(probe(&app).await, 200);
        loop {
            let change = futures::StreamExt::next(&mut changes).await.unwrap();
            if change.name == "callable" {
                break change;
            }
        }
    });
    // Called by hand, once each, besides the subscribers' own call.
    record_sync(&change);
    run(async {
        record_async(&change).await;
        eventually("two calls each: the subscriber's and this test's", || {
            of(&RECORD_SYNC, "callable") == [UP, UP] && of(&RECORD_ASYNC, "callable") == [UP, UP]
        })
        .await;
    });
}
