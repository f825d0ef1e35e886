use heartbeat::on_status_change;

#[on_status_change]
fn notify(_change: &str) {}

fn main() {}
