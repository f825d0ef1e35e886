//! `/.well-known/heartbeat/environ`: what the binary was built with, plus the environ probes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::query::Query;
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
    // With `Details` other than `Always`, a request without the secret sees no library
    // versions and no probe's message.
    let reveal = endpoints.details == crate::Details::Always
        || Query::parse(request.uri().query())
            .is_ok_and(|query| endpoints.reveal(&query, request.headers()));
    let document = crate::environ::document();
    let uptime = wire::seconds(endpoints.started.elapsed());
    if endpoints.environ.checks.monitors().is_empty() {
        if !reveal {
            let body = document.with_probes(&uptime, std::iter::empty(), &Value::Bool(true), None);
            return wire::json(StatusCode::OK, withheld(&body));
        }
        return wire::json(StatusCode::OK, document.without_probes(&uptime));
    }
    let mut errors = Map::new();
    let environ = &endpoints.environ;
    let answer = environ.checks.evaluate(None).await;
    for (monitor, state) in environ.checks.monitors().iter().zip(answer.states.iter()) {
        let outcome = &state.outcome;
        if !outcome.passed() {
            let message = outcome.message().unwrap_or("the probe failed");
            let message = if reveal {
                message
            } else {
                super::view::WITHHELD
            };
            errors.insert(monitor.info.name().to_owned(), message.into());
        }
    }
    let status = Value::Bool(errors.is_empty());
    let errors = (!errors.is_empty()).then_some(Value::Object(errors));
    let probes = answer.states.iter().flat_map(|state| state.outcome.data());
    let body = document.with_probes(&uptime, probes, &status, errors.as_ref());
    if !reveal {
        return wire::json(StatusCode::OK, withheld(&body));
    }
    wire::json(StatusCode::OK, body)
}

/// The environ document without the libraries' versions (`libraries` empty, `lockfile` gone,
/// `libraries_note` saying why), for a request that may not see details.
fn withheld(body: &str) -> String {
    let Ok(Value::Object(mut document)) = serde_json::from_str::<Value>(body) else {
        return body.to_owned();
    };
    document.insert("libraries".to_owned(), Value::Object(Map::new()));
    document.remove("lockfile");
    document.insert(
        "libraries_note".to_owned(),
        "reason withheld: send the /health/ secret to see the libraries".into(),
    );
    Value::Object(document).to_string()
}
