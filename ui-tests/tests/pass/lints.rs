//! A user crate with strict lints: the generated code must not trip any of them.

#![deny(missing_docs, unused_qualifications, unreachable_pub, warnings)]
#![deny(clippy::pedantic)]
#![deny(rust_2018_idioms, unused, nonstandard_style, missing_debug_implementations)]
#![forbid(unsafe_code)]

use heartbeat::{
    Outcome, Provided, environ_probe, health_check, liveliness_probe, readiness_probe,
};
use serde_json::{Value, json};

/// Ready when the configuration loaded.
#[readiness_probe(name = "config", timeout = "2s")]
pub fn config() -> bool {
    true
}

/// Alive while the event loop turns.
#[liveliness_probe(cache = "0s")]
pub async fn event_loop() -> Result<(), String> {
    Ok(())
}

/// What the build knows about itself.
#[environ_probe]
pub fn build() -> Value {
    json!({ "git": "abc123" })
}

/// The database answers.
#[health_check(default = false, crate = ::heartbeat)]
pub fn database() -> Outcome {
    Outcome::pass()
}

/// Kept for old dashboards: the registration calls it without a deprecation warning.
#[deprecated(note = "use `config`")]
#[readiness_probe(name = "old-config")]
pub fn old_config() -> bool {
    true
}

/// The same, with the attribute first.
#[health_check(default = false)]
#[deprecated(note = "use `database`")]
pub async fn old_database() -> bool {
    true
}

/// The pool answers: a check with provided values, sync and async.
#[readiness_probe(name = "pool")]
pub async fn pool(size: Provided<u32>, name: Provided<String>) -> bool {
    *size > 0 && !name.is_empty()
}

/// The same, sync.
#[liveliness_probe(name = "pool-alive")]
pub fn pool_alive(size: Provided<u32>) -> bool {
    *size > 0
}

/// Tells someone when a check changes level, sync.
#[heartbeat::on_status_change]
pub fn tell(change: &heartbeat::StatusChange) {
    let _ = &change.name;
}

/// The same, async, with an error to log.
#[heartbeat::on_status_change(timeout = "1s")]
pub async fn tell_async(change: &heartbeat::StatusChange) -> Result<(), String> {
    if change.name.is_empty() {
        return Err("no name".to_owned());
    }
    Ok(())
}

/// The application's state, for `.with_state(…)`.
#[derive(Clone, Debug, heartbeat::Provide)]
pub struct State;

/// Checks in a public module.
pub mod nested {
    /// Not on `/health/` by default.
    #[heartbeat::health_check(name = "nested-cache")]
    #[heartbeat::readiness_probe(name = "nested-cache-ready")]
    pub async fn cache() -> (bool, serde_json::Value) {
        (true, serde_json::Value::Null)
    }
}

fn main() {
    assert!(config());
    drop(event_loop());
    let _ = build();
    let _ = database();
    drop(nested::cache());
    drop(pool(Provided(1), Provided(String::new())));
    assert!(pool_alive(Provided(1)));
    let _ = State;
}
