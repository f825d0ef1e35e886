//! `#[derive(heartbeat::Provide)]` on named, tuple and unit structs, with skipped fields, beside
//! axum's `FromRef` written by hand.

use axum::extract::FromRef;

#[derive(Clone)]
struct Pool;

#[derive(Clone)]
struct Client;

#[derive(Clone, heartbeat::Provide)]
struct Named {
    pool: Pool,
    #[heartbeat(skip)]
    #[allow(dead_code)]
    unused: std::rc::Rc<()>,
}

impl FromRef<Named> for Pool {
    fn from_ref(state: &Named) -> Self {
        state.pool.clone()
    }
}

#[derive(Clone, heartbeat::Provide)]
struct Tuple(Client, #[heartbeat(skip)] #[allow(dead_code)] String);

impl FromRef<Tuple> for Client {
    fn from_ref(state: &Tuple) -> Self {
        state.0.clone()
    }
}

#[derive(Clone, heartbeat::Provide)]
struct Unit;

fn main() {
    let _ = heartbeat::Heartbeat::new()
        .with_state(Tuple(Client, String::new()))
        .with_state(Unit)
        .provide(Pool);
    let named = Named { pool: Pool, unused: std::rc::Rc::new(()) };
    let _ = heartbeat::Provide::provide_to(&named, heartbeat::Heartbeat::new());
}
