use heartbeat::on_status_change;

#[on_status_change]
struct Pager;

fn main() {}
