use heartbeat::{Provided, liveliness_probe};

#[derive(Clone)]
struct Pool;

#[liveliness_probe]
async fn alive(_: Provided<Pool>) -> bool {
    true
}

fn main() {}
