//! The endpoints: one file per family, [`wire`] for what every answer shares.
//!
//! A request flows: route → selection (and, for `/health/`, the secret) →
//! [`crate::engine::Checks::evaluate`] (the states) → [`wire`].

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get, get_service};

use crate::engine::{Background, Checks, Monitor};
use crate::lifecycle::Lifecycle;

mod accept;
mod auth;
mod environ;
mod health;
mod metrics;
mod page;
mod probes;
mod query;
mod view;
mod watch;
mod wire;

/// What one router serves: its checks by endpoint, sorted by name, and its settings.
pub(crate) struct Endpoints {
    pub(crate) readiness: Endpoint,
    pub(crate) liveliness: Endpoint,
    pub(crate) environ: Endpoint,
    pub(crate) health: Endpoint,
    pub(crate) secret: Option<String>,
    /// Whether the environ endpoint asks for the secret too.
    pub(crate) protect_environ: bool,
    /// Whether the metrics endpoint asks for the secret.
    pub(crate) protect_metrics: bool,
    /// How much the probes (and environ's libraries) reveal.
    pub(crate) details: crate::Details,
    /// Every check, as metrics (served when the router has a metrics path).
    pub(crate) series: Arc<crate::metrics::Series>,
    pub(crate) failure_status: StatusCode,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) started: Instant,
    /// The tasks of the background checks: every request makes sure they run.
    pub(crate) background: Background,
    /// How many live streams (`?watch`) are open.
    pub(crate) streams: AtomicUsize,
}

impl Endpoints {
    /// Whether a request sees messages and data ([`crate::Details`]).
    fn reveal(&self, query: &query::Query, headers: &axum::http::HeaderMap) -> bool {
        match self.details {
            crate::Details::Always => true,
            crate::Details::Never => false,
            crate::Details::WhenAuthorized => self
                .secret
                .as_deref()
                .is_some_and(|secret| auth::authorised(secret, query.auth.as_deref(), headers)),
        }
    }

    /// `checks` by kind: readiness, liveliness, environ, health; each sorted by name.
    pub(crate) fn new(
        checks: [Vec<Arc<Monitor>>; 4],
        secret: Option<String>,
        protect_environ: bool,
        failure_status: StatusCode,
        lifecycle: Lifecycle,
    ) -> Self {
        let background = Background::new(checks.iter().flatten(), lifecycle.clone());
        let series = Arc::new(crate::metrics::Series::new(checks.iter().flatten()));
        let [readiness, liveliness, environ, health] = checks.map(Endpoint::new);
        Endpoints {
            background,
            readiness,
            liveliness,
            environ,
            health,
            secret,
            protect_environ,
            protect_metrics: false,
            details: crate::Details::Always,
            series,
            failure_status,
            lifecycle,
            started: Instant::now(),
            streams: AtomicUsize::new(0),
        }
    }
}

/// The checks of one endpoint, and what the wire format keeps of each.
pub(crate) struct Endpoint {
    pub(crate) checks: Checks,
    /// One per check, in the same order.
    pub(crate) shown: Vec<wire::Shown>,
    /// The checks of the default set (`/health/`'s `_defaults`), by index.
    pub(crate) defaults: Vec<usize>,
    /// Every check's name, as a JSON array.
    pub(crate) names: String,
    /// The last body answered with every check (for `/health/`: the default set).
    pub(crate) last: wire::LastBody,
}

impl Endpoint {
    fn new(monitors: Vec<Arc<Monitor>>) -> Self {
        let shown: Vec<wire::Shown> = monitors
            .iter()
            .map(|m| wire::Shown::new(m.info.name()))
            .collect();
        let defaults = (0..monitors.len())
            .filter(|&i| monitors[i].info.is_default())
            .collect();
        let keys: Vec<&str> = shown.iter().map(|s| s.key.as_str()).collect();
        let names = format!("[{}]", keys.join(","));
        Endpoint {
            checks: Checks::new(monitors),
            shown,
            defaults,
            names,
            last: wire::LastBody::default(),
        }
    }
}

/// The path prefixes of the two endpoint families, and the metrics path.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) well_known: String,
    pub(crate) health: String,
    /// Where the metrics are served (`None`: nowhere).
    pub(crate) metrics: Option<String>,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            well_known: "/.well-known/heartbeat".to_owned(),
            health: "/health".to_owned(),
            metrics: None,
        }
    }
}

impl Paths {
    /// What axum would panic on, found first: a prefix that is not a plain path, and two
    /// routes with the same path (the two families overlap, as `/x` and `/x/readiness` do).
    pub(crate) fn problems(&self) -> Vec<String> {
        let settings = [
            ("well_known_prefix", &self.well_known),
            ("health_prefix", &self.health),
        ];
        let metrics = self.metrics.as_ref().map(|path| ("metrics_path", path));
        let mut problems: Vec<String> = settings
            .into_iter()
            .chain(metrics)
            .filter(|(_, prefix)| {
                !prefix.starts_with('/')
                    || prefix.len() < 2
                    || prefix.ends_with('/')
                    || prefix.contains(['{', '}', '*', '?', '#'])
                    // axum's rule: a segment starting with `:` was a capture in axum 0.7.
                    || prefix.split('/').any(|segment| segment.starts_with(':'))
            })
            .map(|(setting, prefix)| {
                let what = if setting == "metrics_path" { "path" } else { "path prefix" };
                format!("`.{setting}({prefix:?})` is not a {what}: it must start with `/`, not end with `/`, hold none of `{{ }} * ? #` and no segment starting with `:`, as in \"/health\"")
            })
            .collect();
        if problems.is_empty() {
            let paths: Vec<String> = self.routes().into_iter().map(|(path, _)| path).collect();
            let mut shared: Vec<&String> = paths
                .iter()
                .enumerate()
                .filter(|(i, path)| paths[..*i].contains(path))
                .map(|(_, path)| path)
                .collect();
            shared.dedup();
            if !shared.is_empty() {
                let mut named = vec![
                    format!("`.well_known_prefix({:?})`", self.well_known),
                    format!("`.health_prefix({:?})`", self.health),
                ];
                named.extend(
                    self.metrics
                        .iter()
                        .map(|p| format!("`.metrics_path({p:?})`")),
                );
                let last = named.pop().unwrap_or_default();
                problems.push(format!(
                    "{} and {last} both serve {shared:?}; give paths whose routes do not meet, as the defaults \"/.well-known/heartbeat\" and \"/health\" do",
                    named.join(", ")
                ));
            }
        }
        problems
    }

    /// Every route of the router, and what it serves: one list for the router and for
    /// [`Paths::problems`].
    fn routes(&self) -> Vec<(String, Serves)> {
        let Paths {
            well_known,
            health,
            metrics: metrics_path,
        } = self;
        let mut routes = vec![
            (format!("{well_known}/readiness"), Serves::Readiness),
            (format!("{well_known}/liveliness"), Serves::Liveliness),
            // Kubernetes says "liveness": the same endpoint under that name.
            (format!("{well_known}/liveness"), Serves::Liveliness),
            // One check each (a name holds no `/`: one segment, percent-decoded by axum).
            (
                format!("{well_known}/readiness/{{name}}"),
                Serves::ReadinessOne,
            ),
            (
                format!("{well_known}/liveliness/{{name}}"),
                Serves::LivelinessOne,
            ),
            (
                format!("{well_known}/liveness/{{name}}"),
                Serves::LivelinessOne,
            ),
            (format!("{well_known}/environ"), Serves::Environ),
            (health.clone(), Serves::Health),
            (format!("{health}/"), Serves::Health),
            // `ping` is a path of its own: no health check may take that name.
            (format!("{health}/ping"), Serves::Ping),
            (format!("{health}/{{name}}"), Serves::HealthOne),
        ];
        if let Some(path) = metrics_path {
            routes.push((path.clone(), Serves::Metrics));
        }
        routes
    }
}

/// What a route serves.
#[derive(Clone, Copy)]
enum Serves {
    Readiness,
    Liveliness,
    ReadinessOne,
    LivelinessOne,
    Environ,
    Health,
    Ping,
    HealthOne,
    Metrics,
}

impl Serves {
    /// The route's method router. The whole probes are services of their own (no extractors,
    /// no boxed handler future: the commonest requests cost least); the rest are handlers.
    fn route(self, endpoints: &Arc<Endpoints>) -> MethodRouter<Arc<Endpoints>> {
        let probe = |which| get_service(probes::Probe::new(Arc::clone(endpoints), which));
        match self {
            Serves::Readiness => probe(view::Endpoint::Readiness),
            Serves::Liveliness => probe(view::Endpoint::Liveliness),
            Serves::ReadinessOne => get(probes::readiness_one),
            Serves::LivelinessOne => get(probes::liveliness_one),
            Serves::Environ => get(environ::environ),
            Serves::Health => get(health::health),
            Serves::Ping => get(health::ping),
            Serves::HealthOne => get(health::health_one),
            Serves::Metrics => get(metrics::metrics),
        }
    }
}

/// The router of [`Paths`] validated by [`Paths::problems`]: no route panics in axum.
pub(crate) fn router<S>(endpoints: Arc<Endpoints>, paths: &Paths) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // Built inside a runtime, the background checks start now; else at the first request.
    endpoints.background.ensure();
    paths
        .routes()
        .into_iter()
        .fold(Router::new(), |router, (path, serves)| {
            router.route(&path, serves.route(&endpoints))
        })
        .with_state(endpoints)
}
