//! Section 11, a scrape in wall time (issue 15): the metrics of 100 checks next to their
//! `/health/`, in process (`oneshot`), each request timed alone. The same shapes as the
//! `instructions` section counts: `/h100` (100 cached health checks and their metrics) and
//! `/m100` (100 health checks never cached, so that each of its `/health/` requests changes
//! every check's state before the scrape that follows it).

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use crate::{BenchResult, Met, Row};

/// Requests timed per figure.
const N: usize = 300;
/// Apart by more than the 10 ms within which heartbeat gives requests that find the same
/// states the same answer: each request writes its own, as a probe every few seconds does.
const GAP: Duration = Duration::from_millis(12);

/// Section 11: median microseconds per request.
pub(crate) async fn scrape() -> BenchResult<Vec<Row>> {
    let router = crate::instructions::router().await?;
    let health = median(&router, &["/h100/health/"], 0).await;
    let metrics = median(&router, &["/h100/metrics"], 0).await;
    let runs = median(&router, &["/m100/health/"], 0).await;
    let changed = median(&router, &["/m100/health/", "/m100/metrics"], 1).await;
    let micros = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    let what = format!(
        "scrape, wall time (in process, median of {N} requests {} ms apart)",
        GAP.as_millis()
    );
    Ok(vec![
        Row::new(
            format!(
                "{what}: the metrics of 100 cached checks, no check changed since the last scrape (plain column: their `/health/`)"
            ),
            micros(metrics),
            micros(health),
            format!(
                "{:.2}× `/health/` (issue 15: a scrape costs less)",
                metrics.as_secs_f64() / health.as_secs_f64()
            ),
            Met::from(metrics < health),
        ),
        Row::new(
            format!(
                "{what}: the metrics of 100 checks right after every one of them changed (after a `/health/` request that ran them all, {}; plain column: the cached `/health/` above)",
                micros(runs)
            ),
            micros(changed),
            micros(health),
            format!(
                "{:.2}× `/health/` (issue 15: a scrape costs less)",
                changed.as_secs_f64() / health.as_secs_f64()
            ),
            Met::from(changed < health),
        ),
    ])
}

/// The median time of the request at `timed` among `paths`, asked in turn `N` times (after as
/// many not timed), each turn [`GAP`] after the last. A request is timed until its answer is
/// ready (heartbeat writes each body whole), not while the caller reads it: reading 184 KB of
/// metrics into a buffer of its own is the client's cost, not the server's.
async fn median(router: &Router, paths: &[&str], timed: usize) -> Duration {
    let mut times = Vec::with_capacity(N);
    for turn in 0..2 * N {
        tokio::time::sleep(GAP).await;
        for (i, path) in paths.iter().enumerate() {
            let request = Request::get(*path)
                .body(Body::empty())
                .expect("a GET of a path is a valid request");
            let start = Instant::now();
            let answer = router.clone().oneshot(request).await;
            let took = start.elapsed();
            drop(answer);
            if i == timed && turn >= N {
                times.push(took);
            }
        }
    }
    times.sort();
    times[times.len() / 2]
}
