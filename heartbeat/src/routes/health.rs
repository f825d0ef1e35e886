//! `/health/` (named checks, `?checks=` selection, the shared secret) and `/health/ping`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};

use super::accept::Format;
use super::view::{self, Row, View};
use super::{Endpoint, Endpoints, auth, probes, watch, wire};
use crate::engine::Answer;
use crate::outcome::Level;
use crate::registry::Kind;

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
    request: axum::extract::Request,
) -> Response {
    let (query, headers) = (request.uri().query(), request.headers());
    answer(&endpoints, query, headers, None).await
}

/// One check of `/health/` (`/health/<name>`), behind the secret; 404 for a name no health
/// check has (`/health/ping` is the ping, a path of its own).
pub(super) async fn health_one(
    State(endpoints): State<Arc<Endpoints>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (query, headers) = (request.uri().query(), request.headers());
    answer(&endpoints, query, headers, Some(&name)).await
}

async fn answer(
    endpoints: &Arc<Endpoints>,
    query: Option<&str>,
    headers: &HeaderMap,
    one: Option<&str>,
) -> Response {
    endpoints.background.ensure();
    let query = match auth::guard(endpoints.secret.as_deref(), query, headers) {
        Ok(query) => query,
        Err(refusal) => return refusal.into_response(),
    };
    let format = Format::negotiate(headers, query.verbose);
    let health = &endpoints.health;
    let monitors = health.checks.monitors();
    let mut selected = match (one, query.checks.as_deref()) {
        (Some(name), _) => match monitors.binary_search_by(|m| m.info.name().cmp(name)) {
            Ok(i) => Cow::Owned(vec![i]),
            Err(_) => return probes::unknown_check(health, view::Endpoint::Health, name),
        },
        (None, checks) => match select(health, checks) {
            Ok(selected) => selected,
            Err(refusal) => return refusal.respond(health),
        },
    };
    // `?exclude=` leaves checks out of the selection; a name no check has is reported.
    let mut excluded = Vec::new();
    let mut unknown_excluded = Vec::new();
    if one.is_none() && !query.exclude.is_empty() {
        for name in &query.exclude {
            match monitors.binary_search_by(|m| m.info.name().cmp(name)) {
                Ok(i) => excluded.push(i),
                Err(_) if unknown_excluded.len() < ECHO_NAMES => {
                    unknown_excluded.push(name.chars().take(ECHO_CHARS).collect::<String>());
                }
                Err(_) => {}
            }
        }
        excluded.sort_unstable();
        excluded.dedup();
        unknown_excluded.sort();
        unknown_excluded.dedup();
        selected = Cow::Owned(
            selected
                .iter()
                .copied()
                .filter(|i| excluded.binary_search(i).is_err())
                .collect(),
        );
    }
    let document = Document {
        selected: selected.into_owned(),
        excluded,
        unknown_excluded,
        shared: query.checks.is_none() && one.is_none() && query.exclude.is_empty(),
    };
    if query.watch {
        // Boxed: held inline, the stream's future would make every request's future larger.
        return Box::pin(watch::stream(Arc::clone(endpoints), document)).await;
    }
    let answer = health.checks.evaluate(Some(&document.selected)).await;
    let (passed, status) = verdict(&answer);
    if format != Format::Json {
        let Document {
            selected,
            excluded,
            unknown_excluded,
            ..
        } = document;
        let rows = selected
            .iter()
            .zip(answer.states.iter())
            .map(|(&i, state)| Row::check(Cow::Borrowed(monitors[i].info.name()), state, true))
            .collect();
        let view = View {
            endpoint: view::Endpoint::Health,
            rows,
            passed,
            asked: answer.asked,
            excluded: excluded.iter().map(|&i| monitors[i].info.name()).collect(),
            unknown_excluded,
        };
        return probes::render(status, &view, format, one);
    }
    wire::json(status, document.seed_json(endpoints, &answer, passed))
}

/// Whether every check of `answer` passed or warned, and the status that says so: 200, or 503.
fn verdict(answer: &Answer) -> (bool, StatusCode) {
    let passed = answer.states.iter().all(|s| s.outcome.passed());
    let status = if passed {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (passed, status)
}

/// What one `/health/` request shows: the checks it selected (in name order), those it
/// excluded, the unknown names it excluded, and whether it is the default answer (whose last
/// body is shared).
pub(super) struct Document {
    selected: Vec<usize>,
    excluded: Vec<usize>,
    unknown_excluded: Vec<String>,
    shared: bool,
}

impl Document {
    /// The seed's JSON: `available_checks`, `checks: {name: bool}`, `health`, `messages` and
    /// `warnings`, plus `excluded` and `unknown_excluded` when `?exclude=` was given.
    fn seed_json(&self, endpoints: &Endpoints, answer: &Answer, passed: bool) -> Bytes {
        let health = &endpoints.health;
        let Document {
            selected,
            excluded,
            unknown_excluded,
            shared,
        } = self;
        let last = shared.then_some(&health.last);
        if let Some(body) = last.and_then(|last| last.get(answer, endpoints.started)) {
            return body;
        }

        let mut body = wire::scratch(64 + health.names.len() + 32 * selected.len());
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
        body.push('}');
        wire::write_excluded(&mut body, &health.shown, excluded);
        body.push_str(if passed {
            ",\"health\":\"running\",\"messages\":{"
        } else {
            ",\"health\":\"degraded\",\"messages\":{"
        });
        // Why each failed or warning check is not a pass: its message (SPEC §14, issue 17).
        let told = selected.iter().zip(answer.states.iter());
        let told = told.filter(|(_, state)| state.outcome.level() != Level::Pass);
        for (n, (&i, state)) in told.enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(&health.shown[i].key);
            body.push(':');
            let message = state.outcome.message().unwrap_or("the check failed");
            wire::write_str(&mut body, message);
        }
        body.push('}');
        if !unknown_excluded.is_empty() {
            body.push_str(",\"unknown_excluded\":");
            body.push_str(&json!(unknown_excluded).to_string());
        }
        body.push_str(",\"warnings\":[");
        let warned = selected.iter().zip(answer.states.iter());
        let warned = warned.filter(|(_, state)| state.outcome.level() == Level::Warn);
        for (n, (&i, _)) in warned.enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(&health.shown[i].key);
        }
        body.push_str("]}");
        let body = wire::body(body);
        if let Some(last) = last {
            last.set(answer, endpoints.started, &body);
        }
        body
    }
}

impl watch::Document for Document {
    fn checks<'a>(&'a self, endpoints: &'a Endpoints) -> (&'a Endpoint, Kind, Option<&'a [usize]>) {
        (&endpoints.health, Kind::Health, Some(&self.selected))
    }

    fn lifecycle(&self) -> bool {
        false
    }

    fn render(&self, endpoints: &Endpoints, answer: &Answer) -> (Bytes, Vec<&'static str>) {
        let (passed, _) = verdict(answer);
        (self.seed_json(endpoints, answer, passed), Vec::new())
    }
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
