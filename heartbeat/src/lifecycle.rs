//! The process's own readiness: draining on shutdown, marked not ready by the application, and
//! an opt-in startup gate. Kubernetes reads it through the readiness endpoint.
//!
//! The state is process-wide by default (a pod is a process; a [`Lifecycle`] handle gives a
//! router a state of its own) and read on every readiness request after its checks ran, never
//! cached: a change shows at once. Each active condition is a failing check of readiness with
//! its own name (`shutdown`, `ready`, `startup`); with none active, readiness is unchanged.
//! Liveliness is never touched: a draining pod is alive.
//!
//! The whole shutdown is bounded: the drain delay, then at most the grace period for the
//! requests in flight ([`with_grace`]), so a client that never finishes its request cannot keep
//! the process alive. Sync checks run on heartbeat's own detached threads, so a hung one does
//! not hold the runtime's shutdown either.
//!
//! ```no_run
//! # async fn example(listener: tokio::net::TcpListener, app: axum::Router) {
//! heartbeat::lifecycle::require_startup();
//! tokio::spawn(async {
//!     // … warm caches …
//!     heartbeat::lifecycle::mark_started();
//! });
//! let server = axum::serve(listener, app.into_make_service())
//!     .with_graceful_shutdown(heartbeat::lifecycle::shutdown_signal());
//! heartbeat::lifecycle::with_grace(server).await.unwrap();
//! # }
//! ```

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::outcome::Outcome;

/// How long [`shutdown_signal`] keeps serving with readiness failing before it lets the server
/// stop. Kubelet notices a failing readiness probe after `periodSeconds × failureThreshold`;
/// the manifests in `examples/kubernetes/` probe every 2 s and give up after 1 failure, so 5 s
/// leaves time for that and for the endpoints to reach every kube-proxy and ingress.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

/// How long [`with_grace`] lets requests in flight finish after the drain before the server
/// stops anyway: the drain plus this stays under Kubernetes' default
/// `terminationGracePeriodSeconds` of 30 s, after which kubelet kills the process.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(20);

/// The state readiness reads: a handle to it, shared by its clones.
///
/// Routers use the process-wide one ([`Lifecycle::global`], which the free functions of this
/// module act on) unless [`Heartbeat::lifecycle`](crate::Heartbeat::lifecycle) gives them
/// another, as a test does to have a state of its own:
///
/// ```
/// use heartbeat::lifecycle::Lifecycle;
///
/// let lifecycle = Lifecycle::new();
/// let app: axum::Router = heartbeat::Heartbeat::new()
///     .no_health_secret()
///     .lifecycle(lifecycle.clone())
///     .into_router();
/// lifecycle.mark_not_ready("warming the cache");
/// ```
#[derive(Clone, Debug)]
pub struct Lifecycle(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Whether any condition may be active: readiness reads the state only then.
    active: AtomicBool,
    /// Whether the drain is over (the server is stopping).
    drained: watch::Sender<bool>,
    /// Sent after every change of a condition: what the live streams of readiness and the gRPC
    /// health service's `Watch` wait on.
    changed: watch::Sender<()>,
}

#[derive(Debug)]
struct State {
    draining: Option<(Instant, Duration)>,
    not_ready: Option<String>,
    startup: Startup,
}

#[derive(Debug, PartialEq)]
enum Startup {
    NotRequired,
    Pending,
    Done,
}

static GLOBAL: LazyLock<Lifecycle> = LazyLock::new(Lifecycle::new);

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    /// A state of its own: ready, not draining, no startup gate.
    pub fn new() -> Self {
        Lifecycle(Arc::new(Shared {
            state: Mutex::new(State {
                draining: None,
                not_ready: None,
                startup: Startup::NotRequired,
            }),
            active: AtomicBool::new(false),
            drained: watch::Sender::new(false),
            changed: watch::Sender::new(()),
        }))
    }

    /// The process's state (a pod is a process): what the free functions of this module and
    /// every router that was given no other use.
    pub fn global() -> Lifecycle {
        GLOBAL.clone()
    }

    /// The state, to change it: a condition may become active.
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.active.store(true, Ordering::Release);
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state with `change`, then tells whoever watches it (after the lock is
    /// released, so a watcher that wakes reads the new state).
    fn update<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let result = change(&mut self.state());
        self.0.changed.send_replace(());
        result
    }

    /// Marks the application not ready, with the reason readiness shows (warm-up,
    /// maintenance…).
    pub fn mark_not_ready(&self, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(%reason, "marked not ready");
        self.update(|state| state.not_ready = Some(reason));
    }

    /// Undoes [`Lifecycle::mark_not_ready`].
    pub fn mark_ready(&self) {
        if self.update(|state| state.not_ready.take()).is_some() {
            tracing::info!("marked ready again");
        }
    }

    /// Opts in to the startup gate: readiness fails, with a check named `startup`, until
    /// [`Lifecycle::mark_started`] is called. Call it before serving.
    pub fn require_startup(&self) {
        self.update(|state| {
            if state.startup == Startup::NotRequired {
                state.startup = Startup::Pending;
            }
        });
    }

    /// Says the application has started: the startup gate opens for good.
    pub fn mark_started(&self) {
        self.update(|state| state.startup = Startup::Done);
    }

    /// Whether the shutdown has begun.
    pub fn is_draining(&self) -> bool {
        if !self.0.active.load(Ordering::Acquire) {
            return false;
        }
        let state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.draining.is_some()
    }

    /// Begins the shutdown now: readiness fails at once (a check named `shutdown`) while
    /// liveliness stays as it is; resolves after `drain`, when the server should stop taking
    /// requests. What [`Lifecycle::shutdown_signal_with_drain`] does on the signal.
    pub async fn shutdown(&self, drain: Duration) {
        self.update(|state| state.draining = Some((Instant::now(), drain)));
        tracing::info!(?drain, "draining: readiness fails until the server stops");
        tokio::time::sleep(drain).await;
        tracing::info!("drain delay over: stopping the server");
        self.0.drained.send_replace(true);
    }

    /// Resolves after SIGTERM or Ctrl-C plus [`DEFAULT_DRAIN`]; see
    /// [`Lifecycle::shutdown_signal_with_drain`].
    pub async fn shutdown_signal(&self) {
        self.shutdown_signal_with_drain(DEFAULT_DRAIN).await;
    }

    /// Waits for SIGTERM or Ctrl-C, then [`Lifecycle::shutdown`]s with this drain delay. Pass it
    /// to `axum::serve(..).with_graceful_shutdown(..)`, and bound what follows with
    /// [`Lifecycle::with_grace`].
    pub async fn shutdown_signal_with_drain(&self, drain: Duration) {
        let signal = terminated().await;
        tracing::info!(%signal, "shutdown signal");
        self.shutdown(drain).await;
    }

    /// Runs the server future (`axum::serve(..).with_graceful_shutdown(..)`) until it ends,
    /// or until `grace` after the drain is over, whichever comes first: once the drain ends,
    /// axum stops accepting and waits for every open connection, and a client that never
    /// finishes its request (a half-sent header, say) would keep it waiting for ever. Past the
    /// grace period this returns `Ok(())` and logs that the server stopped with requests
    /// still open; return from `main` then, and the runtime drops them.
    pub async fn with_grace<F>(&self, server: F, grace: Duration) -> std::io::Result<()>
    where
        F: IntoFuture<Output = std::io::Result<()>>,
    {
        let mut drained = self.0.drained.subscribe();
        let deadline = async move {
            // The sender lives as long as `self`.
            let _ = drained.wait_for(|drained| *drained).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server.into_future() => served,
            () = deadline => {
                tracing::warn!(?grace, "requests were still open after the grace period: stopping anyway");
                Ok(())
            }
        }
    }

    /// Whether the drain is over: the server stops taking requests.
    pub(crate) fn is_drained(&self) -> bool {
        *self.0.drained.borrow()
    }

    /// Says when the drain is over: background checks and live streams stop then.
    pub(crate) fn drained(&self) -> watch::Receiver<bool> {
        self.0.drained.subscribe()
    }

    /// Says when a condition changed (draining began, marked ready or not, started): the live
    /// streams of readiness and gRPC's `Watch` read the conditions again then.
    pub(crate) fn changes(&self) -> watch::Receiver<()> {
        self.0.changed.subscribe()
    }

    /// The failing lifecycle checks readiness shows now, by name.
    #[inline]
    pub(crate) fn readiness(&self) -> Vec<(&'static str, Outcome)> {
        if !self.0.active.load(Ordering::Acquire) {
            return Vec::new();
        }
        self.failing()
    }

    /// [`Lifecycle::readiness`] once anything was ever marked.
    #[cold]
    fn failing(&self) -> Vec<(&'static str, Outcome)> {
        let state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
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
}

/// Marks the application not ready, with the reason readiness shows (warm-up, maintenance…).
pub fn mark_not_ready(reason: impl Into<String>) {
    GLOBAL.mark_not_ready(reason);
}

/// Undoes [`mark_not_ready`].
pub fn mark_ready() {
    GLOBAL.mark_ready();
}

/// Opts in to the startup gate: readiness fails, with a check named `startup`, until
/// [`mark_started`] is called. Call it before serving. Without it, nothing waits for startup.
pub fn require_startup() {
    GLOBAL.require_startup();
}

/// Says the application has started: the startup gate opens for good.
pub fn mark_started() {
    GLOBAL.mark_started();
}

/// Whether [`shutdown_signal`] has seen SIGTERM or Ctrl-C.
pub fn is_draining() -> bool {
    GLOBAL.is_draining()
}

/// Resolves after SIGTERM or Ctrl-C plus [`DEFAULT_DRAIN`]; meanwhile readiness fails. Pass it
/// to `axum::serve(..).with_graceful_shutdown(..)`.
pub async fn shutdown_signal() {
    GLOBAL.shutdown_signal().await;
}

/// [`shutdown_signal`] with your own drain delay.
///
/// On the signal, readiness fails at once (a check named `shutdown`), liveliness stays as it
/// is, and the server keeps serving for `drain`; then this resolves, axum stops accepting
/// connections and finishes the requests in flight (bound that with [`with_grace`]).
pub async fn shutdown_signal_with_drain(drain: Duration) {
    GLOBAL.shutdown_signal_with_drain(drain).await;
}

/// Runs the server until it stops, or [`DEFAULT_GRACE`] after the drain is over: see
/// [`Lifecycle::with_grace`].
///
/// ```no_run
/// # async fn example(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
/// let server = axum::serve(listener, app.into_make_service())
///     .with_graceful_shutdown(heartbeat::lifecycle::shutdown_signal());
/// heartbeat::lifecycle::with_grace(server).await
/// # }
/// ```
pub async fn with_grace<F>(server: F) -> std::io::Result<()>
where
    F: IntoFuture<Output = std::io::Result<()>>,
{
    GLOBAL.with_grace(server, DEFAULT_GRACE).await
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
