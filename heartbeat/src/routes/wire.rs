//! What every answer shares: JSON with `Cache-Control: no-cache`, and a check's JSON object.

use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::Served;
use crate::outcome::Outcome;

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// A JSON answer, from text that is JSON already (taken as is, not copied).
pub(super) fn json(status: StatusCode, body: impl IntoResponse) -> Response {
    let content_type = HeaderValue::from_static("application/json");
    (
        status,
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, NO_CACHE)],
        body,
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
    json(status, Value::Object(body).to_string())
}

/// Seconds as a JSON number, to the microsecond.
pub(super) fn seconds(duration: Duration) -> Value {
    json!((duration.as_secs_f64() * 1e6).round() / 1e6)
}

/// Writes one check's object: its data, `status`, `time` (unless the data has one), `age` when
/// the result was reused (unless the data has one), and `message` when it failed. The object
/// is rendered once per run and reused; only `age` is added per request.
pub(super) fn write_check(body: &mut String, served: &Served) {
    let report = &served.report;
    let rendered = report
        .rendered
        .get_or_init(|| outcome_object(&report.outcome, report.time).to_string());
    match served.age {
        Some(age) if !report.outcome.data().contains_key("age") => {
            // `rendered` is a JSON object: it ends with `}`.
            body.push_str(&rendered[..rendered.len() - 1]);
            body.push_str(",\"age\":");
            body.push_str(&seconds(age).to_string());
            body.push('}');
        }
        _ => body.push_str(rendered),
    }
}

/// Writes `text` as a JSON string.
pub(super) fn write_str(body: &mut String, text: &str) {
    body.push_str(&Value::from(text).to_string());
}

/// The object of an outcome that took `time`.
pub(super) fn outcome_object(outcome: &Outcome, time: Duration) -> Value {
    let mut object = outcome.data().clone();
    object.insert("status".to_owned(), outcome.passed().into());
    object.entry("time").or_insert_with(|| seconds(time));
    if let (false, Some(message)) = (outcome.passed(), outcome.message()) {
        object.insert("message".to_owned(), message.into());
    }
    Value::Object(object)
}
