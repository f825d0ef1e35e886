//! `/.well-known/heartbeat/readiness` and `/.well-known/heartbeat/liveliness`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::{Endpoints, wire};
use crate::engine::{Check, run_all};
use crate::outcome::Outcome;

/// Readiness also fails while the process drains, is marked not ready, or has not started
/// (see [`crate::lifecycle`]); those checks are read now, never cached.
pub(super) async fn readiness(State(endpoints): State<Arc<Endpoints>>) -> Response {
    let lifecycle = crate::lifecycle::readiness();
    probe(&endpoints.readiness, lifecycle, endpoints.failure_status).await
}

pub(super) async fn liveliness(State(endpoints): State<Arc<Endpoints>>) -> Response {
    probe(&endpoints.liveliness, Vec::new(), endpoints.failure_status).await
}

/// 200 with every check's object when all passed, `failure_status` otherwise.
async fn probe(
    checks: &[Arc<Check>],
    lifecycle: Vec<(&str, Outcome)>,
    failure_status: StatusCode,
) -> Response {
    let results = run_all(checks).await;
    let mut passed = results
        .iter()
        .all(|(_, served)| served.report.outcome.passed());
    let mut objects = Map::new();
    for (check, served) in &results {
        insert_named(
            &mut objects,
            check,
            wire::check_object(served),
            served.report.outcome.name(),
        );
    }
    for (name, outcome) in lifecycle {
        passed = false;
        let object = wire::outcome_object(&outcome, Duration::ZERO, None);
        objects.insert(name.to_owned(), object);
    }
    let body = serde_json::json!({ "status": passed, "checks": objects });
    let status = if passed {
        StatusCode::OK
    } else {
        failure_status
    };
    wire::json(status, &body)
}

/// A check is shown under the name its result asked for, unless another check holds that key
/// already; then under its registered name.
fn insert_named(
    objects: &mut Map<String, Value>,
    check: &Check,
    object: Value,
    asked: Option<&str>,
) {
    let key = match asked {
        Some(asked) if !objects.contains_key(asked) => asked,
        _ => check.info.name(),
    };
    objects.insert(key.to_owned(), object);
}
