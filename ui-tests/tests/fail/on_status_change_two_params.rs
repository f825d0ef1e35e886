use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
fn notify(_change: &StatusChange, _count: u32) {}

fn main() {}
