use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
extern "C" fn notify(_change: &StatusChange) {}

fn main() {}
