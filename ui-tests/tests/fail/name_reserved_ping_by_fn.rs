use heartbeat::health_check;

// Named after the function: `/health/ping` answers `pong`, so no health check may be `ping`.
#[health_check]
fn ping() -> bool {
    true
}

fn main() {}
