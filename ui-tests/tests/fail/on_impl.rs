use heartbeat::liveliness_probe;

struct Database;

#[liveliness_probe]
impl Database {
    fn ping() -> bool {
        true
    }
}

fn main() {}
