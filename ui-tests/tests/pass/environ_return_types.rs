//! Every return type an environ probe accepts, sync and async.

use heartbeat::environ_probe;
use serde_json::{Value, json};

#[environ_probe]
fn returns_value() -> Value {
    json!({ "git": "abc123" })
}

#[environ_probe]
fn returns_status_and_value() -> (bool, Value) {
    (true, json!({ "region": "eu" }))
}

#[environ_probe]
fn returns_result() -> Result<Value, std::env::VarError> {
    std::env::var("HOSTNAME").map(|host| json!({ "host": host }))
}

#[environ_probe]
fn returns_result_of_status() -> Result<(bool, Value), String> {
    Ok((false, json!({})))
}

#[environ_probe]
async fn returns_value_async() -> Value {
    json!({ "pool": 8 })
}

#[environ_probe]
async fn returns_status_and_value_async() -> (bool, Value) {
    (true, json!({}))
}

#[environ_probe(timeout = "2s")]
async fn returns_result_async() -> Result<Value, std::io::Error> {
    Ok(json!({}))
}

fn main() {
    let _ = returns_value();
    let _ = returns_status_and_value();
    let _ = returns_result();
    let _ = returns_result_of_status();
    drop(returns_value_async());
    drop(returns_status_and_value_async());
    drop(returns_result_async());
}
