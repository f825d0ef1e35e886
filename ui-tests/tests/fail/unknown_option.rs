use heartbeat::readiness_probe;

#[readiness_probe(interval = "5s")]
fn ready() -> bool {
    true
}

fn main() {}
