//! What the engine logs about a check: each change of its status once, and repeats (still
//! failing, late results) at most once a minute, so that a check failing on every request
//! never floods the log.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::state::{Change, State};
use crate::outcome::Level;

/// A repeat is logged at most this often per check.
const REPEAT: Duration = Duration::from_secs(60);

/// One check's log: when it last logged a repeat, and how many it held back since.
#[derive(Default)]
pub(crate) struct Log {
    /// "Still failing or warning" lines.
    failing: Mutex<Repeats>,
    /// Late results.
    late: Mutex<Repeats>,
}

#[derive(Default)]
struct Repeats {
    last: Option<Instant>,
    held_back: u64,
}

impl Log {
    /// Logs a recorded state, in the check's span: a change at once, a repeated failure
    /// rate-limited.
    pub(crate) fn state(&self, span: &tracing::Span, state: &State, change: &Change) {
        let _entered = span.enter();
        let reason = state.outcome.message().unwrap_or_default();
        match change {
            Change::Failing => {
                Repeats::reset(&self.failing);
                tracing::warn!(%reason, "check is failing");
            }
            Change::Warning => {
                Repeats::reset(&self.failing);
                tracing::warn!(%reason, "check warns");
            }
            Change::Recovered => {
                Repeats::reset(&self.failing);
                tracing::info!("check passes again");
            }
            Change::FirstPass => tracing::debug!("check passes"),
            Change::Same if state.outcome.level() != Level::Pass => {
                if let Some(held_back) = Repeats::next(&self.failing) {
                    let level = state.outcome.level().as_str();
                    tracing::warn!(
                        %reason,
                        %level,
                        consecutive_failures = state.failures,
                        held_back,
                        "check is still failing or warning"
                    );
                }
            }
            Change::Same => {}
        }
    }

    /// Logs a run that returned after its timeout (the first at once, then at most one a
    /// minute), with what it returned.
    pub(crate) fn late(&self, span: &tracing::Span, took: Duration, timeout: Duration, what: &str) {
        if let Some(held_back) = Repeats::next(&self.late) {
            let _entered = span.enter();
            tracing::warn!(?took, ?timeout, result = %what, held_back, "check returned after its timeout");
        }
    }
}

impl Repeats {
    /// Whether a repeat may be logged now, with how many were held back before it.
    fn next(repeats: &Mutex<Repeats>) -> Option<u64> {
        let mut repeats = repeats.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if repeats
            .last
            .is_some_and(|last| now.duration_since(last) < REPEAT)
        {
            repeats.held_back += 1;
            return None;
        }
        repeats.last = Some(now);
        Some(std::mem::take(&mut repeats.held_back))
    }

    /// A change was just logged: the next repeat waits a minute.
    fn reset(repeats: &Mutex<Repeats>) {
        let mut repeats = repeats.lock().unwrap_or_else(PoisonError::into_inner);
        *repeats = Repeats {
            last: Some(Instant::now()),
            held_back: 0,
        };
    }
}
