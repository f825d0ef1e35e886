use heartbeat::readiness_probe;

#[readiness_probe(max_stale = "30s")]
async fn database() -> bool {
    true
}

fn main() {}
