//! Checks declared in a library crate of the workspace. A binary that links this crate, even
//! only through `use heartbeat_fixture_checks as _;`, serves them.

use heartbeat::{environ_probe, health_check, liveliness_probe, readiness_probe};
use serde_json::json;

/// A readiness probe that lives in another crate.
#[readiness_probe(name = "fixture-database")]
pub async fn database() -> Result<(), std::io::Error> {
    Ok(())
}

/// A liveliness probe that lives in another crate.
#[liveliness_probe(name = "fixture-worker")]
pub fn worker() -> bool {
    true
}

/// A health check that lives in another crate, outside the default set.
#[health_check(name = "fixture-queue", default = false)]
pub fn queue() -> bool {
    true
}

/// An environ probe that lives in another crate.
#[environ_probe]
pub fn fixture_build() -> serde_json::Value {
    json!({ "fixture": { "crate": env!("CARGO_PKG_NAME") } })
}
