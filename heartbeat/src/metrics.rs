//! The metrics of SPEC §13: every served check's one state as Prometheus series, written by
//! hand in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0 (no dependency), read at
//! scrape time from the checks' states and run counts: a scrape never runs a check.
//!
//! A scrape reads each check once ([`crate::engine::Monitor::reading`]: a borrow of its watch
//! channel, no run, no wait), then writes the families in a fixed order, the checks in each
//! sorted by kind, then name. The label text of each check is escaped once, when the router is
//! built ([`Series::new`]).

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use tokio::time::Instant;

use crate::engine::{BUCKETS, Monitor, State, Tally};
use crate::outcome::Level;

/// The bounds of [`BUCKETS`] as `le` label values, in the canonical float form that
/// OpenMetrics asks for (`1.0`, not `1`).
const LE: [&str; BUCKETS.len()] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
];

/// The four levels, in the order their series are written.
const LEVELS: [Level; 4] = [Level::Pass, Level::Warn, Level::Fail, Level::Unknown];

/// `result` label values of `heartbeat_check_runs_total`, in [`Tally::results`]'s order.
const RESULTS: [&str; 3] = ["pass", "warn", "fail"];

/// Each family's `# HELP` text.
const HELP_UP: &str =
    "Whether the check is up: 1 when its level is pass or warn, 0 when fail or unknown.";
const HELP_LEVEL: &str =
    "The check's level: 1 for the current one (pass, warn, fail or unknown), 0 for the others.";
const HELP_DURATION: &str = "How long the check's runs took (a run that timed out: its timeout).";
const HELP_RUNS: &str = "The check's runs by what they returned: pass, warn or fail (a timeout or a panic is fail), before failure_threshold, success_threshold and critical = false apply.";
const HELP_LAST_SUCCESS: &str = "When the check's last passing (or warning) run started, in seconds since the Unix epoch; 0 if none did.";
const HELP_BUILD: &str =
    "The build: heartbeat's version, the Rust compiler's version and the cargo profile; always 1.";

/// The exposition format of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of an answer in this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it lists
    /// `application/openmetrics-text` with a weight above zero and at least the weight of every
    /// other type it lists; else the Prometheus text format (also for no header, or one that
    /// cannot be read).
    pub(crate) fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut openmetrics: Option<f32> = None;
        let mut others: f32 = 0.0;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if media.eq_ignore_ascii_case("application/openmetrics-text") {
                openmetrics = Some(openmetrics.map_or(weight, |w| w.max(weight)));
            } else {
                others = others.max(weight);
            }
        }
        match openmetrics {
            Some(weight) if weight > 0.0 && weight >= others => Format::OpenMetrics,
            _ => Format::Text,
        }
    }
}

/// A router's metrics, for the application's own `/metrics`: give it to the builder with
/// [`Heartbeat::metrics`](crate::Heartbeat::metrics), and it reads that router's checks at
/// every scrape (never a copy, never a run). With the `prometheus-client` feature it is a
/// [`prometheus_client::collector::Collector`]: register it into your
/// `prometheus_client::registry::Registry` and one `/metrics` serves both.
///
/// Until the router is built it has no series. One handle serves one router: giving it to a
/// second one is a [`ConfigError`](crate::ConfigError).
///
/// ```
/// let metrics = heartbeat::Metrics::new();
/// let app: axum::Router = heartbeat::Heartbeat::new()
/// #   .filter(|_| false) // rustdoc merges doctests: another one registers a "config"
///     .no_health_secret()
///     .readiness(heartbeat::Check::new("config", || true))
///     .metrics(&metrics)
///     .into_router();
/// // In your own handler: the same series as `.metrics_path(…)` serves.
/// let text = metrics.text();
/// assert!(text.contains(r#"heartbeat_check_up{kind="readiness",name="config"} 0"#));
/// assert!(metrics.openmetrics().ends_with("# EOF\n"));
/// ```
#[derive(Clone, Default)]
pub struct Metrics {
    series: Arc<OnceLock<Arc<Series>>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checks = self.series.get().map(|s| s.monitors.len());
        f.debug_struct("Metrics").field("checks", &checks).finish()
    }
}

impl Metrics {
    /// A handle with no series until a router is built with it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every series in the Prometheus text format 0.0.4
    /// (`Content-Type: text/plain; version=0.0.4; charset=utf-8`). Empty before the router is
    /// built.
    pub fn text(&self) -> String {
        self.series
            .get()
            .map(|s| String::from_utf8_lossy(&s.render(Format::Text)).into_owned())
            .unwrap_or_default()
    }

    /// Every series in OpenMetrics text 1.0.0, ending with `# EOF`
    /// (`Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8`).
    pub fn openmetrics(&self) -> String {
        match self.series.get() {
            Some(series) => {
                String::from_utf8_lossy(&series.render(Format::OpenMetrics)).into_owned()
            }
            None => "# EOF\n".to_owned(),
        }
    }

    /// Whether a router was already built with this handle.
    pub(crate) fn is_attached(&self) -> bool {
        self.series.get().is_some()
    }

    /// Gives the handle its router's series (once: the first router built keeps it).
    pub(crate) fn attach(&self, series: &Arc<Series>) {
        let _ = self.series.set(Arc::clone(series));
    }
}

/// The checks of one router, as metrics: each with its labels, escaped once.
pub(crate) struct Series {
    monitors: Vec<Arc<Monitor>>,
    /// `kind="…",name="…"` of each check, in the same order.
    labels: Vec<String>,
    /// What the last scrape wrote.
    written: Mutex<Scraped>,
}

/// What the last scrape wrote: each check's sample lines (in the order of the checks), and the
/// whole body, given again while no check changed.
struct Scraped {
    checks: Vec<Written>,
    body: Option<(Format, Bytes)>,
}

impl Reading {
    /// What `state` (`None`: not run yet) and `tally`, read at `now` (`wall` on the system
    /// clock), show.
    fn of(state: Option<&State>, tally: Tally, now: Instant, wall: SystemTime) -> Reading {
        let last_success = state
            .and_then(|s| s.last_success)
            .and_then(|at| wall.checked_sub(now.saturating_duration_since(at)))
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        Reading {
            level: level(state),
            last_success,
            tally,
        }
    }
}

/// What a scrape reads of one check.
pub(crate) struct Reading {
    /// The level a request would read now; unknown for a check no request has run yet.
    pub(crate) level: Level,
    /// When its last passing or warning run started, in seconds since the Unix epoch; 0 if
    /// none did.
    pub(crate) last_success: f64,
    pub(crate) tally: Tally,
}

impl Series {
    /// The series of `monitors`, given sorted by kind, then name.
    pub(crate) fn new<'a>(monitors: impl Iterator<Item = &'a Arc<Monitor>>) -> Self {
        let monitors: Vec<Arc<Monitor>> = monitors.cloned().collect();
        let labels = monitors
            .iter()
            .map(|m| {
                let mut labels = format!("kind=\"{}\",name=\"", m.info.kind.as_str());
                escape(&mut labels, m.info.name());
                labels.push('"');
                labels
            })
            .collect();
        let written = Mutex::new(Scraped {
            checks: monitors.iter().map(|_| Written::default()).collect(),
            body: None,
        });
        Series {
            monitors,
            labels,
            written,
        }
    }

    /// Every check, read now, in order.
    #[cfg(feature = "prometheus-client")]
    pub(crate) fn read(&self) -> Vec<Reading> {
        let now = Instant::now();
        let wall = SystemTime::now();
        self.monitors
            .iter()
            .map(|monitor| {
                let (state, tally) = monitor.reading(now);
                Reading::of(state.as_deref(), tally, now, wall)
            })
            .collect()
    }

    /// The checks' kinds and names, in order.
    #[cfg(feature = "prometheus-client")]
    pub(crate) fn checks(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.monitors
            .iter()
            .map(|m| (m.info.kind.as_str(), m.info.name()))
    }

    /// Every series, in `format`, read now. Each check's sample lines are written once per
    /// state it reaches, kept ([`Written`]), and copied into every scrape while it keeps that
    /// state; while no check changed, the last body is given again (shared, not copied).
    pub(crate) fn render(&self, format: Format) -> Bytes {
        let now = Instant::now();
        let wall = SystemTime::now();
        let mut scraped = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let Scraped { checks, body } = &mut *scraped;
        let mut changed = false;
        for ((monitor, labels), kept) in self
            .monitors
            .iter()
            .zip(self.labels.iter())
            .zip(checks.iter_mut())
        {
            let (state, tally) = monitor.reading(now);
            let same = match (&kept.from, &state) {
                (Some((Some(was), runs)), Some(state)) => {
                    Arc::ptr_eq(was, state) && *runs == tally.runs()
                }
                (Some((None, runs)), None) => *runs == tally.runs(),
                _ => false,
            };
            if !same {
                let runs = tally.runs();
                let reading = Reading::of(state.as_deref(), tally, now, wall);
                kept.write(labels, &reading);
                kept.from = Some((state, runs));
                changed = true;
            }
        }
        match body {
            Some((was, body)) if !changed && *was == format => return body.clone(),
            _ => {}
        }
        let samples: usize = checks
            .iter()
            .map(|w| w.lines.iter().map(String::len).sum::<usize>())
            .sum();
        let mut out = String::with_capacity(2048 + samples);
        let families = [
            ("heartbeat_check_up", "gauge", HELP_UP),
            ("heartbeat_check_level", "gauge", HELP_LEVEL),
            (
                "heartbeat_check_duration_seconds",
                "histogram",
                HELP_DURATION,
            ),
            ("heartbeat_check_runs_total", "counter", HELP_RUNS),
            (
                "heartbeat_check_last_success_timestamp_seconds",
                "gauge",
                HELP_LAST_SUCCESS,
            ),
        ];
        for (i, (name, kind, help)) in families.into_iter().enumerate() {
            family(&mut out, format, name, kind, help);
            for kept in checks.iter() {
                out.push_str(&kept.lines[i]);
            }
        }
        build_info(&mut out, format);
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        let out = Bytes::from(out);
        *body = Some((format, out.clone()));
        out
    }
}

/// One check's sample lines as last written, one string per family (in [`Series::render`]'s
/// order); the same in both formats. Kept with what they were written from: the state (held,
/// so its address is not reused while compared) and the number of runs.
#[derive(Default)]
struct Written {
    from: Option<(Option<Arc<State>>, u64)>,
    lines: [String; 5],
}

impl Written {
    /// Writes the lines with `push_str` and `itoa`/`zmij` rather than `write!`: a scrape after
    /// every check changed writes some 2,300 lines for 100 checks, and `core::fmt` made that
    /// cost 14,000 instructions per check.
    fn write(&mut self, labels: &str, reading: &Reading) {
        for lines in &mut self.lines {
            lines.clear();
        }
        let [up, levels, durations, runs, last] = &mut self.lines;
        let value = if reading.level.is_ok() { "1" } else { "0" };
        sample(up, "heartbeat_check_up", labels, "", value);

        for each in LEVELS {
            let extra = match each {
                Level::Pass => ",level=\"pass\"",
                Level::Warn => ",level=\"warn\"",
                Level::Fail => ",level=\"fail\"",
                Level::Unknown => ",level=\"unknown\"",
            };
            let value = if each == reading.level { "1" } else { "0" };
            sample(levels, "heartbeat_check_level", labels, extra, value);
        }

        let tally = &reading.tally;
        let mut digits = itoa::Buffer::new();
        let mut cumulative = 0;
        for (le, count) in LE.iter().zip(tally.buckets.iter()) {
            cumulative += count;
            bucket(durations, labels, le, digits.format(cumulative));
        }
        let count = tally.runs();
        bucket(durations, labels, "+Inf", digits.format(count));
        sample_start(
            durations,
            "heartbeat_check_duration_seconds_sum",
            labels,
            "",
        );
        float(durations, tally.total.as_secs_f64());
        durations.push('\n');
        let name = "heartbeat_check_duration_seconds_count";
        sample(durations, name, labels, "", digits.format(count));

        for (result, count) in RESULTS.iter().zip(tally.results.iter()) {
            let name = "heartbeat_check_runs_total";
            sample_start(runs, name, labels, ",result=\"");
            runs.push_str(result);
            runs.push_str("\"} ");
            runs.push_str(digits.format(*count));
            runs.push('\n');
        }

        let name = "heartbeat_check_last_success_timestamp_seconds";
        sample_start(last, name, labels, "");
        float(last, reading.last_success);
        last.push('\n');
    }
}

/// One `heartbeat_check_duration_seconds_bucket` line.
fn bucket(out: &mut String, labels: &str, le: &str, value: &str) {
    sample_start(
        out,
        "heartbeat_check_duration_seconds_bucket",
        labels,
        ",le=\"",
    );
    out.push_str(le);
    out.push_str("\"} ");
    out.push_str(value);
    out.push('\n');
}

/// `heartbeat_build_info`: heartbeat's version, the compiler's, and the cargo profile the
/// binary was built with (the facts the environ endpoint also shows).
fn build_info(out: &mut String, format: Format) {
    let kind = match format {
        Format::Text => "gauge",
        Format::OpenMetrics => "info",
    };
    family(out, format, "heartbeat_build_info", kind, HELP_BUILD);
    out.push_str("heartbeat_build_info{version=\"");
    escape(out, env!("CARGO_PKG_VERSION"));
    out.push_str("\",rustc=\"");
    escape(out, env!("HEARTBEAT_RUSTC_VERSION"));
    out.push_str("\",profile=\"");
    escape(out, env!("HEARTBEAT_PROFILE"));
    out.push_str("\"} 1\n");
}

/// What a check that no request has run yet shows: unknown, as a background check before its
/// first run ends.
fn level(state: Option<&State>) -> Level {
    state.map_or(Level::Unknown, |s| s.outcome.level())
}

/// A family's `# HELP` and `# TYPE` lines. OpenMetrics names a counter's and an info's
/// family without their sample's suffix (`_total`, `_info`).
fn family(out: &mut String, format: Format, name: &str, kind: &str, help: &str) {
    let name = match (format, kind) {
        (Format::OpenMetrics, "counter") => name.strip_suffix("_total").unwrap_or(name),
        (Format::OpenMetrics, "info") => name.strip_suffix("_info").unwrap_or(name),
        _ => name,
    };
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, extra: &str, value: &str) {
    sample_start(out, name, labels, extra);
    out.push_str(value);
    out.push('\n');
}

/// A sample's name and labels up to its value: `name{labels extra} `; an `extra` that opens a
/// label's value (`,le="`) is left open for the caller to finish.
fn sample_start(out: &mut String, name: &str, labels: &str, extra: &str) {
    out.push_str(name);
    out.push('{');
    out.push_str(labels);
    out.push_str(extra);
    if !extra.ends_with("=\"") {
        out.push_str("} ");
    }
}

/// A float as both formats read it: `0`, `1.5`, `1763793420.123` (the shortest text that
/// reads back as the same value).
fn float(out: &mut String, value: f64) {
    if value == 0.0 {
        out.push('0');
    } else if value.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(value));
    } else if value.is_nan() {
        out.push_str("NaN");
    } else if value > 0.0 {
        out.push_str("+Inf");
    } else {
        out.push_str("-Inf");
    }
}

/// Escapes a label value: `\`, `"` and a line feed (both formats' rule).
fn escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(feature = "prometheus-client")]
mod collector {
    use prometheus_client::collector::Collector;
    use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
    use prometheus_client::metrics::MetricType;

    use super::*;

    /// The same series as the endpoint, read at each scrape of the application's registry
    /// (under its prefix, if it is a sub-registry with one).
    impl Collector for Metrics {
        fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
            let Some(series) = self.series.get() else {
                return Ok(());
            };
            let readings = series.read();
            let checks = || series.checks().zip(readings.iter());

            let mut up = encoder.encode_descriptor(
                "heartbeat_check_up",
                HELP_UP,
                None,
                MetricType::Gauge,
            )?;
            for ((kind, name), reading) in checks() {
                let labels = [("kind", kind), ("name", name)];
                let value = i64::from(reading.level.is_ok());
                up.encode_family(&labels)?.encode_gauge(&value)?;
            }

            let mut levels = encoder.encode_descriptor(
                "heartbeat_check_level",
                HELP_LEVEL,
                None,
                MetricType::Gauge,
            )?;
            for ((kind, name), reading) in checks() {
                for level in LEVELS {
                    let labels = [("kind", kind), ("name", name), ("level", level.as_str())];
                    let value = i64::from(level == reading.level);
                    levels.encode_family(&labels)?.encode_gauge(&value)?;
                }
            }

            let mut durations = encoder.encode_descriptor(
                "heartbeat_check_duration_seconds",
                HELP_DURATION,
                None,
                MetricType::Histogram,
            )?;
            for ((kind, name), reading) in checks() {
                let labels = [("kind", kind), ("name", name)];
                let tally = &reading.tally;
                // The encoder adds the counts up, and writes an infinite bound as `+Inf`.
                let buckets: Vec<(f64, u64)> = BUCKETS
                    .iter()
                    .copied()
                    .chain(std::iter::once(f64::INFINITY))
                    .zip(tally.buckets.iter().copied())
                    .collect();
                durations
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        tally.total.as_secs_f64(),
                        tally.runs(),
                        &buckets,
                        None,
                    )?;
            }

            // A counter's family is named without `_total`: the encoder adds it.
            let mut runs = encoder.encode_descriptor(
                "heartbeat_check_runs",
                HELP_RUNS,
                None,
                MetricType::Counter,
            )?;
            for ((kind, name), reading) in checks() {
                for (result, count) in RESULTS.iter().zip(reading.tally.results.iter()) {
                    let labels = [("kind", kind), ("name", name), ("result", *result)];
                    runs.encode_family(&labels)?
                        .encode_counter::<NoLabelSet, u64, f64>(count, None)?;
                }
            }

            let mut last = encoder.encode_descriptor(
                "heartbeat_check_last_success_timestamp_seconds",
                HELP_LAST_SUCCESS,
                None,
                MetricType::Gauge,
            )?;
            for ((kind, name), reading) in checks() {
                let labels = [("kind", kind), ("name", name)];
                last.encode_family(&labels)?
                    .encode_gauge(&reading.last_success)?;
            }

            // An info's family is named without `_info`: the encoder adds it.
            let mut build =
                encoder.encode_descriptor("heartbeat_build", HELP_BUILD, None, MetricType::Info)?;
            build.encode_info(&[
                ("version", env!("CARGO_PKG_VERSION")),
                ("rustc", env!("HEARTBEAT_RUSTC_VERSION")),
                ("profile", env!("HEARTBEAT_PROFILE")),
            ])?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_is_chosen_only_when_asked_for_first() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;q=1, application/openmetrics-text;q=0.5")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("Application/OpenMetrics-Text; version=1.0.0")),
            Format::OpenMetrics
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        escape(&mut out, "a\"b\\c\nd");
        assert_eq!(out, "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn the_le_labels_are_the_buckets() {
        for (le, bound) in LE.iter().zip(BUCKETS) {
            assert_eq!(le.parse::<f64>().ok(), Some(bound));
            assert_eq!(*le, format!("{bound:?}"));
        }
    }
}
