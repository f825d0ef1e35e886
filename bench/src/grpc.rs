//! Section 9, issue 16: CPU instructions per gRPC `Check` call on the whole server (`""`),
//! heartbeat's health service next to tonic-health's own `HealthReporter` server (a status set
//! by hand), counted under callgrind in the same child process.
//!
//! The child (`heartbeat-bench serve grpc 0`, under callgrind with one worker thread, as in
//! [`crate::instructions`]) serves cleartext HTTP/2 on one port with `axum::serve`; a request
//! goes to one of the services by its `x-bench` header, so both pay the same dispatch. The bench
//! opens one tonic channel (one HTTP/2 connection) per figure, sends [`WARM_UP`] calls, zeroes
//! the counters, sends [`N`] calls one after another, dumps, and divides by N. Every thread of
//! the child is counted.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use heartbeat::{Check, Grpc, Heartbeat};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceExt;

use crate::instructions::{
    BUDGET, CACHED, CHILD_STOP, Callgrind, N, Scratch, WARM_UP, child, log_tail, valgrind,
};
use crate::serve::bare;
use crate::{BenchResult, Met, Row, thousands};

/// Issue 16's goal: heartbeat's `Check` on `""` with cached checks, against tonic-health's.
const GOAL: f64 = 1.20;

/// How long one call may take under callgrind.
const CALL_PATIENCE: Duration = Duration::from_secs(30);

/// The `x-bench` values: which service answers.
const TONIC_HEALTH: &str = "tonic-health";
const HEARTBEAT_NONE: &str = "heartbeat-0";
const HEARTBEAT_ONE: &str = "heartbeat-1";
const HEARTBEAT_TEN: &str = "heartbeat-10";

/// The child's router: the four services behind one dispatch on `x-bench`. Returns the
/// handles that must live as long as it serves (tonic-health's reporter).
pub(crate) fn router() -> BenchResult<(Router, tonic_health::server::HealthReporter)> {
    let (reporter, tonic_health) = tonic_health::server::health_reporter();
    // tonic-health's "" is SERVING from the start (`HealthReporter::new`): the hand-set status.
    let heartbeat = |checks: usize| -> BenchResult<_> {
        let grpc = Grpc::new();
        let mut builder: Heartbeat = bare().grpc(&grpc);
        for i in 0..checks {
            builder = builder.readiness(
                Check::new_async(format!("cached-{i:03}"), || async { true }).cache(CACHED),
            );
        }
        // The HTTP router is not served: the gRPC service reads the same states.
        let _router: Router = builder.try_into_router()?;
        Ok(grpc.service())
    };
    let (none, one, ten) = (heartbeat(0)?, heartbeat(1)?, heartbeat(10)?);
    let dispatch = tower::service_fn(move |request: axum::extract::Request| {
        let which = request
            .headers()
            .get("x-bench")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let (tonic_health, none, one, ten) =
            (tonic_health.clone(), none.clone(), one.clone(), ten.clone());
        async move {
            let response = match which.as_str() {
                TONIC_HEALTH => tonic_health.oneshot(request).await.into_response(),
                HEARTBEAT_NONE => none.oneshot(request).await.into_response(),
                HEARTBEAT_ONE => one.oneshot(request).await.into_response(),
                HEARTBEAT_TEN => ten.oneshot(request).await.into_response(),
                _ => axum::http::StatusCode::NOT_FOUND.into_response(),
            };
            Ok::<_, Infallible>(response)
        }
    });
    Ok((Router::new().fallback_service(dispatch), reporter))
}

/// Instructions per `Check("")` call answered by the service `which`.
async fn count(
    callgrind: &mut Callgrind,
    addr: std::net::SocketAddr,
    which: &'static str,
    deadline: Instant,
) -> BenchResult<f64> {
    eprintln!("    callgrind: gRPC Check(\"\") answered by {which}");
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let value: tonic::metadata::MetadataValue<_> = which.parse()?;
    let mut client =
        HealthClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
            request.metadata_mut().insert("x-bench", value.clone());
            Ok(request)
        });
    let mut call = async |count: u64| -> BenchResult<()> {
        for _ in 0..count {
            if Instant::now() >= deadline {
                return Err("the section ran over its budget".into());
            }
            let request = HealthCheckRequest {
                service: String::new(),
            };
            let response = tokio::time::timeout(CALL_PATIENCE, client.check(request)).await??;
            let status = response.into_inner().status;
            if status != i32::from(ServingStatus::Serving) {
                return Err(format!("{which} answered status {status}, not SERVING").into());
            }
        }
        Ok(())
    };
    call(WARM_UP).await?;
    callgrind.zero().await?;
    call(N).await?;
    let total = callgrind.dump().await?;
    Ok(total as f64 / N as f64)
}

/// The counts of the section.
struct Counts {
    tonic_health: f64,
    none: f64,
    one: f64,
    ten: f64,
    tonic_health_again: f64,
}

async fn measure(callgrind: &mut Callgrind, addr: std::net::SocketAddr) -> BenchResult<Counts> {
    let deadline = Instant::now() + BUDGET;
    Ok(Counts {
        tonic_health: count(callgrind, addr, TONIC_HEALTH, deadline).await?,
        none: count(callgrind, addr, HEARTBEAT_NONE, deadline).await?,
        one: count(callgrind, addr, HEARTBEAT_ONE, deadline).await?,
        ten: count(callgrind, addr, HEARTBEAT_TEN, deadline).await?,
        tonic_health_again: count(callgrind, addr, TONIC_HEALTH, deadline).await?,
    })
}

/// 9. gRPC `Check` instructions per call, heartbeat vs tonic-health.
pub(crate) async fn grpc() -> BenchResult<Vec<Row>> {
    if let Err(why) = valgrind() {
        return Ok(vec![Row::new(
            "gRPC Check instructions per call (callgrind)".to_owned(),
            format!("not measured: {why} (`apt-get install -y valgrind`)"),
            "—".to_owned(),
            "—".to_owned(),
            Met::NotMeasured,
        )]);
    }
    let scratch = Scratch::new()?;
    let (server, mut callgrind, log) = child(&scratch, "grpc", None).await?;
    let counts = measure(&mut callgrind, server.addr()).await;
    server.stop(CHILD_STOP).await;
    let c = counts.map_err(|error| format!("{error}; valgrind: {}", log_tail(&log)))?;
    Ok(rows(&c))
}

fn instr(count: f64) -> String {
    format!("{} instr/call", thousands(count.round() as u64))
}

fn rows(c: &Counts) -> Vec<Row> {
    // tonic-health is counted first and last; every ratio divides by the mean.
    let t = f64::midpoint(c.tonic_health, c.tonic_health_again);
    let spread = (c.tonic_health_again / c.tonic_health - 1.0) * 100.0;
    let ratio = |count: f64| count / t;
    let judged = (ratio(c.one) * 100.0).round() / 100.0;
    vec![
        Row::new(
            "callgrind, gRPC: `Check(\"\")` answered by tonic-health's `HealthReporter` server (a hand-set SERVING), one HTTP/2 connection; measured first and again last".to_owned(),
            "—".to_owned(),
            format!("{} / {}", instr(c.tonic_health), instr(c.tonic_health_again)),
            format!("1.00 (reference: their mean, {}; last vs first {spread:+.2}%)", instr(t)),
            Met::Info,
        ),
        Row::new(
            "callgrind, gRPC: `Check(\"\")` by heartbeat, readiness with one cached async check (plain column: tonic-health)".to_owned(),
            instr(c.one),
            instr(t),
            format!("{:.2}× (goal ≤ {GOAL:.2}×, issue 16)", ratio(c.one)),
            Met::from(judged <= GOAL),
        ),
        Row::new(
            "callgrind, gRPC: `Check(\"\")` by heartbeat, readiness with no checks".to_owned(),
            instr(c.none),
            instr(t),
            format!("{:.2}× (info)", ratio(c.none)),
            Met::Info,
        ),
        Row::new(
            "callgrind, gRPC: `Check(\"\")` by heartbeat, readiness with 10 cached async checks".to_owned(),
            instr(c.ten),
            instr(t),
            format!("{:.2}× (info)", ratio(c.ten)),
            Met::Info,
        ),
    ]
}
