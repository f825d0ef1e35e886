//! What every answer shares: JSON with `Cache-Control: no-cache`, and a check's JSON object.

use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::engine::{Answer, State};
use crate::outcome::{Level, Outcome};

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// A JSON answer (with `Vary: Accept`), from text that is JSON already (taken as is, not copied). Built by hand:
/// axum's `(status, headers, body)` tuple costs a quarter of a probe's own work.
pub(super) fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, NO_CACHE);
    // The format follows `Accept` (seed JSON, health+json, the page).
    headers.insert(VARY, ACCEPT);
    response
}

const ACCEPT: HeaderValue = HeaderValue::from_static("accept");

/// Requests that ask within this long of each other, and find the same states, get the same
/// body (so `age` in it may be this much too young).
const SHARED_FOR: Duration = Duration::from_millis(10);

/// Bodies are shared from this many checks on: a smaller body costs less to write again than to
/// compare and keep.
const SHARED_FROM: usize = 16;

/// The last body an endpoint answered, shared with the requests that would write it again:
/// under a storm of probes of a large endpoint, answers waiting to be sent to slow clients
/// then share one body instead of holding one copy each (2,000 clients × 1,000 checks).
#[derive(Default)]
pub(crate) struct LastBody(Mutex<Option<Last>>);

struct Last {
    /// Which `SHARED_FOR` window since the router's start the body was written in.
    window: u128,
    states: Vec<Arc<State>>,
    body: Bytes,
}

impl LastBody {
    fn window(answer: &Answer, started: std::time::Instant) -> u128 {
        let since = answer.asked.into_std().saturating_duration_since(started);
        since.as_nanos() / SHARED_FOR.as_nanos()
    }

    /// The body for `answer`, if the last one was written for the same states in its window.
    #[inline]
    pub(super) fn get(&self, answer: &Answer, started: std::time::Instant) -> Option<Bytes> {
        if answer.states.len() < SHARED_FROM {
            return None;
        }
        let last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let last = last.as_ref()?;
        let same = last.window == Self::window(answer, started)
            && last.states.len() == answer.states.len()
            && last
                .states
                .iter()
                .zip(answer.states.iter())
                .all(|(a, b)| Arc::ptr_eq(a, b));
        same.then(|| last.body.clone())
    }

    #[inline]
    pub(super) fn set(&self, answer: &Answer, started: std::time::Instant, body: &Bytes) {
        if answer.states.len() < SHARED_FROM {
            return;
        }
        let last = Last {
            window: Self::window(answer, started),
            states: answer.states.to_vec(),
            body: body.clone(),
        };
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(last);
    }
}

thread_local! {
    /// The buffer answers are written in on this thread, kept between answers.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A larger buffer is not kept for the next answer.
const SCRATCH_KEPT: usize = 64 * 1024;

/// A buffer to write an answer's body in, with room for `hint` bytes: this thread's, as the
/// last answer left it (emptied), given back by [`body`].
pub(super) fn scratch(hint: usize) -> String {
    let mut text = SCRATCH.take();
    text.reserve(hint);
    text
}

/// The body written in `text` (from [`scratch`]), as the `Bytes` an answer holds: copied to a
/// buffer of its exact length, since a body is held until the client has read it (a probe of
/// 1,000 checks answered to 2,000 clients at once adds up), and so that `Bytes` takes it over
/// without the shared header it allocates for a buffer with spare room. `text` is kept for
/// the next answer on this thread.
pub(super) fn body(mut text: String) -> Bytes {
    let body = Bytes::copy_from_slice(text.as_bytes());
    if text.capacity() <= SCRATCH_KEPT {
        text.clear();
        SCRATCH.set(text);
    }
    body
}

/// An `application/health+json` answer (draft-inadarei-api-health-check-06).
pub(super) fn health_json(status: StatusCode, body: String) -> Response {
    let mut response = json(status, body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/health+json"),
    );
    response
}

/// A plain-text answer written for this request.
pub(super) fn text_owned(status: StatusCode, body: String) -> Response {
    let mut response = json(status, body);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `outcome` as a request that may not see its details sees it: its level, and for a warning
/// or failure the message `reason withheld`; no data.
pub(super) fn withheld(outcome: &Outcome, reveal: bool) -> Outcome {
    if reveal {
        return outcome.clone();
    }
    match outcome.level() {
        Level::Pass => Outcome::pass(),
        level => Outcome::pass().at(level, super::view::WITHHELD.to_owned()),
    }
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
/// renders, without a float's formatting on every request (a probe writes one per check).
pub(super) fn write_seconds(body: &mut String, duration: Duration) {
    // Rounded to the microsecond; a `u64` of microseconds lasts 584,000 years.
    let micros = duration
        .as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from((duration.subsec_nanos() + 500) / 1_000));
    let (whole, mut fraction) = (micros / 1_000_000, micros % 1_000_000);
    body.push_str(itoa::Buffer::new().format(whole));
    if fraction == 0 {
        body.push_str(".0");
        return;
    }
    // The fraction's six digits without the zeros they end with: its leading zeros, then
    // itoa's digits.
    let mut width = 6;
    while fraction % 10 == 0 {
        fraction /= 10;
        width -= 1;
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(fraction);
    body.push('.');
    body.push_str(&"00000"[..width - digits.len()]);
    body.push_str(digits);
}

/// What the wire format keeps of one check: its name as a JSON string, and its last state's
/// object, rendered once per state however many requests show it (with its details, and
/// without them for requests that may not see them).
pub(crate) struct Shown {
    pub(super) key: String,
    rendered: Mutex<Option<(Arc<State>, String)>>,
    withheld: Mutex<Option<(Arc<State>, String)>>,
}

impl Shown {
    pub(super) fn new(name: &str) -> Self {
        Shown {
            key: Value::from(name).to_string(),
            rendered: Mutex::default(),
            withheld: Mutex::default(),
        }
    }

    /// Writes the object of `state`: its data, `status`, `time` (unless the data has one),
    /// `message` when it failed, and `age` when it was reused (unless the data has one); without
    /// `reveal`, as [`withheld`] shows it.
    pub(super) fn write(
        &self,
        body: &mut String,
        state: &Arc<State>,
        age: Option<Duration>,
        reveal: bool,
    ) {
        let slot = if reveal {
            &self.rendered
        } else {
            &self.withheld
        };
        let mut rendered = slot.lock().unwrap_or_else(PoisonError::into_inner);
        let object = match &*rendered {
            Some((shown, object)) if Arc::ptr_eq(shown, state) => object,
            _ => {
                let object = if reveal {
                    render(&state.outcome, state.duration)
                } else {
                    render(&withheld(&state.outcome, false), state.duration)
                };
                &rendered.insert((Arc::clone(state), object)).1
            }
        };
        let data_age = reveal && state.outcome.data().contains_key("age");
        write_object(body, object, age.filter(|_| !data_age));
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

/// Writes `,"excluded":[…]`, the keys of the checks at `excluded` (indices into `shown`), when
/// `?exclude=` left any out.
pub(super) fn write_excluded(body: &mut String, shown: &[Shown], excluded: &[usize]) {
    if excluded.is_empty() {
        return;
    }
    body.push_str(",\"excluded\":[");
    for (n, &i) in excluded.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&shown[i].key);
    }
    body.push(']');
}

/// Writes `text` as a JSON string.
pub(super) fn write_str(body: &mut String, text: &str) {
    body.push_str(&Value::from(text).to_string());
}

/// The object of an outcome that took `time`: its data, `status`, `level`, `time` (unless the
/// data has one) and, for a warning or failure, `message`; written directly rather than
/// through a `Value`: a run's rendering is most of what a probe that runs its check costs.
pub(super) fn render(outcome: &Outcome, time: Duration) -> String {
    let data = outcome.data();
    let level = outcome.level();
    let message = outcome.message().filter(|_| level != Level::Pass);
    let mut out: Vec<u8> = Vec::with_capacity(64);
    out.push(b'{');
    for (key, value) in data {
        if key == "status" || key == "level" || (key == "message" && message.is_some()) {
            continue;
        }
        // Writing JSON to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, value);
        out.push(b',');
    }
    out.extend_from_slice(if level.is_ok() {
        b"\"status\":true,\"level\":\""
    } else {
        b"\"status\":false,\"level\":\""
    });
    out.extend_from_slice(level.as_str().as_bytes());
    out.push(b'"');
    if let Some(message) = message {
        out.extend_from_slice(b",\"message\":");
        let _ = serde_json::to_writer(&mut out, message);
    }
    let mut text = String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if !data.contains_key("time") {
        text.push_str(",\"time\":");
        write_seconds(&mut text, time);
    }
    text.push('}');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object of an outcome that took `time`.
    fn outcome_object(outcome: &Outcome, time: Duration) -> Value {
        let mut object = outcome.data().clone();
        object.insert("status".to_owned(), outcome.passed().into());
        object.insert("level".to_owned(), outcome.level().as_str().into());
        object.entry("time").or_insert_with(|| seconds(time));
        if let (true, Some(message)) = (outcome.level() != Level::Pass, outcome.message()) {
            object.insert("message".to_owned(), message.into());
        }
        Value::Object(object)
    }

    #[test]
    fn an_outcome_renders_as_its_object() {
        let outcomes = [
            Outcome::pass(),
            Outcome::fail("queue is \"full\"\n"),
            Outcome::pass()
                .with("hits", 17)
                .with("time", 9)
                .with("status", "x"),
            Outcome::fail("down")
                .with("message", "theirs")
                .with("a", json!({"b": [1, 2]})),
            Outcome::pass().with("message", "kept on a pass"),
            Outcome::warn("disk 91% full").with("level", "theirs"),
        ];
        for outcome in outcomes {
            let time = Duration::from_micros(1_234);
            let rendered: Value = serde_json::from_str(&render(&outcome, time)).unwrap();
            assert_eq!(rendered, outcome_object(&outcome, time), "{outcome:?}");
        }
    }

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
        for (nanos, text) in [
            (1_050_957_400, "1.050957"),
            (999_999_500, "1.0"),
            (100_000_000, "0.1"),
            (1_000, "0.000001"),
            (20_500, "0.000021"),
            (0, "0.0"),
        ] {
            let mut written = String::new();
            write_seconds(&mut written, Duration::from_nanos(nanos));
            assert_eq!(written, text, "{nanos} ns");
        }
        let mut written = String::new();
        write_seconds(&mut written, Duration::MAX);
        assert!(written.parse::<f64>().is_ok(), "{written}");
    }
}
