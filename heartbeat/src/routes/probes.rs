//! `/.well-known/heartbeat/readiness` and `/.well-known/heartbeat/liveliness`, whole or one
//! check (`…/readiness/<name>`), in every format ([`Format`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Ready;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use futures_util::future::{self, BoxFuture, Either};
use serde_json::{Map, json};

use tokio::time::Instant;
use tower_service::Service;

use super::accept::Format;
use super::auth::Refusal;
use super::query::Query;
use super::view::{self, Row, View};
use super::{Endpoint, Endpoints, page, watch, wire};
use crate::engine;
use crate::outcome::Outcome;
use crate::registry::Kind;

// The handlers read what they need of the request (its query and headers, borrowed) and drop
// it: a probe copies nothing. When every state it needs is fresh, the answer is written before
// the handler returns; only a probe that waits for a check has a future of its own.

/// Readiness or liveliness, whole: a tower service rather than a handler, so that a probe
/// goes through no extractor and no boxed handler future (axum boxes a handler's future, and a
/// route's): the answer is written in [`Service::call`] when every state is fresh.
///
/// Readiness also fails while the process drains, is marked not ready, or has not started
/// (see [`crate::lifecycle`]); those conditions are read after the checks ran, never cached,
/// so a probe in flight when SIGTERM arrives already fails.
#[derive(Clone)]
pub(super) struct Probe {
    endpoints: Arc<Endpoints>,
    which: view::Endpoint,
}

impl Probe {
    pub(super) fn new(endpoints: Arc<Endpoints>, which: view::Endpoint) -> Self {
        Probe { endpoints, which }
    }
}

impl Service<axum::extract::Request> for Probe {
    type Response = Response;
    type Error = Infallible;
    type Future = future::Map<Answering, fn(Response) -> Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request) -> Self::Future {
        // What the probe needs of the request is read here; the request itself is not kept.
        let read = Request::new(&self.endpoints, self.which, &request);
        drop(request);
        probe(Arc::clone(&self.endpoints), read, None).map(Ok)
    }
}

/// One readiness check: its answer alone (the lifecycle conditions belong to the whole
/// endpoint), 404 for a name no readiness check has.
pub(super) fn readiness_one(
    State(endpoints): State<Arc<Endpoints>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> Answering {
    let request = Request::new(&endpoints, view::Endpoint::Readiness, &request);
    probe(endpoints, request, Some(name))
}

pub(super) fn liveliness_one(
    State(endpoints): State<Arc<Endpoints>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> Answering {
    let request = Request::new(&endpoints, view::Endpoint::Liveliness, &request);
    probe(endpoints, request, Some(name))
}

/// A probe's answer: at once when every state it needs is fresh, else a future (boxed, so
/// that the common answer's future holds only the response).
pub(super) type Answering = Either<Ready<Response>, BoxFuture<'static, Response>>;

fn at_once(response: Response) -> Answering {
    Either::Left(std::future::ready(response))
}

/// What a probe request asks: its endpoint, query (or why it is refused), format and whether
/// it sees details.
struct Request {
    which: view::Endpoint,
    query: Result<Query, &'static str>,
    format: Format,
    reveal: bool,
}

impl Request {
    /// Read from the request's query and headers, borrowed (a probe copies neither).
    fn new(endpoints: &Endpoints, which: view::Endpoint, request: &axum::extract::Request) -> Self {
        let headers = request.headers();
        let query = Query::parse(request.uri().query());
        let (format, reveal) = match &query {
            Ok(query) => (
                Format::negotiate(headers, query.verbose),
                endpoints.reveal(query, headers),
            ),
            Err(_) => (Format::Json, false),
        };
        Request {
            which,
            query,
            format,
            reveal,
        }
    }
}

/// One entry of the answer's `checks`.
enum Entry<'a> {
    /// The check at position `n` of the answer; with the name it asked for when that name was
    /// taken.
    Check(usize, Option<&'a str>),
    Lifecycle(Outcome),
}

/// The checks a request selects (`None`: all), by index: `one` alone, or all but `?exclude=`'s.
struct Selection {
    indices: Option<Vec<usize>>,
    excluded: Vec<usize>,
    unknown_excluded: Vec<String>,
}

impl Selection {
    /// The index of the monitor at position `n` of the answer.
    fn index(&self, n: usize) -> usize {
        self.indices.as_ref().map_or(n, |indices| indices[n])
    }
}

/// At most this many unknown excluded names are echoed, each cut to this many characters.
const ECHO_NAMES: usize = 20;
const ECHO_CHARS: usize = 64;

/// What `one` and `?exclude=` select; `None` when no check is named `one`. Exclusion is linear in
/// the number of names given (bounded by the query) times the log of the number of checks.
#[inline]
fn select(endpoint: &Endpoint, query: &Query, one: Option<&str>) -> Option<Selection> {
    let monitors = endpoint.checks.monitors();
    let find = |name: &str| monitors.binary_search_by(|m| m.info.name().cmp(name)).ok();
    let mut selection = Selection {
        indices: None,
        excluded: Vec::new(),
        unknown_excluded: Vec::new(),
    };
    if one.is_none() && query.exclude.is_empty() {
        // A probe's request: every check.
        return Some(selection);
    }
    if let Some(name) = one {
        match find(name) {
            Some(i) => selection.indices = Some(vec![i]),
            None => return None,
        }
    } else if !query.exclude.is_empty() {
        let mut keep = vec![true; monitors.len()];
        for name in &query.exclude {
            match find(name) {
                Some(i) => keep[i] = false,
                None if selection.unknown_excluded.len() < ECHO_NAMES => selection
                    .unknown_excluded
                    .push(name.chars().take(ECHO_CHARS).collect()),
                None => {}
            }
        }
        selection.unknown_excluded.sort();
        selection.unknown_excluded.dedup();
        let (kept, excluded): (Vec<usize>, Vec<usize>) =
            (0..monitors.len()).partition(|&i| keep[i]);
        selection.indices = Some(kept);
        selection.excluded = excluded;
    }
    Some(selection)
}

/// The 404 of a per-check path whose name no check of the endpoint has.
pub(super) fn unknown_check(endpoint: &Endpoint, which: view::Endpoint, name: &str) -> Response {
    let available: Vec<&str> = endpoint
        .checks
        .monitors()
        .iter()
        .map(|m| m.info.name())
        .collect();
    let name: String = name.chars().take(ECHO_CHARS).collect();
    let mut details = Map::new();
    details.insert("available_checks".to_owned(), json!(available));
    wire::error(
        StatusCode::NOT_FOUND,
        "unknown check",
        &format!("no {} check is named {name:?}", which.as_str()),
        details,
    )
}

/// 200 with every selected check when all passed, `failure_status` otherwise, in the format
/// the request asked for.
///
/// Every check shows under a key of its own, so a failure is never hidden: its registered
/// name, or the name its result asked for (`(name, bool, data)`) when no other check or
/// lifecycle condition has that name; a check whose asked name was taken shows under its own
/// name with `asked_name` in its object. The status is that of the checks shown.
fn probe(endpoints: Arc<Endpoints>, request: Request, one: Option<String>) -> Answering {
    endpoints.background.ensure();
    let query = match &request.query {
        Ok(query) => query,
        Err(message) => return at_once(Refusal::BadQuery(message).into_response()),
    };
    let endpoint = endpoint_of(&endpoints, request.which);
    let Some(selection) = select(endpoint, query, one.as_deref()) else {
        let name = one.as_deref().unwrap_or_default();
        return at_once(unknown_check(endpoint, request.which, name));
    };
    let document = Document {
        which: request.which,
        selection,
        reveal: request.reveal,
        whole: one.is_none(),
    };
    if query.watch {
        return Either::Right(Box::pin(watch::stream(endpoints, document)));
    }
    match endpoint.checks.read(document.selection.indices.as_deref()) {
        Ok(answer) => at_once(respond(&endpoints, &request, document, &answer, one)),
        Err(waiting) => Either::Right(Box::pin(async move {
            let answer = waiting.await;
            respond(&endpoints, &request, document, &answer, one)
        })),
    }
}

/// The answer to `request` with the states of `answer`, in the format it asked for.
fn respond(
    endpoints: &Endpoints,
    request: &Request,
    document: Document,
    answer: &engine::Answer,
    one: Option<String>,
) -> Response {
    let (lifecycle, status) = document.verdict(endpoints, answer);
    if request.format == Format::Json {
        let body = document.seed_json(endpoints, answer, lifecycle, status);
        return wire::json(status, body);
    }
    let endpoint = endpoint_of(endpoints, request.which);
    let (selection, passed, states) =
        (document.selection, status == StatusCode::OK, &answer.states);
    let entries = entries(endpoint, states, &selection, lifecycle);
    let rows = entries
        .iter()
        .map(|(key, entry)| match entry {
            Entry::Check(n, _) => Row::check(Cow::Borrowed(key), &states[*n], request.reveal),
            Entry::Lifecycle(outcome) => Row::outcome(
                Cow::Borrowed(key),
                outcome,
                request.reveal,
                Duration::ZERO,
                None,
            ),
        })
        .collect();
    let monitors = endpoint.checks.monitors();
    let view = View {
        endpoint: request.which,
        rows,
        passed,
        asked: answer.asked,
        excluded: selection
            .excluded
            .iter()
            .map(|&i| monitors[i].info.name())
            .collect(),
        unknown_excluded: selection.unknown_excluded,
    };
    render(status, &view, request.format, one.as_deref())
}

/// `view` in a format other than the seed JSON.
pub(super) fn render(
    status: StatusCode,
    view: &View<'_>,
    format: Format,
    one: Option<&str>,
) -> Response {
    match format {
        Format::HealthJson => wire::health_json(status, view::health_json(view)),
        Format::Text => wire::text_owned(status, view::text(view)),
        Format::Html | Format::Json => page::page(status, view, one),
    }
}

fn endpoint_of(endpoints: &Endpoints, which: view::Endpoint) -> &Endpoint {
    match which {
        view::Endpoint::Readiness => &endpoints.readiness,
        _ => &endpoints.liveliness,
    }
}

/// What one probe request shows: the checks it selected, whether it sees their details, and
/// whether it is the whole endpoint (readiness's lifecycle conditions belong to that).
pub(super) struct Document {
    which: view::Endpoint,
    selection: Selection,
    reveal: bool,
    whole: bool,
}

impl Document {
    /// The lifecycle's failing conditions shown with `answer` (on the whole readiness
    /// endpoint), and the answer's status: 200 when every check shown passed or warned and no
    /// condition is active, `failure_status` otherwise.
    fn verdict(
        &self,
        endpoints: &Endpoints,
        answer: &engine::Answer,
    ) -> (Vec<(&'static str, Outcome)>, StatusCode) {
        let lifecycle = if watch::Document::lifecycle(self) {
            endpoints.lifecycle.readiness()
        } else {
            Vec::new()
        };
        let passed = lifecycle.is_empty() && answer.states.iter().all(|s| s.outcome.passed());
        let status = if passed {
            StatusCode::OK
        } else {
            endpoints.failure_status
        };
        (lifecycle, status)
    }

    /// The seed's JSON: `{"checks": {…}, "status": bool}`, plus `excluded` and
    /// `unknown_excluded` when `?exclude=` was given.
    fn seed_json(
        &self,
        endpoints: &Endpoints,
        answer: &engine::Answer,
        lifecycle: Vec<(&'static str, Outcome)>,
        status: StatusCode,
    ) -> Bytes {
        seed_json(
            endpoints,
            endpoint_of(endpoints, self.which),
            self.reveal,
            &self.selection,
            answer,
            lifecycle,
            status,
        )
    }
}

impl watch::Document for Document {
    fn checks<'a>(&'a self, endpoints: &'a Endpoints) -> (&'a Endpoint, Kind, Option<&'a [usize]>) {
        let kind = match self.which {
            view::Endpoint::Readiness => Kind::Readiness,
            _ => Kind::Liveliness,
        };
        let endpoint = endpoint_of(endpoints, self.which);
        (endpoint, kind, self.selection.indices.as_deref())
    }

    /// Readiness's lifecycle conditions belong to the whole readiness endpoint, not to one of
    /// its checks.
    fn lifecycle(&self) -> bool {
        self.which == view::Endpoint::Readiness && self.whole
    }

    fn render(&self, endpoints: &Endpoints, answer: &engine::Answer) -> (Bytes, Vec<&'static str>) {
        let (lifecycle, status) = self.verdict(endpoints, answer);
        let conditions = lifecycle.iter().map(|(name, _)| *name).collect();
        (
            self.seed_json(endpoints, answer, lifecycle, status),
            conditions,
        )
    }
}

/// The seed's JSON: `{"checks": {…}, "status": bool}`, plus `excluded` and `unknown_excluded`
/// when `?exclude=` was given.
fn seed_json(
    endpoints: &Endpoints,
    endpoint: &Endpoint,
    reveal: bool,
    selection: &Selection,
    answer: &engine::Answer,
    lifecycle: Vec<(&'static str, Outcome)>,
    status: StatusCode,
) -> Bytes {
    let states = &answer.states;
    let passed = status == StatusCode::OK;
    // The lifecycle, read per request, is part of the body only when a condition is active;
    // the shared body is the whole endpoint's, with its details.
    let shared =
        (lifecycle.is_empty() && selection.indices.is_none() && reveal).then_some(&endpoint.last);
    if let Some(body) = shared.and_then(|last| last.get(answer, endpoints.started)) {
        return body;
    }
    let monitors = endpoint.checks.monitors();
    let renamed = states.iter().enumerate().any(|(n, s)| {
        s.outcome
            .name()
            .is_some_and(|name| name != monitors[selection.index(n)].info.name())
    });

    let mut body = wire::scratch(32 + endpoint.names.len() + 64 * states.len());
    body.push_str("{\"checks\":{");
    if !renamed && lifecycle.is_empty() {
        // The common case: every check under its own name, already in name order.
        for (n, state) in states.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            let shown = &endpoint.shown[selection.index(n)];
            body.push_str(&shown.key);
            body.push(':');
            shown.write(&mut body, state, age(state.started, answer.asked), reveal);
        }
    } else {
        let entries = entries(endpoint, states, selection, lifecycle);
        for (n, (key, entry)) in entries.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            wire::write_str(&mut body, key);
            body.push(':');
            match entry {
                Entry::Check(n, None) => {
                    let state = &states[*n];
                    let shown = &endpoint.shown[selection.index(*n)];
                    shown.write(&mut body, state, age(state.started, answer.asked), reveal);
                }
                Entry::Check(n, Some(asked)) => {
                    let state = &states[*n];
                    let outcome = wire::withheld(&state.outcome, reveal).with("asked_name", *asked);
                    body.push_str(&wire::render(&outcome, state.duration));
                }
                Entry::Lifecycle(outcome) => {
                    let outcome = wire::withheld(outcome, reveal);
                    body.push_str(&wire::render(&outcome, Duration::ZERO));
                }
            }
        }
    }
    body.push('}');
    wire::write_excluded(&mut body, &endpoint.shown, &selection.excluded);
    body.push_str(if passed {
        ",\"status\":true"
    } else {
        ",\"status\":false"
    });
    if !selection.unknown_excluded.is_empty() {
        body.push_str(",\"unknown_excluded\":");
        body.push_str(&json!(selection.unknown_excluded).to_string());
    }
    body.push('}');
    let body = wire::body(body);
    if let Some(last) = shared {
        last.set(answer, endpoints.started, &body);
    }
    body
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
    selection: &Selection,
    lifecycle: Vec<(&'static str, Outcome)>,
) -> Vec<(Cow<'a, str>, Entry<'a>)> {
    let monitors = endpoint.checks.monitors();
    let name = |n: usize| monitors[selection.index(n)].info.name();
    let mut keys: BTreeMap<Cow<'a, str>, Entry<'a>> = (0..states.len())
        .map(|n| (Cow::Owned(name(n).to_owned()), Entry::Check(n, None)))
        .collect();
    for (condition, outcome) in lifecycle {
        let key = if keys.contains_key(condition) {
            Cow::Owned(format!("{condition} (lifecycle)"))
        } else {
            Cow::Borrowed(condition)
        };
        keys.insert(key, Entry::Lifecycle(outcome));
    }
    for (n, state) in states.iter().enumerate() {
        let Some(asked) = state.outcome.name() else {
            continue;
        };
        if asked == name(n) {
            continue;
        }
        if keys.contains_key(asked) {
            keys.insert(Cow::Owned(name(n).to_owned()), Entry::Check(n, Some(asked)));
        } else {
            keys.remove(name(n));
            keys.insert(Cow::Borrowed(asked), Entry::Check(n, None));
        }
    }
    keys.into_iter().collect()
}
