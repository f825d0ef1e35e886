//! `heartbeat::subscribe()` (SPEC §13): every change of a check's level, and no event for a
//! result at the same level; a subscriber that never reads delays no probe; the timeout a
//! waiting request records is a change too; a background check going stale is one, published by
//! the read that finds it. A binary of its own: the stream is the process's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use heartbeat::{Check, Heartbeat, Kind, Level, StatusChange, Subscription};
use heartbeat_tests::{get, switch};

const READINESS: &str = "/.well-known/heartbeat/readiness";

fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
}

async fn next(changes: &mut Subscription) -> StatusChange {
    tokio::time::timeout(Duration::from_secs(5), changes.next())
        .await
        .expect("a change within 5 s")
        .expect("the stream never ends")
}

/// The changes of check `name` only: the stream is the process's, and tests run concurrently.
async fn next_of(changes: &mut Subscription, name: &str) -> StatusChange {
    loop {
        let change = next(changes).await;
        if change.name == name {
            return change;
        }
    }
}

/// Whether a change of `name` arrives within 200 ms.
async fn quiet(changes: &mut Subscription, name: &str) -> bool {
    tokio::time::timeout(Duration::from_millis(200), next_of(changes, name))
        .await
        .is_err()
}

#[tokio::test]
async fn each_change_of_level_once_and_none_for_the_same_level() {
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = bare().readiness(switch("switch", &up)).into_router();
    let mut changes = heartbeat::subscribe();
    let before = SystemTime::now();

    assert_eq!(get(&app, READINESS).await.status, 200);
    let first = next_of(&mut changes, "switch").await;
    assert_eq!(first.kind, Kind::Readiness);
    assert_eq!((first.from, first.to), (Level::Unknown, Level::Pass));
    assert_eq!(first.message, None);
    assert!(first.when >= before && first.when <= SystemTime::now());

    // The same level again: no change.
    assert_eq!(get(&app, READINESS).await.status, 200);
    assert!(quiet(&mut changes, "switch").await);

    up.store(false, Ordering::SeqCst);
    assert_eq!(get(&app, READINESS).await.status, 500);
    assert_eq!(get(&app, READINESS).await.status, 500);
    let failing = next_of(&mut changes, "switch").await;
    assert_eq!((failing.from, failing.to), (Level::Pass, Level::Fail));
    assert_eq!(failing.message.as_deref(), Some("down"));
    assert!(
        quiet(&mut changes, "switch").await,
        "the second failure is no change"
    );

    up.store(true, Ordering::SeqCst);
    assert_eq!(get(&app, READINESS).await.status, 200);
    let recovered = next_of(&mut changes, "switch").await;
    assert_eq!((recovered.from, recovered.to), (Level::Fail, Level::Pass));
}

#[tokio::test]
async fn levels_as_shown_a_warning_and_a_timeout_recorded_by_the_waiting_request() {
    let app: axum::Router = bare()
        .liveliness(Check::new_async("soft", || async { Err::<(), _>("flaky") }).critical(false))
        .liveliness(
            Check::new("hung", || {
                std::thread::sleep(Duration::from_millis(400));
                true
            })
            .timeout(Duration::from_millis(50)),
        )
        .into_router();
    let mut changes = heartbeat::subscribe();
    assert_eq!(
        get(&app, "/.well-known/heartbeat/liveliness").await.status,
        500
    );
    let soft = next_of(&mut changes, "soft").await;
    assert_eq!(
        (soft.kind, soft.from, soft.to),
        (Kind::Liveliness, Level::Unknown, Level::Warn)
    );
    assert_eq!(soft.message.as_deref(), Some("flaky"));
    // The request recorded the timeout at the deadline: the change comes then, not when the
    // hung run returns.
    let hung = tokio::time::timeout(Duration::from_millis(300), next_of(&mut changes, "hung"))
        .await
        .expect("the timeout's change before the run returns");
    assert_eq!((hung.from, hung.to), (Level::Unknown, Level::Fail));
    assert_eq!(hung.message.as_deref(), Some("timed out after 50ms"));
    // Its late result is a failure too: no change.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(quiet(&mut changes, "hung").await);
}

#[tokio::test]
async fn a_subscriber_that_never_reads_delays_no_probe_and_skips_what_it_missed() {
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = bare().readiness(switch("busy", &up)).into_router();
    let mut never_read = heartbeat::subscribe();
    let mut reader = heartbeat::subscribe();
    // More changes than a subscriber may fall behind.
    let flips = heartbeat::CHANGES_KEPT + 100;
    let started = Instant::now();
    let mut seen = 0;
    for i in 0..flips {
        up.store(i % 2 == 0, Ordering::SeqCst);
        get(&app, READINESS).await;
        // The reader keeps up, one change per probe.
        let change = next_of(&mut reader, "busy").await;
        assert_eq!(
            change.to,
            if i % 2 == 0 { Level::Pass } else { Level::Fail }
        );
        seen += 1;
    }
    assert_eq!(seen, flips);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "{flips} probes took {took:?}"
    );
    // The one that never read skips the oldest and goes on with what was kept.
    let first = next_of(&mut never_read, "busy").await;
    assert!(first.from != first.to);
    drop(never_read);
    drop(reader);
    // Nobody listens: probes go on.
    up.store(false, Ordering::SeqCst);
    assert_eq!(get(&app, READINESS).await.status, 500);
}

/// No run records that a background check went stale (its task stopped): the first read that
/// finds it so publishes the change, once.
#[tokio::test(start_paused = true)]
async fn a_background_check_going_stale_is_a_change_once() {
    let lifecycle = heartbeat::lifecycle::Lifecycle::new();
    let mut changes = heartbeat::subscribe();
    let app: axum::Router = bare()
        .lifecycle(lifecycle.clone())
        .readiness(
            Check::new_async("goes-stale", || async { true })
                .every(Duration::from_secs(10))
                .max_stale(Duration::from_secs(30)),
        )
        .into_router();
    let first = next_of(&mut changes, "goes-stale").await;
    assert_eq!((first.from, first.to), (Level::Unknown, Level::Pass));
    // The drain ends: the check's task stops, and its last run grows old.
    lifecycle.shutdown(Duration::ZERO).await;
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert!(
        quiet(&mut changes, "goes-stale").await,
        "nothing read it yet"
    );
    assert_eq!(get(&app, READINESS).await.status, 500);
    let stale = next_of(&mut changes, "goes-stale").await;
    assert_eq!((stale.from, stale.to), (Level::Pass, Level::Fail));
    let message = stale.message.unwrap();
    assert!(message.starts_with("stale: last run 31 s ago"), "{message}");
    assert_eq!(get(&app, READINESS).await.status, 500);
    assert!(quiet(&mut changes, "goes-stale").await, "published once");
}
