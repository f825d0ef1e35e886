//! Section 9, fan-out (issue 15): the cost of one status change sent to [`STREAMS`] open live
//! streams (`?watch`), in CPU instructions under callgrind and in wall time.
//!
//! The child (`heartbeat-bench serve fanout 0`) serves readiness with one check, `flip`, never
//! cached, whose result `/f/toggle` turns over: a change is a toggle then a probe of
//! `/f/readiness`, which runs `flip` and changes its level, and every stream of
//! `/f/readiness?watch` then sends the document again.
//! The bench holds the streams' connections itself and, after each probe, waits until every
//! stream has sent its event. A change costs the probe plus the fan-out: the same probes with
//! no stream open are counted too, and the difference is the fan-out's.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use heartbeat::Check;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::child::{ChildServer, open_files_limit, with_open_files};
use crate::instructions::{Scratch, child, valgrind};
use crate::load::{open_files_for, read_response};
use crate::serve::bare;
use crate::{BenchResult, Met, Row, thousands};

/// Open streams a change is sent to.
pub(crate) const STREAMS: usize = 1_000;
/// The probe that runs `flip`, and the plain handler that turns its result over first.
const PROBE: &str = "/f/readiness";
const TOGGLE: &str = "/f/toggle";
/// Changes measured, after [`WARM_UP`] not measured.
const CHANGES: u64 = 20;
const WARM_UP: u64 = 4;
/// How long a change may take to reach every stream (under callgrind: tens of times slower).
const PATIENCE: Duration = Duration::from_secs(60);
/// How long the child may take to start and to stop.
const CHILD_START: Duration = Duration::from_secs(120);
const CHILD_STOP: Duration = Duration::from_secs(20);

/// The child's router: readiness with the `flip` check, cache off, which passes or fails as
/// [`TOGGLE`] last set it.
pub(crate) fn router() -> BenchResult<Router> {
    let up = Arc::new(AtomicBool::new(true));
    let read = Arc::clone(&up);
    let flip = Check::new_async("flip", move || {
        let up = read.load(Ordering::Relaxed);
        async move { up }
    })
    .cache(Duration::ZERO);
    let heartbeat: Router = bare()
        .readiness(flip)
        .well_known_prefix("/f")
        .health_prefix("/f/health")
        .try_into_router()?;
    let toggle = axum::routing::get(move || async move {
        up.fetch_xor(true, Ordering::Relaxed);
        "toggled"
    });
    Ok(heartbeat.route(TOGGLE, toggle))
}

/// Section 9: a change fanned out to [`STREAMS`] streams, in instructions and in wall time.
pub(crate) async fn fanout() -> BenchResult<Vec<Row>> {
    let files = open_files_for(STREAMS);
    if let Some(limit) = open_files_limit().filter(|&limit| limit < files) {
        return Err(format!(
            "the bench holds {STREAMS} stream connections itself, and its open-file limit is \
             {limit}: run `ulimit -n {files}` first"
        )
        .into());
    }
    let wall = wall_time(files).await?;
    let what = format!(
        "fan-out: one change of readiness's level (a probe runs its one check) sent to {} \
         open `?watch` streams",
        thousands(STREAMS as u64)
    );
    let mut rows = vec![Row::new(
        format!(
            "{what}: wall time from the probe until every stream has the event (median of {CHANGES}; `serve fanout` child)"
        ),
        format!("{:.1} ms", wall.with_streams.as_secs_f64() * 1e3),
        format!(
            "{:.2} ms (the same probe, no stream open)",
            wall.without.as_secs_f64() * 1e3
        ),
        "—".to_owned(),
        Met::Info,
    )];
    match valgrind() {
        Err(why) => rows.push(Row::new(
            format!("{what}: instructions"),
            format!("not measured: {why} (`apt-get install -y valgrind`)"),
            "—".to_owned(),
            "—".to_owned(),
            Met::NotMeasured,
        )),
        Ok(_) => {
            let counted = instructions(files).await?;
            let fanned = counted.with_streams - counted.without;
            rows.push(Row::new(
                format!(
                    "{what}: instructions per change (callgrind, one worker thread; the plain column: the same probe with no stream open)"
                ),
                format!(
                    "{} ({} per stream)",
                    thousands(counted.with_streams as u64),
                    thousands((fanned / STREAMS as f64) as u64)
                ),
                thousands(counted.without as u64),
                "—".to_owned(),
                Met::Info,
            ));
        }
    }
    Ok(rows)
}

/// A figure with the streams open and the same without any.
struct Pair<T> {
    with_streams: T,
    without: T,
}

/// The median time from a probe to the last stream's event, with and without streams.
async fn wall_time(files: u64) -> BenchResult<Pair<Duration>> {
    let exe = std::env::current_exe()?;
    let mut command = with_open_files(exe.as_os_str(), &["serve", "fanout", "0"], files);
    command.stderr(Stdio::inherit());
    let server = ChildServer::spawn(command, CHILD_START).await?;
    let addr = server.addr();
    let mut probe = Probe::open(addr).await?;
    for _ in 0..WARM_UP {
        probe.send().await?;
    }
    let mut without = Vec::new();
    for _ in 0..CHANGES {
        let start = Instant::now();
        probe.send().await?;
        without.push(start.elapsed());
    }
    let streams = Streams::open(addr, STREAMS).await?;
    let mut with_streams = Vec::new();
    for _ in 0..WARM_UP {
        streams.change(&mut probe).await?;
    }
    for _ in 0..CHANGES {
        let start = Instant::now();
        streams.change(&mut probe).await?;
        with_streams.push(start.elapsed());
    }
    drop(streams);
    server.stop(CHILD_STOP).await;
    Ok(Pair {
        with_streams: median(with_streams),
        without: median(without),
    })
}

/// Instructions per change under callgrind, with the streams open and without.
async fn instructions(files: u64) -> BenchResult<Pair<f64>> {
    let scratch = Scratch::new()?;
    let (server, mut callgrind, _log) = child(&scratch, "fanout", Some(files)).await?;
    let addr = server.addr();
    let mut probe = Probe::open(addr).await?;
    for _ in 0..WARM_UP {
        probe.send().await?;
    }
    callgrind.zero().await?;
    for _ in 0..CHANGES {
        probe.send().await?;
    }
    let without = callgrind.dump().await? as f64 / CHANGES as f64;
    let streams = Streams::open(addr, STREAMS).await?;
    for _ in 0..WARM_UP {
        streams.change(&mut probe).await?;
    }
    callgrind.zero().await?;
    for _ in 0..CHANGES {
        streams.change(&mut probe).await?;
    }
    let with_streams = callgrind.dump().await? as f64 / CHANGES as f64;
    drop(streams);
    server.stop(CHILD_STOP).await;
    Ok(Pair {
        with_streams,
        without,
    })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// The keep-alive connection that sends the probes.
struct Probe {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Probe {
    async fn open(addr: SocketAddr) -> BenchResult<Probe> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Probe {
            stream,
            buffer: Vec::with_capacity(4096),
        })
    }

    /// One change: `flip`'s result turned over, then a probe that runs it.
    async fn send(&mut self) -> BenchResult<()> {
        for (path, expected) in [(TOGGLE, [200, 200]), (PROBE, [200, 500])] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            let exchange = async {
                self.stream.write_all(request.as_bytes()).await?;
                read_response(&mut self.stream, &mut self.buffer).await
            };
            let status = tokio::time::timeout(PATIENCE, exchange).await??;
            if !expected.contains(&status) {
                return Err(format!("GET {path} answered {status}").into());
            }
        }
        Ok(())
    }
}

/// Open streams, each read by a task that counts its events.
struct Streams {
    /// Each stream's count of events, the first document included.
    counts: Vec<watch::Receiver<u64>>,
    /// The count every stream reaches after the last change.
    expected: AtomicU64,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Streams {
    /// Opens `n` streams and waits for each one's first document.
    async fn open(addr: SocketAddr, n: usize) -> BenchResult<Streams> {
        let mut counts = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let mut stream = TcpStream::connect(addr).await?;
            let request = format!("GET {PROBE}?watch HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            stream.write_all(request.as_bytes()).await?;
            let (count, receiver) = watch::channel(0);
            tasks.push(tokio::spawn(read_events(stream, count)));
            counts.push(receiver);
        }
        let streams = Streams {
            counts,
            expected: AtomicU64::new(1),
            tasks,
        };
        streams.reached(1).await?;
        Ok(streams)
    }

    /// Sends a probe and waits until every stream has one more event.
    async fn change(&self, probe: &mut Probe) -> BenchResult<()> {
        let next = self.expected.fetch_add(1, Ordering::Relaxed) + 1;
        probe.send().await?;
        self.reached(next).await
    }

    /// Waits until every stream counted `events`.
    async fn reached(&self, events: u64) -> BenchResult<()> {
        let all = async {
            for count in &self.counts {
                let mut count = count.clone();
                if count.wait_for(|&n| n >= events).await.is_err() {
                    return Err("a stream ended");
                }
            }
            Ok(())
        };
        match tokio::time::timeout(PATIENCE, all).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(format!(
                "not every stream had event {events} within {} s",
                PATIENCE.as_secs()
            )
            .into()),
        }
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Counts a stream's events (each ends with a blank line; keep-alive comments are not
/// counted) until it ends.
async fn read_events(mut stream: TcpStream, count: watch::Sender<u64>) {
    let mut buffer = vec![0u8; 8192];
    let mut text = Vec::new();
    loop {
        let n = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        text.extend_from_slice(&buffer[..n]);
        while let Some(end) = text.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = text.drain(..end + 2).collect();
            if event.windows(6).any(|w| w == b"data: ") {
                count.send_modify(|n| *n += 1);
            }
        }
    }
}
