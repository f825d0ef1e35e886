//! The shared secret of `/health/` (and, when asked, of the environ and metrics endpoints, and
//! of the probes' details).

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Map;
use subtle::ConstantTimeEq;

use super::query::Query;
use super::wire;

/// Reads the query and, when there is a secret, lets the request through only with it: the
/// refusal (400 for a malformed query, 401 without the secret) reveals nothing else.
pub(super) fn guard(
    secret: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Query, Refusal> {
    let query = Query::parse(query).map_err(Refusal::BadQuery)?;
    match secret {
        Some(secret) if !authorised(secret, query.auth.as_deref(), headers) => {
            Err(Refusal::Unauthorised)
        }
        _ => Ok(query),
    }
}

/// Why [`guard`] turned a request away.
pub(super) enum Refusal {
    BadQuery(&'static str),
    Unauthorised,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadQuery(message) => {
                wire::error(StatusCode::BAD_REQUEST, "bad query", message, Map::new())
            }
            Refusal::Unauthorised => unauthorised(),
        }
    }
}

/// Whether the `Authorization: Bearer` header or `?auth=` holds the secret, compared in
/// constant time (only the length can differ in timing).
pub(super) fn authorised(secret: &str, auth: Option<&str>, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    [bearer, auth]
        .into_iter()
        .flatten()
        .any(|given| bool::from(given.as_bytes().ct_eq(secret.as_bytes())))
}

fn unauthorised() -> Response {
    let mut response = wire::error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "this endpoint needs the shared secret: send `Authorization: Bearer <secret>` or `?auth=<secret>`",
        Map::new(),
    );
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
