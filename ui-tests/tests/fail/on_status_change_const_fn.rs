use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
const fn notify(_change: &StatusChange) {}

fn main() {}
