use heartbeat::readiness_probe;

#[derive(Clone)]
struct Pool;

#[readiness_probe]
async fn ready(pool: Pool) -> bool {
    let _ = pool;
    true
}

fn main() {}
