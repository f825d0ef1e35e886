use heartbeat::health_check;

#[health_check(every = "10s", cache = "5s")]
async fn queue() -> bool {
    true
}

fn main() {}
