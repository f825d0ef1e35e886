//! `/health/` (named checks, `?checks=` selection, the shared secret) and `/health/ping`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};

use super::watch::{self, Watched};
use super::{Endpoint, Endpoints, auth, wire};
use crate::engine::Answer;
use crate::outcome::Level;

/// The name that stands for every check in the default set.
const DEFAULTS: &str = "_defaults";

/// `?checks=` takes at most this many names (a 400 beyond), so that a long query costs a
/// bounded, linear amount of work.
pub(super) const MAX_NAMES: usize = 256;

/// At most this many unknown names are echoed in a 400, each cut to this many characters.
const ECHO_NAMES: usize = 20;
const ECHO_CHARS: usize = 64;

pub(super) async fn ping() -> Response {
    wire::text(StatusCode::OK, "pong")
}

/// The order is: read the query, check the secret, select, run. Nothing about the checks is
/// revealed, and nothing runs, before the caller is authorised.
pub(super) async fn health(
    State(endpoints): State<Arc<Endpoints>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    endpoints.background.ensure();
    let query = match auth::guard(endpoints.secret.as_deref(), query.as_deref(), &headers) {
        Ok(query) => query,
        Err(refusal) => return refusal.into_response(),
    };
    let health = &endpoints.health;
    let selected = match select(health, query.checks.as_deref()) {
        Ok(selected) => selected,
        Err(refusal) => return refusal.respond(health),
    };
    if query.watch {
        let selection = query.checks.is_some().then(|| selected.into_owned());
        return watch::stream(endpoints, Watched::Health(selection)).await;
    }
    let answer = health.checks.evaluate(Some(&selected)).await;
    let (status, body) = document(&endpoints, &selected, query.checks.is_none(), &answer);
    wire::json(status, body)
}

/// The answer for the `selected` checks' states: 200 when all passed, 503 otherwise. `all`: the
/// selection is the default one, whose last body is shared.
pub(super) fn document(
    endpoints: &Endpoints,
    selected: &[usize],
    all: bool,
    answer: &Answer,
) -> (StatusCode, Bytes) {
    let health = &endpoints.health;
    let passed = answer.states.iter().all(|s| s.outcome.passed());
    let status = if passed {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let last = all.then_some(&health.last);
    if let Some(body) = last.and_then(|last| last.get(answer, endpoints.started)) {
        return (status, body);
    }

    let mut body = String::with_capacity(64 + health.names.len() + 32 * selected.len());
    body.push_str("{\"available_checks\":");
    body.push_str(&health.names);
    body.push_str(",\"checks\":{");
    for (n, (&i, state)) in selected.iter().zip(answer.states.iter()).enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&health.shown[i].key);
        body.push_str(if state.outcome.passed() {
            ":true"
        } else {
            ":false"
        });
    }
    body.push_str(if passed {
        "},\"health\":\"running\",\"warnings\":["
    } else {
        "},\"health\":\"degraded\",\"warnings\":["
    });
    let warned = selected.iter().zip(answer.states.iter());
    let warned = warned.filter(|(_, state)| state.outcome.level() == Level::Warn);
    for (n, (&i, _)) in warned.enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&health.shown[i].key);
    }
    body.push_str("]}");
    let body = Bytes::from(body);
    if let Some(last) = last {
        last.set(answer, endpoints.started, body.clone());
    }
    (status, body)
}

/// Why a selection was refused.
enum Refused {
    Unknown(Vec<String>),
    TooMany(usize),
}

/// The checks `?checks=` asks for, each once, as indices in name order: absent means
/// `_defaults`, empty means none, otherwise a comma-separated list with each item trimmed and
/// `_defaults` expanded. Linear in the query's length and the number of checks.
fn select<'a>(health: &'a Endpoint, checks: Option<&str>) -> Result<Cow<'a, [usize]>, Refused> {
    let monitors = health.checks.monitors();
    let Some(list) = checks else {
        return Ok(Cow::Borrowed(&health.defaults));
    };
    let mut selected = vec![false; monitors.len()];
    let mut unknown = Vec::new();
    let mut with_defaults = false;
    let mut count = 0;
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        count += 1;
        if count > MAX_NAMES {
            return Err(Refused::TooMany(MAX_NAMES));
        }
        if name == DEFAULTS {
            with_defaults = true;
        } else if let Ok(i) = monitors.binary_search_by(|m| m.info.name().cmp(name)) {
            selected[i] = true;
        } else if unknown.len() < ECHO_NAMES {
            unknown.push(name.chars().take(ECHO_CHARS).collect::<String>());
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        unknown.dedup();
        return Err(Refused::Unknown(unknown));
    }
    if with_defaults {
        for &i in &health.defaults {
            selected[i] = true;
        }
    }
    Ok(Cow::Owned(
        selected
            .iter()
            .enumerate()
            .filter(|(_, s)| **s)
            .map(|(i, _)| i)
            .collect(),
    ))
}

impl Refused {
    fn respond(self, health: &Endpoint) -> Response {
        let available: Vec<&str> = health
            .checks
            .monitors()
            .iter()
            .map(|m| m.info.name())
            .collect();
        let mut details = Map::new();
        details.insert("available_checks".to_owned(), json!(available));
        let (error, message) = match self {
            Refused::Unknown(unknown) => {
                let message = format!(
                    "no check is named {}; `?checks=` takes a comma-separated list of available_checks or `_defaults`",
                    unknown
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                details.insert("unknown_checks".to_owned(), json!(unknown));
                ("unknown checks", message)
            }
            Refused::TooMany(max) => (
                "too many checks",
                format!(
                    "`?checks=` takes at most {max} names; `_defaults` stands for the default set"
                ),
            ),
        };
        wire::error(StatusCode::BAD_REQUEST, error, &message, details)
    }
}
