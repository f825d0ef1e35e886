use heartbeat::readiness_probe;

#[readiness_probe]
const fn ready() -> bool {
    true
}

fn main() {}
