//! Health endpoints for axum services, declared with attributes on ordinary functions.
//!
//! Annotate functions anywhere in your build (in any crate the binary links), then merge one
//! router into your app:
//!
//! ```no_run,standalone_crate
//! use heartbeat::{health_check, liveliness_probe, readiness_probe};
//!
//! #[readiness_probe(name = "config", timeout = "2s")]
//! fn config_file() -> std::io::Result<()> {
//!     std::fs::metadata("/etc/hostname").map(|_| ()) // blocking: a sync check
//! }
//!
//! #[liveliness_probe]
//! fn event_loop() -> bool {
//!     true
//! }
//!
//! #[health_check(default = false)]
//! fn foo() -> bool {
//!     true
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let app = axum::Router::new().merge(
//!         heartbeat::Heartbeat::new().health_secret("s3cret").into_router(),
//!     );
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//!     axum::serve(listener, app.into_make_service()).await.unwrap();
//! }
//! ```
//!
//! That serves:
//!
//! | path | answer |
//! |---|---|
//! | `/.well-known/heartbeat/readiness` | every `#[readiness_probe]`: 200 when all pass, 500 otherwise |
//! | `/.well-known/heartbeat/liveliness` | every `#[liveliness_probe]`, the same way |
//! | `/.well-known/heartbeat/environ` | what the binary was built with, plus every `#[environ_probe]`; always 200 |
//! | `/health/` | the `#[health_check]`s selected by `?checks=`; 200 `running` or 503 `degraded` |
//! | `/health/ping` | 200 `pong`, never protected |
//! | `…/readiness/<name>`, `…/liveliness/<name>`, `/health/<name>` | one check; 404 for an unknown name |
//!
//! Serve the app with `into_make_service()`, as above: given the `Router` itself,
//! `axum::serve` copies its whole route table for every connection it accepts (about 5.8 KB
//! a connection for heartbeat's routes alone); `into_make_service()` converts it once.
//!
//! Readiness, liveliness and `/health/` answer the seed JSON by default, and on request:
//! `application/health+json` (draft-inadarei-api-health-check-06) when `Accept` asks for it,
//! the Kubernetes text form with `?verbose` (`?exclude=name` leaves checks out), and a
//! self-contained page for a browser (`Accept: text/html`). [`Heartbeat::details`] decides who
//! sees the checks' messages ([`Details`]).
//!
//! # The attributes
//!
//! | attribute | options |
//! |---|---|
//! | [`readiness_probe`], [`liveliness_probe`] | `name = "…"`, `timeout = "…"`, `cache = "…"`, `critical = bool`, `failure_threshold = N`, `success_threshold = N`, `every = "…"`, `max_stale = "…"`, `crate = path` |
//! | [`environ_probe`] | `timeout = "…"`, `crate = path` |
//! | [`health_check`] | those of readiness, and `default = bool` |
//! | [`on_status_change`] (a subscriber, not a check) | `timeout = "…"`, `crate = path` |
//!
//! A check is a free `fn` or `async fn`; it stays in your code unchanged and callable. Its
//! parameters, if any, are values the router provides ([`Provided<T>`](Provided)). Its return
//! type implements [`IntoOutcome`] (an environ probe's, [`IntoEnviron`]).
//! Sync functions run on heartbeat's own threads; async ones must return a `Send` future and
//! must not block their thread.
//! Durations are literals such as `"250ms"`, `"2s"`, `"1m"`.
//!
//! # Checks that need values
//!
//! A check takes what it needs (a pool, a client) as [`Provided`] parameters, and the router
//! gives each run a clone of the value given to the builder: by type with
//! [`Heartbeat::provide`], or from the application's axum state with [`Heartbeat::with_state`]
//! (`#[derive(heartbeat::Provide)]` on the state takes each field with axum's `FromRef`). A
//! check whose value was not given stops the router from building, with a [`ConfigError`] that
//! names the check, where it was declared, the parameter and the type.
//!
//! ```no_run,standalone_crate
//! # #[derive(Clone)] struct PgPool;
//! # impl PgPool { async fn ping(&self) -> Result<(), std::io::Error> { Ok(()) } }
//! # impl axum::extract::FromRef<AppState> for PgPool {
//! #     fn from_ref(state: &AppState) -> Self { state.pool.clone() }
//! # }
//! use heartbeat::{Heartbeat, Provided, readiness_probe};
//!
//! #[derive(Clone, heartbeat::Provide)] // with axum's FromRef (`#[derive(FromRef)]`)
//! struct AppState {
//!     pool: PgPool,
//! }
//!
//! #[readiness_probe(name = "database", timeout = "2s")]
//! async fn database(pool: Provided<PgPool>) -> Result<(), std::io::Error> {
//!     pool.ping().await
//! }
//!
//! # fn main() {
//! let state = AppState { pool: PgPool };
//! let app: axum::Router = axum::Router::new()
//!     .merge(Heartbeat::new().with_state(state.clone()).into_router())
//!     .with_state(state);
//! # }
//! ```
//!
//! # Running checks
//!
//! Every check has one state, written by its runs and read by every answer. All checks of one
//! request run concurrently, each bounded by its timeout (default 800 ms, counted from the
//! run's start): a request never waits past a run's deadline, and a result that comes later is
//! a failure. A panicking check fails with the panic's message. Concurrent requests share one
//! run of a check (and one evaluation of an endpoint), and a result is reused for `cache`
//! (default 1 s, counted from the run's start), so a storm of probes never becomes a storm of
//! queries. Sync checks run on heartbeat's own threads (at most 16, detached), so a hung one
//! holds one thread and never keeps the process from exiting. The README's "How checks run"
//! says the rest.
//!
//! # Levels and background checks
//!
//! A check's state is at a [`Level`]: pass, warn (200: [`Outcome::warn`], a failure of a check
//! with `critical = false`, or one under its `failure_threshold`), fail, or unknown (a
//! background check before its first run). `every = "10s"` runs a check in the background,
//! 10 s after each run ends; requests only read its state, and a last run older than
//! `max_stale` (default 3 × `every`) fails it as stale.
//!
//! ```standalone_crate
//! use heartbeat::{Level, Outcome};
//!
//! #[heartbeat::readiness_probe(failure_threshold = 3, every = "10s")]
//! async fn queue() -> Outcome {
//!     Outcome::warn("queue 80% full")
//! }
//!
//! let info = heartbeat::registered().into_iter().find(|c| c.name() == "queue").unwrap();
//! assert_eq!(info.failure_threshold(), 3);
//! assert_eq!(info.max_stale(), Some(std::time::Duration::from_secs(30)));
//! assert_eq!(Level::Warn.as_str(), "warn");
//! ```
//!
//! # Metrics
//!
//! [`Heartbeat::metrics_path`] serves every check's state as Prometheus series, in the
//! Prometheus text format 0.0.4 (OpenMetrics 1.0.0 when the scraper's `Accept` asks for it),
//! without any feature. Every series exists from the start for every check the router serves,
//! and a scrape never runs a check: it reads each check's one state.
//!
//! | series | labels | value |
//! |---|---|---|
//! | `heartbeat_check_up` | `kind`, `name` | 1 when the check's level is pass or warn, 0 when fail or unknown |
//! | `heartbeat_check_level` | `kind`, `name`, `level` | 1 for the current level, 0 for the other three of pass, warn, fail, unknown |
//! | `heartbeat_check_duration_seconds` | `kind`, `name` | histogram of run durations (a timed-out run counts its timeout); buckets 5 ms to 10 s |
//! | `heartbeat_check_runs_total` | `kind`, `name`, `result` | runs by what they returned: `pass`, `warn`, `fail` (a timeout, panic or lost run is `fail`), before the thresholds and `critical = false` apply |
//! | `heartbeat_check_last_success_timestamp_seconds` | `kind`, `name` | when the last passing or warning run started (Unix time), 0 if none did |
//! | `heartbeat_build_info` | `version` (heartbeat's), `rustc`, `profile` | 1 |
//!
//! `kind` is `readiness`, `liveliness`, `environ` or `health`. A check that no request has
//! run yet (and a background check before its first run ends) is `unknown`: `up` is 0.
//! [`Heartbeat::protect_metrics`] puts the endpoint behind the `/health/` secret. To serve the
//! same series from your own `/metrics`, give a [`Metrics`] to [`Heartbeat::metrics`] (with the
//! `prometheus-client` feature, register it into your `prometheus_client` registry).
//!
//! # Status changes
//!
//! [`subscribe()`] is a stream of every change of a check's level ([`StatusChange`]: kind,
//! name, from, to, message, when), published when a run's result is recorded; it never makes a
//! probe wait. [`on_status_change`] registers a function called on each change, sync or
//! async, each subscriber in a task of its own and each call contained like a check's run
//! (a timeout, panics caught and logged). `?watch` on readiness, liveliness, `/health/` or one
//! check's path answers a live stream (`text/event-stream`): the request's JSON document at
//! once, again on every change, a comment every 15 s, and the end when the lifecycle's drain
//! is over.
//!
//! # gRPC health
//!
//! With the `grpc` feature, `Grpc` answers the standard gRPC health service
//! (`grpc.health.v1.Health`, `Check` and `Watch`, as Kubernetes' `grpc:` probes, Envoy and gRPC
//! clients ask it) from the same checks and states as the HTTP endpoints: give it to the
//! builder (`Heartbeat::grpc`), then serve `Grpc::axum_router` on the app's own port (with
//! axum's `http2` feature) or `Grpc::service` with tonic's server. `""` and `"readiness"` are
//! readiness (with the lifecycle), `"liveness"` and `"liveliness"` liveliness, each readiness
//! or liveliness check answers by its name, and `Heartbeat::grpc_service` gives checks a name
//! of your own; pass and warn are `SERVING`. `Check` evaluates as a probe does; `Watch` only
//! reads after its first message and sends each change; from the start of the drain every
//! service is `NOT_SERVING`.
//!
//! # Cargo features
//!
//! None is on by default. The items behind a feature are documented when it is on (docs.rs
//! turns every feature on and marks each such item with its feature).
//!
//! | feature | adds | client library | needs Rust |
//! |---|---|---|---|
//! | `linkme` | registration through [linkme]'s link sections instead of [inventory]'s constructors: no code runs before `main`; not on wasm or NetBSD ([`REGISTRATION_BACKEND`] says which is active) | linkme 0.3 | 1.85 |
//! | `http` | `checks::Http`: a URL answers with the expected status | reqwest 0.13, no TLS | 1.85 |
//! | `postgres`, `mysql`, `sqlite` | `checks::Sql` and `checks::{postgres, mysql, sqlite}`: `SELECT 1` on an sqlx pool | sqlx 0.9 | 1.94 |
//! | `redis` | `checks::Redis` and `checks::redis`: `PING` answers `PONG` | redis 1.8 | 1.88 |
//! | `prometheus-client` | [`Metrics`] as a `prometheus_client` collector, for the application's own registry ([metrics](#metrics) are served without it) | prometheus-client 0.25 | 1.85 |
//! | `grpc` | `Grpc`: the standard gRPC health service (`grpc.health.v1.Health`) answered from the same checks ([gRPC health](#grpc-health)) | tonic 0.14 and tonic-health 0.14, no default features | 1.88 |
//!
//! The checks take your own pool or client, so your `sqlx`, `redis` or `reqwest` must be the
//! version in the table: an sqlx 0.8 pool is another type than sqlx 0.9's ("expected
//! `Pool<Sqlite>`, found a different `Pool<Sqlite>`").
//!
//! The minimum supported Rust version is 1.85 for the default features, `linkme`, `http` and `prometheus-client`;
//! the other features need what their client library needs. Raising it is a deliberate change,
//! listed in the changelog and never made in a patch release.
//!
//! [linkme]: https://docs.rs/linkme
//! [inventory]: https://docs.rs/inventory
//!
//! # Testing your checks
//!
//! Registration is global to a binary, so a test binary serves every check it links. With
//! edition 2024, rustdoc merges doctests into one binary: mark a doctest that declares checks
//! `standalone_crate`, as this one is.
//!
//! ```standalone_crate
//! use axum::body::Body;
//! use axum::http::Request;
//! use tower::ServiceExt;
//!
//! #[heartbeat::readiness_probe]
//! fn ready() -> bool {
//!     true
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app: axum::Router = heartbeat::Heartbeat::new().no_health_secret().into_router();
//! let request = Request::get("/.well-known/heartbeat/readiness").body(Body::empty()).unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
pub mod checks;
mod engine;
mod environ;
#[cfg(feature = "grpc")]
mod grpc;
pub mod lifecycle;
mod metrics;
mod outcome;
mod provided;
mod registry;
mod routes;
mod rules;
mod status;
mod subscribers;

pub use builder::{Check, ConfigError, Details, HEALTH_URL_SECRET, Heartbeat};
#[cfg(feature = "grpc")]
pub use grpc::Grpc;
/// Registers a check of `/.well-known/heartbeat/readiness`: is this instance ready for traffic?
///
/// Options: `name = "…"` (default: the function's name), `timeout = "2s"`, `cache = "500ms"`,
/// `critical = false`, `failure_threshold = 3`, `success_threshold = 2`, `every = "10s"`,
/// `max_stale = "30s"`, `crate = path` (the README's "Levels" and "Background checks" say what
/// each does). The function is a free `fn` or `async fn` whose return type implements
/// [`IntoOutcome`], and whose parameters, if any, are values the router provides
/// (`pool: Provided<PgPool>`, see [`Provided`]); it stays callable as written.
///
/// ```standalone_crate
/// #[heartbeat::readiness_probe(name = "Database", timeout = "2s", cache = "0s")]
/// async fn database() -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// assert!(heartbeat::registered().iter().any(|c| c.name() == "Database"));
/// ```
#[doc(inline)]
pub use heartbeat_macros::readiness_probe;
pub use metrics::Metrics;
pub use status::{CHANGES_KEPT, StatusChange, Subscription, subscribe};

/// Registers a check of `/.well-known/heartbeat/liveliness`: is this process still working, or
/// should kubelet restart it? The options and rules of [`readiness_probe`] apply.
///
/// ```standalone_crate
/// #[heartbeat::liveliness_probe]
/// fn event_loop() -> heartbeat::Outcome {
///     heartbeat::Outcome::pass().with("lag_ms", 3)
/// }
/// # assert!(event_loop().passed());
/// ```
#[doc(inline)]
pub use heartbeat_macros::liveliness_probe;

/// Registers a contributor to `/.well-known/heartbeat/environ`: the keys of the object it
/// returns are merged into the document. Options: `timeout`, `crate`. The return type
/// implements [`IntoEnviron`].
///
/// ```standalone_crate
/// #[heartbeat::environ_probe]
/// fn deployment() -> serde_json::Value {
///     serde_json::json!({ "region": "eu-west-1" })
/// }
/// # assert_eq!(deployment()["region"], "eu-west-1");
/// ```
#[doc(inline)]
pub use heartbeat_macros::environ_probe;

/// Registers a named check of `/health/`. Options: those of [`readiness_probe`], plus
/// `default = false` to keep it out of the `_defaults` set (ask for it with `?checks=name`).
///
/// ```standalone_crate
/// #[heartbeat::health_check(name = "search", default = false)]
/// async fn search() -> bool {
///     true
/// }
///
/// let info = heartbeat::registered().into_iter().find(|c| c.name() == "search").unwrap();
/// assert!(!info.is_default());
/// ```
#[doc(inline)]
pub use heartbeat_macros::health_check;

/// Registers a function called on every change of a check's level (a [`StatusChange`]), in
/// every router of the process: `fn f(change: &heartbeat::StatusChange)` or
/// `async fn f(change: &heartbeat::StatusChange)`, returning `()` or `Result<(), E>` with
/// `E: Display` (an error is logged).
///
/// Options: `timeout = "2s"` (default 5 s), `crate = path`. The function stays callable as
/// written. It is called for each change in the order they were published, one call at a time,
/// from a task of its own that reads its own [`subscribe()`] stream: a slow subscriber never
/// delays a probe or another subscriber; one that falls more than [`CHANGES_KEPT`] changes
/// behind skips the oldest (logged). Each call is contained like a check's run: a panic is
/// caught and logged with the function's path (`module::function`), and the next change calls
/// it again; an async function's future is dropped at the timeout; a sync function runs on a
/// thread of its own (detached: a hung one never keeps the process from exiting), and one still
/// running at its timeout is logged and not called again until it returns, so it holds one
/// thread at most, and the changes meanwhile wait in its stream.
///
/// An async function borrows the change for as long as its future runs (the generated code owns
/// the change) and must return a `Send` future; like an async check, it must not block its
/// thread. Clone the change to keep it.
///
/// Changes are delivered from the moment a router is first built inside a tokio runtime, or
/// first serves a request: the subscribers' tasks start then, on that runtime (and again on
/// the next request's runtime if that one shut down; changes in between are missed).
///
/// ```standalone_crate
/// use heartbeat::{Level, StatusChange};
///
/// #[heartbeat::on_status_change]
/// fn log_failures(change: &StatusChange) {
///     if change.to == Level::Fail {
///         eprintln!("{} {} failed: {:?}", change.kind, change.name, change.message);
///     }
/// }
///
/// #[heartbeat::on_status_change(timeout = "2s")]
/// async fn notify(change: &StatusChange) -> Result<(), std::io::Error> {
///     // post it to a chat, a pager… (an `Err` is logged)
///     tokio::task::yield_now().await;
///     println!("{} is now {}", change.name, change.to.as_str());
///     Ok(())
/// }
/// # fn main() {}
/// ```
#[doc(inline)]
pub use heartbeat_macros::on_status_change;

/// Adds the application's name and version, and the libraries its `Cargo.lock` says it
/// reaches, to the environ endpoint. Write it once, in the binary crate:
///
/// ```standalone_crate
/// heartbeat::build_info!();
/// # fn main() {}
/// ```
///
/// It works at compile time: it reads the nearest `Cargo.lock` at or above the crate's manifest
/// that holds the crate's own package (`CARGO_PKG_NAME` and `CARGO_PKG_VERSION`), with a TOML
/// parser, follows the lockfile's `dependencies` from that package, and puts the result in a
/// static table: the lockfile's text is not in the binary and nothing is parsed at run time.
/// The lockfile is still an input of the crate (an unused `include_bytes!`), so a change to it
/// rebuilds the crate; no build script is needed.
///
/// Each crate name is listed as its newest copy by semver with its `version`, `source`
/// (`registry`, `git` or `path`) and `conflicts` (the other copies, or `null`; a copy from
/// another source reads `"1.0.0 (git)"`). The lockfile does not say which edges apply to this
/// platform or these features, so the list may hold crates the binary does not link: see the
/// README's environ section. When no lockfile holds the package, the endpoint says so in
/// `libraries_note`; a lockfile that cargo could not have written is a compile error. Takes
/// `crate = path` like the attributes. Written in two crates of one binary, the router refuses
/// to build.
///
/// Written in a library crate whose package has no binary target, it would report that
/// library as the application of every binary that links it: it warns at compile time, on the
/// call (a `deprecated` warning that says so). Not in the library's own unit tests, integration
/// tests, benches or doctests. When a library is the application on purpose (a `cdylib`), put
/// the call in a module under `#[allow(deprecated)]`.
#[doc(inline)]
pub use heartbeat_macros::build_info;
pub use outcome::{IntoEnviron, IntoOutcome, Level, Outcome};
pub use provided::{Provide, Provided};
pub use registry::{BoxFuture, CheckInfo, Kind, REGISTRATION_BACKEND, Site, registered};

/// Every endpoint, every registered check, configuration from the environment.
///
/// The same as `Heartbeat::new().into_router()`: `/health/`'s secret comes from
/// [`HEALTH_URL_SECRET`], and the router refuses to build when `/health/` has checks and the
/// variable is unset. Use [`Heartbeat`] for anything else.
///
/// # Panics
///
/// When the configuration is invalid (see [`ConfigError`]), with the error's full text.
#[track_caller]
pub fn router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Heartbeat::new().into_router()
}

// The crate's README, its page on crates.io, is compiled (and its example, a server, not run) as
// a doctest of the crate. The workspace's README is not in this package: its examples are
// doctests of `heartbeat-tests` (tests/src/lib.rs).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// What generated code calls. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::__heartbeat_register as register;
    pub use crate::outcome::Outcome;
    pub use crate::registry::{BoxFuture, Func, Kind, Registration, Site};

    /// What a check with `Provided` parameters is bound with, and what the derive of
    /// `heartbeat::Provide` calls.
    pub use crate::provided::{Bind, Binder, Bound, Parameter};
    pub use axum::extract::FromRef;
    #[cfg(not(feature = "linkme"))]
    pub use inventory;
    use std::future::Future;
    #[cfg(feature = "linkme")]
    pub use {crate::registry::backend::REGISTRATIONS, linkme};

    /// What `#[on_status_change]` registers, and how.
    pub use crate::__heartbeat_subscriber as subscriber;
    #[cfg(feature = "linkme")]
    pub use crate::subscribers::backend::SUBSCRIBERS;
    pub use crate::subscribers::{
        Returned, Subscriber, SubscriberCall, SubscriberFuture, SubscriberOutput,
    };

    /// Converts a subscriber's result; spanned to the user's return type by the macro.
    pub fn subscriber_output<T: SubscriberOutput>(value: T) -> Returned {
        value.into_returned()
    }

    /// Passes an async subscriber's future through; spanned to the user's `async` by the macro,
    /// so a future that is not `Send` is reported there. (It borrows the change, which the
    /// generated future owns: no `'static` here.)
    pub fn send_borrowing<F: Future + Send>(future: F) -> F {
        future
    }

    /// What `build_info!()` registers, and how.
    pub use crate::__heartbeat_build_info as build_info;
    #[cfg(feature = "linkme")]
    pub use crate::environ::backend::BUILD_INFOS;
    pub use crate::environ::{BuildInfo, Library};

    /// Converts a check's result; spanned to the user's return type by the macro.
    pub fn into_outcome<T: crate::IntoOutcome>(value: T) -> Outcome {
        value.into_outcome()
    }

    /// Converts an environ probe's result; spanned to the user's return type by the macro.
    pub fn into_environ<T: crate::IntoEnviron>(value: T) -> Outcome {
        value.into_environ()
    }

    /// Passes an async check's future through; spanned to the user's `async` by the macro, so
    /// a future that is not `Send` is reported there.
    pub fn send<F: Future + Send + 'static>(future: F) -> F {
        future
    }
}
