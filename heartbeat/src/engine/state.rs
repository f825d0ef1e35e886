//! A check's one state (SPEC §11), and the slot that publishes it: the current state and the
//! run in flight. Only a run writes it (through [`Slot::record`]); every output reads it.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::Outcome;

/// Where a check stands after its last finished run: what every output shows.
#[derive(Debug)]
pub(crate) struct State {
    /// The last run's result: passed or failed, its message and data.
    pub(crate) outcome: Outcome,
    /// Which run of the check this is (the first is 1): a request that waited for run `n`
    /// takes any state of a run `≥ n`.
    pub(crate) run: u64,
    /// When the run started.
    pub(crate) started: Instant,
    /// Until when the state may be reused: its start plus the check's cache time (`None`:
    /// for ever).
    pub(crate) fresh_until: Option<Instant>,
    /// How long the run took (for a run that timed out: the timeout).
    pub(crate) duration: Duration,
    /// Consecutive failed runs up to this one (0 when it passed).
    pub(crate) failures: u32,
    /// Consecutive passed runs up to this one (0 when it failed).
    pub(crate) successes: u32,
    /// When the last passed run started, if any did.
    pub(crate) last_success: Option<Instant>,
    /// The run was dropped before it ended (its runtime shut down, say): its failure is shown,
    /// but the next request runs the check again rather than reuse it.
    pub(crate) lost: bool,
}

impl State {
    /// Whether this state may stand for a run asked for at `now`.
    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        !self.lost && self.fresh_until.is_none_or(|until| now < until)
    }
}

/// The run in flight: at most one per check.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) id: u64,
    pub(crate) phase: Phase,
    /// Its deadline passed before it finished: a timeout was recorded for it, and whatever it
    /// returns later counts as a failure.
    pub(crate) expired: bool,
}

/// Where a run in flight is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    /// A sync check's run, waiting for one of heartbeat's threads since then.
    Queued(Instant),
    /// Running since then: the check's timeout counts from here.
    Started(Instant),
}

impl Phase {
    pub(crate) fn since(self) -> Instant {
        match self {
            Phase::Queued(since) | Phase::Started(since) => since,
        }
    }
}

/// What a check's watch channel holds.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) current: Option<Arc<State>>,
    pub(crate) running: Option<Running>,
    /// The id the next run gets.
    pub(crate) runs: u64,
}

/// How a recorded state differs from the one before: what the log says about it.
pub(crate) enum Change {
    /// The first state, a pass.
    FirstPass,
    /// A failure after a pass, or as the first state.
    Failing,
    /// A pass after a failure.
    Recovered,
    /// The same status as before.
    Same,
}

impl Slot {
    /// Records the result of run `run`, unless a newer run already recorded one, and says how
    /// the check's status changed. `None` when nothing was recorded.
    pub(crate) fn record(
        &mut self,
        run: u64,
        outcome: Outcome,
        started: Instant,
        duration: Duration,
        cache: Duration,
        lost: bool,
    ) -> Option<(Arc<State>, Change)> {
        let fresh_until = started.checked_add(cache);
        let previous = self.current.as_deref();
        if previous.is_some_and(|p| p.run > run) {
            return None;
        }
        // A late result replaces the timeout recorded for the same run: both are failures, and
        // the run counts once.
        let previous = match previous {
            Some(p) if p.run == run => {
                let state = Arc::new(State {
                    outcome,
                    run,
                    started,
                    fresh_until,
                    duration,
                    failures: p.failures,
                    successes: 0,
                    last_success: p.last_success,
                    lost,
                });
                self.current = Some(Arc::clone(&state));
                return Some((state, Change::Same));
            }
            previous => previous,
        };
        let passed = outcome.passed();
        let change = match previous.map(|p| p.outcome.passed()) {
            None if passed => Change::FirstPass,
            Some(false) if passed => Change::Recovered,
            Some(true) | None if !passed => Change::Failing,
            _ => Change::Same,
        };
        let state = Arc::new(State {
            failures: if passed {
                0
            } else {
                previous.map_or(0, |p| p.failures) + 1
            },
            successes: if passed {
                previous.map_or(0, |p| p.successes) + 1
            } else {
                0
            },
            last_success: if passed {
                Some(started)
            } else {
                previous.and_then(|p| p.last_success)
            },
            outcome,
            run,
            started,
            fresh_until,
            duration,
            lost,
        });
        self.current = Some(Arc::clone(&state));
        Some((state, change))
    }
}
