use heartbeat::readiness_probe;

#[readiness_probe(critical = "no", failure_threshold = "3", success_threshold = -1, every = 10)]
async fn database() -> bool {
    true
}

fn main() {}
