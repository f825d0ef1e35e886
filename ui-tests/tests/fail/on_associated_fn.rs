use heartbeat::{liveliness_probe, readiness_probe};

struct Database;

impl Database {
    #[readiness_probe]
    fn ping() -> bool {
        true
    }

    #[liveliness_probe(name = "pool")]
    async fn pool() -> Result<(), String> {
        Ok(())
    }
}

fn main() {
    assert!(Database::ping());
    drop(Database::pool());
}
