use std::rc::Rc;

use heartbeat::readiness_probe;

async fn yield_now() {}

#[readiness_probe]
async fn ready() -> bool {
    let shared = Rc::new(true);
    yield_now().await;
    *shared
}

fn main() {}
