//! What every answer shares: JSON with `Cache-Control: no-cache`, and a check's JSON object.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::State;
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

/// Writes seconds as a JSON number, to the microsecond: `9.0`, `0.050957`. What [`seconds`]
/// renders, without a float's formatting on every request.
pub(super) fn write_seconds(body: &mut String, duration: Duration) {
    let micros = (duration.as_nanos() + 500) / 1_000;
    let (whole, fraction) = (micros / 1_000_000, micros % 1_000_000);
    write_digits(body, whole);
    body.push('.');
    if fraction == 0 {
        body.push('0');
        return;
    }
    let mut digits = [b'0'; 6];
    let mut rest = fraction;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let end = digits.iter().rposition(|&d| d != b'0').map_or(1, |i| i + 1);
    for &digit in &digits[..end] {
        body.push(char::from(digit));
    }
}

fn write_digits(body: &mut String, mut n: u128) {
    let mut digits = [0u8; 39];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        body.push(char::from(digit));
    }
}

/// What the wire format keeps of one check: its name as a JSON string, and its last state's
/// object, rendered once per state however many requests show it.
pub(crate) struct Shown {
    pub(super) key: String,
    rendered: Mutex<Option<(Arc<State>, String)>>,
}

impl Shown {
    pub(super) fn new(name: &str) -> Self {
        Shown {
            key: Value::from(name).to_string(),
            rendered: Mutex::default(),
        }
    }

    /// Writes the object of `state`: its data, `status`, `time` (unless the data has one),
    /// `message` when it failed, and `age` when it was reused (unless the data has one).
    pub(super) fn write(&self, body: &mut String, state: &Arc<State>, age: Option<Duration>) {
        let mut rendered = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        let object = match &*rendered {
            Some((shown, object)) if Arc::ptr_eq(shown, state) => object,
            _ => {
                let object = outcome_object(&state.outcome, state.duration).to_string();
                &rendered.insert((Arc::clone(state), object)).1
            }
        };
        write_object(
            body,
            object,
            age.filter(|_| !state.outcome.data().contains_key("age")),
        );
    }
}

/// Writes a rendered object, adding `age` when given.
pub(super) fn write_object(body: &mut String, object: &str, age: Option<Duration>) {
    match age {
        Some(age) => {
            // `object` is a JSON object: it ends with `}`.
            body.push_str(&object[..object.len() - 1]);
            body.push_str(",\"age\":");
            write_seconds(body, age);
            body.push('}');
        }
        None => body.push_str(object),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_written_as_they_render() {
        for micros in [
            0,
            1,
            10,
            999_999,
            1_000_000,
            1_050_957,
            9_000_000,
            123_456_789_012,
        ] {
            let duration = Duration::from_micros(micros);
            let mut written = String::new();
            write_seconds(&mut written, duration);
            let parsed: f64 = written.parse().unwrap();
            assert_eq!(parsed, seconds(duration).as_f64().unwrap(), "{written}");
        }
        let mut written = String::new();
        write_seconds(&mut written, Duration::from_nanos(1_050_957_400));
        assert_eq!(written, "1.050957");
    }
}
