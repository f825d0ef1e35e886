use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
fn notify(_change: &mut StatusChange) {}

fn main() {}
