//! Status changes (SPEC §13): every change of a check's level, as a stream for whoever
//! subscribes ([`subscribe`]). Published in the write that records a run's result (in order,
//! one check's changes), never waiting: a slow subscriber never delays a probe, a run or
//! another subscriber.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::SystemTime;

use futures_util::Stream;
use tokio::sync::broadcast;

use crate::engine::State;
use crate::outcome::Level;
use crate::registry::{CheckInfo, Kind};

/// How many changes a subscriber may fall behind before it skips the oldest.
pub const CHANGES_KEPT: usize = 1024;

/// The process's changes: created by the first [`subscribe`]; until then nothing is published.
static CHANGES: OnceLock<broadcast::Sender<Arc<StatusChange>>> = OnceLock::new();

/// A check's level changed: what [`subscribe`] gives.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StatusChange {
    /// The check's kind.
    pub kind: Kind,
    /// The check's name.
    pub name: String,
    /// The level before: [`Level::Unknown`] for a check's first result (as the metrics show a
    /// check that has not run).
    pub from: Level,
    /// The level now.
    pub to: Level,
    /// The message of the result that changed it, if it has one.
    pub message: Option<String>,
    /// When the result was recorded.
    pub when: SystemTime,
}

/// Every change of a check's level from now on, in every router of the process: the check's
/// first result (from [`Level::Unknown`]), and each result whose level differs from the one
/// before. A result at the same level is no change.
///
/// The stream never ends. Changes are kept for a subscriber that is behind, up to
/// [`CHANGES_KEPT`]; one further behind skips the oldest (and the skip is logged), so a
/// subscriber that never reads costs memory, never time: publishing does not wait for anyone.
///
/// A background check that goes stale (its task stopped or stalled, so no run records it) is
/// published when something first reads it so: a probe, a scrape or a live stream; its next
/// run's result is the change back. Each change's `from` is the `to` of the check's change
/// before.
///
/// ```
/// use futures_util::StreamExt;
/// use heartbeat::{Check, Heartbeat, Level};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut changes = heartbeat::subscribe();
/// let app: axum::Router = Heartbeat::new()
/// #   .filter(|_| false) // rustdoc merges doctests, and their registrations
///     .no_health_secret()
///     .readiness(Check::new_async("queue", || async { Err::<(), _>("queue is full") }))
///     .into_router();
/// let probe = axum::http::Request::get("/.well-known/heartbeat/readiness")
///     .body(axum::body::Body::empty())
///     .unwrap();
/// app.oneshot(probe).await.unwrap();
/// let change = loop {
///     // The process's changes: keep this check's.
///     let change = changes.next().await.unwrap();
///     if change.name == "queue" {
///         break change;
///     }
/// };
/// assert_eq!((change.name.as_str(), change.from, change.to), ("queue", Level::Unknown, Level::Fail));
/// assert_eq!(change.message.as_deref(), Some("queue is full"));
/// # }
/// ```
pub fn subscribe() -> Subscription {
    let receiver = receiver();
    let changes = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) => return Some((StatusChange::clone(&change), receiver)),
                Err(broadcast::error::RecvError::Lagged(skipped)) => tracing::warn!(
                    skipped,
                    "a heartbeat::subscribe() stream fell more than {CHANGES_KEPT} status changes behind: it skips the oldest"
                ),
                // The sender is a static: never closed.
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Subscription {
        changes: Box::pin(changes),
    }
}

/// A receiver of the process's changes, for heartbeat's own outputs (the live streams): one that
/// falls behind is told so (`Lagged`) and reads the states again; nothing is logged, so many
/// slow clients cannot flood the log.
pub(crate) fn receiver() -> broadcast::Receiver<Arc<StatusChange>> {
    CHANGES
        .get_or_init(|| broadcast::channel(CHANGES_KEPT).0)
        .subscribe()
}

/// The stream of [`subscribe`].
#[must_use = "a subscription does nothing unless polled"]
pub struct Subscription {
    changes: Pin<Box<dyn Stream<Item = StatusChange> + Send>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = StatusChange;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StatusChange>> {
        self.changes.as_mut().poll_next(cx)
    }
}

/// Publishes that `check`'s level went from `from` (`None`: no result before) to `state`'s, if
/// it changed and anybody subscribed. Called in the same write of the check's slot that
/// records the state, so that one check's changes go out in the order they were recorded;
/// sending never waits.
pub(crate) fn publish(check: &CheckInfo, from: Option<Level>, state: &State) {
    let Some(changes) = CHANGES.get() else {
        return;
    };
    let from = from.unwrap_or(Level::Unknown);
    let to = state.outcome.level();
    if from == to || changes.receiver_count() == 0 {
        return;
    }
    let change = StatusChange {
        kind: check.kind,
        name: check.name().to_owned(),
        from,
        to,
        message: state.outcome.message().map(str::to_owned),
        when: SystemTime::now(),
    };
    // Err: every receiver was dropped since it was counted.
    let _ = changes.send(Arc::new(change));
}
