//! Running checks (SPEC §7, §11): one state per check, written only by its runs, read by every
//! output.
//!
//! Every served check is a [`Monitor`]: its settings and a watch channel holding its [`Slot`]
//! (the current [`State`] and the run in flight). A request asks a set of checks ([`Checks`],
//! in `checks.rs`) for their states; each check answers from its state while it is fresh (younger than its
//! cache time, counted from the run's start), joins the run in flight, or starts one. A run is
//! owned by nobody but itself ([`run`]): it outlives the request that started it, and its guard
//! leaves a result and frees the check however it ends. A waiting request never waits past the
//! run's deadline (`started + timeout`): at the deadline it records the timeout itself, so a
//! check that blocks its thread cannot hang a probe. Concurrent requests for the same set of
//! checks share one evaluation, so memory grows with the checks, not with requests × checks.

mod background;
mod checks;
mod log;
mod run;
mod state;
mod threads;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use self::state::{Phase, Recording, Running, Slot};
use crate::builder::Check;
use crate::outcome::Outcome;
use crate::registry::{CheckInfo, Runner};

pub(crate) use self::background::Background;
pub(crate) use self::checks::{Answer, Answered, Checks};
pub(crate) use self::run::{deadline, panic_message};
pub(crate) use self::state::{BUCKETS, State, Tally};
pub(crate) use self::threads::MAX_THREADS;

/// The timeout of a check that sets none, when the router sets none either: below the 1 s
/// Kubernetes gives a probe by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);

/// How long a result is reused when neither the check nor the router says otherwise.
pub(crate) const DEFAULT_CACHE: Duration = Duration::from_secs(1);

/// A check as one router serves it: what it is, how it runs, and its published state.
pub(crate) struct Monitor {
    pub(crate) info: CheckInfo,
    runner: Runner,
    pub(crate) timeout: Duration,
    recording: Recording,
    /// For a background check (`every`): when it runs, and what requests read instead.
    schedule: Option<Schedule>,
    slot: watch::Sender<Slot>,
    log: log::Log,
    /// Whether it was logged that this (async) check blocked its thread.
    blocked: AtomicBool,
}

/// When a background check runs, and what requests read before its first run ends.
pub(crate) struct Schedule {
    pub(crate) every: Duration,
    unknown: Arc<State>,
}

/// What a request does for one check.
enum Next {
    /// Answer with this state.
    Ready(Arc<State>),
    /// Wait for run `n`.
    Wait(u64),
}

impl Monitor {
    pub(crate) fn new(check: Check, default_timeout: Duration, default_cache: Duration) -> Self {
        let (info, runner) = check.into_parts();
        let levels = info.options.levels;
        let schedule = info.options.every.map(|every| Schedule {
            every,
            unknown: Arc::new(State::unknown(levels)),
        });
        let (timeout, cache) = match &schedule {
            // The router's default timeout is cut to the period; no run is ever reused by a
            // request, so each background run runs.
            Some(schedule) => (
                info.options
                    .timeout
                    .unwrap_or(default_timeout.min(schedule.every)),
                Duration::ZERO,
            ),
            None => (
                info.options.timeout.unwrap_or(default_timeout),
                info.options.cache.unwrap_or(default_cache),
            ),
        };
        Monitor {
            timeout,
            recording: Recording {
                cache,
                levels,
                max_stale: info.max_stale(),
            },
            schedule,
            info,
            runner,
            slot: watch::Sender::new(Slot::default()),
            log: log::Log::default(),
            blocked: AtomicBool::new(false),
        }
    }

    /// The current state if it may stand for a run asked for at `now`. A background check's
    /// state always may: requests never run it.
    fn fresh(&self, now: Instant) -> Option<Arc<State>> {
        if self.schedule.is_some() {
            return self.read_scheduled(now);
        }
        let slot = self.slot.borrow();
        let current = slot.current.as_ref()?;
        current.is_fresh(now).then(|| Arc::clone(current))
    }

    /// Whether `state` is still what a request at `now` reads of this check: its current state,
    /// fresh (for a background check: not stale, or unknown before its first run ends).
    fn still(&self, state: &Arc<State>, now: Instant) -> bool {
        let slot = self.slot.borrow();
        match (&self.schedule, slot.current.as_ref()) {
            (Some(schedule), None) => Arc::ptr_eq(state, &schedule.unknown),
            (Some(_), Some(current)) => {
                Arc::ptr_eq(state, current) && current.stale_after.is_none_or(|at| now <= at)
            }
            (None, Some(current)) => Arc::ptr_eq(state, current) && current.is_fresh(now),
            (None, None) => false,
        }
    }

    /// A background check's state as a request at `now` reads it; `None` for any other check.
    fn read_scheduled(&self, now: Instant) -> Option<Arc<State>> {
        let schedule = self.schedule.as_ref()?;
        let (state, stale) = {
            let slot = self.slot.borrow();
            self.scheduled(schedule, slot.current.as_ref(), now)
        };
        if stale {
            self.publish_stale(&state);
        }
        Some(state)
    }

    /// What a request at `now` reads of a background check: unknown before its first run
    /// ends, its last run's state, or a failure when that run ended more than `max_stale` ago
    /// (then `true`: the caller publishes that change once the slot is no longer borrowed).
    fn scheduled(
        &self,
        schedule: &Schedule,
        current: Option<&Arc<State>>,
        now: Instant,
    ) -> (Arc<State>, bool) {
        let Some(current) = current else {
            return (Arc::clone(&schedule.unknown), false);
        };
        match current.stale_after {
            Some(stale_after) if now > stale_after => (Arc::new(self.stale(current, now)), true),
            _ => (Arc::clone(current), false),
        }
    }

    /// `current`, failed as stale: its run ended longer than `max_stale` before `now`.
    #[cold]
    fn stale(&self, current: &State, now: Instant) -> State {
        let ended = current.started + current.duration;
        let message = format!(
            "stale: last run {} s ago, more than its max_stale of {:?} (is the runtime that runs background checks stopped or overloaded?)",
            now.saturating_duration_since(ended).as_secs(),
            self.recording.max_stale.unwrap_or_default()
        );
        current.stale(message, self.recording.levels)
    }

    /// Publishes that a background check went stale, the first time something reads it so (a
    /// probe, a scrape, a live stream): no run records that, its task having stopped or
    /// stalled. Its next run's result is published as the change back.
    #[cold]
    fn publish_stale(&self, stale: &State) {
        let to = stale.outcome.level();
        self.slot.send_if_modified(|slot| {
            if slot.published != Some(to) {
                let from = slot.published.replace(to);
                crate::status::publish(&self.info, from, stale);
            }
            // Only the published level changed: nobody waits for that.
            false
        });
    }

    /// What a scrape reads of this check at `now`, without ever running it: the state a request
    /// at `now` would be answered from (`None` for a check no request has run yet; unknown or
    /// stale for a background check, as a request reads it), and its runs counted. Inlined: a
    /// scrape calls it for every check, and its result (the counts' buckets) is copied when
    /// returned from a call (a third of a scrape of 100 unchanged checks).
    #[inline]
    pub(crate) fn reading(&self, now: Instant) -> (Option<Arc<State>>, Tally) {
        let ((state, stale), tally) = {
            let slot = self.slot.borrow();
            (self.read(&slot, now), slot.tally.clone())
        };
        if let Some(state) = state.as_ref().filter(|_| stale) {
            self.publish_stale(state);
        }
        (state, tally)
    }

    /// The state a request at `now` would be answered from, without running the check or
    /// copying its counts (`None` for a check no request has run yet): what a live stream and
    /// a gRPC `Watch` read after each change.
    pub(crate) fn current(&self, now: Instant) -> Option<Arc<State>> {
        let (state, stale) = self.read(&self.slot.borrow(), now);
        if let Some(state) = state.as_ref().filter(|_| stale) {
            self.publish_stale(state);
        }
        state
    }

    /// [`Monitor::current`] from a borrowed slot, and whether it is a background check's stale
    /// state (a change to publish once the slot is no longer borrowed). Inlined: a scrape
    /// reads every check, and out of line this cost 15 instructions a check.
    #[inline]
    fn read(&self, slot: &Slot, now: Instant) -> (Option<Arc<State>>, bool) {
        match &self.schedule {
            Some(schedule) => {
                let (state, stale) = self.scheduled(schedule, slot.current.as_ref(), now);
                (Some(state), stale)
            }
            None => (slot.current.clone(), false),
        }
    }

    /// The state for a request made at `now`: fresh, from the run in flight, or from a run
    /// started now. Never waits past the run's deadline. A run that was lost (its runtime shut
    /// down while this request, on another runtime, waited for it) is run once more. A
    /// background check is only read.
    pub(crate) async fn state(self: &Arc<Self>, now: Instant) -> Arc<State> {
        if let Some(state) = self.read_scheduled(now) {
            return state;
        }
        let state = self.try_state(now).await;
        if state.lost {
            return self.try_state(Instant::now()).await;
        }
        state
    }

    async fn try_state(self: &Arc<Self>, now: Instant) -> Arc<State> {
        let mut next = None;
        let mut launch = false;
        self.slot.send_if_modified(|slot| {
            let fresh = slot.current.as_ref().filter(|c| c.is_fresh(now));
            if let Some(current) = fresh {
                next = Some(Next::Ready(Arc::clone(current)));
                return false;
            }
            if let Some(running) = &slot.running {
                // A run that outlived its deadline stands as its recorded timeout until it
                // returns; it is not started again meanwhile.
                next = Some(match &slot.current {
                    Some(current) if current.run >= running.id => Next::Ready(Arc::clone(current)),
                    _ => Next::Wait(running.id),
                });
                return false;
            }
            slot.runs += 1;
            slot.running = Some(Running {
                id: slot.runs,
                phase: Phase::Queued(now),
                expired: false,
            });
            next = Some(Next::Wait(slot.runs));
            launch = true;
            // Nobody waits for a run to be launched: no need to wake the receivers.
            false
        });
        match next {
            Some(Next::Ready(state)) => state,
            Some(Next::Wait(id)) => {
                if launch {
                    self.launch(id, now);
                }
                self.wait(id).await
            }
            None => self.lost(now, "no decision was made"),
        }
    }

    /// Waits for run `id`'s state, or records its timeout at its deadline.
    async fn wait(self: &Arc<Self>, id: u64) -> Arc<State> {
        let mut receiver = self.slot.subscribe();
        loop {
            let deadline = {
                let slot = receiver.borrow_and_update();
                if let Some(current) = slot.current.as_ref().filter(|s| s.run >= id) {
                    return Arc::clone(current);
                }
                match &slot.running {
                    Some(running) if running.id == id => running.phase.since() + self.timeout,
                    _ => return self.lost(Instant::now(), "the run left no result"),
                }
            };
            match tokio::time::timeout_at(deadline, receiver.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return self.lost(Instant::now(), "the check was dropped"),
                Err(_) => {
                    if let Some(state) = self.expire(id) {
                        return state;
                    }
                }
            }
        }
    }

    /// Run `id` reached its deadline without a result: records its timeout (once, by the first
    /// request to see it) and keeps the check busy until the run returns. `None` when the
    /// deadline moved: the run started since this request last looked (a start does not wake
    /// the waiters), and its timeout counts from there.
    fn expire(&self, id: u64) -> Option<Arc<State>> {
        let mut answer = None;
        let mut recorded = None;
        let now = Instant::now();
        self.slot.send_if_modified(|slot| {
            if let Some(current) = slot.current.as_ref().filter(|s| s.run >= id) {
                answer = Some(Arc::clone(current));
                return false;
            }
            let Some(running) = slot.running.as_mut().filter(|r| r.id == id) else {
                answer = Some(self.lost(now, "the run left no result"));
                return false;
            };
            if now < running.phase.since() + self.timeout {
                return false;
            }
            running.expired = true;
            let (since, message) = match running.phase {
                Phase::Queued(since) => (since, self.not_started()),
                Phase::Started(since) => (since, format!("timed out after {:?}", self.timeout)),
            };
            recorded = slot.record(
                id,
                Outcome::fail(message),
                (since, self.timeout),
                false,
                self.recording,
            );
            if let Some((state, _)) = &recorded {
                // Published in the same write: two runs' changes go out in their order.
                let from = slot.published.replace(state.outcome.level());
                crate::status::publish(&self.info, from, state);
            }
            answer = recorded.as_ref().map(|(state, _)| Arc::clone(state));
            recorded.is_some()
        });
        if let Some((state, change)) = &recorded {
            self.log.state(&self.span(), state, change);
        }
        answer
    }

    /// Why a run never started within its timeout.
    fn not_started(&self) -> String {
        match self.runner {
            Runner::Sync(_) => format!(
                "did not start within its timeout of {:?}: all {MAX_THREADS} of heartbeat's threads for sync checks are busy (hung sync checks?)",
                self.timeout
            ),
            Runner::Async(_) => format!(
                "did not start within its timeout of {:?}: the runtime did not poll it (overloaded?)",
                self.timeout
            ),
        }
    }

    /// A failure that is not recorded: the answer for an engine fault that cannot happen by
    /// construction, rather than a panic.
    fn lost(&self, now: Instant, why: &str) -> Arc<State> {
        Arc::new(State {
            outcome: Outcome::fail(format!("heartbeat lost track of this check's run: {why}")),
            failing: true,
            run: 0,
            started: now,
            fresh_until: None,
            stale_after: None,
            duration: Duration::ZERO,
            failures: 1,
            successes: 0,
            last_success: None,
            lost: true,
        })
    }

    /// The span every run and log line of this check is in.
    fn span(&self) -> tracing::Span {
        tracing::info_span!("heartbeat_check", kind = %self.info.kind, name = %self.info.name)
    }
}
