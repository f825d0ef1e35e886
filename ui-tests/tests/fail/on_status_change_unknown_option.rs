use heartbeat::{StatusChange, on_status_change};

#[on_status_change(retries = 3)]
fn notify(_change: &StatusChange) {}

fn main() {}
