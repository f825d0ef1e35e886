//! The one way a built-in check reaches its dependency: bounded by its own timeout, timed, and
//! worded as "what was tried: what happened". Also how a built-in becomes a [`Check`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::builder::Check;
use crate::checks::message::redact;
use crate::outcome::Outcome;

/// The timeout of a built-in check that sets none: below the 800 ms every check gets by
/// default, so that a slow dependency fails with the built-in's own message, which says what was
/// tried, rather than with the router's generic "timed out".
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(700);

/// How much longer than its own timeout the router waits for a built-in check, so that the
/// built-in's message wins (and, for SQL, its diagnosis has time to run).
const MARGIN: Duration = Duration::from_millis(300);

/// What a built-in leaves of its check's deadline to have its message recorded.
const SLACK: Duration = Duration::from_millis(50);

/// How long a built-in may take: its own `timeout`, or less when it runs inside a check (an
/// annotated function, say) whose deadline comes sooner, so that its message, not the router's
/// "timed out", is the answer.
pub(crate) fn budget(timeout: Duration) -> Duration {
    match crate::engine::deadline() {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            timeout.min(left.saturating_sub(SLACK))
        }
        None => timeout,
    }
}

/// One attempt at a dependency: what is tried, and for how long.
pub(crate) struct Attempt {
    what: String,
    timeout: Duration,
}

impl Attempt {
    /// `what` names the attempt in failure messages ("TCP connect to db:5432"); it must hold no
    /// credentials, and is redacted anyway. The timeout is cut to the [`budget`] of the check
    /// the attempt runs in.
    pub(crate) fn new(what: impl Into<String>, timeout: Duration) -> Self {
        Attempt {
            what: redact(&what.into()),
            timeout: budget(timeout),
        }
    }

    /// Runs `attempt` within the timeout. A pass gets the round-trip time as `round_trip_ms`;
    /// an `Err(reason)` fails with "what: reason"; `None` when the timeout struck first.
    pub(crate) async fn within<F>(&self, attempt: F) -> Option<Outcome>
    where
        F: Future<Output = Result<Outcome, String>>,
    {
        let start = Instant::now();
        let result = tokio::time::timeout(self.timeout, attempt).await.ok()?;
        Some(match result {
            Ok(outcome) => outcome.with("round_trip_ms", milliseconds(start.elapsed())),
            Err(reason) => self.failed(&reason),
        })
    }

    /// Runs `attempt` within the timeout; see [`Attempt::within`].
    pub(crate) async fn run<F>(&self, attempt: F) -> Outcome
    where
        F: Future<Output = Result<Outcome, String>>,
    {
        match self.within(attempt).await {
            Some(outcome) => outcome,
            None => self.timed_out(None),
        }
    }

    /// "what: reason", redacted.
    pub(crate) fn failed(&self, reason: &str) -> Outcome {
        Outcome::fail(format!("{}: {}", self.what, redact(reason)))
    }

    /// "what: no answer within 700ms", with what else is known.
    pub(crate) fn timed_out(&self, detail: Option<&str>) -> Outcome {
        let mut message = format!("{}: no answer within {:?}", self.what, self.timeout);
        if let Some(detail) = detail {
            message.push_str("; ");
            message.push_str(&redact(detail));
        }
        Outcome::fail(message)
    }
}

/// A duration in milliseconds, to the microsecond.
fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// A built-in check that runs asynchronously within its own timeout.
pub(crate) trait Probe: Send + Sync + 'static {
    /// The built-in's own timeout.
    fn timeout(&self) -> Duration;

    /// One run.
    fn probe(&self) -> impl Future<Output = Outcome> + Send;
}

/// A [`Check`] named `name` that runs `probe`, with a router timeout just above the probe's own.
#[track_caller]
pub(crate) fn into_check<P: Probe>(name: impl Into<String>, probe: P) -> Check {
    let timeout = probe.timeout().saturating_add(MARGIN);
    let probe = Arc::new(probe);
    Check::new_async(name, move || {
        let probe = Arc::clone(&probe);
        async move { probe.probe().await }
    })
    .timeout(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pass_is_timed_a_failure_is_worded_a_timeout_is_named() {
        let attempt = Attempt::new("ping x://u:secret@h", Duration::from_millis(50));
        let passed = attempt.run(async { Ok(Outcome::pass()) }).await;
        assert!(passed.passed());
        assert!(passed.data()["round_trip_ms"].is_f64());

        let failed = attempt.run(async { Err("refused".to_owned()) }).await;
        assert_eq!(failed.message(), Some("ping x://u:***@h: refused"));

        let slow = attempt
            .run(async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(Outcome::pass())
            })
            .await;
        assert_eq!(
            slow.message(),
            Some("ping x://u:***@h: no answer within 50ms")
        );
    }
}
