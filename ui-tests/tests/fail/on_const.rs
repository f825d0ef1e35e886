use heartbeat::health_check;

#[health_check]
const READY: bool = true;

fn main() {}
