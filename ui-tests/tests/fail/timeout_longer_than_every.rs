use heartbeat::health_check;

#[health_check(every = "1s", timeout = "2s")]
async fn queue() -> bool {
    true
}

fn main() {}
