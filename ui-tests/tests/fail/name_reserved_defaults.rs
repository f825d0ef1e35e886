use heartbeat::health_check;

#[health_check(name = "_defaults")]
fn database() -> bool {
    true
}

fn main() {}
