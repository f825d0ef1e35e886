//! Section 8, background checks (issue 14): readiness with 1,000 background checks run every
//! 10 s, the same checks with a period longer than the load (no run while it lasts), and 1,000
//! trivial async checks at the library's defaults (cache 1 s, run by requests), each in a child
//! server under the same load: do the background runs show in request latency?

use std::process::Stdio;
use std::time::Duration;

use crate::child::{ChildServer, with_open_files};
use crate::instructions::{EVERY, THOUSAND};
use crate::load::{Load, Loader, Target, open_files_for};
use crate::serve::READINESS;
use crate::{BenchResult, Met, Row, thousands};

const CONNECTIONS: usize = 50;
const THREADS: usize = 2;
/// Two periods and a bit: every background check runs at least twice while loaded.
const DURATION: Duration = Duration::from_secs(21);
const CHILD_START: Duration = Duration::from_secs(30);
const CHILD_STOP: Duration = Duration::from_secs(10);

pub(crate) async fn background(loader: Loader) -> BenchResult<Vec<Row>> {
    let running = load_child("background", loader).await?;
    let idle = load_child("background-idle", loader).await?;
    let cached = load_child("cached-1000", loader).await?;
    let latency = |load: &Load| {
        format!(
            "p50 {}, p99 {}; {:.1}k req/s, {} not 200",
            load.p50.as_deref().unwrap_or("?"),
            load.p99.as_deref().unwrap_or("?"),
            load.rate / 1000.0,
            thousands(load.non_2xx)
        )
    };
    let what = format!(
        "readiness with {} async checks, {} -t{THREADS} -c{CONNECTIONS} {} s",
        thousands(THOUSAND as u64),
        loader.name(),
        DURATION.as_secs()
    );
    Ok(vec![
        Row::new(
            format!(
                "background: {what}: latency, checks run every {} s (about {} runs during the load) vs the same checks with no run during the load (plain column)",
                EVERY.as_secs(),
                thousands(THOUSAND as u64 * DURATION.as_secs() / EVERY.as_secs())
            ),
            latency(&running),
            latency(&idle),
            "background runs do not show in request latency (issue 14): compare p50 and p99"
                .to_owned(),
            Met::from(running.clean() && idle.clean()),
        ),
        Row::new(
            format!(
                "background, for comparison: {what}: latency of the same checks cached 1 s and run by requests (the library's default)"
            ),
            latency(&cached),
            "—".to_owned(),
            "—".to_owned(),
            Met::Info,
        ),
    ])
}

async fn load_child(kind: &str, loader: Loader) -> BenchResult<Load> {
    let exe = std::env::current_exe()?;
    let mut command = with_open_files(
        exe.as_os_str(),
        &["serve", kind, "0"],
        open_files_for(CONNECTIONS),
    );
    command.stderr(Stdio::inherit());
    let server = ChildServer::spawn(command, CHILD_START).await?;
    // The background checks' first runs end before the load starts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let target = Target {
        addr: server.addr(),
        path: READINESS,
    };
    let load = loader.run(target, THREADS, CONNECTIONS, DURATION).await;
    server.stop(CHILD_STOP).await;
    load
}
