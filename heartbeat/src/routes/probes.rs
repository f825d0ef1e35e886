//! `/.well-known/heartbeat/readiness` and `/.well-known/heartbeat/liveliness`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use tokio::time::Instant;

use super::watch::{self, Watched};
use super::{Endpoint, Endpoints, wire};
use crate::engine::{self, Answer};
use crate::outcome::Outcome;

/// Readiness also fails while the process drains, is marked not ready, or has not started
/// (see [`crate::lifecycle`]); those conditions are read after the checks ran, never cached,
/// so a probe in flight when SIGTERM arrives already fails.
pub(super) async fn readiness(
    State(endpoints): State<Arc<Endpoints>>,
    RawQuery(query): RawQuery,
) -> Response {
    if watch::asked(query.as_deref()) {
        return watch::stream(endpoints, Watched::Readiness).await;
    }
    probe(&endpoints, &endpoints.readiness, true).await
}

pub(super) async fn liveliness(
    State(endpoints): State<Arc<Endpoints>>,
    RawQuery(query): RawQuery,
) -> Response {
    if watch::asked(query.as_deref()) {
        return watch::stream(endpoints, Watched::Liveliness).await;
    }
    probe(&endpoints, &endpoints.liveliness, false).await
}

/// One entry of the answer's `checks`.
enum Entry<'a> {
    /// Check `i` of the endpoint; with the name it asked for when that name was taken.
    Check(usize, Option<&'a str>),
    Lifecycle(Outcome),
}

async fn probe(endpoints: &Endpoints, endpoint: &Endpoint, lifecycle: bool) -> Response {
    endpoints.background.ensure();
    let answer = endpoint.checks.evaluate(None).await;
    let (status, body) = document(endpoints, endpoint, lifecycle, &answer);
    wire::json(status, body)
}

/// The answer for `answer`'s states (with the lifecycle's conditions, for readiness): 200 with
/// every check's object when all passed, `failure_status` otherwise.
///
/// Every check shows under a key of its own, so a failure is never hidden: its registered
/// name, or the name its result asked for (`(name, bool, data)`) when no other check or
/// lifecycle condition has that name; a check whose asked name was taken shows under its own
/// name with `asked_name` in its object. The status is that of the checks shown.
pub(super) fn document(
    endpoints: &Endpoints,
    endpoint: &Endpoint,
    lifecycle: bool,
    answer: &Answer,
) -> (StatusCode, Bytes) {
    let lifecycle = if lifecycle {
        endpoints.lifecycle.readiness()
    } else {
        Vec::new()
    };
    let states = &answer.states;
    let passed = lifecycle.is_empty() && states.iter().all(|s| s.outcome.passed());
    let status = if passed {
        StatusCode::OK
    } else {
        endpoints.failure_status
    };
    // The lifecycle, read per request, is part of the body only when a condition is active.
    let shared = lifecycle.is_empty().then_some(&endpoint.last);
    if let Some(body) = shared.and_then(|last| last.get(answer, endpoints.started)) {
        return (status, body);
    }
    let monitors = endpoint.checks.monitors();
    let renamed = states
        .iter()
        .zip(monitors)
        .any(|(s, m)| s.outcome.name().is_some_and(|n| n != m.info.name()));

    let mut body = String::with_capacity(32 + endpoint.names.len() + 64 * states.len());
    body.push_str("{\"checks\":{");
    if !renamed && lifecycle.is_empty() {
        // The common case: every check under its own name, already in name order.
        for (i, state) in states.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            let shown = &endpoint.shown[i];
            body.push_str(&shown.key);
            body.push(':');
            shown.write(&mut body, state, age(state.started, answer.asked));
        }
    } else {
        let entries = entries(endpoint, &answer.states, lifecycle);
        for (i, (key, entry)) in entries.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            wire::write_str(&mut body, key);
            body.push(':');
            match entry {
                Entry::Check(i, None) => {
                    let state = &states[*i];
                    endpoint.shown[*i].write(&mut body, state, age(state.started, answer.asked));
                }
                Entry::Check(i, Some(asked)) => {
                    let state = &states[*i];
                    let outcome = state.outcome.clone().with("asked_name", *asked);
                    body.push_str(&wire::render(&outcome, state.duration));
                }
                Entry::Lifecycle(outcome) => {
                    body.push_str(&wire::render(outcome, Duration::ZERO));
                }
            }
        }
    }
    body.push_str(if passed {
        "},\"status\":true}"
    } else {
        "},\"status\":false}"
    });
    let body = Bytes::from(wire::fitted(body));
    if let Some(last) = shared {
        last.set(answer, endpoints.started, body.clone());
    }
    (status, body)
}

/// How old a state was when the request asked, if it started before: a reused result.
pub(super) fn age(started: Instant, asked: Instant) -> Option<Duration> {
    (started < asked).then(|| asked - started)
}

/// Every entry under its key, sorted by key. Registered names are reserved first, then the
/// lifecycle conditions', then the names checks asked for, in name order.
fn entries<'a>(
    endpoint: &Endpoint,
    states: &'a [Arc<engine::State>],
    lifecycle: Vec<(&'static str, Outcome)>,
) -> Vec<(Cow<'a, str>, Entry<'a>)> {
    let monitors = endpoint.checks.monitors();
    let mut keys: BTreeMap<Cow<'a, str>, Entry<'a>> = monitors
        .iter()
        .enumerate()
        .map(|(i, m)| (Cow::Owned(m.info.name().to_owned()), Entry::Check(i, None)))
        .collect();
    for (name, outcome) in lifecycle {
        let key = if keys.contains_key(name) {
            Cow::Owned(format!("{name} (lifecycle)"))
        } else {
            Cow::Borrowed(name)
        };
        keys.insert(key, Entry::Lifecycle(outcome));
    }
    for (i, (state, monitor)) in states.iter().zip(monitors).enumerate() {
        let Some(asked) = state.outcome.name() else {
            continue;
        };
        if asked == monitor.info.name() {
            continue;
        }
        if keys.contains_key(asked) {
            keys.insert(
                Cow::Owned(monitor.info.name().to_owned()),
                Entry::Check(i, Some(asked)),
            );
        } else {
            keys.remove(monitor.info.name());
            keys.insert(Cow::Borrowed(asked), Entry::Check(i, None));
        }
    }
    keys.into_iter().collect()
}
