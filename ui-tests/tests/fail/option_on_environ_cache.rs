use heartbeat::environ_probe;

#[environ_probe(cache = "5s")]
fn build() -> serde_json::Value {
    serde_json::json!({})
}

fn main() {}
