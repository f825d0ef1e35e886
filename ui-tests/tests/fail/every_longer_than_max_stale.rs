use heartbeat::readiness_probe;

#[readiness_probe(every = "30s", max_stale = "10s")]
async fn database() -> bool {
    true
}

fn main() {}
