//! Every return type a readiness, liveliness or health check accepts, on async functions.

use heartbeat::{Outcome, health_check, liveliness_probe, readiness_probe};
use serde_json::{Value, json};

#[readiness_probe]
async fn returns_bool() -> bool {
    tokio::task::yield_now().await;
    true
}

#[readiness_probe]
async fn returns_unit_implicit() {}

#[liveliness_probe]
async fn returns_unit_explicit() -> () {}

#[health_check]
async fn returns_outcome() -> Outcome {
    Outcome::pass()
}

#[readiness_probe]
async fn returns_value() -> Value {
    json!({ "version": 3 })
}

#[liveliness_probe]
async fn returns_status_and_value() -> (bool, Value) {
    (true, json!({ "depth": 0 }))
}

#[health_check]
async fn returns_str_name() -> (&'static str, bool, Value) {
    ("primary", true, json!({}))
}

#[health_check]
async fn returns_string_name() -> (String, bool, Value) {
    (String::from("replica"), true, Value::Null)
}

#[readiness_probe]
async fn returns_result() -> Result<(), std::io::Error> {
    tokio::task::yield_now().await;
    Ok(())
}

#[liveliness_probe]
async fn holds_send_state_across_await() -> Result<bool, String> {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(1));
    tokio::task::yield_now().await;
    let n = *shared.lock().map_err(|e| e.to_string())?;
    Ok(n == 1)
}

#[readiness_probe]
async fn returns_impl() -> impl heartbeat::IntoOutcome {
    Ok::<_, std::io::Error>(true)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // The functions stay ordinary and callable.
    assert!(returns_bool().await);
    returns_unit_implicit().await;
    returns_unit_explicit().await;
    assert!(returns_outcome().await.passed());
    let _ = returns_value().await;
    let _ = returns_status_and_value().await;
    let _ = returns_str_name().await;
    let _ = returns_string_name().await;
    let _ = returns_result().await;
    let _ = holds_send_state_across_await().await;
    let _ = returns_impl().await;
}
