// Every problem of one attribute is reported at once, each on its own token.
use heartbeat::health_check;

#[health_check(name = "", timeout = "0s", interval = "5s")]
fn database() -> bool {
    true
}

fn main() {}
