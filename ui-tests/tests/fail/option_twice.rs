use heartbeat::readiness_probe;

#[readiness_probe(timeout = "1s", timeout = "2s")]
fn ready() -> bool {
    true
}

fn main() {}
