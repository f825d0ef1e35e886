use heartbeat::{StatusChange, on_status_change};

#[on_status_change]
async fn notify(_change: StatusChange) {}

fn main() {}
