//! The standard gRPC health service, `grpc.health.v1.Health` (SPEC §13, feature `grpc`),
//! answered from the same states as the HTTP endpoints.
//!
//! A [`Grpc`] handle is given to the builder ([`Heartbeat::grpc`]); when the router is built,
//! the handle gets that router's [`Endpoints`] and a table of service names ([`Names`]), and
//! from then on serves `Check` and `Watch` from them:
//!
//! - `Check` evaluates its checks as an HTTP probe of the same checks does (a cached state is
//!   read, a stale one runs the check, once for every caller), then reads the lifecycle;
//! - `Watch` evaluates once for its first message, then only reads: it wakes on the process's
//!   status changes ([`crate::subscribe`]), on the lifecycle's changes, and when a background
//!   check's state goes stale, and sends a message only when the served status changed.
//!
//! From the start of the drain every service answers `NOT_SERVING` (grpc-go's `Shutdown()`),
//! and when the drain is over every `Watch` ends with `UNAVAILABLE`, so a graceful shutdown is
//! not held open by the streams.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer, SERVICE_NAME};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::Heartbeat;
use crate::builder::Check;
use crate::engine::{Checks, State};
use crate::registry::Kind;
use crate::routes::Endpoints;
use crate::status::StatusChange;

/// The names of the two probe sets, besides `""` (the whole server, readiness).
const READINESS: &str = "readiness";
const LIVENESS: [&str; 2] = ["liveness", "liveliness"];

/// At most this many characters of an unknown service name are echoed back.
const ECHOED: usize = 64;

/// The standard gRPC health service (`grpc.health.v1.Health`, `Check` and `Watch`) of one
/// router, answered from the same checks and states as its HTTP endpoints (feature `grpc`).
///
/// Give it to the builder with [`Heartbeat::grpc`]; once the router is built it answers for it.
/// Serve it on the app's own port ([`Grpc::axum_router`], merged into the axum router, served
/// with axum's `http2` feature: `axum::serve` speaks HTTP/1.1 and cleartext HTTP/2 on one
/// port), or on a port of its own ([`Grpc::service`], a tonic service for
/// `tonic::transport::Server::add_service` or `tonic::service::Routes`).
///
/// | service name | answers |
/// |---|---|
/// | `""` (the whole server), `"readiness"` | readiness: every readiness check, and the lifecycle (draining, not ready, startup) |
/// | `"liveness"`, `"liveliness"` | every liveliness check |
/// | a readiness or liveliness check's name | that check (both, when a readiness and a liveliness check share the name) |
/// | a name given with [`Heartbeat::grpc_service`] | the checks it names |
/// | anything else | `Check`: `NOT_FOUND`; `Watch`: `SERVICE_UNKNOWN`, and the stream stays open |
///
/// Pass and warn are `SERVING`; fail and unknown are `NOT_SERVING`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use heartbeat::{Check, Grpc, Heartbeat};
///
/// let grpc = Grpc::new();
/// let health: axum::Router = Heartbeat::new()
/// #   .filter(|_| false) // rustdoc merges doctests, and their registrations
///     .no_health_secret()
///     .readiness(Check::new_async("database", || async { true }))
///     // a tonic service's name (`<GreeterServer<MyGreeter> as NamedService>::NAME`), answered by checks
///     .grpc_service("helloworld.Greeter", ["database"])
///     .grpc(&grpc)
///     .into_router();
/// // One port, HTTP/1.1 and HTTP/2 (axum's `http2` feature): the probes and gRPC health.
/// let app = axum::Router::new().merge(health).merge(grpc.axum_router());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let app: axum::Router = app;
/// # drop((listener, app));
/// // axum::serve(listener, app).await?;
/// // Or a port of its own, with tonic's server:
/// // tonic::transport::Server::builder().add_service(grpc.service()).serve(addr).await?;
/// # Ok(())
/// # }
/// ```
///
/// Before a router is built with it, every call answers `UNAVAILABLE`. One handle serves one
/// router: giving it to a second one is a [`ConfigError`](crate::ConfigError).
#[derive(Clone, Default)]
pub struct Grpc {
    served: Arc<OnceLock<Arc<Served>>>,
}

impl fmt::Debug for Grpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.served.get().map(|s| s.names.len());
        f.debug_struct("Grpc").field("names", &names).finish()
    }
}

impl Grpc {
    /// A handle that answers `UNAVAILABLE` until a router is built with it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tonic service (`grpc.health.v1.Health`), for a server of its own
    /// (`tonic::transport::Server::builder().add_service(grpc.service())`) or
    /// `tonic::service::Routes`. Its type is tonic-health's generated server.
    pub fn service(&self) -> HealthServer<Grpc> {
        HealthServer::new(self.clone())
    }

    /// The service as an axum router, to merge into the app's: `/grpc.health.v1.Health/*`.
    /// Serve the app with HTTP/2 (axum's `http2` feature; `axum::serve` then answers HTTP/1.1
    /// and cleartext HTTP/2 on the same port, as kubelet's `grpc:` probes need).
    pub fn axum_router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        axum::Router::new().route_service(&format!("/{SERVICE_NAME}/{{*method}}"), self.service())
    }

    /// Whether a router was already built with this handle.
    fn is_attached(&self) -> bool {
        self.served.get().is_some()
    }

    fn served(&self) -> Result<&Arc<Served>, tonic::Status> {
        self.served.get().ok_or_else(|| {
            tonic::Status::unavailable(
                "heartbeat's gRPC health service has no router yet: build one with `Heartbeat::new().grpc(&grpc)…into_router()`",
            )
        })
    }
}

/// What the builder holds for gRPC: the handle, and the service names given for checks.
#[derive(Clone, Default)]
pub(crate) struct Config {
    handle: Option<Grpc>,
    services: Vec<(String, Vec<String>)>,
}

impl Heartbeat {
    /// Answers the standard gRPC health service through `grpc` from this router's checks: see
    /// [`Grpc`] for the service names and how to serve it (feature `grpc`).
    pub fn grpc(mut self, grpc: &Grpc) -> Self {
        self.grpc.handle = Some(grpc.clone());
        self
    }

    /// Gives the gRPC health service a name of its own, `service`, answered by these readiness
    /// or liveliness checks (`SERVING` when every one passes or warns): typically the name of
    /// the tonic service they guard, `<GreeterServer<MyGreeter> as NamedService>::NAME`
    /// (`"helloworld.Greeter"`). Needs [`Heartbeat::grpc`].
    ///
    /// A name that is empty, `readiness`, `liveness`, `liveliness` or a check's own name, given
    /// twice, or naming no check, or a check that is not served, is a
    /// [`ConfigError`](crate::ConfigError).
    pub fn grpc_service<I>(mut self, service: impl Into<String>, checks: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let checks = checks.into_iter().map(Into::into).collect();
        self.grpc.services.push((service.into(), checks));
        self
    }
}

impl Config {
    /// What is wrong with the gRPC settings, given every check the router serves.
    pub(crate) fn problems(&self, checks: &[Check]) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(handle) = &self.handle else {
            if let Some((service, _)) = self.services.first() {
                problems.push(format!("`.grpc_service({service:?}, …)` names a gRPC service, but no gRPC health service answers it: add `.grpc(&grpc)` with a `heartbeat::Grpc`"));
            }
            return problems;
        };
        if handle.is_attached() {
            problems.push("`.grpc(…)` was given a `Grpc` that another router already answers for: make one `Grpc` per router".to_owned());
        }
        let probed: Vec<&Check> = checks
            .iter()
            .filter(|c| matches!(c.info().kind, Kind::Readiness | Kind::Liveliness))
            .collect();
        for check in &probed {
            let name = check.info().name();
            if name == READINESS || LIVENESS.contains(&name) {
                problems.push(format!(
                    "{} check {name:?} at {} has the name of a gRPC probe set: gRPC's {name:?} is every {} check; rename the check",
                    check.info().kind,
                    check.info().site,
                    if name == READINESS { "readiness" } else { "liveliness" },
                ));
            }
        }
        for (i, (service, names)) in self.services.iter().enumerate() {
            let given = format!("`.grpc_service({service:?}, …)`");
            if service.is_empty() || service == READINESS || LIVENESS.contains(&service.as_str()) {
                problems.push(format!("{given}: {service:?} is one of the names heartbeat gives (\"\", \"readiness\", \"liveness\", \"liveliness\"); choose another"));
            } else if probed.iter().any(|c| c.info().name() == service) {
                problems.push(format!(
                    "{given}: {service:?} is already the name of a check, which gRPC answers by it; choose another"
                ));
            }
            if self.services[..i].iter().any(|(s, _)| s == service) {
                problems.push(format!(
                    "{given} is given more than once; give each gRPC service name once, with all its checks"
                ));
            }
            if names.is_empty() {
                problems.push(format!(
                    "{given} names no check: it would always answer SERVING; name the checks it stands for"
                ));
            }
            let unknown: Vec<&String> = names
                .iter()
                .filter(|n| !probed.iter().any(|c| c.info().name() == n.as_str()))
                .collect();
            if !unknown.is_empty() {
                let mut served: Vec<&str> = probed.iter().map(|c| c.info().name()).collect();
                served.sort_unstable();
                served.dedup();
                problems.push(format!(
                    "{given} names {unknown:?}, which this router serves as no readiness or liveliness check (served: {served:?})"
                ));
            }
        }
        problems
    }

    /// Gives the handle the router's endpoints and the table of names (once: the first router
    /// built keeps it).
    pub(crate) fn attach(&self, endpoints: &Arc<Endpoints>) {
        let Some(handle) = &self.handle else {
            return;
        };
        let served = Served {
            names: Names::new(endpoints, &self.services),
            endpoints: Arc::clone(endpoints),
        };
        let _ = handle.served.set(Arc::new(served));
    }
}

/// What a service name stands for.
#[derive(Clone, Debug)]
enum Target {
    /// Every readiness check and the lifecycle: `""` and `"readiness"`.
    Readiness,
    /// Every liveliness check.
    Liveliness,
    /// Some checks: indices into the readiness and the liveliness endpoint's checks.
    Checks {
        readiness: Box<[usize]>,
        liveliness: Box<[usize]>,
    },
}

/// Every service name the router answers, with what it stands for.
struct Names(HashMap<Box<str>, Target>);

impl Names {
    fn new(endpoints: &Endpoints, services: &[(String, Vec<String>)]) -> Names {
        let readiness = endpoints.readiness.checks.monitors();
        let liveliness = endpoints.liveliness.checks.monitors();
        let indices = |names: &[&str], monitors: &[Arc<crate::engine::Monitor>]| -> Box<[usize]> {
            (0..monitors.len())
                .filter(|&i| names.contains(&monitors[i].info.name()))
                .collect()
        };
        let mut names: HashMap<Box<str>, Target> = HashMap::new();
        names.insert("".into(), Target::Readiness);
        names.insert(READINESS.into(), Target::Readiness);
        for name in LIVENESS {
            names.insert(name.into(), Target::Liveliness);
        }
        let checks = readiness.iter().chain(liveliness).map(|m| m.info.name());
        let services = services
            .iter()
            .map(|(service, checks)| {
                (
                    service.as_str(),
                    checks.iter().map(String::as_str).collect(),
                )
            })
            .chain(checks.map(|name| (name, vec![name])));
        for (service, checks) in services {
            names
                .entry(service.into())
                .or_insert_with(|| Target::Checks {
                    readiness: indices(&checks, readiness),
                    liveliness: indices(&checks, liveliness),
                });
        }
        Names(names)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, service: &str) -> Option<&Target> {
        self.0.get(service)
    }
}

/// A router's endpoints as the gRPC health service answers them.
struct Served {
    endpoints: Arc<Endpoints>,
    names: Names,
}

impl Served {
    /// `Check`: the target's checks evaluated as an HTTP probe of them is (cached states read,
    /// others run, single flight), then the lifecycle read.
    async fn check(&self, target: &Target) -> ServingStatus {
        let endpoints = &self.endpoints;
        endpoints.background.ensure();
        if endpoints.lifecycle.is_draining() {
            return ServingStatus::NotServing;
        }
        let passed = match target {
            Target::Readiness => {
                evaluated(&endpoints.readiness.checks, None).await
                    && endpoints.lifecycle.readiness().is_empty()
            }
            Target::Liveliness => evaluated(&endpoints.liveliness.checks, None).await,
            Target::Checks {
                readiness,
                liveliness,
            } => {
                evaluated(&endpoints.readiness.checks, Some(readiness)).await
                    && evaluated(&endpoints.liveliness.checks, Some(liveliness)).await
            }
        };
        serving(passed)
    }

    /// What `Watch` sends now, read without running any check, and when the read may change
    /// without a status change being published: the first moment one of the background checks
    /// read goes stale.
    fn read(&self, target: &Target) -> (ServingStatus, Option<Instant>) {
        let endpoints = &self.endpoints;
        if endpoints.lifecycle.is_draining() {
            return (ServingStatus::NotServing, None);
        }
        let now = Instant::now();
        let mut read = Read {
            passed: true,
            stale: None,
            now,
        };
        match target {
            Target::Readiness => {
                read.all(&endpoints.readiness.checks, None);
                read.passed &= endpoints.lifecycle.readiness().is_empty();
            }
            Target::Liveliness => read.all(&endpoints.liveliness.checks, None),
            Target::Checks {
                readiness,
                liveliness,
            } => {
                read.all(&endpoints.readiness.checks, Some(readiness));
                read.all(&endpoints.liveliness.checks, Some(liveliness));
            }
        }
        (serving(read.passed), read.stale)
    }
}

/// Whether every selected check (`None`: all) passed or warned, evaluated as a probe.
async fn evaluated(checks: &Checks, selection: Option<&[usize]>) -> bool {
    if selection.is_some_and(<[usize]>::is_empty) {
        return true;
    }
    let answer = checks.evaluate(selection).await;
    answer.states.iter().all(|s| s.outcome.passed())
}

/// A read of states by `Watch`, check by check.
struct Read {
    passed: bool,
    /// The first moment a state read goes stale.
    stale: Option<Instant>,
    now: Instant,
}

impl Read {
    fn all(&mut self, checks: &Checks, selection: Option<&[usize]>) {
        let monitors = checks.monitors();
        let mut one = |state: Option<Arc<State>>| {
            // A check no request has run yet is unknown: not serving.
            let Some(state) = state else {
                self.passed = false;
                return;
            };
            self.passed &= state.outcome.passed();
            if let Some(at) = state.stale_after.filter(|at| *at > self.now) {
                self.stale = Some(self.stale.map_or(at, |stale| stale.min(at)));
            }
        };
        match selection {
            None => monitors.iter().for_each(|m| one(m.current(self.now))),
            Some(indices) => indices
                .iter()
                .filter_map(|&i| monitors.get(i))
                .for_each(|m| one(m.current(self.now))),
        }
    }
}

fn serving(passed: bool) -> ServingStatus {
    if passed {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status.into(),
    }
}

/// The service name as a message may quote it: at most [`ECHOED`] characters.
fn quoted(service: &str) -> String {
    let cut: String = service.chars().take(ECHOED).collect();
    if cut.len() < service.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

#[tonic::async_trait]
impl Health for Grpc {
    async fn check(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        let served = self.served()?;
        let service = request.get_ref().service.as_str();
        let Some(target) = served.names.get(service) else {
            return Err(tonic::Status::not_found(format!(
                "unknown service {}: this health service answers \"\" (the whole server), \"readiness\", \"liveness\", \"liveliness\", and each readiness or liveliness check by its name",
                quoted(service)
            )));
        };
        let status = served.check(target).await;
        Ok(tonic::Response::new(response(status)))
    }

    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, tonic::Status>> + Send + 'static>>;

    async fn watch(
        &self,
        request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        let served = Arc::clone(self.served()?);
        let target = served.names.get(&request.get_ref().service).cloned();
        let lifecycle = &served.endpoints.lifecycle;
        let watching = Watching {
            // Subscribed before the first read, so that no change is missed in between.
            changes: crate::status::receiver(),
            lifecycle: lifecycle.changes(),
            drained: lifecycle.drained(),
            served,
            target,
            sent: None,
            first: true,
            ended: false,
        };
        Ok(tonic::Response::new(Box::pin(
            futures_util::stream::unfold(watching, Watching::next),
        )))
    }
}

/// One `Watch` stream.
struct Watching {
    served: Arc<Served>,
    /// `None`: an unknown service.
    target: Option<Target>,
    /// The last status sent.
    sent: Option<ServingStatus>,
    /// No message sent yet: the first one evaluates the checks, as `Check` does.
    first: bool,
    /// The stream ended (after the drain).
    ended: bool,
    /// The process's status changes; one that falls behind (`Lagged`) just reads again.
    changes: broadcast::Receiver<Arc<StatusChange>>,
    lifecycle: watch::Receiver<()>,
    drained: watch::Receiver<bool>,
}

impl Watching {
    /// The next message: the status when it differs from the last one sent, `UNAVAILABLE` once
    /// the drain is over, then the end.
    async fn next(mut self) -> Option<(Result<HealthCheckResponse, tonic::Status>, Watching)> {
        if self.ended {
            return None;
        }
        loop {
            // Seen before the read: a change after it wakes the wait below.
            self.lifecycle.borrow_and_update();
            let drained = *self.drained.borrow_and_update();
            let (status, stale) = match &self.target {
                None => (ServingStatus::ServiceUnknown, None),
                Some(target) => {
                    if std::mem::take(&mut self.first) {
                        self.served.check(target).await;
                    }
                    self.served.read(target)
                }
            };
            if self.sent != Some(status) {
                self.sent = Some(status);
                return Some((Ok(response(status)), self));
            }
            if drained {
                self.ended = true;
                let status =
                    tonic::Status::unavailable("the server is shutting down: its drain is over");
                return Some((Err(status), self));
            }
            let stale = async {
                match stale {
                    // A state is stale once `now > stale_after`: read just after.
                    Some(at) => tokio::time::sleep_until(at + Duration::from_millis(1)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // Any change, or some missed (`Lagged`): read again. Never closed (a static).
                change = self.changes.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = change {
                        return None;
                    }
                }
                Ok(()) = self.lifecycle.changed() => {}
                Ok(()) = self.drained.changed() => {}
                () = stale => {}
                else => return None,
            }
        }
    }
}
