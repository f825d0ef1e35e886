use heartbeat::{StatusChange, on_status_change};

#[on_status_change(every = "10s")]
fn notify(_change: &StatusChange) {}

fn main() {}
