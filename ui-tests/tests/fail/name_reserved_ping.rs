use heartbeat::health_check;

#[health_check(name = "ping")]
fn database() -> bool {
    true
}

fn main() {}
