//! [`Heartbeat`], the builder: which checks to serve, how, and the validation into a router.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;

use crate::engine::{self, Monitor};
use crate::lifecycle::Lifecycle;
use crate::outcome::{IntoOutcome, Outcome};
use crate::provided::{self, Bind, Values};
use crate::registry::{self, BoxFuture, CheckInfo, Kind, Options, Runner, Site};
use crate::routes::{self, Endpoints, Paths};
use crate::rules;

/// The environment variable that holds `/health/`'s shared secret.
pub const HEALTH_URL_SECRET: &str = "HEALTH_URL_SECRET";

/// Builds the heartbeat router: every registered check, plus what you add or change.
///
/// ```
/// use std::time::Duration;
/// use heartbeat::{Check, Heartbeat};
///
/// let app: axum::Router = Heartbeat::new()
///     .health_secret("s3cret")
///     .health_check(Check::new("example", || true).default(false))
///     .readiness(Check::new_async("queue", || async { Ok::<_, std::io::Error>(()) })
///         .timeout(Duration::from_secs(2)))
///     .into_router();
/// ```
#[must_use = "a builder does nothing until `.into_router()` or `.try_into_router()`"]
pub struct Heartbeat {
    registered: Vec<Check>,
    added: Vec<Check>,
    secret: Secret,
    default_timeout: Duration,
    default_cache: Duration,
    paths: Paths,
    failure_status: StatusCode,
    protect_environ: bool,
    protect_metrics: bool,
    details: Details,
    metrics: Option<crate::Metrics>,
    required: Vec<String>,
    lifecycle: Lifecycle,
    /// What `.provide(…)` and `.with_state(…)` gave, for checks' `Provided` parameters.
    pub(crate) values: Values,
    /// The gRPC health service this router answers, and its service names for checks.
    #[cfg(feature = "grpc")]
    pub(crate) grpc: crate::grpc::Config,
}

/// How much the readiness and liveliness answers reveal: see [`Heartbeat::details`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Details {
    /// Every message and all data, to everyone (the default, the seed's behaviour).
    #[default]
    Always,
    /// Messages and data only to a request with `/health/`'s secret; others read
    /// `reason withheld`. What the README advises in production: a check's error message can
    /// carry host names, user names and queries.
    WhenAuthorized,
    /// Never any message or data: every warning and failure says `reason withheld`.
    Never,
}

enum Secret {
    /// Nothing said: read [`HEALTH_URL_SECRET`] when the router is built.
    FromEnvironment,
    Given(String),
    Open,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |checks: &[Check]| -> Vec<String> {
            checks
                .iter()
                .map(|c| format!("{} {}", c.info.kind, c.info.name))
                .collect()
        };
        f.debug_struct("Heartbeat")
            .field("registered", &names(&self.registered))
            .field("added", &names(&self.added))
            .field("default_timeout", &self.default_timeout)
            .field("default_cache", &self.default_cache)
            .field("paths", &self.paths)
            .field("failure_status", &self.failure_status)
            .field("provided", &self.values)
            .finish_non_exhaustive()
    }
}

impl Heartbeat {
    /// A builder with every check registered by an attribute in this binary.
    pub fn new() -> Self {
        Heartbeat {
            registered: registry::checks(),
            added: Vec::new(),
            secret: Secret::FromEnvironment,
            default_timeout: engine::DEFAULT_TIMEOUT,
            default_cache: engine::DEFAULT_CACHE,
            paths: Paths::default(),
            failure_status: StatusCode::INTERNAL_SERVER_ERROR,
            protect_environ: false,
            protect_metrics: false,
            details: Details::Always,
            metrics: None,
            required: Vec::new(),
            lifecycle: Lifecycle::global(),
            values: Values::default(),
            #[cfg(feature = "grpc")]
            grpc: crate::grpc::Config::default(),
        }
    }

    /// The lifecycle state readiness reads (default: the process's, [`Lifecycle::global`]).
    /// A test gives each router its own.
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Protects `/health/` with this shared secret (instead of [`HEALTH_URL_SECRET`]).
    ///
    /// A secret that starts or ends with white space (a newline from a file or `echo`) or holds
    /// a control character is refused with a [`ConfigError`], from here or from the
    /// environment: no token could match it.
    pub fn health_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Secret::Given(secret.into());
        self
    }

    /// Serves `/health/` without a secret, on purpose.
    pub fn no_health_secret(mut self) -> Self {
        self.secret = Secret::Open;
        self
    }

    /// Asks for `/health/`'s secret on the environ endpoint too (off by default). The versions
    /// it lists help an attacker pick an exploit; turn this on when the endpoint is reachable
    /// from outside the cluster. The router then needs a secret.
    pub fn protect_environ(mut self) -> Self {
        self.protect_environ = true;
        self
    }

    /// How much the readiness and liveliness answers reveal (default [`Details::Always`]):
    /// every check's message and data in every format, and, in the environ document, the
    /// libraries' versions. With [`Details::WhenAuthorized`], a request without `/health/`'s
    /// secret (`Authorization: Bearer` or `?auth=`) sees each check's name, level, status and
    /// time, and a warning or failure says `reason withheld`, as Kubernetes does; the status
    /// code is the same. [`Details::WhenAuthorized`] needs a secret.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use heartbeat::{Check, Details, Heartbeat, Outcome};
    /// use tower::ServiceExt;
    ///
    /// let app: axum::Router = Heartbeat::new()
    /// #   .filter(|_| false) // rustdoc merges doctests, and their registrations
    ///     .health_secret("s3cret")
    ///     .details(Details::WhenAuthorized)
    ///     .readiness(Check::new("database", || Outcome::fail("db-7.internal: refused")))
    ///     .into_router();
    /// let probe = |uri: &str| axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
    /// let body = |response: axum::response::Response| async {
    ///     let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    ///     String::from_utf8(bytes.to_vec()).unwrap()
    /// };
    /// let kubelet = app.clone().oneshot(probe("/.well-known/heartbeat/readiness")).await.unwrap();
    /// assert_eq!(kubelet.status(), 500);
    /// assert!(body(kubelet).await.contains(r#""message":"reason withheld""#));
    /// let operator = app.oneshot(probe("/.well-known/heartbeat/readiness?auth=s3cret")).await.unwrap();
    /// assert!(body(operator).await.contains("db-7.internal: refused"));
    /// # }
    /// ```
    pub fn details(mut self, details: Details) -> Self {
        self.details = details;
        self
    }

    /// Serves every check's state as Prometheus metrics at this path (none by default): the
    /// series of [metrics](crate#metrics), in the Prometheus text format 0.0.4, or in
    /// OpenMetrics 1.0.0 when the scraper's `Accept` asks for it. A scrape reads the checks'
    /// states and never runs a check.
    ///
    /// The path follows the rules of [`Heartbeat::well_known_prefix`] and must not be one of
    /// the other routes: otherwise a [`ConfigError`]. Open unless
    /// [`Heartbeat::protect_metrics`] says so.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use tower::ServiceExt;
    ///
    /// let app: axum::Router = heartbeat::Heartbeat::new()
    /// #   .filter(|_| false) // rustdoc merges doctests: another one registers a "config"
    ///     .no_health_secret()
    ///     .readiness(heartbeat::Check::new("config", || true))
    ///     .metrics_path("/metrics")
    ///     .into_router();
    /// let request = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    /// let text = String::from_utf8(body.to_vec()).unwrap();
    /// // No request ran the check yet: it is unknown, and the scrape did not run it.
    /// assert!(text.contains(r#"heartbeat_check_up{kind="readiness",name="config"} 0"#));
    /// assert!(text.contains(r#"heartbeat_check_level{kind="readiness",name="config",level="unknown"} 1"#));
    /// # }
    /// ```
    pub fn metrics_path(mut self, path: impl Into<String>) -> Self {
        self.paths.metrics = Some(path.into());
        self
    }

    /// Asks for `/health/`'s secret on the metrics endpoint (off by default): a Prometheus
    /// scrape config then sends it with `authorization: {credentials: …}` (a Bearer token).
    /// The router needs a secret and a [`Heartbeat::metrics_path`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use tower::ServiceExt;
    ///
    /// let app: axum::Router = heartbeat::Heartbeat::new()
    ///     .health_secret("s3cret")
    ///     .metrics_path("/metrics")
    ///     .protect_metrics()
    ///     .into_router();
    /// let scrape = |token: &str| {
    ///     axum::http::Request::get("/metrics")
    ///         .header("authorization", format!("Bearer {token}"))
    ///         .body(axum::body::Body::empty())
    ///         .unwrap()
    /// };
    /// assert_eq!(app.clone().oneshot(scrape("nope")).await.unwrap().status(), 401);
    /// assert_eq!(app.oneshot(scrape("s3cret")).await.unwrap().status(), 200);
    /// # }
    /// ```
    pub fn protect_metrics(mut self) -> Self {
        self.protect_metrics = true;
        self
    }

    /// Gives this router's metrics to `metrics` when it is built: for the application's own
    /// `/metrics` ([`Metrics::text`](crate::Metrics::text), or, with the `prometheus-client`
    /// feature, registered into its `prometheus_client` registry). Independent of
    /// [`Heartbeat::metrics_path`].
    ///
    #[cfg_attr(feature = "prometheus-client", doc = "```")]
    #[cfg_attr(not(feature = "prometheus-client"), doc = "```ignore")]
    /// use prometheus_client::registry::Registry;
    ///
    /// let metrics = heartbeat::Metrics::new();
    /// let mut registry = Registry::default();
    /// registry.register_collector(Box::new(metrics.clone()));
    /// let app: axum::Router = heartbeat::Heartbeat::new()
    /// #   .filter(|_| false) // rustdoc merges doctests, and their registrations
    ///     .no_health_secret()
    ///     .liveliness(heartbeat::Check::new("worker", || true))
    ///     .metrics(&metrics)
    ///     .into_router();
    /// let mut text = String::new();
    /// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    /// assert!(text.contains(r#"heartbeat_check_up{kind="liveliness",name="worker"} 0"#));
    /// ```
    pub fn metrics(mut self, metrics: &crate::Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// The timeout of every check that sets none (default 800 ms).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// How long a result is reused when the check sets no `cache` (default 1 s; zero turns
    /// reuse off, while concurrent requests still share one run).
    pub fn default_cache(mut self, cache: Duration) -> Self {
        self.default_cache = cache;
        self
    }

    /// The status code of a failing readiness or liveliness answer (default 500). It must be
    /// 400 or above ([`ConfigError`] otherwise): kubelet counts anything below 400 as success.
    pub fn failure_status(mut self, status: StatusCode) -> Self {
        self.failure_status = status;
        self
    }

    /// Where the readiness, liveliness and environ endpoints live
    /// (default `/.well-known/heartbeat`).
    ///
    /// A prefix starts with `/`, does not end with `/`, holds none of `{ } * ? #` and no
    /// segment starting with `:`, and its routes must not meet the other family's
    /// (`/x` and `/x/readiness` would both serve `/x/readiness`): otherwise a [`ConfigError`].
    pub fn well_known_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.paths.well_known = prefix.into();
        self
    }

    /// Where `/health/` and `/health/ping` live (default `/health`). The rules of
    /// [`Heartbeat::well_known_prefix`] apply.
    pub fn health_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.paths.health = prefix.into();
        self
    }

    /// Keeps only the registered checks for which `keep` is true. Checks added with
    /// [`Heartbeat::readiness`] and friends are always served.
    pub fn filter(mut self, keep: impl Fn(&CheckInfo) -> bool) -> Self {
        self.registered.retain(|d| keep(&d.info));
        self
    }

    /// Keeps only the registered checks with one of these names (of any kind).
    pub fn only<I>(self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.filter(|info| names.iter().any(|n| n == info.name()))
    }

    /// Refuses to build the router unless a check (of any kind) has each of these names: a
    /// guard against a crate whose checks were never linked into the binary, which would
    /// otherwise serve fewer checks without a word. Rust links a dependency only when the binary
    /// names something of it, so a crate that exists only for its checks needs one line in the
    /// binary: `use my_checks_crate as _;`.
    ///
    /// ```
    /// let error = heartbeat::Heartbeat::new()
    ///     .no_health_secret()
    ///     .require(["Database"])
    ///     .try_into_router::<()>()
    ///     .unwrap_err();
    /// assert!(error.to_string().contains("is the crate that declares them linked"));
    /// ```
    pub fn require<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.required.extend(names.into_iter().map(Into::into));
        self
    }

    /// Adds a readiness check.
    pub fn readiness(self, check: Check) -> Self {
        self.add(Kind::Readiness, check)
    }

    /// Adds a liveliness check.
    pub fn liveliness(self, check: Check) -> Self {
        self.add(Kind::Liveliness, check)
    }

    /// Adds an environ contributor: its data is merged into the environ document.
    pub fn environ(self, check: Check) -> Self {
        self.add(Kind::Environ, check)
    }

    /// Adds a named check of `/health/`; it joins `_defaults` unless [`Check::default`] says no.
    pub fn health_check(self, check: Check) -> Self {
        self.add(Kind::Health, check)
    }

    fn add(mut self, kind: Kind, mut check: Check) -> Self {
        check.info.kind = kind;
        check.info.options.default &= kind == Kind::Health;
        self.added.push(check);
        self
    }

    /// Builds the router.
    ///
    /// # Panics
    ///
    /// When the configuration is invalid, with the full text of the [`ConfigError`]. Use
    /// [`Heartbeat::try_into_router`] to handle it.
    #[track_caller]
    pub fn into_router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        match self.try_into_router() {
            Ok(router) => router,
            Err(error) => panic!("{error}"),
        }
    }

    /// Builds the router, or reports every problem with the configuration at once.
    pub fn try_into_router<S>(self) -> Result<Router<S>, ConfigError>
    where
        S: Clone + Send + Sync + 'static,
    {
        #[cfg(feature = "grpc")]
        let grpc = self.grpc.clone();
        let (endpoints, paths) = self.validate()?;
        let endpoints = Arc::new(endpoints);
        #[cfg(feature = "grpc")]
        grpc.attach(&endpoints);
        Ok(routes::router(endpoints, &paths))
    }

    /// Applies every rule, collecting all problems, then builds what the router serves.
    fn validate(self) -> Result<(Endpoints, Paths), ConfigError> {
        let values = self.values;
        let mut checks = self.registered;
        checks.extend(self.added);
        checks.sort_by(|a, b| a.info.name.cmp(&b.info.name));

        let mut problems = Vec::new();
        if self.default_timeout.is_zero() {
            problems.push("the default timeout is zero, which would fail every check; give a positive duration".to_owned());
        }
        if self.failure_status.as_u16() < 400 {
            problems.push(format!(
                "`.failure_status({})` is not an error status: kubelet counts every status below 400 as success, so a failing probe would pass; give a 4xx or 5xx, such as 503 Service Unavailable",
                self.failure_status
            ));
        }
        problems.extend(self.paths.problems());
        problems.extend(crate::environ::problems());
        problems.extend(checks.iter().flat_map(Check::problems));
        problems.extend(checks.iter_mut().flat_map(|c| c.bind(&values)));
        problems.extend(duplicates(&checks));
        problems.extend(missing(&self.required, &checks));
        let secret = secret(self.secret, &checks, &mut problems);
        if self.protect_environ && secret.is_none() {
            problems.push(format!("`.protect_environ()` needs a secret: set {HEALTH_URL_SECRET} or call `.health_secret(…)`"));
        }
        if self.details == Details::WhenAuthorized && secret.is_none() {
            problems.push(format!("`.details(Details::WhenAuthorized)` needs a secret to authorise with: set {HEALTH_URL_SECRET} or call `.health_secret(…)` (or choose `Details::Never`)"));
        }
        if self.protect_metrics && secret.is_none() {
            problems.push(format!("`.protect_metrics()` needs a secret: set {HEALTH_URL_SECRET} or call `.health_secret(…)`"));
        }
        if self
            .metrics
            .as_ref()
            .is_some_and(crate::Metrics::is_attached)
        {
            problems.push("`.metrics(…)` was given a `Metrics` that another router already reads: make one `Metrics` per router".to_owned());
        }
        #[cfg(feature = "grpc")]
        problems.extend(self.grpc.problems(&checks));
        if self.protect_metrics && self.paths.metrics.is_none() {
            problems.push("`.protect_metrics()` protects nothing: no metrics are served without `.metrics_path(…)`".to_owned());
        }
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }

        let (timeout, cache) = (self.default_timeout, self.default_cache);
        let mut by_kind: BTreeMap<Kind, Vec<Arc<Monitor>>> = BTreeMap::new();
        for check in checks {
            let kind = check.info.kind;
            let monitor = Arc::new(Monitor::new(check, timeout, cache));
            by_kind.entry(kind).or_default().push(monitor);
        }
        let mut take = |kind| by_kind.remove(&kind).unwrap_or_default();
        let mut endpoints = Endpoints::new(
            [
                take(Kind::Readiness),
                take(Kind::Liveliness),
                take(Kind::Environ),
                take(Kind::Health),
            ],
            secret,
            self.protect_environ,
            self.failure_status,
            self.lifecycle,
        );
        endpoints.protect_metrics = self.protect_metrics;
        endpoints.details = self.details;
        if let Some(metrics) = &self.metrics {
            metrics.attach(&endpoints.series);
        }
        Ok((endpoints, self.paths))
    }
}

/// Two checks of one endpoint with the same name, each reported with both sites.
fn duplicates(checks: &[Check]) -> Vec<String> {
    let mut sites: BTreeMap<(Kind, &str), Vec<Site>> = BTreeMap::new();
    for check in checks {
        let info = &check.info;
        sites
            .entry((info.kind, &info.name))
            .or_default()
            .push(info.site);
    }
    sites
        .into_iter()
        .filter(|(_, sites)| sites.len() > 1)
        .map(|((kind, name), sites)| {
            let sites: Vec<String> = sites.iter().map(ToString::to_string).collect();
            format!(
                "{kind} check name {name:?} is declared more than once: at {}; give all but one another name",
                sites.join(" and at ")
            )
        })
        .collect()
}

/// Names `.require(…)` asked for that no check has.
fn missing(required: &[String], checks: &[Check]) -> Option<String> {
    let missing: Vec<&String> = required
        .iter()
        .filter(|name| !checks.iter().any(|c| &c.info.name == *name))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let served: BTreeSet<&str> = checks.iter().map(|c| c.info.name()).collect();
    Some(format!(
        "required check(s) {missing:?} are not registered (served: {served:?}): is the crate that declares them linked into this binary? A crate the binary never names is not linked: add `use that_crate as _;`"
    ))
}

/// `/health/`'s secret, from the builder or [`HEALTH_URL_SECRET`]; a `/health/` with checks
/// and no decision about its secret is a problem.
fn secret(secret: Secret, checks: &[Check], problems: &mut Vec<String>) -> Option<String> {
    let health: Vec<&str> = checks
        .iter()
        .filter(|c| c.info.kind == Kind::Health)
        .map(|c| c.info.name())
        .collect();
    let problem = match secret {
        Secret::Open => return None,
        Secret::Given(secret) if secret.is_empty() => {
            "`.health_secret(\"\")` is empty; give a real secret or call `.no_health_secret()`"
                .to_owned()
        }
        Secret::Given(secret) => match unmatchable(&secret) {
            None => return Some(secret),
            Some(why) => format!(
                "`.health_secret(…)` {why}, which no `?auth=` or Bearer token can match; remove it (a secret read from a file or made with `echo` ends in a newline)"
            ),
        },
        Secret::FromEnvironment => match std::env::var(HEALTH_URL_SECRET) {
            Ok(secret) if !secret.is_empty() => match unmatchable(&secret) {
                None => return Some(secret),
                Some(why) => format!(
                    "{HEALTH_URL_SECRET} {why}, which no `?auth=` or Bearer token can match; remove it (a Kubernetes Secret made with `echo … | base64` or from a file ends in a newline: use `printf %s`, `echo -n` or `kubectl create secret generic --from-literal`)"
                ),
            },
            Err(std::env::VarError::NotUnicode(_)) => {
                format!("{HEALTH_URL_SECRET} is not valid UTF-8")
            }
            _ if health.is_empty() => return None,
            Ok(_) => format!(
                "{HEALTH_URL_SECRET} is set but empty; give it a secret, or call `.no_health_secret()` to serve /health/ without one"
            ),
            Err(std::env::VarError::NotPresent) => format!(
                "/health/ serves {} check(s) ({}) but no secret was decided: set {HEALTH_URL_SECRET}, call `.health_secret(…)`, or call `.no_health_secret()` to serve it without one",
                health.len(),
                health.join(", ")
            ),
        },
    };
    problems.push(problem);
    None
}

/// Why a secret can never be matched: a token is trimmed (the Bearer header by HTTP, and
/// neither can carry a control character), so white space at either end or a control character
/// anywhere is refused rather than trimmed. Names the character, never the secret.
fn unmatchable(secret: &str) -> Option<String> {
    let first = secret.chars().next();
    let last = secret.chars().next_back();
    if let Some(c) = first.filter(|c| c.is_whitespace()) {
        return Some(format!("starts with white space ({c:?})"));
    }
    if let Some(c) = last.filter(|c| c.is_whitespace()) {
        return Some(format!("ends with white space ({c:?})"));
    }
    secret
        .chars()
        .find(|c| c.is_control())
        .map(|c| format!("holds a control character ({c:?})"))
}

/// Why a health check may not be named `ping` (the attribute says the same).
const PING_RESERVED: &str = "`ping` is reserved for health checks: `/health/ping` answers `pong`, so a check of that name could not be asked for at `/health/<name>`; give another `name = \"…\"`";

/// Why a check name cannot be used; the attributes apply the same rule at compile time (both
/// are held against one table, `heartbeat-macros/src/name_cases.rs`).
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a check name must not be empty")
    } else if name.contains(',') {
        Some("a check name must not contain `,`: it separates names in `?checks=`")
    } else if name.contains('/') {
        Some("a check name must not contain `/`")
    } else if name == "_defaults" {
        Some("`_defaults` is reserved: it selects the default set in `?checks=`")
    } else if name.trim() != name || name.chars().any(char::is_control) {
        Some("a check name must not start or end with white space or hold control characters")
    } else {
        None
    }
}

/// A check registered at run time: a closure, a built-in check, anything that needs values.
///
/// Add it to a [`Heartbeat`] with [`Heartbeat::readiness`], [`Heartbeat::liveliness`],
/// [`Heartbeat::environ`] or [`Heartbeat::health_check`].
pub struct Check {
    info: CheckInfo,
    runner: Runner,
    /// An annotated function with `Provided` parameters, until the router binds them.
    bind: Option<Bind>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.info.name)
            .field("default", &self.info.options.default)
            .field("timeout", &self.info.options.timeout)
            .field("cache", &self.info.options.cache)
            .field("levels", &self.info.options.levels)
            .field("every", &self.info.options.every)
            .finish_non_exhaustive()
    }
}

impl Check {
    /// A check that calls the sync function `check` on one of heartbeat's own threads.
    #[track_caller]
    pub fn new<F, T>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> T + Send + Sync + 'static,
        T: IntoOutcome,
    {
        Self::with_runner(
            name.into(),
            Runner::Sync(Arc::new(move || check().into_outcome())),
        )
    }

    /// A check that awaits the future `check` returns.
    #[track_caller]
    pub fn new_async<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoOutcome,
    {
        let runner = move || -> BoxFuture {
            let future = check();
            Box::pin(async move { future.await.into_outcome() })
        };
        Self::with_runner(name.into(), Runner::Async(Arc::new(runner)))
    }

    #[track_caller]
    fn with_runner(name: String, runner: Runner) -> Self {
        let info = CheckInfo {
            kind: Kind::Health,
            name,
            options: Options::DEFAULT,
            site: Site::caller(),
        };
        Check {
            info,
            runner,
            bind: None,
        }
    }

    /// A check recorded by an attribute.
    pub(crate) fn from_parts(info: CheckInfo, runner: Runner) -> Self {
        Check {
            info,
            runner,
            bind: None,
        }
    }

    /// A check recorded by an attribute whose function takes `Provided` parameters: its runner
    /// is made when the router is built, from the builder's values ([`Check::bind`]).
    pub(crate) fn from_binding(info: CheckInfo, bind: Bind) -> Self {
        let unbound = || Outcome::fail("heartbeat: the check's parameters were never bound");
        Check {
            info,
            runner: Runner::Sync(Arc::new(unbound)),
            bind: Some(bind),
        }
    }

    /// Gives a check with `Provided` parameters its values; the problems when some are missing.
    fn bind(&mut self, values: &Values) -> Vec<String> {
        let Some(bind) = self.bind.take() else {
            return Vec::new();
        };
        match provided::bind(bind, &self.info, values) {
            Ok(runner) => {
                self.runner = runner;
                Vec::new()
            }
            Err(problems) => problems,
        }
    }

    pub(crate) fn into_parts(self) -> (CheckInfo, Runner) {
        (self.info, self.runner)
    }

    /// What the check is: its name, kind, options and site.
    pub fn info(&self) -> &CheckInfo {
        &self.info
    }

    /// This check's timeout (else the router's default applies).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.info.options.timeout = Some(timeout);
        self
    }

    /// How long this check's result is reused (else the router's default applies).
    pub fn cache(mut self, cache: Duration) -> Self {
        self.info.options.cache = Some(cache);
        self
    }

    /// For a health check: whether it joins the `_defaults` set (default true).
    pub fn default(mut self, default: bool) -> Self {
        self.info.options.default = default;
        self
    }

    /// `false`: every failure of this check (its timeouts and panics included) shows as a
    /// warning, which answers 200. Default `true`.
    pub fn critical(mut self, critical: bool) -> Self {
        self.info.options.levels.critical = critical;
        self
    }

    /// The check fails only after this many consecutive failures, and warns ("failing 1 of
    /// 3") before; a check that has never passed fails at once. Default 1.
    pub fn failure_threshold(mut self, threshold: u32) -> Self {
        self.info.options.levels.failure_threshold = threshold;
        self
    }

    /// A failed check passes again only after this many consecutive passes. Default 1.
    pub fn success_threshold(mut self, threshold: u32) -> Self {
        self.info.options.levels.success_threshold = threshold;
        self
    }

    /// Runs the check in the background: first when the router starts serving, then `every`
    /// after each run ends (less a small jitter); requests read its state and never run it.
    pub fn every(mut self, every: Duration) -> Self {
        self.info.options.every = Some(every);
        self
    }

    /// For a background check: a last run older than this fails the check as stale (default
    /// three times [`Check::every`]).
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.info.options.max_stale = Some(max_stale);
        self
    }

    /// What is wrong with this check's own settings: its name, then the option rules.
    fn problems(&self) -> impl Iterator<Item = String> + '_ {
        let info = &self.info;
        let name = name_problem(&info.name).or_else(|| {
            (info.kind == Kind::Health && info.name == "ping").then_some(PING_RESERVED)
        });
        let options = rules::broken(info.kind, &info.options);
        name.into_iter()
            .chain(options.into_iter().map(rules::Rule::message))
            .map(move |problem| {
                format!(
                    "{} check {:?} at {}: {problem}",
                    info.kind, info.name, info.site
                )
            })
    }
}

/// Why a router could not be built: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    /// Each problem, one sentence each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "heartbeat: cannot build the router:")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    include!("../../heartbeat-macros/src/name_cases.rs");

    #[test]
    fn the_name_rule_is_the_shared_table() {
        for (name, problem) in NAME_CASES {
            assert_eq!(super::name_problem(name), *problem, "{name:?}");
        }
    }
}
