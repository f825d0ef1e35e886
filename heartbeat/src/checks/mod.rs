//! Built-in checks, for [`crate::Heartbeat`]'s run-time registration.
//!
//! ```
//! use heartbeat::{Heartbeat, checks};
//!
//! let app: axum::Router = Heartbeat::new()
//!     .no_health_secret()
//!     .health_check(checks::always_up("true"))
//!     .health_check(checks::always_down("false").default(false))
//!     .into_router();
//! ```

mod always;

pub use always::{always_down, always_up};
