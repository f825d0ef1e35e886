use heartbeat::readiness_probe;

#[readiness_probe(timeout = "0s")]
fn ready() -> bool {
    true
}

fn main() {}
