//! Every return type a readiness, liveliness or health check accepts, on sync functions.

use heartbeat::{Outcome, health_check, liveliness_probe, readiness_probe};
use serde_json::{Value, json};

#[readiness_probe]
fn returns_bool() -> bool {
    true
}

#[readiness_probe]
fn returns_unit_implicit() {}

#[liveliness_probe]
fn returns_unit_explicit() -> () {}

#[health_check]
fn returns_outcome() -> Outcome {
    Outcome::pass().with("connections", 3)
}

#[readiness_probe]
fn returns_value() -> Value {
    json!({ "version": 3 })
}

#[liveliness_probe]
fn returns_status_and_value() -> (bool, Value) {
    (true, json!({ "depth": 0 }))
}

#[health_check]
fn returns_str_name() -> (&'static str, bool, Value) {
    ("primary", true, json!({}))
}

#[health_check]
fn returns_string_name() -> (String, bool, Value) {
    (String::from("replica"), true, Value::Null)
}

#[readiness_probe]
fn returns_result_io() -> std::io::Result<()> {
    Ok(())
}

#[liveliness_probe]
fn returns_result_string() -> Result<bool, String> {
    Err("down".to_owned())
}

#[health_check]
fn returns_result_nested() -> Result<Result<Outcome, std::fmt::Error>, &'static str> {
    Ok(Ok(Outcome::fail("degraded")))
}

#[readiness_probe]
fn returns_result_tuple() -> Result<(bool, Value), std::num::ParseIntError> {
    "7".parse::<u8>().map(|n| (n > 0, json!({ "n": n })))
}

/// An opaque return type, alone or inside another: inference names it.
#[health_check]
fn returns_impl() -> impl heartbeat::IntoOutcome {
    true
}

#[readiness_probe]
fn returns_result_impl() -> Result<impl heartbeat::IntoOutcome, String> {
    Ok(Outcome::pass())
}

#[heartbeat::environ_probe]
fn returns_impl_environ() -> impl heartbeat::IntoEnviron {
    json!({ "opaque": true })
}

fn main() {
    // The functions stay ordinary and callable.
    assert!(returns_bool());
    returns_unit_implicit();
    returns_unit_explicit();
    assert!(returns_outcome().passed());
    let _ = returns_value();
    let _ = returns_status_and_value();
    let _ = returns_str_name();
    let _ = returns_string_name();
    let _ = returns_result_io();
    let _ = returns_result_string();
    let _ = returns_result_nested();
    let _ = returns_result_tuple();
    let _ = returns_impl();
    let _ = returns_result_impl();
    let _ = returns_impl_environ();
}
