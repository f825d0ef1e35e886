//! [`Disk`]: the file system holding a path has enough free space.

use std::path::PathBuf;

use crate::builder::Check;
use crate::checks::message::describe;
use crate::outcome::Outcome;

/// The file system that holds a path has at least so many bytes, or so much of its size, free
/// for unprivileged users (space reserved for root does not count).
///
/// Passes with `path`, `available_bytes`, `total_bytes` and `available_percent`; fails with
/// "free space at /var/lib/app: 512.0 MiB available (3.1% of 16.0 GiB), below the minimum of
/// 1.0 GiB", or when the path's file system cannot be read. Without a minimum it only reports.
/// It is a sync check: it runs on one of heartbeat's own threads, bounded by the router's
/// timeout; a hung file system holds that one thread, and the check is not started again
/// until it returns.
///
/// ```
/// use heartbeat::{Heartbeat, checks::Disk};
///
/// let app: axum::Router = Heartbeat::new()
///     .no_health_secret()
///     .health_check(Disk::new("/var/tmp").min_free_bytes(1 << 30).min_free_percent(5.0).check("scratch"))
///     .into_router();
/// ```
///
/// Inside an annotated function:
///
/// ```standalone_crate
/// #[heartbeat::liveliness_probe]
/// fn disk() -> heartbeat::Outcome {
///     heartbeat::checks::Disk::new("/").min_free_percent(2.0).run()
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Disk {
    path: PathBuf,
    min_free_bytes: Option<u64>,
    min_free_percent: Option<f64>,
}

impl Disk {
    /// Looks at the file system that holds `path` (a file or a directory, which must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Disk {
            path: path.into(),
            min_free_bytes: None,
            min_free_percent: None,
        }
    }

    /// Fails when fewer than `bytes` are available.
    pub fn min_free_bytes(mut self, bytes: u64) -> Self {
        self.min_free_bytes = Some(bytes);
        self
    }

    /// Fails when less than `percent` (0 to 100) of the file system's size is available.
    pub fn min_free_percent(mut self, percent: f64) -> Self {
        self.min_free_percent = Some(percent);
        self
    }

    /// Reads the file system's statistics once (a blocking call: call it from a sync check,
    /// or use [`Disk::check`]).
    pub fn run(&self) -> Outcome {
        let what = format!("free space at {}", self.path.display());
        let stats = match fs4::statvfs(&self.path) {
            Ok(stats) => stats,
            Err(error) => {
                return Outcome::fail(format!(
                    "{what}: cannot read the file system's statistics: {}",
                    describe(&error)
                ));
            }
        };
        let (available, total) = (stats.available_space(), stats.total_space());
        let percent = if total == 0 {
            0.0
        } else {
            available as f64 * 100.0 / total as f64
        };
        let mut short = Vec::new();
        if let Some(min) = self.min_free_bytes.filter(|&min| available < min) {
            short.push(bytes(min));
        }
        if let Some(min) = self.min_free_percent.filter(|&min| percent < min) {
            short.push(format!("{min}%"));
        }
        let outcome = if short.is_empty() {
            Outcome::pass()
        } else {
            let mut message = format!(
                "{what}: {} available ({percent:.1}% of {}), below the minimum of ",
                bytes(available),
                bytes(total)
            );
            message.push_str(&short.join(" and of "));
            Outcome::fail(message)
        };
        outcome
            .with("path", self.path.display().to_string())
            .with("available_bytes", available)
            .with("total_bytes", total)
            .with("available_percent", (percent * 100.0).round() / 100.0)
    }

    /// A check named `name` that runs this one, for [`Heartbeat`](crate::Heartbeat)'s builder.
    #[track_caller]
    pub fn check(self, name: impl Into<String>) -> Check {
        Check::new(name, move || self.run())
    }
}

/// A size for people: "512.0 MiB".
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1023), "1023 bytes");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
        assert_eq!(bytes(u64::MAX), "16384.0 PiB");
    }
}
