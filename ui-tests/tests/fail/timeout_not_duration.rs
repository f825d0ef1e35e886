use heartbeat::readiness_probe;

#[readiness_probe(timeout = "fast")]
fn ready() -> bool {
    true
}

fn main() {}
