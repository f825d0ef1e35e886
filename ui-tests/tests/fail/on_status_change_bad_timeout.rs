use heartbeat::{StatusChange, on_status_change};

#[on_status_change(timeout = "soon")]
fn notify(_change: &StatusChange) {}

fn main() {}
