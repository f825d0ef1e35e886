//! What every answer shares: JSON with `Cache-Control: no-cache`, and a check's JSON object.

use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::Served;
use crate::outcome::Outcome;

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// A JSON answer.
pub(super) fn json(status: StatusCode, body: &Value) -> Response {
    let bytes = body.to_string();
    let content_type = HeaderValue::from_static("application/json");
    (
        status,
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, NO_CACHE)],
        bytes,
    )
        .into_response()
}

/// A plain-text answer.
pub(super) fn text(status: StatusCode, body: &'static str) -> Response {
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    (
        status,
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, NO_CACHE)],
        body,
    )
        .into_response()
}

/// A client error: `{"error": …, "message": …}` plus `details`' keys.
pub(super) fn error(
    status: StatusCode,
    error: &str,
    message: &str,
    details: Map<String, Value>,
) -> Response {
    let mut body = Map::new();
    body.insert("error".to_owned(), error.into());
    body.insert("message".to_owned(), message.into());
    body.extend(details);
    json(status, &Value::Object(body))
}

/// Seconds as a JSON number, to the microsecond.
pub(super) fn seconds(duration: Duration) -> Value {
    json!((duration.as_secs_f64() * 1e6).round() / 1e6)
}

/// One check's object: its data, `status`, `time` (unless the data has one), `age` when the
/// result was reused, and `message` when it failed.
pub(super) fn check_object(served: &Served) -> Value {
    outcome_object(&served.report.outcome, served.report.time, served.age)
}

/// The object of an outcome that took `time`, reused after `age` if it was.
pub(super) fn outcome_object(outcome: &Outcome, time: Duration, age: Option<Duration>) -> Value {
    let mut object = outcome.data().clone();
    object.insert("status".to_owned(), outcome.passed().into());
    object.entry("time").or_insert_with(|| seconds(time));
    if let Some(age) = age {
        object.insert("age".to_owned(), seconds(age));
    }
    if let (false, Some(message)) = (outcome.passed(), outcome.message()) {
        object.insert("message".to_owned(), message.into());
    }
    Value::Object(object)
}
