use heartbeat::readiness_probe;

#[readiness_probe(timeout = "-1s")]
fn ready() -> bool {
    true
}

fn main() {}
