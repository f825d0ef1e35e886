use heartbeat::on_status_change;

#[on_status_change]
fn notify() {}

fn main() {}
