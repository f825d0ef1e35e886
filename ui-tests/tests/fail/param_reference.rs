use heartbeat::readiness_probe;

#[readiness_probe]
fn ready(url: &str) -> bool {
    !url.is_empty()
}

fn main() {}
