//! Run with `cargo run --example quickstart` from the repository root, then try the URLs it
//! prints. `touch /tmp/heartbeat-quickstart-maintenance` makes readiness fail; remove the file
//! and it passes again. Ctrl-C (or SIGTERM) drains: readiness fails at once, the server stops
//! after the drain delay and finishes the requests in flight.
//!
//! `touch /tmp/heartbeat-quickstart-hang` makes the `dependency` check hang for an hour, as a
//! dependency that never answers does: readiness fails at the check's timeout with a named
//! check, no thread piles up, and SIGTERM still stops the process on time.
//!
//! It serves as a production service should: with a header-read timeout, so that a client
//! that sends half a request cannot hold a connection (`axum::serve` sets none), and with the
//! whole shutdown bounded (the drain, then a grace period for the requests in flight).
//!
//! Environment: `QUICKSTART_ADDR` (default `127.0.0.1:8080`), `QUICKSTART_DRAIN_MS` (default
//! heartbeat's 5 s), `QUICKSTART_GRACE_MS` (default heartbeat's 20 s), `QUICKSTART_HANG_FLAG`
//! (default `/tmp/heartbeat-quickstart-hang`), `HEALTH_URL_SECRET` (default a demo secret).
//!
//! Built with `--features databases`, it also needs `DATABASE_URL` (PostgreSQL) and
//! `REDIS_URL` (`bash .ci/services` starts both locally; use its `HEARTBEAT_TEST_*_URL`
//! values): the application's state holds a pool and a client, and two annotated checks take
//! them as provided values (`Provided<PgPool>`) and run heartbeat's built-in checks on them.
//! Without the feature, the first build compiles no database client.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heartbeat::{
    Heartbeat, environ_probe, health_check, lifecycle, liveliness_probe, readiness_probe,
};
use serde_json::{Value, json};

// The application's name and version, and the libraries it reaches through the workspace's
// Cargo.lock (read at compile time), in the environ endpoint.
heartbeat::build_info!();

/// Where the server listens, from `QUICKSTART_ADDR`.
static ADDRESS: OnceLock<String> = OnceLock::new();

fn address() -> &'static str {
    ADDRESS.get_or_init(|| {
        std::env::var("QUICKSTART_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
    })
}
const MAINTENANCE_FLAG: &str = "/tmp/heartbeat-quickstart-maintenance";

/// The file whose presence makes the `dependency` check hang, from `QUICKSTART_HANG_FLAG`.
fn hang_flag() -> &'static str {
    static FLAG: OnceLock<String> = OnceLock::new();
    FLAG.get_or_init(|| {
        std::env::var("QUICKSTART_HANG_FLAG")
            .unwrap_or_else(|_| "/tmp/heartbeat-quickstart-hang".to_owned())
    })
}

/// A dependency reached with a blocking call, which hangs while the flag file exists. A sync
/// check runs on heartbeat's own threads: a hung one holds one thread, is named as timed out,
/// and never keeps the process from exiting.
#[readiness_probe(name = "dependency")]
fn dependency() -> bool {
    if std::path::Path::new(hang_flag()).exists() {
        std::thread::sleep(Duration::from_secs(3_600));
    }
    true
}

/// The server accepts TCP connections: a real connect to our own listener.
#[readiness_probe(name = "listener", timeout = "500ms")]
async fn listener() -> std::io::Result<Value> {
    let start = std::time::Instant::now();
    tokio::net::TcpStream::connect(address()).await?;
    let connect_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    Ok(json!({ "address": address(), "connect_ms": connect_ms }))
}

/// Not ready while an operator has put the service into maintenance. A file system call
/// blocks, so this is a sync check (an `async fn` with `tokio::fs` would leave a blocking
/// thread behind at every timeout on a hung mount).
#[readiness_probe(name = "maintenance")]
fn maintenance() -> Result<(), String> {
    match std::fs::exists(MAINTENANCE_FLAG) {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!("in maintenance: {MAINTENANCE_FLAG} exists")),
        Err(error) => Err(format!("cannot look for {MAINTENANCE_FLAG}: {error}")),
    }
}

/// The temporary directory takes writes: a real file is written and removed.
#[health_check(name = "scratch-disk")]
fn scratch_disk() -> std::io::Result<Value> {
    let path = std::env::temp_dir().join(format!("heartbeat-quickstart-{}", std::process::id()));
    std::fs::write(&path, b"ok")?;
    std::fs::remove_file(&path)?;
    Ok(json!({ "dir": std::env::temp_dir() }))
}

/// The seed's `check_true`, outside the default set: ask for it with `?checks=true`.
#[health_check(name = "true", default = false)]
fn check_true() -> bool {
    true
}

/// Seconds since the epoch of the background worker's last tick.
static LAST_TICK: AtomicU64 = AtomicU64::new(0);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The background worker still ticks: alive means it ticked in the last 5 seconds.
#[liveliness_probe(name = "worker")]
fn worker() -> heartbeat::Outcome {
    let age = now().saturating_sub(LAST_TICK.load(Ordering::Relaxed));
    if age <= 5 {
        heartbeat::Outcome::pass().with("last_tick_seconds_ago", age)
    } else {
        heartbeat::Outcome::fail(format!("the worker last ticked {age} s ago"))
    }
}

/// The application's own name and version, next to what heartbeat reports.
#[environ_probe]
fn application() -> Value {
    json!({ "application": { "name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION") } })
}

#[tokio::main]
async fn main() {
    // Not ready until the background worker has ticked once (the startup gate).
    lifecycle::require_startup();
    tokio::spawn(async {
        loop {
            LAST_TICK.store(now(), Ordering::Relaxed);
            lifecycle::mark_started();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });

    let secret = std::env::var(heartbeat::HEALTH_URL_SECRET)
        .unwrap_or_else(|_| "quickstart-secret".to_owned());
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async { "hello from the quickstart\n" }),
        )
        .route("/slow", axum::routing::get(slow))
        .merge(with_databases(Heartbeat::new().health_secret(secret.clone())).into_router());

    let address = address();
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error} (is another quickstart running?)");
            std::process::exit(1);
        }
    };
    println!("heartbeat quickstart listening on http://{address}");
    for path in [
        "/.well-known/heartbeat/readiness".to_owned(),
        "/.well-known/heartbeat/liveliness".to_owned(),
        "/.well-known/heartbeat/environ".to_owned(),
        format!("/health/?auth={}", percent_encoded(&secret)),
        format!(
            "/health/?auth={}&checks=_defaults,true",
            percent_encoded(&secret)
        ),
        "/health/ping".to_owned(),
    ] {
        println!("  curl -i 'http://{address}{path}'");
    }
    println!(
        "  curl -N 'http://{address}/.well-known/heartbeat/readiness?watch'   # live: one event per change"
    );
    println!("`touch {MAINTENANCE_FLAG}` makes readiness fail with a named check.");
    println!(
        "`touch {}` makes a dependency hang: readiness names it.",
        hang_flag()
    );

    let drain = milliseconds("QUICKSTART_DRAIN_MS").unwrap_or(lifecycle::DEFAULT_DRAIN);
    let grace = milliseconds("QUICKSTART_GRACE_MS").unwrap_or(lifecycle::DEFAULT_GRACE);
    let server = serve(listener, app, lifecycle::shutdown_signal_with_drain(drain));
    match lifecycle::Lifecycle::global()
        .with_grace(server, grace)
        .await
    {
        Ok(()) => println!("stopped gracefully"),
        Err(error) => {
            eprintln!("server error: {error}");
            std::process::exit(1);
        }
    }
}

/// A duration in milliseconds from the environment variable `var`.
/// `text` as a query value: `?auth=` is percent-decoded, and `+` decodes to a space, so every
/// byte but the unreserved ones is written `%XX`. (The header, `Authorization: Bearer …`, needs
/// no encoding and stays out of access logs: prefer it.)
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn milliseconds(var: &str) -> Option<Duration> {
    let ms = std::env::var(var).ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` as `axum::serve(..).with_graceful_shutdown(shutdown)` does, plus what
/// `axum::serve` cannot set: a header-read timeout, so a client that sends half a request
/// (or nothing) is disconnected instead of holding its connection, and the server's shutdown,
/// for ever.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    eprintln!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Built without the `databases` feature: says how to check the URLs it was given.
#[cfg(not(feature = "databases"))]
fn with_databases(heartbeat: Heartbeat) -> Heartbeat {
    for var in ["DATABASE_URL", "REDIS_URL"] {
        if std::env::var_os(var).is_some() {
            eprintln!(
                "{var} is set, but the quickstart was built without its database checks: `cargo run --example quickstart --features databases` adds them"
            );
        }
    }
    heartbeat
}

/// The application's state, with `--features databases`: what its handlers take as
/// `State<PgPool>` (axum's `FromRef`) and its checks as `Provided<PgPool>` (heartbeat's
/// `Provide`), from one `.with_state(state)` each.
#[cfg(feature = "databases")]
#[derive(Clone, axum::extract::FromRef, heartbeat::Provide)]
struct AppState {
    postgres: sqlx::PgPool,
    redis: redis::Client,
}

/// PostgreSQL answers `SELECT 1` on the application's own pool: the built-in check, run from
/// an annotated function with the pool the router provides.
#[cfg(feature = "databases")]
#[readiness_probe(name = "postgres")]
async fn postgres(pool: heartbeat::Provided<sqlx::PgPool>) -> heartbeat::Outcome {
    heartbeat::checks::sql::ping(&pool).await
}

/// Redis answers `PING` on a new connection of the application's client.
#[cfg(feature = "databases")]
#[readiness_probe(name = "redis")]
async fn cache(client: heartbeat::Provided<redis::Client>) -> heartbeat::Outcome {
    heartbeat::checks::Redis::new(client.into_inner())
        .run()
        .await
}

/// The state of `DATABASE_URL` and `REDIS_URL`, handed to heartbeat's checks. (This app's
/// handlers need none of it; one that did would also call `.with_state(state)` on its router.)
#[cfg(feature = "databases")]
fn with_databases(heartbeat: Heartbeat) -> Heartbeat {
    let url = |var: &str| match std::env::var(var) {
        Ok(url) => url,
        Err(_) => {
            eprintln!(
                "built with --features databases, the quickstart checks PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (`bash .ci/services` prints local ones)"
            );
            std::process::exit(1);
        }
    };
    let postgres = sqlx::PgPool::connect_lazy(&url("DATABASE_URL")).unwrap_or_else(|error| {
        eprintln!("DATABASE_URL is not a PostgreSQL URL: {error}");
        std::process::exit(1);
    });
    let redis = redis::Client::open(url("REDIS_URL")).unwrap_or_else(|error| {
        eprintln!("REDIS_URL is not a Redis URL: {error}");
        std::process::exit(1);
    });
    heartbeat.with_state(AppState { postgres, redis })
}

/// A request that takes a while (`?ms=`, default 1000), to watch a graceful shutdown finish it.
async fn slow(axum::extract::RawQuery(query): axum::extract::RawQuery) -> String {
    let ms = query
        .as_deref()
        .and_then(|q| q.strip_prefix("ms="))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1_000u64)
        .min(30_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("done after {ms} ms\n")
}
