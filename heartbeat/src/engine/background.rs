//! Background checks (`every`, SPEC §12): one task per check runs it, then waits its period
//! (less a small jitter) after each run ends; requests only read its state.
//!
//! The tasks belong to one router: they start when it first serves inside a runtime (or when
//! it is built inside one), stop when every clone of it is dropped or when its lifecycle's
//! drain is over, and start again on the next request's runtime if theirs shut down.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::Monitor;
use crate::lifecycle::Lifecycle;

/// The background checks of one router, and their tasks.
pub(crate) struct Background {
    monitors: Vec<Arc<Monitor>>,
    /// Never sent: dropped with the router, which ends every task.
    stop: watch::Sender<()>,
    /// How many tasks are alive (on whatever runtime).
    alive: Arc<AtomicUsize>,
    /// Held while tasks are started, so two requests never start two sets.
    starting: Mutex<()>,
    lifecycle: Lifecycle,
}

/// Held by a task: counts it alive until it ends, or is dropped with its runtime.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Background {
    /// The background checks among `monitors`.
    pub(crate) fn new<'a>(
        monitors: impl IntoIterator<Item = &'a Arc<Monitor>>,
        lifecycle: Lifecycle,
    ) -> Self {
        Background {
            monitors: monitors
                .into_iter()
                .filter(|m| m.schedule.is_some())
                .cloned()
                .collect(),
            stop: watch::Sender::new(()),
            alive: Arc::new(AtomicUsize::new(0)),
            starting: Mutex::new(()),
            lifecycle,
        }
    }

    /// Starts the tasks on the current runtime unless they run: called when the router is
    /// built and by every request (a few atomic loads when they run; the status-change
    /// subscribers are made sure of here too). Does nothing outside a
    /// runtime, or once the drain is over.
    #[inline]
    pub(crate) fn ensure(&self) {
        crate::subscribers::ensure();
        if self.monitors.is_empty() || self.alive.load(Ordering::Acquire) > 0 {
            return;
        }
        self.start();
    }

    /// Starts the tasks (none is alive).
    #[cold]
    fn start(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let _starting = self.starting.lock().unwrap_or_else(PoisonError::into_inner);
        if self.alive.load(Ordering::Acquire) > 0 || self.lifecycle.is_drained() {
            return;
        }
        for monitor in &self.monitors {
            self.alive.fetch_add(1, Ordering::AcqRel);
            let alive = Alive(Arc::clone(&self.alive));
            let task = every(
                Arc::clone(monitor),
                self.stop.subscribe(),
                self.lifecycle.drained(),
                alive,
            );
            runtime.spawn(task);
        }
    }
}

/// One background check's task: run, wait, again, until the router is dropped or the drain
/// is over. A run that outlives its deadline is recorded as a timeout by `refresh` and keeps
/// the check busy until it returns: the next period joins it rather than start another.
async fn every(
    monitor: Arc<Monitor>,
    mut stop: watch::Receiver<()>,
    mut drained: watch::Receiver<bool>,
    _alive: Alive,
) {
    let Some(period) = monitor.schedule.as_ref().map(|s| s.every) else {
        return;
    };
    loop {
        let pause = async {
            monitor.refresh().await;
            tokio::time::sleep(period.saturating_sub(jitter(period))).await;
        };
        tokio::select! {
            // `changed` ends with an error when the router (the sender) is dropped.
            _ = stop.changed() => return,
            _ = drained.wait_for(|drained| *drained) => return,
            () = pause => {}
        }
    }
}

/// Up to a tenth of `period`, at random: pods that started together drift apart, so that
/// their checks do not hit a shared dependency in step.
fn jitter(period: Duration) -> Duration {
    let random = RandomState::new().hash_one(Instant::now());
    let fraction = (random % 1_000) as f64 / 10_000.0;
    period.mul_f64(fraction)
}

impl Monitor {
    /// Runs a background check now, or joins its run in flight, and waits for its state (at
    /// most until the run's deadline).
    pub(super) async fn refresh(self: &Arc<Self>) {
        let _ = self.try_state(Instant::now()).await;
    }
}
