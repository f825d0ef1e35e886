use heartbeat::readiness_probe;

#[readiness_probe]
fn ready() -> i32 {
    0
}

fn main() {}
