#[derive(Clone)]
struct AppState;

fn main() {
    let _ = heartbeat::Heartbeat::new().with_state(AppState);
}
