//! A check's one state (SPEC §11), and the slot that publishes it: the current state and the
//! run in flight. Only a run writes it (through [`Slot::record`]); every output reads it.
//! Recording a run also decides the check's level (SPEC §12): [`shown`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::{Level, Outcome};
use crate::registry::Levels;

/// Where a check stands after its last finished run: what every output shows.
#[derive(Debug)]
pub(crate) struct State {
    /// The last run's result as shown: at the check's level (`critical` and the thresholds
    /// applied), with its message and data.
    pub(crate) outcome: Outcome,
    /// The thresholds say the check fails (before `critical = false` turned that into a
    /// warning): the next pass starts counting towards `success_threshold`.
    pub(crate) failing: bool,
    /// Which run of the check this is (the first is 1): a request that waited for run `n`
    /// takes any state of a run `≥ n`.
    pub(crate) run: u64,
    /// When the run started.
    pub(crate) started: Instant,
    /// Until when the state may be reused: its start plus the check's cache time (`None`:
    /// for ever).
    pub(crate) fresh_until: Option<Instant>,
    /// For a background check: when this state goes stale, its run's end plus `max_stale`
    /// (computed once here, so a request only compares two instants).
    pub(crate) stale_after: Option<Instant>,
    /// How long the run took (for a run that timed out: the timeout).
    pub(crate) duration: Duration,
    /// Consecutive failed runs up to this one (0 when it passed or warned).
    pub(crate) failures: u32,
    /// Consecutive passed (or warned) runs up to this one (0 when it failed).
    pub(crate) successes: u32,
    /// When the last passed (or warned) run started, if any did.
    pub(crate) last_success: Option<Instant>,
    /// The run was dropped before it ended (its runtime shut down, say): its failure is shown,
    /// but the next request runs the check again rather than reuse it.
    pub(crate) lost: bool,
}

impl State {
    /// What a background check shows before its first run ends: unknown (a warning, for a
    /// check with `critical = false`).
    pub(crate) fn unknown(levels: Levels) -> State {
        let level = if levels.critical {
            Level::Unknown
        } else {
            Level::Warn
        };
        let message =
            "unknown: the check runs in the background, and its first run has not ended yet";
        State {
            outcome: Outcome::fail(message).at(level, message.to_owned()),
            failing: false,
            run: 0,
            started: Instant::now(),
            fresh_until: None,
            stale_after: None,
            duration: Duration::ZERO,
            failures: 0,
            successes: 0,
            last_success: None,
            lost: false,
        }
    }

    /// This state, failed as stale with `message` (a warning, for a check with
    /// `critical = false`): what requests read when a background check's last run is too old.
    pub(crate) fn stale(&self, message: String, levels: Levels) -> State {
        let level = if levels.critical {
            Level::Fail
        } else {
            Level::Warn
        };
        State {
            outcome: Outcome::fail(String::new()).at(level, message),
            failing: true,
            run: self.run,
            started: self.started,
            fresh_until: self.fresh_until,
            stale_after: None,
            duration: self.duration,
            failures: self.failures,
            successes: self.successes,
            last_success: self.last_success,
            lost: self.lost,
        }
    }

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
    /// Every recorded run, counted: what the metrics read (`heartbeat_check_runs_total`,
    /// `heartbeat_check_duration_seconds`).
    pub(crate) tally: Tally,
    /// The level of the last status change published for the check (`None`: none yet), so
    /// that every change's `from` is the `to` of the one before, a background check that went
    /// stale included.
    pub(crate) published: Option<Level>,
}

/// The upper bounds, in seconds, of the buckets of `heartbeat_check_duration_seconds`:
/// Prometheus's default buckets.
pub(crate) const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The runs a check recorded, by result and by duration. A run counts once, when its result
/// is first recorded (a timeout recorded by a waiting request counts; the late result that
/// replaces it does not count again).
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    /// Runs by what they returned, before the thresholds and `critical = false` apply:
    /// pass, warn, fail (a timeout, a panic, a lost run and an `unknown` count as fail).
    pub(crate) results: [u64; 3],
    /// Runs by duration: `[i]` counts those that took more than `BUCKETS[i - 1]` and at most
    /// `BUCKETS[i]`; the last one, those longer than every bound.
    pub(crate) buckets: [u64; BUCKETS.len() + 1],
    /// The runs' durations, added up.
    pub(crate) total: Duration,
}

impl Tally {
    fn count(&mut self, level: Level, duration: Duration) {
        let result = match level {
            Level::Pass => 0,
            Level::Warn => 1,
            Level::Fail | Level::Unknown => 2,
        };
        self.results[result] += 1;
        let seconds = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket] += 1;
        self.total = self.total.saturating_add(duration);
    }

    /// How many runs were recorded.
    pub(crate) fn runs(&self) -> u64 {
        self.results.iter().sum()
    }
}

/// How a recorded state's level differs from the one before: what the log says about it.
pub(crate) enum Change {
    /// The first state, a pass.
    FirstPass,
    /// A failure after another level, or as the first state.
    Failing,
    /// A warning after another level, or as the first state.
    Warning,
    /// A pass after a warning or failure.
    Recovered,
    /// The same level as before.
    Same,
}

impl Change {
    fn between(previous: Option<Level>, now: Level) -> Change {
        match (previous, now) {
            (None, Level::Pass) => Change::FirstPass,
            (Some(Level::Warn | Level::Fail | Level::Unknown), Level::Pass) => Change::Recovered,
            (previous, Level::Fail) if previous != Some(Level::Fail) => Change::Failing,
            (previous, Level::Warn) if previous != Some(Level::Warn) => Change::Warning,
            _ => Change::Same,
        }
    }
}

/// What a run's result shows as, given the state before it and the run counts up to it
/// (SPEC §12), and whether the thresholds say the check fails:
///
/// - a failure fails at once when the check has never passed or already fails, and after
///   `failure_threshold` consecutive failures; before that it warns ("failing 1 of 3: …");
/// - a pass (or warning) of a failing check fails until `success_threshold` consecutive ones;
/// - `critical = false` shows what would fail as a warning.
pub(crate) fn shown(
    levels: Levels,
    outcome: Outcome,
    previous: Option<&State>,
    failures: u32,
    successes: u32,
) -> (Outcome, bool) {
    let was_failing = previous.is_some_and(|p| p.failing);
    let ever_passed = previous.is_some_and(|p| p.last_success.is_some());
    let (outcome, failing) = match outcome.level() {
        Level::Fail | Level::Unknown => {
            if was_failing || !ever_passed || failures >= levels.failure_threshold {
                (outcome, true)
            } else {
                let message = format!(
                    "failing {failures} of {}: {}",
                    levels.failure_threshold,
                    outcome.message().unwrap_or("failed")
                );
                (outcome.at(Level::Warn, message), false)
            }
        }
        Level::Pass | Level::Warn if was_failing && successes < levels.success_threshold => {
            let message = format!(
                "recovering: passed {successes} of the {} runs in a row it needs to pass again",
                levels.success_threshold
            );
            (outcome.at(Level::Fail, message), true)
        }
        Level::Pass | Level::Warn => (outcome, false),
    };
    if !levels.critical && outcome.level() == Level::Fail {
        let message = outcome.message().unwrap_or("failed").to_owned();
        return (outcome.at(Level::Warn, message), failing);
    }
    (outcome, failing)
}

/// A check's settings that recording a run reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recording {
    /// How long a state may be reused, from its run's start.
    pub(crate) cache: Duration,
    pub(crate) levels: Levels,
    /// For a background check: how long after its run's end a state goes stale.
    pub(crate) max_stale: Option<Duration>,
}

impl Slot {
    /// Records the result of run `run`, unless a newer run already recorded one, and says how
    /// the check's level changed. `None` when nothing was recorded.
    pub(crate) fn record(
        &mut self,
        run: u64,
        outcome: Outcome,
        (started, duration): (Instant, Duration),
        lost: bool,
        recording: Recording,
    ) -> Option<(Arc<State>, Change)> {
        let Recording {
            cache,
            levels,
            max_stale,
        } = recording;
        let fresh_until = started.checked_add(cache);
        let stale_after = max_stale.and_then(|stale| started.checked_add(duration + stale));
        let previous = self.current.as_deref();
        if previous.is_some_and(|p| p.run > run) {
            return None;
        }
        // A late result replaces the timeout recorded for the same run: both are failures, and
        // the run counts once.
        if let Some(p) = previous.filter(|p| p.run == run) {
            let (outcome, failing) = shown(levels, outcome, Some(p), p.failures, 0);
            let state = Arc::new(State {
                outcome,
                failing,
                run,
                started,
                fresh_until,
                stale_after,
                duration,
                failures: p.failures,
                successes: 0,
                last_success: p.last_success,
                lost,
            });
            self.current = Some(Arc::clone(&state));
            return Some((state, Change::Same));
        }
        self.tally.count(outcome.level(), duration);
        let failed = !outcome.passed();
        let failures = if failed {
            previous.map_or(0, |p| p.failures) + 1
        } else {
            0
        };
        let successes = if failed {
            0
        } else {
            previous.map_or(0, |p| p.successes) + 1
        };
        let last_success = if failed {
            previous.and_then(|p| p.last_success)
        } else {
            Some(started)
        };
        let (outcome, failing) = shown(levels, outcome, previous, failures, successes);
        let change = Change::between(previous.map(|p| p.outcome.level()), outcome.level());
        let state = Arc::new(State {
            outcome,
            failing,
            failures,
            successes,
            last_success,
            run,
            started,
            fresh_until,
            stale_after,
            duration,
            lost,
        });
        self.current = Some(Arc::clone(&state));
        Some((state, change))
    }
}
