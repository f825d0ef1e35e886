//! The endpoints: one file per family, [`wire`] for what every answer shares.
//!
//! A request flows: route → selection (and, for `/health/`, the secret) →
//! [`crate::engine::run_all`] → [`wire`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::engine::Check;

mod auth;
mod environ;
mod health;
mod probes;
mod wire;

/// What one router serves: its checks by endpoint, sorted by name, and its settings.
pub(crate) struct Endpoints {
    pub(crate) readiness: Vec<Arc<Check>>,
    pub(crate) liveliness: Vec<Arc<Check>>,
    pub(crate) environ: Vec<Arc<Check>>,
    pub(crate) health: BTreeMap<String, Arc<Check>>,
    pub(crate) secret: Option<String>,
    /// Whether the environ endpoint asks for the secret too.
    pub(crate) protect_environ: bool,
    pub(crate) failure_status: StatusCode,
    pub(crate) started: Instant,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            readiness: Vec::new(),
            liveliness: Vec::new(),
            environ: Vec::new(),
            health: BTreeMap::new(),
            secret: None,
            protect_environ: false,
            failure_status: StatusCode::INTERNAL_SERVER_ERROR,
            started: Instant::now(),
        }
    }
}

/// The path prefixes of the two endpoint families.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) well_known: String,
    pub(crate) health: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            well_known: "/.well-known/heartbeat".to_owned(),
            health: "/health".to_owned(),
        }
    }
}

impl Paths {
    pub(crate) fn problems(&self) -> Vec<String> {
        [("well_known_prefix", &self.well_known), ("health_prefix", &self.health)]
            .into_iter()
            .filter(|(_, prefix)| {
                !prefix.starts_with('/')
                    || prefix.len() < 2
                    || prefix.ends_with('/')
                    || prefix.contains(['{', '}', '*', '?', '#'])
            })
            .map(|(setting, prefix)| {
                format!("`.{setting}({prefix:?})` is not a path prefix: it must start with `/`, not end with `/`, and hold none of `{{ }} * ? #`, as in \"/health\"")
            })
            .collect()
    }
}

pub(crate) fn router<S>(endpoints: Endpoints, paths: &Paths) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let Paths { well_known, health } = paths;
    Router::new()
        .route(&format!("{well_known}/readiness"), get(probes::readiness))
        .route(&format!("{well_known}/liveliness"), get(probes::liveliness))
        .route(&format!("{well_known}/environ"), get(environ::environ))
        .route(health, get(health::health))
        .route(&format!("{health}/"), get(health::health))
        .route(&format!("{health}/ping"), get(health::ping))
        .with_state(Arc::new(endpoints))
}
