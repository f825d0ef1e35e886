use heartbeat::health_check;

#[health_check]
extern "C" fn database() -> bool {
    true
}

fn main() {}
