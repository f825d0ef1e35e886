use heartbeat::{Provided, readiness_probe};

#[derive(Clone)]
struct Pool;

#[readiness_probe]
fn ready(Provided(pool): Provided<Pool>) -> bool {
    let _ = pool;
    true
}

fn main() {}
