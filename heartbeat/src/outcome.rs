//! What a check returns: [`Outcome`] at a [`Level`], and the conversions [`IntoOutcome`] and
//! [`IntoEnviron`].

use std::fmt::{self, Display};

use serde_json::{Map, Value};

/// Where a check stands (SPEC §12): what its JSON object shows as `"level"`.
///
/// Pass and warn answer 200 (`"status": true`); fail and unknown answer the router's failure
/// status (`"status": false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Everything is fine.
    Pass,
    /// Something is wrong, and the service still works: a check that returned
    /// [`Outcome::warn`], a failure of a check with `critical = false`, or a failure under its
    /// `failure_threshold`.
    Warn,
    /// The check failed.
    Fail,
    /// A background check (`every = …`) that has not finished its first run.
    Unknown,
}

impl Level {
    /// `"pass"`, `"warn"`, `"fail"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pass => "pass",
            Level::Warn => "warn",
            Level::Fail => "fail",
            Level::Unknown => "unknown",
        }
    }

    /// Whether the level answers 200 (`"status": true`): pass and warn.
    pub fn is_ok(self) -> bool {
        matches!(self, Level::Pass | Level::Warn)
    }
}

impl Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one run of a check: its [`Level`] (pass, warn or fail), a message, and data.
///
/// Checks rarely build one by hand: they return `bool`, `()`, `Result<_, E>` or JSON and
/// [`IntoOutcome`] turns that into an `Outcome`. Build one to attach data or a message, or to
/// warn:
///
/// ```
/// use heartbeat::{Level, Outcome};
///
/// let busy = Outcome::pass().with("connections", 17);
/// assert!(busy.passed());
///
/// let full = Outcome::warn("disk 91% full").with("used", 0.91);
/// assert_eq!(full.level(), Level::Warn);
/// assert!(full.passed()); // a warning still answers 200
///
/// let down = Outcome::fail("queue is full").with("depth", 10_000);
/// assert_eq!(down.message(), Some("queue is full"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    level: Level,
    message: Option<String>,
    data: Map<String, Value>,
    name: Option<String>,
}

impl Outcome {
    /// A passed check with no data.
    pub fn pass() -> Self {
        Outcome {
            level: Level::Pass,
            message: None,
            data: Map::new(),
            name: None,
        }
    }

    /// A check that works, with a warning: `message` says what is wrong. It answers 200, shows
    /// `"level": "warn"` with its message, and is listed in `/health/`'s `warnings`.
    pub fn warn(message: impl Into<String>) -> Self {
        Outcome {
            level: Level::Warn,
            message: Some(message.into()),
            ..Outcome::pass()
        }
    }

    /// A failed check whose `message` says what went wrong.
    pub fn fail(message: impl Into<String>) -> Self {
        Outcome {
            level: Level::Fail,
            message: Some(message.into()),
            ..Outcome::pass()
        }
    }

    /// This outcome at another level, with another message: how the engine shows a failure
    /// as a warning (`critical = false`, thresholds) or as unknown.
    pub(crate) fn at(mut self, level: Level, message: String) -> Self {
        self.level = level;
        self.message = Some(message);
        self
    }

    /// A check that passed when `passed` is true, and failed otherwise.
    pub fn from_status(passed: bool) -> Self {
        if passed {
            Outcome::pass()
        } else {
            Outcome::fail("the check returned false")
        }
    }

    /// Adds `key` to the check's data (shown next to `status` in its JSON object).
    ///
    /// The keys `status`, `level` and, on a warning or failure, `message` are the outcome's own
    /// and win over data;
    /// a `time` in the data replaces the measured run time.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// Adds every key of `data` to the check's data. A JSON value that is not an object is
    /// kept under the key `value`.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        match data {
            Value::Object(map) => self.data.extend(map),
            Value::Null => {}
            other => {
                self.data.insert("value".to_owned(), other);
            }
        }
        self
    }

    /// Reports the check under `name` instead of its registered name.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether the check's status is `true`: it passed, or passed with a warning.
    pub fn passed(&self) -> bool {
        self.level.is_ok()
    }

    /// Pass, warn or fail (the engine also shows unknown).
    pub fn level(&self) -> Level {
        self.level
    }

    /// What went wrong, for a warning or a failure.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The data the check returned.
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// The name the check asked to be reported under, if it returned one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// What a readiness, liveliness or health check may return.
///
/// | returned | outcome |
/// |---|---|
/// | `bool` | passed when `true` |
/// | `()` | passed |
/// | [`Outcome`] | itself |
/// | `serde_json::Value` | passed; an object is the check's data, `true`/`false` is the status |
/// | `(bool, Value)` | that status and data |
/// | `(&str, bool, Value)` or `(String, bool, Value)` | reported under that name, status and data |
/// | `Result<T, E>` with `T: IntoOutcome`, `E: Display` | `Ok` as `T`; `Err` fails with the error's text |
///
/// The error's text is its alternate form (`{:#}`), which is its plain `Display` for most
/// errors and the whole cause chain for `anyhow::Error` ("reading the config: No such file or
/// directory", not only "reading the config").
///
/// ```
/// use heartbeat::{IntoOutcome, Outcome};
///
/// let failed: Result<bool, std::io::Error> = Err(std::io::Error::other("disk unplugged"));
/// assert_eq!(failed.into_outcome().message(), Some("disk unplugged"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a heartbeat check",
    label = "this return type is not `heartbeat::IntoOutcome`",
    note = "a check returns one of: `bool`, `()`, `heartbeat::Outcome`, `serde_json::Value`, \
            `(bool, serde_json::Value)`, `(&str, bool, serde_json::Value)`, \
            `(String, bool, serde_json::Value)`, or `Result<T, E>` where `T` is one of these \
            and `E: Display`"
)]
pub trait IntoOutcome {
    /// Converts the check's return value.
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

impl IntoOutcome for bool {
    fn into_outcome(self) -> Outcome {
        Outcome::from_status(self)
    }
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Outcome::pass()
    }
}

impl IntoOutcome for Value {
    fn into_outcome(self) -> Outcome {
        match self {
            Value::Bool(passed) => Outcome::from_status(passed),
            data => Outcome::pass().with_data(data),
        }
    }
}

impl IntoOutcome for (bool, Value) {
    fn into_outcome(self) -> Outcome {
        Outcome::from_status(self.0).with_data(self.1)
    }
}

impl IntoOutcome for (&str, bool, Value) {
    fn into_outcome(self) -> Outcome {
        (self.1, self.2).into_outcome().named(self.0)
    }
}

impl IntoOutcome for (String, bool, Value) {
    fn into_outcome(self) -> Outcome {
        (self.1, self.2).into_outcome().named(self.0)
    }
}

impl<T: IntoOutcome, E: Display> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(value) => value.into_outcome(),
            Err(error) => Outcome::fail(format!("{error:#}")),
        }
    }
}

/// What an environ probe may return: its keys are merged into the environ document.
///
/// | returned | contribution |
/// |---|---|
/// | `serde_json::Value` (an object) | its keys; status `true` |
/// | `(bool, Value)` | that status and those keys |
/// | `Result<T, E>` with `T: IntoEnviron`, `E: Display` | `Ok` as `T`; `Err` sets status `false` and reports the error under `errors` |
///
/// The error is written in its alternate form (`{:#}`), as for [`IntoOutcome`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a heartbeat environ probe",
    label = "this return type is not `heartbeat::IntoEnviron`",
    note = "an environ probe returns one of: `serde_json::Value` (an object), \
            `(bool, serde_json::Value)`, or `Result<T, E>` where `T` is one of these \
            and `E: Display`"
)]
pub trait IntoEnviron {
    /// Converts the probe's return value.
    fn into_environ(self) -> Outcome;
}

impl IntoEnviron for Value {
    fn into_environ(self) -> Outcome {
        Outcome::pass().with_data(self)
    }
}

impl IntoEnviron for (bool, Value) {
    fn into_environ(self) -> Outcome {
        let outcome = if self.0 {
            Outcome::pass()
        } else {
            Outcome::fail("the probe returned false")
        };
        outcome.with_data(self.1)
    }
}

impl<T: IntoEnviron, E: Display> IntoEnviron for Result<T, E> {
    fn into_environ(self) -> Outcome {
        match self {
            Ok(value) => value.into_environ(),
            Err(error) => Outcome::fail(format!("{error:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{IntoEnviron, IntoOutcome};
    use std::fmt;

    /// An error whose alternate form adds its cause, as `anyhow::Error`'s does.
    struct WithContext;

    impl fmt::Display for WithContext {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("reading the config")?;
            if f.alternate() {
                f.write_str(": No such file or directory")?;
            }
            Ok(())
        }
    }

    #[test]
    fn errors_are_written_with_their_cause_chain() {
        let chain = "reading the config: No such file or directory";
        let outcome = Err::<(), _>(WithContext).into_outcome();
        assert_eq!(outcome.message(), Some(chain));
        let environ = Err::<serde_json::Value, _>(WithContext).into_environ();
        assert_eq!(environ.message(), Some(chain));
    }
}
