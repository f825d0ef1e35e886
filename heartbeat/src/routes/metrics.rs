//! The metrics endpoint (`.metrics_path(…)`): every check's state as Prometheus series
//! ([`crate::metrics`]), in the format the scraper's `Accept` asks for.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Endpoints, auth};
use crate::metrics::Format;

/// Always 200 (401 without the secret when the metrics are protected). Reads the states; runs
/// no check.
pub(super) async fn metrics(State(endpoints): State<Arc<Endpoints>>, request: Request) -> Response {
    endpoints.background.ensure();
    if endpoints.protect_metrics {
        let secret = endpoints.secret.as_deref();
        if let Err(refusal) = auth::guard(secret, request.uri().query(), request.headers()) {
            return refusal.into_response();
        }
    }
    let accept = request
        .headers()
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::negotiate(accept);
    let body = endpoints.series.render(format);
    (
        StatusCode::OK,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}
