//! Load generators: `wrk` when it is installed, else a small HTTP/1.1 keep-alive client.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::BenchResult;
use crate::child::with_open_files;

/// The open files a process needs for `connections` sockets, with room for the rest.
pub(crate) fn open_files_for(connections: usize) -> u64 {
    u64::try_from(connections)
        .unwrap_or(u64::MAX)
        .saturating_add(256)
}

/// Where a load generator sends its GETs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    /// The server's loopback address.
    pub(crate) addr: SocketAddr,
    /// The path requested.
    pub(crate) path: &'static str,
}

/// What one load run measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    /// Responses received.
    pub(crate) requests: u64,
    /// Responses per second.
    pub(crate) rate: f64,
    /// Responses whose status was not 2xx or 3xx.
    pub(crate) non_2xx: u64,
    /// Connect, read, write and timeout errors.
    pub(crate) errors: u64,
    /// The median latency as the generator printed it, when it did.
    pub(crate) p50: Option<String>,
    /// The 99th percentile latency as the generator printed it, when it did.
    pub(crate) p99: Option<String>,
}

impl Load {
    /// Whether every request got a 2xx or 3xx answer.
    pub(crate) fn clean(&self) -> bool {
        self.non_2xx == 0 && self.errors == 0 && self.requests > 0
    }
}

/// The load generator of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loader {
    /// `wrk`, from Debian's `wrk` package.
    Wrk,
    /// Tasks of this process, each with one keep-alive connection; used when wrk is missing.
    BuiltIn,
}

impl Loader {
    /// `wrk` when it can be started, else the built-in client.
    pub(crate) fn detect() -> Loader {
        match Command::new("wrk").arg("--version").output() {
            Ok(_) => Loader::Wrk,
            Err(_) => Loader::BuiltIn,
        }
    }

    /// How the table names this generator.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Loader::Wrk => "wrk",
            Loader::BuiltIn => "built-in client",
        }
    }

    /// Loads `target` with `connections` keep-alive connections for `duration`.
    pub(crate) async fn run(
        self,
        target: Target,
        threads: usize,
        connections: usize,
        duration: Duration,
    ) -> BenchResult<Load> {
        match self {
            Loader::Wrk => {
                tokio::task::spawn_blocking(move || wrk(target, threads, connections, duration))
                    .await?
            }
            Loader::BuiltIn => Ok(built_in(target, connections, duration).await),
        }
    }
}

/// Runs wrk to completion and reads its summary.
fn wrk(
    target: Target,
    threads: usize,
    connections: usize,
    duration: Duration,
) -> BenchResult<Load> {
    let url = format!("http://{}{}", target.addr, target.path);
    let args = [
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{}s", duration.as_secs().max(1)),
        "--latency".to_owned(),
        url.clone(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = with_open_files(OsStr::new("wrk"), &args, open_files_for(connections))
        .stdin(Stdio::null())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk {url} failed ({}): {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let load = parse_wrk(&stdout);
    if load.requests == 0 {
        return Err(format!("wrk printed no request count:\n{stdout}").into());
    }
    Ok(load)
}

/// Reads the summary wrk prints: requests, requests/sec, non-2xx, socket errors, median.
fn parse_wrk(out: &str) -> Load {
    let number = |word: &str| -> u64 {
        word.trim_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(0)
    };
    let mut load = Load::default();
    for line in out.lines().map(str::trim) {
        if line.contains(" requests in ") {
            load.requests = line.split_whitespace().next().map_or(0, number);
        } else if let Some(rate) = line.strip_prefix("Requests/sec:") {
            load.rate = rate.trim().parse().unwrap_or(0.0);
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.non_2xx = number(count.trim());
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            load.errors = errors.split(',').map(number).sum();
        } else if let Some(p50) = line.strip_prefix("50%") {
            load.p50 = Some(p50.trim().to_owned());
        } else if let Some(p99) = line.strip_prefix("99%") {
            load.p99 = Some(p99.trim().to_owned());
        }
    }
    load
}

/// `connections` tasks, each sending GETs one after another on its own connection.
async fn built_in(target: Target, connections: usize, duration: Duration) -> Load {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(client(target, deadline)))
        .collect();
    let mut load = Load::default();
    for task in tasks {
        match task.await {
            Ok(one) => {
                load.requests += one.requests;
                load.non_2xx += one.non_2xx;
                load.errors += one.errors;
            }
            Err(_) => load.errors += 1,
        }
    }
    load.rate = load.requests as f64 / started.elapsed().as_secs_f64();
    load
}

/// One keep-alive connection until `deadline`.
async fn client(target: Target, deadline: Instant) -> Load {
    const PATIENCE: Duration = Duration::from_secs(5);
    let mut load = Load::default();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        target.path, target.addr
    );
    let Ok(Ok(mut stream)) = tokio::time::timeout(PATIENCE, TcpStream::connect(target.addr)).await
    else {
        load.errors += 1;
        return load;
    };
    let mut buffer = Vec::with_capacity(8192);
    while Instant::now() < deadline {
        let exchange = async {
            stream.write_all(request.as_bytes()).await?;
            read_response(&mut stream, &mut buffer).await
        };
        match tokio::time::timeout(PATIENCE, exchange).await {
            Ok(Ok(status)) => {
                load.requests += 1;
                if !(200..400).contains(&status) {
                    load.non_2xx += 1;
                }
            }
            _ => {
                load.errors += 1;
                break;
            }
        }
    }
    load
}

/// Reads one response with a `Content-Length` body; returns its status.
pub(crate) async fn read_response(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    buffer.clear();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(bad("connection closed"));
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or_else(|| bad("no content-length"))?;
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(bad("connection closed in the body"));
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::parse_wrk;

    #[test]
    fn reads_the_wrk_summary() {
        let out = "Running 3s test @ http://127.0.0.1:1/\n  2 threads and 32 connections\n  Latency Distribution\n     50%  451.00us\n     75%  1.00ms\n  123456 requests in 3.00s, 20.00MB read\n  Non-2xx or 3xx responses: 7\n  Socket errors: connect 0, read 2, write 0, timeout 1\nRequests/sec:  41152.00\nTransfer/sec:      6.67MB\n";
        let load = parse_wrk(out);
        assert_eq!(load.requests, 123_456);
        assert_eq!(load.non_2xx, 7);
        assert_eq!(load.errors, 3);
        assert_eq!(load.p50.as_deref(), Some("451.00us"));
        assert!((load.rate - 41_152.0).abs() < 1e-6);
    }
}
