use heartbeat::environ_probe;

#[environ_probe(name = "build")]
fn build() -> serde_json::Value {
    serde_json::json!({})
}

fn main() {}
