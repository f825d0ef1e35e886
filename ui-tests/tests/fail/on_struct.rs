use heartbeat::readiness_probe;

#[readiness_probe]
struct Database;

fn main() {}
