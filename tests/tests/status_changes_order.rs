//! One check's status changes go out in the order its runs recorded them, however slow the
//! log is: a change used to be published after the run logged it, outside the write that
//! recorded it, so a later run could publish first (fail → pass before pass → fail). A binary
//! of its own: the slow log writer is the process's.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use heartbeat::{Heartbeat, Level};
use heartbeat_tests::{get, switch};

/// A log writer that takes 2 ms for every line about a failure.
struct SlowOnFailures;

impl Write for SlowOnFailures {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        if String::from_utf8_lossy(line).contains("fail") {
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_go_out_in_the_order_they_were_recorded() {
    tracing_subscriber::fmt()
        .with_writer(|| SlowOnFailures)
        .with_max_level(tracing::Level::INFO)
        .init();
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
        .readiness(switch("switch", &up))
        .into_router();
    let mut changes = heartbeat::subscribe();
    const CHANGES: usize = 200;
    for i in 0..CHANGES {
        up.store(i % 2 == 1, Ordering::SeqCst);
        get(&app, "/.well-known/heartbeat/readiness").await;
    }
    let mut last = Level::Unknown;
    for n in 0..CHANGES {
        let change = tokio::time::timeout(Duration::from_secs(10), changes.next())
            .await
            .expect("every change within 10 s")
            .unwrap();
        assert_eq!(
            change.from, last,
            "change {n} does not follow the one before"
        );
        let expected = if n % 2 == 0 { Level::Fail } else { Level::Pass };
        assert_eq!(change.to, expected, "change {n}");
        last = change.to;
    }
}
