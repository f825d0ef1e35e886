use std::rc::Rc;

use heartbeat::{StatusChange, on_status_change};

async fn yield_now() {}

#[on_status_change]
async fn notify(change: &StatusChange) {
    let shared = Rc::new(change.name.clone());
    yield_now().await;
    drop(shared);
}

fn main() {}
