use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
fn notify(change: &StatusChange) -> bool {
    change.to == heartbeat::Level::Pass
}

fn main() {}
