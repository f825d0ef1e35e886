use heartbeat::readiness_probe;

#[readiness_probe(crate = 3)]
fn ready() -> bool {
    true
}

fn main() {}
