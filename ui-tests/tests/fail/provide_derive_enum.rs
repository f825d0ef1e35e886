#[derive(Clone, heartbeat::Provide)]
enum AppState {
    Empty,
}

fn main() {}
