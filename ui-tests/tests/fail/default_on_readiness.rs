use heartbeat::readiness_probe;

#[readiness_probe(default = false)]
fn ready() -> bool {
    true
}

fn main() {}
