//! The routers compared, in-process servers on loopback, and the child server of `serve`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::routing::get;
use heartbeat::{Check, Heartbeat};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::BenchResult;
use crate::load::Target;

/// The endpoint measured everywhere.
pub(crate) const READINESS: &str = "/.well-known/heartbeat/readiness";

/// How many trivial checks the child server's readiness runs.
pub(crate) const CHILD_CHECKS: usize = 10;

/// A child server stops by itself after this long, even if its parent forgot it.
const CHILD_LIFETIME: Duration = Duration::from_secs(120);

/// A builder with none of the attribute-registered checks and `/health/` open.
pub(crate) fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

/// Readiness with `n` trivial async checks (`async { true }`).
pub(crate) fn trivial_async(mut builder: Heartbeat, n: usize) -> Heartbeat {
    for i in 0..n {
        builder = builder.readiness(Check::new_async(format!("async-{i:04}"), || async { true }));
    }
    builder
}

/// Readiness with `n` trivial sync checks (`|| true`, on heartbeat's threads for sync checks).
pub(crate) fn trivial_sync(mut builder: Heartbeat, n: usize) -> Heartbeat {
    for i in 0..n {
        builder = builder.readiness(Check::new(format!("sync-{i:04}"), || true));
    }
    builder
}

/// One in-process GET of [`READINESS`] through `router`, body read to the end.
pub(crate) async fn call(router: &Router) -> (Response<()>, Bytes) {
    call_at(router, READINESS).await
}

/// One in-process GET of `path` through `router`, body read to the end.
pub(crate) async fn call_at(router: &Router, path: &str) -> (Response<()>, Bytes) {
    let request = Request::get(path)
        .body(Body::empty())
        .expect("a GET of a path with an empty body is a valid request");
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("an in-memory body can be read to the end");
    (Response::from_parts(parts, ()), body)
}

/// A plain axum router whose handler at [`READINESS`] returns exactly the status, headers and
/// body that `of` answered once: what a hand-written handler with a constant answer costs.
pub(crate) async fn plain_copy(of: &Router) -> BenchResult<Router> {
    plain_copy_at(of, READINESS, READINESS).await
}

/// A plain axum router whose handler at `serve_at` returns exactly the status, headers and
/// body that `of` answered once to a GET of `asked`.
pub(crate) async fn plain_copy_at(of: &Router, asked: &str, serve_at: &str) -> BenchResult<Router> {
    let (answer, body) = call_at(of, asked).await;
    // Every header heartbeat sent (content type, cache control, `Vary`…) but the length,
    // which axum writes for the body; inserted one by one into each response, as heartbeat's
    // own answers are built.
    let headers: Arc<[(HeaderName, HeaderValue)]> = answer
        .headers()
        .iter()
        .filter(|(name, _)| *name != CONTENT_LENGTH)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let status = answer.status();
    let served = body.clone();
    let plain = Router::new().route(
        serve_at,
        get(move || {
            let (headers, body) = (Arc::clone(&headers), served.clone());
            async move {
                let mut response = axum::response::Response::new(Body::from(body));
                *response.status_mut() = status;
                for (name, value) in headers.iter() {
                    response.headers_mut().insert(name.clone(), value.clone());
                }
                response
            }
        }),
    );
    let (copy, copied_body) = call_at(&plain, serve_at).await;
    if copy.status() != answer.status() || copy.headers() != answer.headers() || copied_body != body
    {
        return Err(format!(
            "the plain handler does not answer like heartbeat: {:?} {:?} vs {:?} {:?}",
            copy.status(),
            copy.headers(),
            answer.status(),
            answer.headers()
        )
        .into());
    }
    Ok(plain)
}

/// A router served on 127.0.0.1 by this process until [`Server::stop`].
pub(crate) struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `router` on an ephemeral loopback port.
    pub(crate) async fn start(router: Router) -> BenchResult<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Server { addr, stop, task })
    }

    /// [`READINESS`] on this server.
    pub(crate) fn target(&self) -> Target {
        Target {
            addr: self.addr,
            path: READINESS,
        }
    }

    /// Stops accepting, and waits (at most 5 s) for open connections to finish.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// The readiness router of the child server: [`CHILD_CHECKS`] trivial async checks, cache off,
/// so every request that does not join a run in flight runs them.
pub(crate) fn child_heartbeat() -> Router {
    trivial_async(bare().default_cache(Duration::ZERO), CHILD_CHECKS).into_router()
}

/// The readiness router of the crowd figure's child: [`crate::crowd::CHECKS`] trivial sync
/// checks with the library's defaults (cache 1 s, timeout 800 ms).
pub(crate) fn crowd_heartbeat() -> Router {
    trivial_sync(bare(), crate::crowd::CHECKS).into_router()
}

/// What `heartbeat-bench serve KIND PORT` serves.
const KINDS: &str = "`plain`, `heartbeat`, `crowd`, `plain-crowd`, `crowd-copied`, `plain-crowd-copied`, `background`, `background-idle`, `cached-1000`, `instructions`, `instructions-background`, `fanout` or `grpc`";

/// `heartbeat-bench serve KIND PORT`: serves on 127.0.0.1:PORT
/// (0: any free port), prints `listening ADDR`, and stops when stdin closes or after its
/// lifetime (two minutes; `instructions`, which runs under callgrind, twenty).
pub(crate) fn child(kind: &str, port: &str) -> BenchResult<()> {
    let port: u16 = port
        .parse()
        .map_err(|_| format!("PORT must be a number from 0 to 65535, not {port:?}"))?;
    let (runtime, lifetime) = match kind {
        "plain" | "heartbeat" | "crowd" | "plain-crowd" | "crowd-copied" | "plain-crowd-copied"
        | "background" | "background-idle" | "cached-1000" => (crate::runtime()?, CHILD_LIFETIME),
        "instructions" | "instructions-background" | "fanout" | "grpc" => (
            crate::instructions::runtime()?,
            crate::instructions::CHILD_LIFETIME,
        ),
        other => return Err(format!("serve what? {KINDS}, not {other:?}").into()),
    };
    runtime.block_on(async {
        // tonic-health's reporter, kept while the `grpc` child serves.
        let mut _reporter = None;
        let router = match kind {
            "heartbeat" => child_heartbeat(),
            "plain" => plain_copy(&child_heartbeat()).await?,
            "crowd" | "crowd-copied" => crowd_heartbeat(),
            "plain-crowd" | "plain-crowd-copied" => plain_copy(&crowd_heartbeat()).await?,
            "background" => {
                use crate::instructions::{EVERY, THOUSAND, background_async};
                background_async(bare(), THOUSAND, EVERY, Heartbeat::readiness).into_router()
            }
            "background-idle" => {
                use crate::instructions::{THOUSAND, background_async};
                // A period longer than the child lives: only the first runs, before the load.
                let every = Duration::from_secs(3_600);
                background_async(bare(), THOUSAND, every, Heartbeat::readiness).into_router()
            }
            "cached-1000" => trivial_async(bare(), crate::instructions::THOUSAND).into_router(),
            "instructions-background" => crate::instructions::background_router()?,
            "fanout" => crate::fanout::router()?,
            "grpc" => {
                let (router, reporter) = crate::grpc::router()?;
                _reporter = Some(reporter);
                router
            }
            _ => crate::instructions::router().await?,
        };
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening {}", listener.local_addr()?)?;
        stdout.flush()?;
        let (closed, stdin_closed) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed.send(());
        });
        let stop = async move {
            tokio::select! {
                _ = stdin_closed => {}
                () = tokio::time::sleep(lifetime) => {}
            }
        };
        if kind.ends_with("-copied") {
            // `axum::serve(listener, router)`: axum converts the router for each connection,
            // a copy of its whole route table per connection (the crowd's other figure).
            axum::serve(listener, router)
                .with_graceful_shutdown(stop)
                .await?;
        } else {
            // As the README advises: converted once, and each connection shares it.
            axum::serve(listener, router.into_make_service())
                .with_graceful_shutdown(stop)
                .await?;
        }
        Ok(())
    })
}

/// Whether a response status is the 200 a passing readiness gives.
pub(crate) fn ok(status: StatusCode) -> bool {
    status == StatusCode::OK
}
