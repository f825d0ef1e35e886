//! Compile-time facts about the build, for `/.well-known/heartbeat/environ`.

use serde_json::{Map, Value, json};

/// The compiler's version as `[major, minor, patch]`, or `null` if the build could not ask it.
pub(crate) fn rust_version() -> Value {
    let text = env!("HEARTBEAT_RUSTC_VERSION");
    // `1.95.0`, `1.96.0-nightly`: the numbers before any pre-release suffix.
    let numbers: Vec<u64> = text
        .split(['.', '-'])
        .take(3)
        .map_while(|part| part.parse().ok())
        .collect();
    if numbers.len() == 3 {
        json!(numbers)
    } else {
        Value::Null
    }
}

/// Every fact known at compile time, as the environ document's first keys.
pub(crate) fn facts() -> Map<String, Value> {
    let mut facts = Map::new();
    facts.insert("rust".to_owned(), rust_version());
    facts.insert("rustc".to_owned(), env!("HEARTBEAT_RUSTC_VERSION").into());
    facts.insert("target".to_owned(), env!("HEARTBEAT_TARGET").into());
    facts.insert("profile".to_owned(), env!("HEARTBEAT_PROFILE").into());
    facts.insert("heartbeat".to_owned(), env!("CARGO_PKG_VERSION").into());
    facts.insert("libraries".to_owned(), Value::Object(Map::new()));
    facts
}
