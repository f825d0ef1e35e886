//! One run of a check, from launch to its recorded result: the deadline, panics, the guard that
//! always frees the check, and where each kind of check runs (an async check in a task of its
//! own, a sync check on one of heartbeat's threads).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::time::Instant;
use tracing::Instrument;

use super::state::Phase;
use super::{Monitor, threads};
use crate::outcome::Outcome;
use crate::registry::{BoxFuture, Runner};

/// An async check that holds its thread longer than this in one poll is logged (once).
const BLOCKING: Duration = Duration::from_millis(100);

/// How a run ended.
pub(super) enum End {
    /// The check returned (or panicked: a failure with the panic's message).
    Returned(Outcome),
    /// The deadline struck first and the check's future was dropped.
    TimedOut,
    /// The run was dropped before it ended.
    Lost,
}

/// Held by a run until it records its end; dropped without it (the task dropped, its runtime
/// shut down, a panic where none was caught) it records the run as lost, so the check is
/// never left busy.
struct Guard {
    monitor: Arc<Monitor>,
    id: u64,
    started: Instant,
    span: tracing::Span,
    done: bool,
}

impl Guard {
    fn end(mut self, end: End) {
        self.done = true;
        let duration = self.started.elapsed();
        self.monitor
            .finish(self.id, end, self.started, duration, &self.span);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            let duration = self.started.elapsed();
            self.monitor
                .finish(self.id, End::Lost, self.started, duration, &self.span);
        }
    }
}

impl Monitor {
    /// Starts run `id`, asked for at `now`.
    pub(super) fn launch(self: &Arc<Self>, id: u64, now: Instant) {
        let guard = Guard {
            monitor: Arc::clone(self),
            id,
            started: now,
            span: self.span(),
            done: false,
        };
        match &self.runner {
            Runner::Async(check) => {
                let check = Arc::clone(check);
                let span = guard.span.clone();
                tokio::spawn(run_async(guard, check).instrument(span));
            }
            Runner::Sync(check) => {
                let check = Arc::clone(check);
                threads::run(Box::new(move || run_sync(guard, &*check)));
            }
        }
    }

    /// Run `id` starts now: its timeout counts from here. The waiters are not woken: at their
    /// deadline they read the phase again (see `Monitor::expire`).
    fn started(&self, id: u64) -> Instant {
        let now = Instant::now();
        self.slot.send_if_modified(|slot| {
            if let Some(running) = slot.running.as_mut().filter(|r| r.id == id) {
                running.phase = Phase::Started(now);
            }
            false
        });
        now
    }

    /// Records how run `id` ended and frees the check. A result after the deadline is a
    /// failure; a timeout already recorded by a waiting request is not recorded twice.
    fn finish(
        &self,
        id: u64,
        end: End,
        started: Instant,
        duration: Duration,
        span: &tracing::Span,
    ) {
        let mut recorded = None;
        let mut late = None;
        let lost = matches!(end, End::Lost);
        self.slot.send_modify(|slot| {
            let expired = match &slot.running {
                Some(running) if running.id == id => {
                    let expired = running.expired;
                    slot.running = None;
                    expired
                }
                _ => false,
            };
            let outcome = match end {
                End::TimedOut if expired => return,
                End::TimedOut => Outcome::fail(format!("timed out after {:?}", self.timeout)),
                End::Returned(outcome) if expired || duration > self.timeout => {
                    let what = match outcome.message() {
                        None if outcome.passed() => "passed".to_owned(),
                        None => "failed".to_owned(),
                        Some(message) => format!("failed: {message}"),
                    };
                    let message = format!(
                        "returned after its timeout of {:?}, {duration:.1?} after it started ({what})",
                        self.timeout
                    );
                    late = Some(what);
                    Outcome::fail(message)
                }
                End::Returned(outcome) => outcome,
                End::Lost => Outcome::fail(
                    "the run ended without a result: its task was dropped (did the runtime that ran it shut down?)",
                ),
            };
            recorded = slot.record(id, outcome, (started, duration), lost, self.recording);
            if let Some((state, _)) = &recorded {
                // Published in the same write: two runs' changes go out in their order.
                let from = slot.published.replace(state.outcome.level());
                crate::status::publish(&self.info, from, state);
            }
        });
        if let Some(what) = late {
            self.log.late(span, duration, self.timeout, &what);
        }
        if let Some((state, change)) = recorded {
            self.log.state(span, &state, &change);
        }
    }

    /// Logs, once per check, that an async check held its thread for `longest` in one poll.
    fn blocked(&self, longest: Duration, span: &tracing::Span) {
        if longest > BLOCKING && !self.blocked.swap(true, Ordering::Relaxed) {
            let _entered = span.enter();
            tracing::warn!(
                held_for = ?longest,
                "an async check blocked its thread: it cannot be timed out while it does, and stalls the runtime; make it a sync fn: heartbeat runs those on its own threads"
            );
        }
    }
}

tokio::task_local! {
    /// The deadline of the async run this task polls: what [`deadline`] reads.
    static DEADLINE: Instant;
}

/// The deadline of the async check being run on this task, if any: the built-in checks fit
/// their own attempts inside it (`checks/attempt.rs`).
pub(crate) fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|deadline| *deadline).ok()
}

/// An async check's run, in a task of its own: polled here with its panics caught, dropped at
/// the deadline.
async fn run_async(mut guard: Guard, check: Arc<dyn Fn() -> BoxFuture + Send + Sync>) {
    let monitor = Arc::clone(&guard.monitor);
    guard.started = monitor.started(guard.id);
    let deadline = guard.started + monitor.timeout;
    let future = match catch_unwind(AssertUnwindSafe(|| check())) {
        Ok(future) => future,
        Err(panic) => return guard.end(End::Returned(panicked(&*panic))),
    };
    let mut polls = Polls {
        future,
        longest: Duration::ZERO,
    };
    let polled = DEADLINE.scope(deadline, AssertUnwindSafe(&mut polls).catch_unwind());
    let result = tokio::time::timeout_at(deadline, polled).await;
    monitor.blocked(polls.longest, &guard.span);
    // The user's future is dropped here, its panics caught too.
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(polls)));
    let end = match (result, dropped) {
        (Ok(Ok(outcome)), _) => End::Returned(outcome),
        (Ok(Err(panic)), _) => End::Returned(panicked(&*panic)),
        (Err(_), Ok(())) => End::TimedOut,
        (Err(_), Err(panic)) => End::Returned(Outcome::fail(format!(
            "timed out after {:?}, and panicked while being cancelled: {}",
            monitor.timeout,
            panic_message(&*panic)
        ))),
    };
    guard.end(end);
}

/// A sync check's run, on one of heartbeat's threads.
fn run_sync(mut guard: Guard, check: &(dyn Fn() -> Outcome + Send + Sync)) {
    let span = guard.span.clone();
    let _entered = span.enter();
    guard.started = guard.monitor.started(guard.id);
    let outcome = match catch_unwind(AssertUnwindSafe(check)) {
        Ok(outcome) => outcome,
        Err(panic) => panicked(&*panic),
    };
    guard.end(End::Returned(outcome));
}

/// A check's future, timed: the longest time one poll held the thread.
struct Polls {
    future: BoxFuture,
    longest: Duration,
}

impl Future for Polls {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let start = std::time::Instant::now();
        let poll = self.future.as_mut().poll(cx);
        let held = start.elapsed();
        if held > self.longest {
            self.longest = held;
        }
        poll
    }
}

fn panicked(panic: &(dyn Any + Send)) -> Outcome {
    Outcome::fail(format!("the check panicked: {}", panic_message(panic)))
}

/// A panic's message, if it has one a check or a subscriber can show.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned())
}
