use heartbeat::readiness_probe;

#[readiness_probe]
fn ready(seen: &mut Vec<u64>) -> bool {
    seen.push(1);
    true
}

fn main() {}
