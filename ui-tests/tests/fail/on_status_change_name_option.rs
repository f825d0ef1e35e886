use heartbeat::{StatusChange, on_status_change};

#[on_status_change(name = "pager")]
fn notify(_change: &StatusChange) {}

fn main() {}
