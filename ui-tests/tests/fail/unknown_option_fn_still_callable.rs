use heartbeat::readiness_probe;

#[readiness_probe(interval = "5s")]
fn f() -> bool {
    true
}

fn main() {
    let _ = f();
}
