use heartbeat::readiness_probe;

#[readiness_probe]
fn ready(pool: impl Clone + Send + Sync + 'static) -> bool {
    let _ = pool;
    true
}

fn main() {}
