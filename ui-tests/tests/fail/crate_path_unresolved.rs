use heartbeat::readiness_probe;

#[readiness_probe(crate = nonexistent_crate)]
fn ready() -> bool {
    true
}

fn main() {}
