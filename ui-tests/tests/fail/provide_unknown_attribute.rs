#[derive(Clone, heartbeat::Provide)]
#[heartbeat(krate = heartbeat)]
struct AppState {
    #[heartbeat(skipped)]
    name: String,
}

fn main() {}
