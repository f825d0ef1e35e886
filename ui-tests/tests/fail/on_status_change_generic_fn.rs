use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
fn notify<T: Default>(_change: &StatusChange) {}

fn main() {}
