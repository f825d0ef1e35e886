//! `/.well-known/heartbeat/environ`: what the binary was built with, plus the environ probes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::{Endpoints, auth, wire};

/// Always 200. The facts that never change (compiler, target, profile, `build_info!()`'s
/// libraries) are rendered once per process ([`crate::environ::document`]); a request adds
/// `uptime` and runs the probes. Each probe's keys are merged over the facts in the order of the
/// probes' names, so on a collision the probe whose name sorts last wins. `status` (the logical
/// and of the probes') and `errors` (each failed probe's message) are always ours. With
/// `protect_environ`, the `/health/` secret is asked for first.
pub(super) async fn environ(State(endpoints): State<Arc<Endpoints>>, request: Request) -> Response {
    endpoints.background.ensure();
    if endpoints.protect_environ {
        let secret = endpoints.secret.as_deref();
        if let Err(refusal) = auth::guard(secret, request.uri().query(), request.headers()) {
            return refusal.into_response();
        }
    }
    let document = crate::environ::document();
    let uptime = wire::seconds(endpoints.started.elapsed());
    if endpoints.environ.checks.monitors().is_empty() {
        return wire::json(StatusCode::OK, document.without_probes(&uptime));
    }
    let mut errors = Map::new();
    let environ = &endpoints.environ;
    let answer = environ.checks.evaluate(None).await;
    for (monitor, state) in environ.checks.monitors().iter().zip(answer.states.iter()) {
        let outcome = &state.outcome;
        if !outcome.passed() {
            let message = outcome.message().unwrap_or("the probe failed");
            errors.insert(monitor.info.name().to_owned(), message.into());
        }
    }
    let status = Value::Bool(errors.is_empty());
    let errors = (!errors.is_empty()).then_some(Value::Object(errors));
    let probes = answer.states.iter().flat_map(|state| state.outcome.data());
    let body = document.with_probes(&uptime, probes, &status, errors.as_ref());
    wire::json(StatusCode::OK, body)
}
