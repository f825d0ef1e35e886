use heartbeat::health_check;

#[health_check(name = 3)]
fn database() -> bool {
    true
}

fn main() {}
