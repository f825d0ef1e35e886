//! Checks declared by a crate that depends on heartbeat as `heartbeat2`, pointing the attributes
//! at it with `crate = …`. That this crate compiles is the test: it has no `heartbeat` to fall
//! back on. The `renamed_crate` pass case calls these functions from another crate.

use heartbeat2::{Provided, environ_probe, health_check, readiness_probe};

/// A readiness probe through a renamed dependency.
#[readiness_probe(crate = heartbeat2)]
pub fn ready() -> bool {
    true
}

/// A liveliness probe, by the attribute's full path and a leading `::`.
#[heartbeat2::liveliness_probe(crate = ::heartbeat2, timeout = "1s")]
pub async fn alive() -> heartbeat2::Outcome {
    heartbeat2::Outcome::pass()
}

/// A health check, with the path given as a string as serde and tokio accept it.
#[health_check(crate = "heartbeat2", default = false)]
pub fn database() -> Result<(), String> {
    Ok(())
}

/// An environ probe.
#[environ_probe(crate = heartbeat2)]
pub fn build() -> serde_json::Value {
    serde_json::json!({})
}

/// A check with a provided value.
#[readiness_probe(crate = heartbeat2, name = "renamed-provided")]
pub async fn provided(count: Provided<u64>) -> bool {
    *count > 0
}

/// A status-change subscriber, through the renamed crate.
#[heartbeat2::on_status_change(crate = heartbeat2, timeout = "1s")]
pub async fn subscriber(change: &heartbeat2::StatusChange) {
    let _ = &change.name;
}

/// A state for `.with_state(…)`, through the renamed crate.
#[derive(Clone, heartbeat2::Provide)]
#[heartbeat(crate = heartbeat2)]
pub struct State;
