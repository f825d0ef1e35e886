//! `?watch` on readiness, liveliness and `/health/`, whole or one check (SPEC §13): the seed
//! JSON document of a request as a live stream (`text/event-stream`).
//!
//! A stream sends the document at once, evaluated as the same request without `?watch` would
//! be; then again whenever a watched check's level changes (the changes of [`crate::status`])
//! or, for readiness, the lifecycle's conditions do, read from the states without running a
//! check; a comment every [`KEEP_ALIVE`] so that proxies keep the connection open; and it
//! ends when the lifecycle's drain is over, so that it never holds up a graceful shutdown.
//! Which checks, and how much of them, a document shows is the request's ([`Document`], from
//! `probes.rs` and `health.rs`).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::Map;
use smallvec::SmallVec;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::{Endpoint, Endpoints, wire};
use crate::engine::{Answer, Answered};
use crate::outcome::Level;
use crate::registry::Kind;
use crate::status::StatusChange;

/// A comment is sent this often on an open stream: proxies close a connection that stays
/// silent for long (nginx after 60 s, many load balancers after 60 s too).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// At most this many streams are open on one router at once; one more is answered 503: each
/// costs a little memory and a wake-up per change, never a check's run.
pub(crate) const MAX_STREAMS: usize = 4096;

/// What a stream shows: the seed JSON that one request without `?watch` answers (its
/// endpoint, selection and details), written again for other states.
pub(super) trait Document: Send + Sync + 'static {
    /// The checks shown: their endpoint, its kind, and which of them, in name order (`None`:
    /// all).
    fn checks<'a>(&'a self, endpoints: &'a Endpoints) -> (&'a Endpoint, Kind, Option<&'a [usize]>);

    /// Whether the lifecycle's conditions are part of the document (readiness, whole).
    fn lifecycle(&self) -> bool;

    /// The document for `answer`'s states, and the lifecycle's conditions it shows.
    fn render(&self, endpoints: &Endpoints, answer: &Answer) -> (Bytes, Vec<&'static str>);
}

/// The stream of `document`, or 503 when [`MAX_STREAMS`] are open.
pub(super) async fn stream<D: Document>(endpoints: Arc<Endpoints>, document: D) -> Response {
    endpoints.background.ensure();
    if endpoints.streams.fetch_add(1, Ordering::AcqRel) >= MAX_STREAMS {
        endpoints.streams.fetch_sub(1, Ordering::AcqRel);
        let message = format!(
            "{MAX_STREAMS} live streams are open on this router already: close one, or poll without `?watch`"
        );
        return wire::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many streams",
            &message,
            Map::new(),
        );
    }
    let open = Open(Arc::clone(&endpoints));
    // Subscribed before the first document is read: no change falls between the two.
    let changes = crate::status::receiver();
    let lifecycle = document.lifecycle().then(|| endpoints.lifecycle.changes());
    let drained = endpoints.lifecycle.drained();
    let answer = {
        let (endpoint, _, selection) = document.checks(&endpoints);
        endpoint.checks.evaluate(selection).await
    };
    let (first, shown) = signed(&endpoints, &document, &answer);
    let mut keep_alive = tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stream = Stream {
        endpoints,
        document,
        changes,
        lifecycle,
        drained,
        keep_alive,
        shown,
        _open: open,
    };
    let first = futures_util::stream::once(async move { Ok::<_, Infallible>(event(&first)) });
    let events = first.chain(futures_util::stream::unfold(stream, Stream::next));

    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx buffers a response unless told not to: the events would wait in it.
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    response
}

/// Counts a stream open on its router until it is dropped.
struct Open(Arc<Endpoints>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a document showed: its checks' levels and (for readiness) the lifecycle's failing
/// conditions. A document is sent again only when this differs.
#[derive(PartialEq)]
struct Signature {
    levels: Vec<Level>,
    conditions: Vec<&'static str>,
}

/// `document` for `answer`, and what it shows.
fn signed<D: Document>(endpoints: &Endpoints, document: &D, answer: &Answer) -> (Bytes, Signature) {
    let (body, conditions) = document.render(endpoints, answer);
    let levels = answer.states.iter().map(|s| s.outcome.level()).collect();
    (body, Signature { levels, conditions })
}

/// One open stream.
struct Stream<D> {
    endpoints: Arc<Endpoints>,
    document: D,
    changes: broadcast::Receiver<Arc<StatusChange>>,
    /// For readiness: the lifecycle's changes.
    lifecycle: Option<watch::Receiver<()>>,
    drained: watch::Receiver<bool>,
    keep_alive: Interval,
    shown: Signature,
    _open: Open,
}

impl<D: Document> Stream<D> {
    /// The next event: a document when what it shows changed, or a keep-alive comment; `None`
    /// (the stream ends) once the drain is over.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Stream<D>)> {
        loop {
            let wake = tokio::select! {
                biased;
                // Err: the lifecycle is gone, which the router holds: cannot happen.
                _ = self.drained.wait_for(|drained| *drained) => return None,
                change = self.changes.recv() => match change {
                    Ok(change) if watches(&self.document, &self.endpoints, &change) => Wake::Change,
                    Ok(_) => continue,
                    // Behind (a client that does not read): whatever it missed, read again.
                    Err(RecvError::Lagged(_)) => Wake::Change,
                    // The sender is a static: never closed.
                    Err(RecvError::Closed) => return None,
                },
                () = lifecycle_changed(&mut self.lifecycle) => Wake::Change,
                _ = self.keep_alive.tick() => Wake::KeepAlive,
            };
            if let Wake::KeepAlive = wake {
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
            }
            let answer = match self.read() {
                Some(answer) => answer,
                // A check that never ran (a run lost with its runtime): read as a request does.
                None => {
                    let (endpoint, _, selection) = self.document.checks(&self.endpoints);
                    endpoint.checks.evaluate(selection).await
                }
            };
            let (body, shown) = signed(&self.endpoints, &self.document, &answer);
            if shown != self.shown {
                self.shown = shown;
                return Some((Ok(event(&body)), self));
            }
        }
    }

    /// The states shown, read without running a check; `None` if one has never run.
    fn read(&self) -> Option<Answer> {
        let (endpoint, _, selection) = self.document.checks(&self.endpoints);
        let monitors = endpoint.checks.monitors();
        let now = Instant::now();
        let mut states = SmallVec::new();
        match selection {
            Some(selected) => {
                for &i in selected {
                    states.push(monitors.get(i)?.current(now)?);
                }
            }
            None => {
                for monitor in monitors {
                    states.push(monitor.current(now)?);
                }
            }
        }
        Some(Answer {
            asked: now,
            states: Answered::Read(states),
        })
    }
}

/// Whether `change` is of a check `document` shows.
fn watches<D: Document>(document: &D, endpoints: &Endpoints, change: &StatusChange) -> bool {
    let (endpoint, kind, selection) = document.checks(endpoints);
    if change.kind != kind {
        return false;
    }
    let monitors = endpoint.checks.monitors();
    let Ok(i) = monitors.binary_search_by(|m| m.info.name().cmp(&change.name)) else {
        return false;
    };
    // A selection is in name order, as the monitors are.
    selection.is_none_or(|selected| selected.binary_search(&i).is_ok())
}

/// Why a stream woke.
enum Wake {
    /// A watched check's level, or the lifecycle, changed.
    Change,
    KeepAlive,
}

/// Resolves when the lifecycle changed; never, for a stream that does not watch it.
async fn lifecycle_changed(lifecycle: &mut Option<watch::Receiver<()>>) {
    if let Some(receiver) = lifecycle {
        if receiver.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}

/// One server-sent event holding `document` (one `data:` line per line of it).
fn event(document: &[u8]) -> Bytes {
    let mut event = Vec::with_capacity(document.len() + 8);
    for line in document.split(|&b| b == b'\n') {
        event.extend_from_slice(b"data: ");
        event.extend_from_slice(line);
        event.push(b'\n');
    }
    event.push(b'\n');
    Bytes::from(event)
}
