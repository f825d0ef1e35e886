use heartbeat::health_check;

#[health_check(name = "")]
fn database() -> bool {
    true
}

fn main() {}
