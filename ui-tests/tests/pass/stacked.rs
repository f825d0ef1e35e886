//! Attributes stack: one function may be several kinds of check at once.

use heartbeat::{health_check, liveliness_probe, readiness_probe};

#[readiness_probe]
#[liveliness_probe]
fn event_loop() -> bool {
    true
}

#[readiness_probe(name = "db", timeout = "1s")]
#[liveliness_probe(name = "db-alive")]
#[health_check(name = "database", default = false)]
async fn database() -> Result<(), String> {
    Ok(())
}

// The same attribute twice, under two names: two readiness checks of one function.
#[readiness_probe(name = "primary")]
#[readiness_probe(name = "replica")]
fn replicas() -> bool {
    true
}

fn main() {
    assert!(event_loop());
    assert!(replicas());
    drop(database());
}
