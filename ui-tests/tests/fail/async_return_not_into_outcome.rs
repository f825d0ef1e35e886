use heartbeat::health_check;

#[health_check]
async fn database() -> Option<bool> {
    Some(true)
}

fn main() {}
