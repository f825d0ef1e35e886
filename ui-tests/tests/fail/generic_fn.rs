use heartbeat::readiness_probe;

#[readiness_probe]
fn ready<T: Default>() -> bool {
    true
}

fn main() {}
