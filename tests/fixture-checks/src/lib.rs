//! Checks declared in a library crate of the workspace. A binary that links this crate, even
//! only through `use heartbeat_fixture_checks as _;`, serves them.
//!
//! It also holds the attributes' expansion to a strict call site: CI's clippy run with
//! `-D warnings` fails if the generated code trips a pedantic lint here.
#![warn(clippy::pedantic)]

use std::net::SocketAddr;

use heartbeat::{Provided, environ_probe, health_check, liveliness_probe, readiness_probe};
use serde_json::json;

/// A readiness probe that lives in another crate.
///
/// # Errors
///
/// Never; a real one would return the driver's error.
#[readiness_probe(name = "fixture-database")]
pub async fn database() -> Result<(), std::io::Error> {
    tokio::task::yield_now().await;
    Ok(())
}

/// A liveliness probe that lives in another crate.
#[liveliness_probe(name = "fixture-worker")]
#[must_use]
pub fn worker() -> bool {
    true
}

/// A health check that lives in another crate, outside the default set.
#[health_check(name = "fixture-queue", default = false)]
#[must_use]
pub fn queue() -> bool {
    true
}

/// An environ probe that lives in another crate.
#[environ_probe]
#[must_use]
pub fn fixture_build() -> serde_json::Value {
    json!({ "fixture": { "crate": env!("CARGO_PKG_NAME") } })
}

/// A readiness probe in another crate that takes a value the binary provides: the address of
/// a dependency (`.provide(address)`). A real one would connect; this one refuses port 0.
///
/// # Errors
///
/// When the address's port is 0.
#[readiness_probe(name = "fixture-provided")]
pub async fn provided(address: Provided<SocketAddr>) -> Result<serde_json::Value, String> {
    tokio::task::yield_now().await;
    if address.port() == 0 {
        Err(format!("{} has no port", *address))
    } else {
        Ok(json!({ "address": address.to_string() }))
    }
}
