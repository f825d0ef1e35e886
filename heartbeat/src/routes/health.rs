//! `/health/` (named checks, `?checks=` selection, the shared secret) and `/health/ping`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Endpoints, auth, wire};
use crate::engine::{Check, run_all};

/// The name that stands for every check in the default set.
const DEFAULTS: &str = "_defaults";

/// At most this many unknown names are echoed in a 400, each cut to this many characters.
const ECHO_NAMES: usize = 20;
const ECHO_CHARS: usize = 64;

pub(super) async fn ping() -> Response {
    wire::text(StatusCode::OK, "pong")
}

/// The order is: read the query, check the secret, select, run. Nothing about the checks is
/// revealed, and nothing runs, before the caller is authorised.
pub(super) async fn health(
    State(endpoints): State<Arc<Endpoints>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = match auth::guard(endpoints.secret.as_deref(), query.as_deref(), &headers) {
        Ok(query) => query,
        Err(refusal) => return refusal.into_response(),
    };
    let selected = match select(&endpoints, query.checks.as_deref()) {
        Ok(selected) => selected,
        Err(unknown) => return unknown_checks(&endpoints, &unknown),
    };
    let results = run_all(selected).await;
    let passed = results
        .iter()
        .all(|(_, served)| served.report.outcome.passed());
    let checks: Map<String, Value> = results
        .iter()
        .map(|(check, served)| {
            (
                check.info.name().to_owned(),
                served.report.outcome.passed().into(),
            )
        })
        .collect();
    let body = json!({
        "health": if passed { "running" } else { "degraded" },
        "available_checks": endpoints.health.keys().collect::<Vec<_>>(),
        "checks": checks,
    });
    let status = if passed {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    wire::json(status, body.to_string())
}

/// The checks `?checks=` asks for, each once: absent means `_defaults`, empty means none,
/// otherwise a comma-separated list with each item trimmed and `_defaults` expanded.
fn select<'a>(
    endpoints: &'a Endpoints,
    checks: Option<&str>,
) -> Result<Vec<&'a Arc<Check>>, Vec<String>> {
    let defaults = || {
        endpoints
            .health
            .values()
            .filter(|check| check.info.is_default())
    };
    let Some(list) = checks else {
        return Ok(defaults().collect());
    };
    let mut selected = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for name in list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        if name == DEFAULTS {
            selected.extend(defaults().map(|check| check.info.name()));
        } else if let Some((name, _)) = endpoints.health.get_key_value(name) {
            selected.insert(name.as_str());
        } else if unknown.len() < ECHO_NAMES {
            unknown.insert(name.chars().take(ECHO_CHARS).collect::<String>());
        }
    }
    if !unknown.is_empty() {
        return Err(unknown.into_iter().collect());
    }
    Ok(selected
        .into_iter()
        .filter_map(|name| endpoints.health.get(name))
        .collect())
}

fn unknown_checks(endpoints: &Endpoints, unknown: &[String]) -> Response {
    let mut details = Map::new();
    details.insert("unknown_checks".to_owned(), json!(unknown));
    details.insert(
        "available_checks".to_owned(),
        json!(endpoints.health.keys().collect::<Vec<_>>()),
    );
    let message = format!(
        "no check is named {}; `?checks=` takes a comma-separated list of available_checks or `_defaults`",
        unknown
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    wire::error(StatusCode::BAD_REQUEST, "unknown checks", &message, details)
}
