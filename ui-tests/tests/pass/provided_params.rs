//! Every accepted form of a parameter: `Provided<T>` by name or full path, through an alias,
//! `mut`, raw identifiers, several at once, on every attribute, sync and async; the functions
//! stay callable as written.

use std::sync::Arc;

use heartbeat::{Outcome, Provided, environ_probe, health_check, liveliness_probe, readiness_probe};

#[derive(Clone, Debug, Default)]
struct Pool;

type Shared = Provided<Arc<str>>;

#[readiness_probe]
fn one(pool: Provided<Pool>) -> bool {
    let _ = pool;
    true
}

#[readiness_probe]
async fn several(pool: heartbeat::Provided<Pool>, mut name: Shared, r#type: Provided<u8>) -> Outcome {
    name = Provided(Arc::from(&*name.0));
    Outcome::pass().with("name", &*name.0).with("type", *r#type).with("pool", format!("{:?}", *pool))
}

#[liveliness_probe(name = "alive", timeout = "1s", cache = "0s")]
fn alive(static_name: Provided<&'static str>, elided: Provided<&str>) -> Result<(), String> {
    if static_name.is_empty() || elided.is_empty() { Err("no name".to_owned()) } else { Ok(()) }
}

#[health_check(default = false)]
async fn health(pool: Provided<Pool>) -> (bool, serde_json::Value) {
    let _ = pool.into_inner();
    (true, serde_json::Value::Null)
}

#[environ_probe]
fn environ(pool: Provided<Pool>) -> serde_json::Value {
    serde_json::json!({ "pool": format!("{:?}", pool.0) })
}

/// Stacked attributes share one function, and one value each.
#[readiness_probe(name = "stacked-ready")]
#[liveliness_probe(name = "stacked-alive")]
fn stacked(pool: Provided<Pool>) -> impl heartbeat::IntoOutcome {
    let _ = pool;
    true
}

#[deprecated(note = "kept for old dashboards")]
#[readiness_probe(name = "old")]
fn old(pool: Provided<Pool>) -> bool {
    let _ = pool;
    true
}

fn main() {
    assert!(one(Provided(Pool)));
    drop(several(Provided(Pool), Provided(Arc::from("x")), Provided(1)));
    assert!(alive(Provided("a"), Provided("b")).is_ok());
    drop(health(Provided(Pool)));
    let _ = environ(Provided(Pool));
    let _ = stacked(Provided(Pool));
    #[allow(deprecated)]
    let _ = old(Provided(Pool));
}
