use heartbeat::readiness_probe;

struct Database;

impl Database {
    #[readiness_probe]
    fn ping(&self) -> bool {
        true
    }
}

fn main() {}
