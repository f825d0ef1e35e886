use heartbeat::environ_probe;

#[environ_probe(critical = false)]
fn build() -> serde_json::Value {
    serde_json::json!({})
}

fn main() {}
