//! Every option, used validly.

use heartbeat::{environ_probe, health_check, liveliness_probe, readiness_probe};

#[readiness_probe(name = "config")]
fn named() -> bool {
    true
}

// `ping` is reserved for health checks only (`/health/ping`); a probe may take it.
#[readiness_probe(name = "ping")]
fn ping_probe() -> bool {
    true
}

#[liveliness_probe]
fn ping() -> bool {
    true
}

#[readiness_probe(timeout = "250ms")]
fn timeout_ms() -> bool {
    true
}

#[liveliness_probe(timeout = "1.5s")]
fn timeout_fraction() -> bool {
    true
}

#[liveliness_probe(timeout = "1m", cache = "0s")]
fn timeout_minute_no_cache() -> bool {
    true
}

#[health_check(cache = "5s", timeout = "2s")]
fn cached() -> bool {
    true
}

#[health_check(default = false)]
fn not_default() -> bool {
    true
}

#[health_check(default = true)]
fn explicitly_default() -> bool {
    true
}

#[readiness_probe(crate = ::heartbeat)]
fn crate_path() -> bool {
    true
}

#[health_check(name = "everything", default = false, timeout = "100ms", cache = "1h", crate = ::heartbeat)]
async fn every_option() -> bool {
    true
}

#[environ_probe(timeout = "500ms", crate = heartbeat)]
fn environ_options() -> serde_json::Value {
    serde_json::json!({})
}

#[readiness_probe(name = "trailing-comma", )]
fn trailing_comma() -> bool {
    true
}

#[readiness_probe(critical = false, failure_threshold = 3, success_threshold = 2)]
fn levels() -> bool {
    true
}

#[health_check(every = "10s", max_stale = "25s", timeout = "2s", default = false)]
async fn background() -> bool {
    true
}

#[liveliness_probe(every = "1m", critical = true)]
fn background_sync() -> bool {
    true
}

fn main() {
    let _ = (named(), timeout_ms(), timeout_fraction(), timeout_minute_no_cache());
    let _ = (cached(), not_default(), explicitly_default(), crate_path(), trailing_comma());
    drop(every_option());
    let _ = environ_options();
}
