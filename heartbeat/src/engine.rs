//! Running checks: concurrency, timeouts, panic isolation, single flight and the result cache.
//!
//! Every served check owns a [`Slot`]. A request asks each selected check for a result at once
//! ([`run_all`]); a check answers from its cache when the last result is fresh enough, joins the
//! run in flight when there is one, and otherwise starts a run. The run is a task of its own:
//! it outlives the request that started it, applies the timeout, contains panics, and is the
//! only place a result is produced, so concurrent requests all see the same one.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::join_all;
use tokio::sync::watch;
use tracing::Instrument;

use crate::outcome::Outcome;
use crate::registry::{CheckInfo, Definition, Runner};

/// The timeout of a check that sets none, when the router sets none either: below the 1 s
/// Kubernetes gives a probe by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

/// How long a result is reused when neither the check nor the router says otherwise.
pub(crate) const DEFAULT_CACHE: Duration = Duration::from_secs(1);

/// A check as served by one router: its definition, its resolved limits and its state.
pub(crate) struct Check {
    pub(crate) info: CheckInfo,
    runner: Runner,
    timeout: Duration,
    cache: Duration,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The last finished run, reused while younger than the check's cache time.
    last: Option<Report>,
    /// The run in flight, if any: at most one per check.
    running: Option<Running>,
}

struct Running {
    started: Instant,
    result: watch::Receiver<Option<Report>>,
}

/// The result of one run, shared by every request that sees it.
#[derive(Clone)]
pub(crate) struct Report(Arc<Run>);

pub(crate) struct Run {
    pub(crate) outcome: Outcome,
    /// How long the run took.
    pub(crate) time: Duration,
    finished: Instant,
    /// The result as the wire format renders it: made once per run, by the first request
    /// that needs it, however many requests the cache then serves it to.
    pub(crate) rendered: OnceLock<String>,
}

impl Report {
    fn new(outcome: Outcome, time: Duration) -> Self {
        Report(Arc::new(Run {
            outcome,
            time,
            finished: Instant::now(),
            rendered: OnceLock::new(),
        }))
    }
}

impl std::ops::Deref for Report {
    type Target = Run;

    fn deref(&self) -> &Run {
        &self.0
    }
}

/// A result as given to one request.
pub(crate) struct Served {
    pub(crate) report: Report,
    /// How old the result is, when it came from the cache rather than a run this request saw.
    pub(crate) age: Option<Duration>,
}

impl Served {
    fn fresh(report: Report) -> Self {
        Served { report, age: None }
    }
}

impl Check {
    pub(crate) fn new(
        definition: Definition,
        default_timeout: Duration,
        default_cache: Duration,
    ) -> Arc<Self> {
        Arc::new(Check {
            timeout: definition.info.timeout.unwrap_or(default_timeout),
            cache: definition.info.cache.unwrap_or(default_cache),
            info: definition.info,
            runner: definition.runner,
            slot: Mutex::default(),
        })
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        // The lock is never held across a panic point that matters; recover the state anyway.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A result for one request: cached, shared with the run in flight, or from a new run.
    pub(crate) async fn result(self: &Arc<Self>) -> Served {
        let (started, mut result) = {
            let mut slot = self.slot();
            if let Some(last) = &slot.last {
                let age = last.finished.elapsed();
                if age < self.cache {
                    return Served {
                        report: last.clone(),
                        age: Some(age),
                    };
                }
            }
            match &slot.running {
                Some(run) => (run.started, run.result.clone()),
                None => self.start(&mut slot),
            }
        };
        let elapsed = started.elapsed();
        if elapsed >= self.timeout {
            // Only a sync function outlives its timeout (a future is dropped at it); the slot
            // stays busy until the function returns, so it is not started again meanwhile.
            let message = format!(
                "timed out: still running after {elapsed:.1?}, over its timeout of {:?}",
                self.timeout
            );
            return Served::fresh(Report::new(Outcome::fail(message), elapsed));
        }
        // The run publishes by its deadline (its result, or a timeout); a result published
        // already is returned at once.
        let published = result
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|r| r.clone());
        Served::fresh(published.unwrap_or_else(|| {
            Report::new(
                Outcome::fail(
                    "the run was cancelled before it finished: is the runtime shutting down?",
                ),
                started.elapsed(),
            )
        }))
    }

    fn start(self: &Arc<Self>, slot: &mut Slot) -> (Instant, watch::Receiver<Option<Report>>) {
        let (sender, receiver) = watch::channel(None);
        let started = Instant::now();
        slot.running = Some(Running {
            started,
            result: receiver.clone(),
        });
        let span = tracing::info_span!(
            "heartbeat_check",
            kind = %self.info.kind,
            name = %self.info.name,
        );
        tokio::spawn(Arc::clone(self).run(started, sender).instrument(span));
        (started, receiver)
    }

    /// One run, from start to the moment the slot is free again.
    async fn run(self: Arc<Self>, started: Instant, sender: watch::Sender<Option<Report>>) {
        let report = match &self.runner {
            Runner::Async(f) => {
                // Polled right here, in the run's own task: a panic is caught, and at the
                // timeout the future is dropped.
                let f = Arc::clone(f);
                let future = AssertUnwindSafe(async move { f().await }).catch_unwind();
                match tokio::time::timeout(self.timeout, future).await {
                    Ok(Ok(outcome)) => Report::new(outcome, started.elapsed()),
                    Ok(Err(panic)) => Report::new(self.panicked(&*panic), started.elapsed()),
                    Err(_) => self.timed_out(),
                }
            }
            Runner::Sync(f) => {
                let f = Arc::clone(f);
                let mut task = tokio::task::spawn_blocking(move || f());
                match tokio::time::timeout(self.timeout, &mut task).await {
                    Ok(Ok(outcome)) => Report::new(outcome, started.elapsed()),
                    Ok(Err(error)) if error.is_panic() => {
                        Report::new(self.panicked(&*error.into_panic()), started.elapsed())
                    }
                    Ok(Err(_)) => Report::new(
                        Outcome::fail("the check's task was cancelled"),
                        started.elapsed(),
                    ),
                    Err(_) => {
                        // A blocking function cannot be stopped: waiters get the timeout now,
                        // and the slot stays busy until the function returns, so that a hung
                        // dependency never holds more than one thread.
                        let report = self.timed_out();
                        sender.send_replace(Some(report.clone()));
                        let _ = task.await;
                        tracing::warn!(
                            elapsed = ?started.elapsed(),
                            timeout = ?self.timeout,
                            "check returned after its timeout"
                        );
                        self.finish(report);
                        return;
                    }
                }
            }
        };
        sender.send_replace(Some(report.clone()));
        self.finish(report);
    }

    fn timed_out(&self) -> Report {
        let message = format!("timed out after {:?}", self.timeout);
        Report::new(Outcome::fail(message), self.timeout)
    }

    fn panicked(&self, panic: &(dyn Any + Send)) -> Outcome {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned());
        tracing::error!(panic = %message, "check panicked");
        Outcome::fail(format!("the check panicked: {message}"))
    }

    fn finish(&self, report: Report) {
        let mut slot = self.slot();
        // A change of status is logged once; the first result only when it is a failure.
        let was = slot.last.as_ref().map(|last| last.outcome.passed());
        match (was, report.outcome.passed()) {
            (Some(false), false) | (Some(true), true) => {}
            (_, false) => {
                let message = report.outcome.message().unwrap_or_default();
                tracing::warn!(%message, "check is failing");
            }
            (Some(false), true) => tracing::info!("check passes again"),
            (None, true) => tracing::debug!("check passes"),
        }
        slot.last = Some(report);
        slot.running = None;
    }
}

/// Asks every check for a result at once: the answer takes as long as the slowest check.
pub(crate) async fn run_all<'a, I>(checks: I) -> Vec<(&'a Arc<Check>, Served)>
where
    I: IntoIterator<Item = &'a Arc<Check>>,
{
    join_all(
        checks
            .into_iter()
            .map(|check| async move { (check, check.result().await) }),
    )
    .await
}
