//! `/.well-known/heartbeat/readiness` and `/.well-known/heartbeat/liveliness`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Endpoints, wire};
use crate::engine::{Check, Served, run_all};
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

/// 200 with every check's object when all passed, `failure_status` otherwise. The body is
/// assembled from each result's rendering (see [`wire::write_check`]), sorted by name.
async fn probe(
    checks: &[Arc<Check>],
    lifecycle: Vec<(&str, Outcome)>,
    failure_status: StatusCode,
) -> Response {
    let results = run_all(checks).await;
    let lifecycle: Vec<(&str, String)> = lifecycle
        .into_iter()
        .map(|(name, outcome)| {
            (
                name,
                wire::outcome_object(&outcome, Duration::ZERO).to_string(),
            )
        })
        .collect();
    let passed = lifecycle.is_empty()
        && results
            .iter()
            .all(|(_, served)| served.report.outcome.passed());

    // A check is shown under the name its result asked for, unless another check holds that
    // key already; then under its registered name. Lifecycle checks take their keys last.
    let mut objects: BTreeMap<&str, Object<'_>> = BTreeMap::new();
    for (check, served) in &results {
        let key = match served.report.outcome.name() {
            Some(asked) if !objects.contains_key(asked) => asked,
            _ => check.info.name(),
        };
        objects.insert(key, Object::Served(served));
    }
    for (name, rendered) in &lifecycle {
        objects.insert(name, Object::Rendered(rendered));
    }

    let mut body = String::with_capacity(32 + 96 * objects.len());
    body.push_str("{\"checks\":{");
    for (i, (key, object)) in objects.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        wire::write_str(&mut body, key);
        body.push(':');
        match object {
            Object::Served(served) => wire::write_check(&mut body, served),
            Object::Rendered(rendered) => body.push_str(rendered),
        }
    }
    body.push_str(if passed {
        "},\"status\":true}"
    } else {
        "},\"status\":false}"
    });
    let status = if passed {
        StatusCode::OK
    } else {
        failure_status
    };
    wire::json(status, body)
}

enum Object<'a> {
    Served(&'a Served),
    Rendered(&'a str),
}
