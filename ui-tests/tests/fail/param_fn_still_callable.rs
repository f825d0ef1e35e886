// A parameter at fault is reported alone: the function is still emitted and callable.
use heartbeat::readiness_probe;

#[readiness_probe]
fn ready(url: &str) -> bool {
    !url.is_empty()
}

fn main() {
    assert!(ready("http://db"));
}
