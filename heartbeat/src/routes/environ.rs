//! `/.well-known/heartbeat/environ`: what the binary was built with, plus the environ probes.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::{Endpoints, auth, wire};

/// Always 200. Built-in facts come first; each probe's keys are merged over them in the order
/// of the probes' names, so on a collision the probe whose name sorts last wins. `status` (the
/// logical and of the probes') and `errors` (each failed probe's message) are always ours.
/// With `protect_environ`, the `/health/` secret is asked for first.
pub(super) async fn environ(
    State(endpoints): State<Arc<Endpoints>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if endpoints.protect_environ {
        let secret = endpoints.secret.as_deref();
        if let Err(refusal) = auth::guard(secret, query.as_deref(), &headers) {
            return refusal.into_response();
        }
    }
    let mut document = crate::environ::facts();
    document.insert(
        "uptime".to_owned(),
        wire::seconds(endpoints.started.elapsed()),
    );
    let mut errors = Map::new();
    let environ = &endpoints.environ;
    let answer = environ.checks.evaluate(None).await;
    for (monitor, state) in environ.checks.monitors().iter().zip(answer.states.iter()) {
        let outcome = &state.outcome;
        document.extend(outcome.data().clone());
        if !outcome.passed() {
            let message = outcome.message().unwrap_or("the probe failed");
            errors.insert(monitor.info.name().to_owned(), message.into());
        }
    }
    if !document.contains_key("libraries") {
        document.insert("libraries".to_owned(), Value::Object(Map::new()));
        document.insert(
            "libraries_note".to_owned(),
            crate::environ::NO_LIBRARIES.into(),
        );
    }
    document.insert("status".to_owned(), errors.is_empty().into());
    if errors.is_empty() {
        document.remove("errors");
    } else {
        document.insert("errors".to_owned(), Value::Object(errors));
    }
    wire::json(StatusCode::OK, Value::Object(document).to_string())
}
