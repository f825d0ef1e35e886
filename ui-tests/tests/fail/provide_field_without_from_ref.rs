// The derive takes each field with axum's `FromRef`; a field without it is reported on its type.
#[derive(Clone)]
struct Pool;

#[derive(Clone, heartbeat::Provide)]
struct AppState {
    pool: Pool,
}

fn main() {}
