use heartbeat::health_check;

#[health_check(default = "no")]
fn database() -> bool {
    true
}

fn main() {}
