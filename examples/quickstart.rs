//! Run with `cargo run --example quickstart` from the repository root, then try the URLs it
//! prints. `touch /tmp/heartbeat-quickstart-maintenance` makes readiness fail; remove the file
//! and it passes again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heartbeat::{Heartbeat, environ_probe, health_check, liveliness_probe, readiness_probe};
use serde_json::{Value, json};

const ADDRESS: &str = "127.0.0.1:8080";
const MAINTENANCE_FLAG: &str = "/tmp/heartbeat-quickstart-maintenance";

/// The server accepts TCP connections: a real connect to our own listener.
#[readiness_probe(name = "listener", timeout = "500ms")]
async fn listener() -> std::io::Result<Value> {
    let start = std::time::Instant::now();
    tokio::net::TcpStream::connect(ADDRESS).await?;
    let connect_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    Ok(json!({ "address": ADDRESS, "connect_ms": connect_ms }))
}

/// Not ready while an operator has put the service into maintenance.
#[readiness_probe(name = "maintenance")]
async fn maintenance() -> Result<(), String> {
    match tokio::fs::try_exists(MAINTENANCE_FLAG).await {
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
    tokio::spawn(async {
        loop {
            LAST_TICK.store(now(), Ordering::Relaxed);
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
        .merge(Heartbeat::new().health_secret(secret.clone()).into_router());

    let listener = match tokio::net::TcpListener::bind(ADDRESS).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {ADDRESS}: {error} (is another quickstart running?)");
            std::process::exit(1);
        }
    };
    println!("heartbeat quickstart listening on http://{ADDRESS}");
    for path in [
        "/.well-known/heartbeat/readiness".to_owned(),
        "/.well-known/heartbeat/liveliness".to_owned(),
        "/.well-known/heartbeat/environ".to_owned(),
        format!("/health/?auth={secret}"),
        format!("/health/?auth={secret}&checks=_defaults,true"),
        "/health/ping".to_owned(),
    ] {
        println!("  curl -i 'http://{ADDRESS}{path}'");
    }
    println!("`touch {MAINTENANCE_FLAG}` makes readiness fail with a named check.");
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("server error: {error}");
        std::process::exit(1);
    }
}
