#[derive(Clone, heartbeat::Provide)]
struct AppState<P> {
    pool: P,
}

fn main() {}
