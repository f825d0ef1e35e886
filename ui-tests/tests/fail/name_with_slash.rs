use heartbeat::health_check;

#[health_check(name = "db/primary")]
fn database() -> bool {
    true
}

fn main() {}
