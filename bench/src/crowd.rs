//! Section 7, a crowd (issue 13, defect 9): readiness with 1,000 trivial sync checks, loaded
//! with 2,000 connections, in a child server whose peak RSS is read from `/proc`.

use std::process::Stdio;
use std::time::Duration;

use crate::child::{ChildServer, open_files_limit, with_open_files};
use crate::load::{Load, Loader, Target, open_files_for};
use crate::machine::peak_rss_kib;
use crate::serve::READINESS;
use crate::{BenchResult, Met, Row, thousands};

/// Trivial sync checks (`|| true`) on the child's readiness.
pub(crate) const CHECKS: usize = 1_000;
/// Connections of the load generator.
const CONNECTIONS: usize = 2_000;
const THREADS: usize = 2;
const DURATION: Duration = Duration::from_secs(10);
/// Issue 13's goal for the server's peak RSS: 64 MB (62,500 KiB, 61.0 MiB).
const PEAK_GOAL_KIB: u64 = 64_000_000 / 1024;
/// How long the child has to start, and to stop once its stdin closes.
const CHILD_START: Duration = Duration::from_secs(30);
const CHILD_STOP: Duration = Duration::from_secs(10);

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Section 7: the share of 200 answers and the peak RSS of readiness with [`CHECKS`] sync
/// checks under [`CONNECTIONS`] connections.
pub(crate) async fn crowd(loader: Loader) -> BenchResult<Vec<Row>> {
    let files = open_files_for(CONNECTIONS);
    if loader == Loader::BuiltIn
        && let Some(limit) = open_files_limit().filter(|&limit| limit < files)
    {
        return Err(format!(
            "the built-in client opens {CONNECTIONS} connections in this process, whose \
             open-file limit is {limit}: run `ulimit -n {files}` first, or install wrk"
        )
        .into());
    }
    let heartbeat = load_child("crowd", loader).await?;
    // The same bytes from a plain axum handler, under the same load: what hyper and axum cost
    // for 2,000 connections by themselves, so heartbeat's share is the difference.
    let plain = load_child("plain-crowd", loader).await?;
    // Both again served as `axum::serve(listener, router)`, which copies the router's route
    // table for every connection.
    let heartbeat_copied = load_child("crowd-copied", loader).await?;
    let plain_copied = load_child("plain-crowd-copied", loader).await?;
    let what = format!(
        "crowd: readiness with {} trivial sync checks (library defaults: cache 1 s, timeout \
         800 ms), `serve crowd` child, {} -t{THREADS} -c{CONNECTIONS} {} s",
        thousands(CHECKS as u64),
        loader.name(),
        DURATION.as_secs()
    );
    let mut rows = Vec::new();
    for (served, heartbeat, plain, goal) in [
        (
            "served with `into_make_service()`",
            &heartbeat,
            &plain,
            true,
        ),
        (
            "served as `axum::serve(listener, router)`, the route table copied per connection",
            &heartbeat_copied,
            &plain_copied,
            false,
        ),
    ] {
        rows.push(Row::new(
            format!("{what}, {served}: answers that were 200"),
            heartbeat.answers(),
            plain.answers(),
            "every request 200 (issue 13)".to_owned(),
            Met::from(heartbeat.load.clean()),
        ));
        let (goal, met) = if goal {
            (
                format!("< 64 MB = {} (issue 13)", mib(PEAK_GOAL_KIB)),
                Met::from(heartbeat.peak < PEAK_GOAL_KIB),
            )
        } else {
            ("— (see README)".to_owned(), Met::Info)
        };
        rows.push(Row::new(
            format!("{what}, {served}: the server's peak RSS (VmHWM; idle in brackets)"),
            format!("{} ({})", mib(heartbeat.peak), mib(heartbeat.idle)),
            format!("{} ({})", mib(plain.peak), mib(plain.idle)),
            goal,
            met,
        ));
        rows.push(Row::new(
            format!("{what}, {served}: heartbeat's share of the peak (heartbeat's peak − plain's)"),
            mib(heartbeat.peak.saturating_sub(plain.peak)),
            "—".to_owned(),
            "—".to_owned(),
            Met::Info,
        ));
    }
    Ok(rows)
}

/// One child server's figures under the crowd's load.
struct Crowded {
    load: Load,
    idle: u64,
    peak: u64,
}

impl Crowded {
    fn answers(&self) -> String {
        let load = &self.load;
        let ok = load.requests.saturating_sub(load.non_2xx);
        let share = if load.requests > 0 {
            ok as f64 / load.requests as f64 * 100.0
        } else {
            0.0
        };
        format!(
            "{share:.1}% of {} answers ({} not 200; also {} socket errors, timeouts included; {:.1}k req/s)",
            thousands(load.requests),
            thousands(load.non_2xx),
            thousands(load.errors),
            load.rate / 1000.0
        )
    }
}

/// Starts `heartbeat-bench serve KIND 0`, loads its readiness with the crowd, and reads its
/// peak RSS.
async fn load_child(kind: &str, loader: Loader) -> BenchResult<Crowded> {
    // The child (and wrk) get their open-file limit raised through `sh -c 'ulimit -n …'`
    // when this process's is lower.
    let exe = std::env::current_exe()?;
    let files = open_files_for(CONNECTIONS);
    let mut command = with_open_files(exe.as_os_str(), &["serve", kind, "0"], files);
    command.stderr(Stdio::inherit());
    let server = ChildServer::spawn(command, CHILD_START).await?;
    let pid = server.pid();
    let idle = peak_rss_kib(pid).ok_or("no VmHWM in /proc/<pid>/status")?;
    let target = Target {
        addr: server.addr(),
        path: READINESS,
    };
    let load = loader.run(target, THREADS, CONNECTIONS, DURATION).await;
    let peak = peak_rss_kib(pid).ok_or("no VmHWM in /proc/<pid>/status")?;
    server.stop(CHILD_STOP).await;
    Ok(Crowded {
        load: load?,
        idle,
        peak,
    })
}
