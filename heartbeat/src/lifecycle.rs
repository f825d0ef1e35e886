//! The process's own readiness: draining on shutdown, marked not ready by the application, and
//! an opt-in startup gate. Kubernetes reads it through the readiness endpoint.
//!
//! The state is process-wide (a pod is a process) and read on every readiness request, never
//! cached: a change shows at once. Each active condition is a failing check of readiness with
//! its own name (`shutdown`, `ready`, `startup`); with none active, readiness is unchanged.
//! Liveliness is never touched: a draining pod is alive.
//!
//! ```no_run
//! # async fn example(listener: tokio::net::TcpListener, app: axum::Router) {
//! heartbeat::lifecycle::require_startup();
//! tokio::spawn(async {
//!     // … warm caches …
//!     heartbeat::lifecycle::mark_started();
//! });
//! axum::serve(listener, app)
//!     .with_graceful_shutdown(heartbeat::lifecycle::shutdown_signal())
//!     .await
//!     .unwrap();
//! # }
//! ```

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::outcome::Outcome;

/// How long [`shutdown_signal`] keeps serving with readiness failing before it lets the server
/// stop. Kubelet notices a failing readiness probe after `periodSeconds × failureThreshold`;
/// the manifests in `examples/kubernetes/` probe every 2 s and give up after 1 failure, so 5 s
/// leaves time for that and for the endpoints to reach every kube-proxy and ingress.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

struct State {
    draining: Option<(Instant, Duration)>,
    not_ready: Option<String>,
    startup: Startup,
}

#[derive(PartialEq)]
enum Startup {
    NotRequired,
    Pending,
    Done,
}

static STATE: Mutex<State> = Mutex::new(State {
    draining: None,
    not_ready: None,
    startup: Startup::NotRequired,
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Marks the application not ready, with the reason readiness shows (warm-up, maintenance…).
pub fn mark_not_ready(reason: impl Into<String>) {
    let reason = reason.into();
    tracing::warn!(%reason, "marked not ready");
    state().not_ready = Some(reason);
}

/// Undoes [`mark_not_ready`].
pub fn mark_ready() {
    if state().not_ready.take().is_some() {
        tracing::info!("marked ready again");
    }
}

/// Opts in to the startup gate: readiness fails, with a check named `startup`, until
/// [`mark_started`] is called. Call it before serving. Without it, nothing waits for startup.
pub fn require_startup() {
    let mut state = state();
    if state.startup == Startup::NotRequired {
        state.startup = Startup::Pending;
    }
}

/// Says the application has started: the startup gate opens for good.
pub fn mark_started() {
    state().startup = Startup::Done;
}

/// Whether [`shutdown_signal`] has seen SIGTERM or Ctrl-C.
pub fn is_draining() -> bool {
    state().draining.is_some()
}

/// Resolves after SIGTERM or Ctrl-C plus [`DEFAULT_DRAIN`]; meanwhile readiness fails. Pass it
/// to `axum::serve(..).with_graceful_shutdown(..)`.
pub async fn shutdown_signal() {
    shutdown_signal_with_drain(DEFAULT_DRAIN).await;
}

/// [`shutdown_signal`] with your own drain delay.
///
/// On the signal, readiness fails at once (a check named `shutdown`), liveliness stays as it
/// is, and the server keeps serving for `drain`; then this resolves, axum stops accepting
/// connections and finishes the requests in flight.
pub async fn shutdown_signal_with_drain(drain: Duration) {
    let signal = terminated().await;
    state().draining = Some((Instant::now(), drain));
    tracing::info!(%signal, ?drain, "draining: readiness fails until the server stops");
    tokio::time::sleep(drain).await;
    tracing::info!("drain delay over: stopping the server");
}

/// Waits for SIGTERM (what kubelet sends) or Ctrl-C, and says which.
async fn terminated() -> &'static str {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => tokio::select! {
                _ = sigterm.recv() => "SIGTERM",
                () = ctrl_c => "Ctrl-C",
            },
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
                ctrl_c.await;
                "Ctrl-C"
            }
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c.await;
        "Ctrl-C"
    }
}

/// The failing lifecycle checks readiness shows now, by name.
pub(crate) fn readiness() -> Vec<(&'static str, Outcome)> {
    let state = state();
    let mut failing = Vec::new();
    if let Some((since, drain)) = state.draining {
        let message = format!(
            "draining: the pod is shutting down ({:.1?} ago) and leaves the Service's endpoints; the server stops after {drain:?}",
            since.elapsed()
        );
        failing.push(("shutdown", Outcome::fail(message)));
    }
    if let Some(reason) = &state.not_ready {
        failing.push((
            "ready",
            Outcome::fail(format!("marked not ready: {reason}")),
        ));
    }
    if state.startup == Startup::Pending {
        let message =
            "starting: the application has not yet called heartbeat::lifecycle::mark_started()";
        failing.push(("startup", Outcome::fail(message)));
    }
    failing
}
