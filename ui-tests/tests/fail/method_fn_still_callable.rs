use heartbeat::liveliness_probe;

struct Database;

impl Database {
    #[liveliness_probe]
    fn ping(&self) -> bool {
        true
    }
}

fn main() {
    let _ = Database.ping();
}
