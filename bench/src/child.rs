//! Child server processes (`heartbeat-bench serve KIND 0`, perhaps under valgrind), and
//! bounded runs of helper commands.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BenchResult;

/// A child server, killed and reaped on drop if it has not stopped by then.
pub(crate) struct ChildServer {
    child: Child,
    addr: SocketAddr,
}

impl ChildServer {
    /// Starts `heartbeat-bench serve KIND 0` and reads the address it prints.
    pub(crate) async fn start(kind: &str) -> BenchResult<ChildServer> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["serve", kind, "0"]).stderr(Stdio::inherit());
        Self::spawn(command, Duration::from_secs(10)).await
    }

    /// Spawns `command`, a server that prints `listening ADDR` on its stdout and stops when
    /// its stdin closes, and waits at most `patience` for that line.
    pub(crate) async fn spawn(
        mut command: Command,
        patience: Duration,
    ) -> BenchResult<ChildServer> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the child has no stdout")?;
        // From here on, dropping `server` kills the child, which also ends the read below.
        let mut server = ChildServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let read = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line = match tokio::time::timeout(patience, read).await {
            Ok(line) => line??,
            Err(_) => {
                return Err(format!(
                    "the child server did not say where it listens within {} s",
                    patience.as_secs()
                )
                .into());
            }
        };
        server.addr = line
            .trim()
            .strip_prefix("listening ")
            .ok_or_else(|| format!("the child server said {line:?}"))?
            .parse()?;
        Ok(server)
    }

    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the child listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the child's stdin, which stops it; waits up to `patience`, then kills it.
    pub(crate) async fn stop(mut self, patience: Duration) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `command` to its end, killing it after `limit`; its stdout when it succeeds.
/// Blocking: call it from `spawn_blocking`. Meant for commands with little output (a pipe's
/// buffer holds it while the command runs).
pub(crate) fn run_bounded(mut command: Command, limit: Duration) -> BenchResult<String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{command:?} did not finish within {} s", limit.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)?;
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut stderr)?;
    }
    if !status.success() {
        return Err(format!(
            "{command:?} failed ({status}): {} {}",
            stdout.trim(),
            stderr.trim()
        )
        .into());
    }
    Ok(stdout)
}

/// The soft limit on open files of this process (inherited by its children), from
/// `/proc/self/limits`; `None` when unknown or unlimited.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `program args…`, run through `sh` with its open-file limit raised to `files` first when
/// this process's limit is lower (safe Rust cannot call `setrlimit`; the shell's `ulimit`
/// can). When the hard limit forbids it, the command fails with the shell's message.
pub(crate) fn with_open_files(program: &std::ffi::OsStr, args: &[&str], files: u64) -> Command {
    match open_files_limit() {
        Some(limit) if limit < files => {
            let mut command = Command::new("sh");
            command
                .arg("-c")
                .arg("ulimit -n \"$0\" && exec \"$@\"")
                .arg(files.to_string())
                .arg(program)
                .args(args);
            command
        }
        _ => {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
    }
}
