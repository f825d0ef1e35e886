use heartbeat::health_check;

#[health_check(name = "db,cache")]
fn database() -> bool {
    true
}

fn main() {}
