use heartbeat::readiness_probe;

#[readiness_probe]
fn version() -> impl std::fmt::Display {
    "1.2.3"
}

fn main() {}
