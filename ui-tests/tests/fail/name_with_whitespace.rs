use heartbeat::health_check;

#[health_check(name = " database")]
fn database() -> bool {
    true
}

fn main() {}
