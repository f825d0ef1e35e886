use heartbeat::readiness_probe;

#[readiness_probe(timeout)]
fn ready() -> bool {
    true
}

fn main() {}
