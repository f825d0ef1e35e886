//! The measurements of issue 4; each returns rows of the table.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use futures_util::future::join_all;
use heartbeat::{Check, Heartbeat};

use crate::child::ChildServer;
use crate::load::{Load, Loader, Target};
use crate::machine::peak_rss_kib;
use crate::serve::{self, READINESS, Server, bare, call, ok, plain_copy};
use crate::{BenchResult, Met, Row};

/// In-process throughput: rounds per side, alternated, best round kept.
const IN_PROCESS_ROUNDS: usize = 5;
const IN_PROCESS_ROUND: Duration = Duration::from_millis(400);

/// End-to-end throughput: rounds per side, alternated, best round kept.
const WIRE_ROUNDS: usize = 3;
const WIRE_ROUND: Duration = Duration::from_secs(3);
const WIRE_THREADS: usize = 2;
const WIRE_CONNECTIONS: usize = 32;

/// The concurrency figure: this many checks of this long each.
const SLEEPERS: usize = 10;
const SLEEP: Duration = Duration::from_millis(50);
const SLEEP_REQUESTS: usize = 15;

/// The storm: clients, duration, and the one check's run time.
const STORM_CLIENTS: usize = 64;
const STORM_TIME: Duration = Duration::from_secs(10);
const STORM_CHECK: Duration = Duration::from_millis(20);
/// heartbeat's default cache (1 s), restated for the goal.
const DEFAULT_CACHE: Duration = Duration::from_secs(1);

/// The scale figure: check counts, and the time spent per count.
const SCALE: [usize; 4] = [1, 10, 100, 1000];
const SCALE_BUDGET: Duration = Duration::from_millis(300);
/// Passes over the counts; the lowest median of each count is kept (the machine is noisy).
const SCALE_PASSES: usize = 2;

/// The memory figure: load on each child server.
const MEMORY_LOAD: Duration = Duration::from_secs(5);

/// How long a child server has to stop once its stdin closes, before it is killed.
const CHILD_STOP: Duration = Duration::from_secs(5);

/// `heartbeat / plain` formatted, with the goal.
fn ratio(heartbeat: f64, plain: f64) -> f64 {
    if plain > 0.0 { heartbeat / plain } else { 0.0 }
}

fn per_second(rate: f64) -> String {
    format!("{:.1}k req/s", rate / 1000.0)
}

fn micros(time: Duration) -> String {
    format!("{:.1}", time.as_secs_f64() * 1e6)
}

fn millis(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1e3)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Runs `work` as a task on a runtime worker, where a server runs its handlers (the thread of
/// `block_on` is not one, and waking it costs more).
async fn on_worker<T: Send + 'static>(
    work: impl Future<Output = BenchResult<T>> + Send + 'static,
) -> BenchResult<T> {
    tokio::spawn(work).await?
}

/// Requests per second through `router` in-process, for about `budget`, on a worker.
async fn in_process_rate(router: &Router, budget: Duration) -> BenchResult<f64> {
    let router = router.clone();
    on_worker(async move { in_process_rate_here(&router, budget).await }).await
}

async fn in_process_rate_here(router: &Router, budget: Duration) -> BenchResult<f64> {
    const BATCH: u64 = 64;
    const MAX: u64 = 50_000_000;
    let started = Instant::now();
    let mut done = 0_u64;
    while done < MAX {
        for _ in 0..BATCH {
            let (answer, _) = call(router).await;
            if !ok(answer.status()) {
                return Err(format!("in-process answer {}", answer.status()).into());
            }
        }
        done += BATCH;
        if started.elapsed() >= budget {
            break;
        }
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// A plain handler that builds and serialises the same JSON document as heartbeat's readiness
/// with no checks, on every request: where heartbeat's own per-request cost goes.
fn plain_json() -> Router {
    plain_json_at(READINESS)
}

/// [`plain_json`] at `path`.
pub(crate) fn plain_json_at(path: &str) -> Router {
    Router::new().route(
        path,
        get(|| async {
            let body = serde_json::json!({ "status": true, "checks": serde_json::Map::new() });
            (
                StatusCode::OK,
                [
                    (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                    (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    (VARY, HeaderValue::from_static("accept")),
                ],
                body.to_string(),
            )
        }),
    )
}

/// 1a. Readiness with no checks vs a plain handler with the same answer, in-process.
pub(crate) async fn overhead_in_process() -> BenchResult<Vec<Row>> {
    let heartbeat: Router = bare().into_router();
    let plain = plain_copy(&heartbeat).await?;
    let json = plain_json();
    let (expected, expected_body) = call(&heartbeat).await;
    let (answer, body) = call(&json).await;
    if answer.status() != expected.status()
        || answer.headers() != expected.headers()
        || body != expected_body
    {
        return Err("the JSON-building plain handler answers unlike heartbeat".into());
    }
    let routers = [&heartbeat, &plain, &json];
    for router in routers {
        in_process_rate(router, IN_PROCESS_ROUND / 4).await?;
    }
    let mut best = [0.0_f64; 3];
    for _ in 0..IN_PROCESS_ROUNDS {
        for (router, best) in routers.iter().zip(&mut best) {
            *best = best.max(in_process_rate(router, IN_PROCESS_ROUND).await?);
        }
    }
    let [heartbeat, plain, json] = best;
    let r = ratio(heartbeat, plain);
    let extra = (1.0 / heartbeat - 1.0 / plain) * 1e6;
    Ok(vec![
        Row::new(
            format!(
                "readiness, no checks, in-process `oneshot` (best of {IN_PROCESS_ROUNDS} × {} ms); plain returns the same bytes",
                IN_PROCESS_ROUND.as_millis()
            ),
            per_second(heartbeat),
            per_second(plain),
            format!("{r:.2} (goal ≥ 0.9); heartbeat adds {extra:.2} µs/request"),
            Met::from(r >= 0.9),
        ),
        Row::new(
            "diagnosis of the above: plain handler that builds the same JSON with serde_json per request".to_owned(),
            per_second(heartbeat),
            per_second(json),
            format!("{:.2} (info)", ratio(heartbeat, json)),
            Met::Info,
        ),
    ])
}

/// 1b. The same over loopback with a real load generator.
pub(crate) async fn overhead_end_to_end(loader: Loader) -> BenchResult<Vec<Row>> {
    let heartbeat: Router = bare().into_router();
    let plain = plain_copy(&heartbeat).await?;
    let heartbeat = Server::start(heartbeat).await?;
    let plain = Server::start(plain).await?;
    let (mut best_h, mut best_p) = (Load::default(), Load::default());
    for _ in 0..WIRE_ROUNDS {
        for (server, best) in [(&plain, &mut best_p), (&heartbeat, &mut best_h)] {
            let load = loader
                .run(server.target(), WIRE_THREADS, WIRE_CONNECTIONS, WIRE_ROUND)
                .await?;
            if !load.clean() {
                return Err(format!("end-to-end load had failures: {load:?}").into());
            }
            if load.rate > best.rate {
                *best = load;
            }
        }
    }
    heartbeat.stop().await;
    plain.stop().await;
    let r = ratio(best_h.rate, best_p.rate);
    let p50 = |load: &Load| {
        load.p50
            .as_ref()
            .map(|p50| format!(", p50 {p50}"))
            .unwrap_or_default()
    };
    Ok(vec![Row::new(
        format!(
            "readiness, no checks, loopback, {} -t{WIRE_THREADS} -c{WIRE_CONNECTIONS} (best of {WIRE_ROUNDS} × {} s)",
            loader.name(),
            WIRE_ROUND.as_secs()
        ),
        format!("{}{}", per_second(best_h.rate), p50(&best_h)),
        format!("{}{}", per_second(best_p.rate), p50(&best_p)),
        format!("{r:.2} (goal ≥ 0.9)"),
        Met::from(r >= 0.9),
    )])
}

/// The median of [`SLEEP_REQUESTS`] answers, after one to warm up.
async fn median_of_sleepers(router: &Router) -> BenchResult<Duration> {
    call(router).await;
    let mut times = Vec::with_capacity(SLEEP_REQUESTS);
    for _ in 0..SLEEP_REQUESTS {
        let started = Instant::now();
        let (answer, _) = call(router).await;
        times.push(started.elapsed());
        if !ok(answer.status()) {
            return Err(format!("a sleeping check failed: {}", answer.status()).into());
        }
    }
    Ok(median(times))
}

/// 2. Ten checks of 50 ms: a readiness answer takes one check's time, not ten.
pub(crate) async fn concurrency() -> BenchResult<Vec<Row>> {
    let mut builder = bare().default_cache(Duration::ZERO);
    for i in 0..SLEEPERS {
        builder = builder.readiness(Check::new_async(format!("sleep-{i}"), || async {
            tokio::time::sleep(SLEEP).await;
            true
        }));
    }
    let heartbeat: Router = builder.into_router();
    let plain = Router::new().route(
        READINESS,
        get(|| async {
            join_all((0..SLEEPERS).map(|_| tokio::time::sleep(SLEEP))).await;
            "ok"
        }),
    );
    let mut medians = Vec::new();
    for router in [heartbeat, plain] {
        medians.push(on_worker(async move { median_of_sleepers(&router).await }).await?);
    }
    let r = medians[0].as_secs_f64() / SLEEP.as_secs_f64();
    Ok(vec![Row::new(
        format!(
            "{SLEEPERS} async checks × {} ms sleep, cache 0: median answer of {SLEEP_REQUESTS} (plain: hand-written `join_all`)",
            SLEEP.as_millis()
        ),
        millis(medians[0]),
        millis(medians[1]),
        format!("{r:.2}× of 50 ms (goal ≤ 1.2)"),
        Met::from(r <= 1.2),
    )])
}

/// What the storm's check saw: runs, runs in flight now, most runs in flight at once.
#[derive(Default)]
struct Stats {
    runs: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Decrements `in_flight` when a run ends, even when it is dropped at its timeout.
struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The storm's check: 20 ms of async sleep, counted.
async fn counted_check(stats: Arc<Stats>) -> bool {
    stats.runs.fetch_add(1, Ordering::SeqCst);
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _running = InFlight(&stats);
    tokio::time::sleep(STORM_CHECK).await;
    true
}

/// One storm against `router`: the load measured and the check's counters.
async fn one_storm(loader: Loader, router: Router, stats: &Stats) -> BenchResult<(Load, u64, u64)> {
    let server = Server::start(router).await?;
    let load = loader
        .run(server.target(), 2, STORM_CLIENTS, STORM_TIME)
        .await;
    server.stop().await;
    let load = load?;
    if !load.clean() {
        return Err(format!("the storm had failed requests: {load:?}").into());
    }
    Ok((
        load,
        stats.runs.load(Ordering::SeqCst),
        stats.max_in_flight.load(Ordering::SeqCst),
    ))
}

fn storm_router(builder: Heartbeat, stats: &Arc<Stats>) -> Router {
    let stats = Arc::clone(stats);
    builder
        .readiness(Check::new_async("storm", move || {
            counted_check(Arc::clone(&stats))
        }))
        .into_router()
}

/// 3. 64 clients for 10 s against one 20 ms check: how often it runs.
pub(crate) async fn storm(loader: Loader) -> BenchResult<Vec<Row>> {
    let cached = Arc::new(Stats::default());
    let (cached_load, cached_runs, cached_max) =
        one_storm(loader, storm_router(bare(), &cached), &cached).await?;

    let uncached = Arc::new(Stats::default());
    let (uncached_load, uncached_runs, uncached_max) = one_storm(
        loader,
        storm_router(bare().default_cache(Duration::ZERO), &uncached),
        &uncached,
    )
    .await?;

    let naive = Arc::new(Stats::default());
    let handler_stats = Arc::clone(&naive);
    let plain = Router::new().route(
        READINESS,
        get(move || {
            let stats = Arc::clone(&handler_stats);
            async move {
                let passed = counted_check(stats).await;
                (
                    StatusCode::OK,
                    [
                        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    ],
                    format!("{{\"status\":{passed}}}"),
                )
            }
        }),
    );
    let (naive_load, naive_runs, naive_max) = one_storm(loader, plain, &naive).await?;

    let cached_goal = STORM_TIME.as_secs() / DEFAULT_CACHE.as_secs() + 1;
    let uncached_goal = (STORM_TIME.as_millis() / STORM_CHECK.as_millis()) as u64 + 1;
    let runs = |runs: u64, load: &Load| format!("{runs} runs / {} req", load.requests);
    let what = format!(
        "storm: {} -c{STORM_CLIENTS} {} s, one {} ms check",
        loader.name(),
        STORM_TIME.as_secs(),
        STORM_CHECK.as_millis()
    );
    Ok(vec![
        Row::new(
            format!("{what}, default cache 1 s: check runs (plain: handler calls the check)"),
            runs(cached_runs, &cached_load),
            runs(naive_runs, &naive_load),
            format!("≤ {cached_goal} (10 s / 1 s + 1)"),
            Met::from(cached_runs <= cached_goal),
        ),
        Row::new(
            format!("{what}, cache 0: check runs"),
            runs(uncached_runs, &uncached_load),
            runs(naive_runs, &naive_load),
            format!("≤ {uncached_goal} (10 s / 20 ms + 1)"),
            Met::from(uncached_runs <= uncached_goal),
        ),
        Row::new(
            format!("{what}, cache 0: most runs in flight at once"),
            uncached_max.to_string(),
            naive_max.to_string(),
            "= 1 (single flight)".to_owned(),
            Met::from(uncached_max == 1 && cached_max == 1),
        ),
        Row::new(
            format!("{what}: throughput, cache 1 s / cache 0"),
            format!(
                "{} / {}",
                per_second(cached_load.rate),
                per_second(uncached_load.rate)
            ),
            per_second(naive_load.rate),
            "info".to_owned(),
            Met::Info,
        ),
    ])
}

/// The median in-process answer time of `router`, for about `budget`, on a worker.
async fn median_answer(router: &Router, budget: Duration) -> BenchResult<Duration> {
    let router = router.clone();
    on_worker(async move { median_answer_here(&router, budget).await }).await
}

async fn median_answer_here(router: &Router, budget: Duration) -> BenchResult<Duration> {
    for _ in 0..3 {
        call(router).await;
    }
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || (started.elapsed() < budget && times.len() < 20_000) {
        let start = Instant::now();
        let (answer, _) = call(router).await;
        times.push(start.elapsed());
        if !ok(answer.status()) {
            return Err(format!("a trivial check failed: {}", answer.status()).into());
        }
    }
    Ok(median(times))
}

/// Adds `n` trivial checks to a builder.
type AddChecks = fn(Heartbeat, usize) -> Heartbeat;

/// 4. Answer time with 1 to 1,000 trivial checks, and the cost of one more check.
pub(crate) async fn scale() -> BenchResult<Vec<Row>> {
    let mut rows = Vec::new();
    let kinds: [(&str, AddChecks); 2] = [
        ("async", serve::trivial_async),
        ("sync", serve::trivial_sync),
    ];
    for (kind, build) in kinds {
        let routers: Vec<Router> = SCALE
            .iter()
            .map(|&n| build(bare().default_cache(Duration::ZERO), n).into_router())
            .collect();
        let mut times = vec![Duration::MAX; SCALE.len()];
        for _ in 0..SCALE_PASSES {
            for (router, best) in routers.iter().zip(&mut times) {
                *best = (*best).min(median_answer(router, SCALE_BUDGET).await?);
            }
        }
        let us = |t: Duration| t.as_secs_f64() * 1e6;
        let slope =
            |a: usize, b: usize| (us(times[b]) - us(times[a])) / (SCALE[b] - SCALE[a]) as f64;
        let (low, high, overall) = (slope(1, 2), slope(2, 3), slope(0, 3));
        let linear = high / low;
        rows.push(Row::new(
            format!("{kind} trivial checks, cache 0: median answer at 1 / 10 / 100 / 1000 checks (µs, in-process, best of {SCALE_PASSES})"),
            times.iter().map(|t| micros(*t)).collect::<Vec<_>>().join(" / "),
            "—".to_owned(),
            format!("slope 100→1000 = {linear:.2}× slope 10→100 (goal ≤ 2, linear)"),
            Met::from(linear <= 2.0),
        ));
        let (goal, met) = if kind == "async" {
            ("goal ≤ 5 µs (a few)", Met::from(overall <= 5.0))
        } else {
            ("info: a blocking-pool hand-off each", Met::Info)
        };
        rows.push(Row::new(
            format!("{kind}: cost of one more check (slope 1→1000)"),
            format!("{overall:.2} µs"),
            "—".to_owned(),
            goal.to_owned(),
            met,
        ));
    }
    Ok(rows)
}

/// 5. Peak memory of a child server under load: heartbeat's readiness vs the plain handler.
pub(crate) async fn memory(loader: Loader) -> BenchResult<Vec<Row>> {
    let mut peaks = Vec::new();
    let mut loads = Vec::new();
    for kind in ["plain", "heartbeat"] {
        let server = ChildServer::start(kind).await?;
        let pid = server.pid();
        let idle = peak_rss_kib(pid).ok_or("no VmHWM in /proc/<pid>/status")?;
        let target = Target {
            addr: server.addr(),
            path: READINESS,
        };
        let load = loader.run(target, 2, STORM_CLIENTS, MEMORY_LOAD).await;
        let peak = peak_rss_kib(pid).ok_or("no VmHWM in /proc/<pid>/status")?;
        server.stop(CHILD_STOP).await;
        let load = load?;
        if !load.clean() {
            return Err(format!("the {kind} child had failed requests: {load:?}").into());
        }
        peaks.push((idle, peak));
        loads.push(load);
    }
    let [(plain_idle, plain_peak), (heartbeat_idle, heartbeat_peak)] = peaks[..] else {
        return Err("two children expected".into());
    };
    let what = format!(
        "`serve` child, {} -c{STORM_CLIENTS} {} s, heartbeat: {} trivial async checks, cache 0",
        loader.name(),
        MEMORY_LOAD.as_secs(),
        serve::CHILD_CHECKS
    );
    Ok(vec![
        Row::new(
            format!("{what}: peak RSS (VmHWM; idle in brackets)"),
            format!("{} ({})", mib(heartbeat_peak), mib(heartbeat_idle)),
            format!("{} ({})", mib(plain_peak), mib(plain_idle)),
            format!(
                "{:.2}× (info)",
                ratio(heartbeat_peak as f64, plain_peak as f64)
            ),
            Met::Info,
        ),
        Row::new(
            format!("{what}: throughput"),
            per_second(loads[1].rate),
            per_second(loads[0].rate),
            format!("{:.2} (info)", ratio(loads[1].rate, loads[0].rate)),
            Met::Info,
        ),
    ])
}
