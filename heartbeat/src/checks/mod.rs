//! Built-in checks, for [`crate::Heartbeat`]'s run-time registration and for annotated
//! functions.
//!
//! | check | what passes | feature |
//! |---|---|---|
//! | [`always_up`], [`always_down`] | always, never (the seed's `check_true` / `check_false`) | |
//! | [`Tcp`], [`tcp`] | a TCP connection to `host:port` opens | |
//! | [`Disk`] | the file system of a path has enough free space | |
//! | `Http` | a URL answers with the expected status | `http` |
//! | `Sql`, `postgres`, `mysql`, `sqlite`, `sql::ping` | `SELECT 1` on an sqlx pool | `postgres`, `mysql`, `sqlite` |
//! | `Redis`, `redis`, `redis::ping` | `PING` answers `PONG` | `redis` |
//!
//! The checks behind a feature are documented here when it is on (`cargo doc --all-features`).
//!
//! Each built-in that reaches a dependency has its own timeout, [`DEFAULT_TIMEOUT`] unless set,
//! and its failure message says what was tried and what happened: "TCP connect to db:5432:
//! Connection refused (os error 111)", "GET http://api/health: answered 502 Bad Gateway,
//! expected 200..=299", "Redis PING to cache:6379: no answer within 700ms". A message never holds
//! a password. A pass carries the round trip as `round_trip_ms`. Run inside a check whose
//! deadline comes sooner (an annotated function with a shorter timeout), a built-in shortens its
//! own timeout, and the SQL check its diagnosis, to end before it: its message is the answer.
//!
//! Each is used two ways: `.check(name)` (or the shortcut function) makes a [`Check`] for the
//! builder, whose router timeout is set just above the built-in's own; `.run()` (or `ping`)
//! gives an [`Outcome`](crate::Outcome) inside an annotated function.
//!
//! ```
//! use std::time::Duration;
//! use heartbeat::{Heartbeat, checks};
//!
//! let app: axum::Router = Heartbeat::new()
//!     .no_health_secret()
//!     .readiness(checks::tcp("broker", "127.0.0.1:5672"))
//!     .liveliness(checks::Disk::new("/var/tmp").min_free_percent(1.0).check("scratch"))
//!     .health_check(checks::always_up("true"))
//!     .health_check(checks::always_down("false").default(false))
//!     .into_router();
//! ```
//!
//! [`Check`]: crate::Check

mod always;
mod attempt;
mod disk;
#[cfg(feature = "http")]
mod http;
mod lookup;
mod message;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
)]
pub mod sql;
mod tcp;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{Redis, redis};
pub use always::{always_down, always_up};
pub use attempt::DEFAULT_TIMEOUT;
pub use disk::Disk;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::{ExpectedStatus, Http};
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite")))
)]
pub use sql::Sql;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use sql::mysql;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sql::postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sql::sqlite;
pub use tcp::{Tcp, tcp};
