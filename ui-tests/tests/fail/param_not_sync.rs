use std::cell::Cell;

use heartbeat::{Provided, environ_probe};

#[environ_probe]
fn build(counter: Provided<Cell<u64>>) -> serde_json::Value {
    serde_json::json!({ "counter": counter.get() })
}

fn main() {}
