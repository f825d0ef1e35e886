use heartbeat::{Provided, health_check};

struct Pool;

#[health_check]
fn database(pool: Provided<Pool>) -> bool {
    let _ = pool;
    true
}

fn main() {}
