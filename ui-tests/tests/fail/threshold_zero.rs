use heartbeat::{liveliness_probe, readiness_probe};

#[readiness_probe(failure_threshold = 0)]
fn database() -> bool {
    true
}

#[liveliness_probe(success_threshold = 0)]
fn event_loop() -> bool {
    true
}

fn main() {}
