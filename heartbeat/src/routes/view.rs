//! One answer as every format sees it ([`View`]), and the formats other than the seed JSON:
//! `application/health+json` ([`health_json`]) and the Kubernetes text form ([`text`]); the
//! page is [`super::page`]. Each format reads the same rows, so the same states give the same
//! status code in every format.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::engine::State;
use crate::outcome::{Level, Outcome};

/// What a failure or warning says when the probe withholds its details (as Kubernetes does).
pub(super) const WITHHELD: &str = "reason withheld";

/// Which endpoint answers: its name in the text form's last line and on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    Readiness,
    Liveliness,
    Health,
}

impl Endpoint {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Endpoint::Readiness => "readiness",
            Endpoint::Liveliness => "liveliness",
            Endpoint::Health => "health",
        }
    }
}

/// One check (or lifecycle condition) of an answer, as shown.
pub(super) struct Row<'a> {
    pub(super) key: Cow<'a, str>,
    pub(super) level: Level,
    /// The message of a warning or failure (`reason withheld` when withheld).
    pub(super) message: Option<&'a str>,
    /// How long the run took.
    pub(super) duration: Duration,
    /// When the run started: `None` for a lifecycle condition (it is not a run).
    pub(super) started: Option<Instant>,
}

impl<'a> Row<'a> {
    /// The row of a check's state, its details shown when `reveal`.
    pub(super) fn check(key: Cow<'a, str>, state: &'a State, reveal: bool) -> Self {
        Row::outcome(
            key,
            &state.outcome,
            reveal,
            state.duration,
            Some(state.started),
        )
    }

    /// The row of an outcome, its details shown when `reveal`.
    pub(super) fn outcome(
        key: Cow<'a, str>,
        outcome: &'a Outcome,
        reveal: bool,
        duration: Duration,
        started: Option<Instant>,
    ) -> Self {
        let level = outcome.level();
        let message = if level == Level::Pass {
            None
        } else if reveal {
            Some(outcome.message().unwrap_or("the check failed"))
        } else {
            Some(WITHHELD)
        };
        Row {
            key,
            level,
            message,
            duration,
            started,
        }
    }

    /// How old the run was when the request asked (zero for a run it started).
    pub(super) fn age(&self, asked: Instant) -> Option<Duration> {
        self.started
            .map(|started| asked.saturating_duration_since(started))
    }
}

/// One answer: its rows in key order, whether it passed, and what `?exclude=` did.
pub(super) struct View<'a> {
    pub(super) endpoint: Endpoint,
    pub(super) rows: Vec<Row<'a>>,
    pub(super) passed: bool,
    /// When the request asked.
    pub(super) asked: Instant,
    /// The checks `?exclude=` left out, in name order.
    pub(super) excluded: Vec<&'a str>,
    /// The names `?exclude=` gave that no check has (reported, not an error).
    pub(super) unknown_excluded: Vec<String>,
}

impl View<'_> {
    /// pass, warn or fail for the whole answer: fail when it did not pass, warn when a row
    /// warns.
    pub(super) fn level(&self) -> Level {
        if !self.passed {
            Level::Fail
        } else if self.rows.iter().any(|row| row.level == Level::Warn) {
            Level::Warn
        } else {
            Level::Pass
        }
    }
}

/// The wall-clock time of `instant` (a tokio instant), as RFC 3339 in UTC to the millisecond.
pub(super) fn timestamp(instant: Instant) -> String {
    let ago = Instant::now().saturating_duration_since(instant);
    let when = SystemTime::now()
        .checked_sub(ago)
        .unwrap_or(UNIX_EPOCH)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(when)
}

/// `since_epoch` as `2026-11-22T08:30:00.123Z`.
fn rfc3339(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// The service's name and version, from `build_info!()` when the binary has one.
fn service() -> Option<(&'static str, &'static str)> {
    crate::environ::application()
}

/// `application/health+json` (draft-inadarei-api-health-check-06): `status` pass / warn /
/// fail; `version` (the major version), `releaseId` (the whole version) and `serviceId` (the
/// package) from `build_info!()`; `checks` keyed `"<name>:responseTime"`, each an array of one
/// object with `componentId` (the exact name), `componentType`, `status`, `observedValue` and
/// `observedUnit` (the run's duration in milliseconds), `time` (when the run started) and
/// `output` for a warning or failure. A lifecycle condition is keyed by its name alone and has
/// no measurement.
pub(super) fn health_json(view: &View<'_>) -> String {
    let mut document = Map::new();
    document.insert("status".to_owned(), draft_status(view.level()).into());
    if let Some((name, version)) = service() {
        let major = version.split('.').next().unwrap_or(version);
        document.insert("version".to_owned(), major.into());
        document.insert("releaseId".to_owned(), version.into());
        document.insert("serviceId".to_owned(), name.into());
    }
    document.insert(
        "description".to_owned(),
        format!("{} checks", view.endpoint.as_str()).into(),
    );
    let mut checks = Map::new();
    for row in &view.rows {
        let mut object = Map::new();
        object.insert("componentId".to_owned(), row.key.as_ref().into());
        object.insert("status".to_owned(), draft_status(row.level).into());
        let key = match row.started {
            Some(started) => {
                object.insert("componentType".to_owned(), "component".into());
                let millis = (row.duration.as_secs_f64() * 1e6).round() / 1e3;
                object.insert("observedValue".to_owned(), millis.into());
                object.insert("observedUnit".to_owned(), "ms".into());
                object.insert("time".to_owned(), timestamp(started).into());
                // The draft's component name must hold no colon: it separates the measurement.
                format!("{}:responseTime", row.key.replace(':', "_"))
            }
            None => {
                object.insert("componentType".to_owned(), "system".into());
                row.key.replace(':', "_")
            }
        };
        if let Some(message) = row.message {
            object.insert("output".to_owned(), message.into());
        }
        checks.insert(key, Value::Array(vec![Value::Object(object)]));
    }
    document.insert("checks".to_owned(), Value::Object(checks));
    if !view.unknown_excluded.is_empty() {
        let notes = format!(
            "cannot exclude {}: no such check",
            quoted(&view.unknown_excluded)
        );
        document.insert("notes".to_owned(), Value::Array(vec![notes.into()]));
    }
    Value::Object(document).to_string()
}

/// The draft's status of a level: unknown answers as a failure does.
fn draft_status(level: Level) -> &'static str {
    match level {
        Level::Pass => "pass",
        Level::Warn => "warn",
        Level::Fail | Level::Unknown => "fail",
    }
}

/// The Kubernetes text form, as the API server's `/readyz?verbose`: `[+]name ok` or
/// `[-]name failed: message` per check (a warning: `[+]name ok (warn: message)`), `[+]name
/// excluded: ok` per excluded check, a `warn:` line for names that match no check, and
/// `<endpoint> check passed` or `… failed` last. Messages are kept on one line.
pub(super) fn text(view: &View<'_>) -> String {
    let mut body = String::with_capacity(64 + 48 * view.rows.len());
    let mut lines: Vec<(&str, String)> = view
        .rows
        .iter()
        .map(|row| {
            let line = match (row.level, row.message) {
                (Level::Pass, _) => format!("[+]{} ok", one_line(&row.key)),
                (Level::Warn, message) => format!(
                    "[+]{} ok (warn: {})",
                    one_line(&row.key),
                    one_line(message.unwrap_or_default())
                ),
                (Level::Fail | Level::Unknown, message) => format!(
                    "[-]{} failed: {}",
                    one_line(&row.key),
                    one_line(message.unwrap_or_default())
                ),
            };
            (row.key.as_ref(), line)
        })
        .collect();
    lines.extend(
        view.excluded
            .iter()
            .map(|name| (*name, format!("[+]{} excluded: ok", one_line(name)))),
    );
    lines.sort_by(|a, b| a.0.cmp(b.0));
    for (_, line) in lines {
        body.push_str(&line);
        body.push('\n');
    }
    if !view.unknown_excluded.is_empty() {
        let _ = writeln!(
            body,
            "warn: some health checks cannot be excluded: no matches for {}",
            quoted(&view.unknown_excluded)
        );
    }
    let _ = writeln!(
        body,
        "{} check {}",
        view.endpoint.as_str(),
        if view.passed { "passed" } else { "failed" }
    );
    body
}

/// `text` with line breaks and other control characters as spaces.
fn one_line(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Names as `"a", "b"`, each quoted as JSON quotes it.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| Value::from(name.as_str()).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        // date -u -d @1795336200.123
        assert_eq!(
            rfc3339(Duration::from_millis(1_795_336_200_123)),
            "2026-11-22T08:30:00.123Z"
        );
        assert_eq!(
            rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(Duration::from_secs(4_107_542_399)),
            "2100-02-28T23:59:59.000Z"
        );
    }

    #[test]
    fn text_lines_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\tc"), "a b  c");
        assert!(matches!(one_line("plain"), Cow::Borrowed("plain")));
    }
}
