//! Run with `cargo run --example grpc --features grpc` from the repository root.
//!
//! The standard gRPC health service (`grpc.health.v1.Health`) answered from heartbeat's checks,
//! served twice:
//!
//! - on the app's port, 127.0.0.1:8080, next to the app and the HTTP probes: `axum::serve`
//!   (with axum's `http2` feature) answers HTTP/1.1 and cleartext HTTP/2 on one listener, as
//!   kubelet's `grpc:` probes need (`examples/kubernetes/grpc.yaml`);
//! - on a port of its own, 127.0.0.1:50051, with tonic's server, as a tonic application adds
//!   it next to its own services.
//!
//! Ask it with [grpc-health-probe](https://github.com/grpc-ecosystem/grpc-health-probe) or
//! grpcurl (`grpcurl -plaintext -d '{"service":"readiness"}' 127.0.0.1:8080
//! grpc.health.v1.Health/Check`, with the health proto); the example prints the commands.
//! `touch /tmp/heartbeat-grpc-maintenance` makes readiness (and `""`, and
//! `example.v1.Orders`) NOT_SERVING; remove the file and they serve again. Ctrl-C (or SIGTERM)
//! drains: every service answers NOT_SERVING at once, every `Watch` ends when the drain is
//! over, then both servers stop.
//!
//! Environment: `GRPC_EXAMPLE_ADDR` (default `127.0.0.1:8080`), `GRPC_EXAMPLE_HEALTH_ADDR`
//! (default `127.0.0.1:50051`), `GRPC_EXAMPLE_DRAIN_MS` (default heartbeat's 5 s).

use std::time::Duration;

use heartbeat::{Grpc, Heartbeat, lifecycle, liveliness_probe, readiness_probe};

const MAINTENANCE_FLAG: &str = "/tmp/heartbeat-grpc-maintenance";

/// Not in maintenance: the flag file is absent.
#[readiness_probe(name = "maintenance")]
fn maintenance() -> Result<(), String> {
    match std::fs::exists(MAINTENANCE_FLAG) {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!("in maintenance: {MAINTENANCE_FLAG} exists")),
        Err(error) => Err(format!("cannot look for {MAINTENANCE_FLAG}: {error}")),
    }
}

/// The runtime still runs tasks: a liveliness check run in the background every 5 s.
#[liveliness_probe(name = "runtime", every = "5s")]
async fn runtime() -> bool {
    tokio::task::yield_now().await;
    true
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = env_or("GRPC_EXAMPLE_ADDR", "127.0.0.1:8080");
    let health_addr: std::net::SocketAddr =
        env_or("GRPC_EXAMPLE_HEALTH_ADDR", "127.0.0.1:50051").parse()?;
    let drain = match std::env::var("GRPC_EXAMPLE_DRAIN_MS") {
        Ok(ms) => Duration::from_millis(ms.parse()?),
        Err(_) => lifecycle::DEFAULT_DRAIN,
    };

    // One builder, one set of states: the HTTP probes and gRPC answer from the same checks.
    let grpc = Grpc::new();
    let health = Heartbeat::new()
        .no_health_secret() // this example has no /health/ checks
        // A tonic service's own name (`<OrdersServer<…> as NamedService>::NAME`), answered
        // by the checks it depends on.
        .grpc_service("example.v1.Orders", ["maintenance"])
        .grpc(&grpc)
        .try_into_router()?;
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async { "hello from the gRPC example\n" }),
        )
        .merge(health)
        .merge(grpc.axum_router());

    // Both servers stop after the same signal and drain.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        lifecycle::shutdown_signal_with_drain(drain).await;
        stop.send_replace(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
    };

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let bound = listener.local_addr()?;
    let own = tokio::net::TcpListener::bind(health_addr).await?;
    let own_bound = own.local_addr()?;
    println!(
        "serving HTTP/1.1 and HTTP/2 on http://{bound}, the gRPC health service alone on {own_bound}"
    );
    println!("  curl http://{bound}/.well-known/heartbeat/readiness");
    for service in [
        "",
        "readiness",
        "liveness",
        "maintenance",
        "example.v1.Orders",
    ] {
        println!("  grpc-health-probe -addr={bound} -service={service:?}");
    }
    println!("  grpc-health-probe -addr={own_bound}");
    println!("  touch {MAINTENANCE_FLAG}   # readiness, \"\" and example.v1.Orders: NOT_SERVING");

    let same_port = axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(until_stopped(stopped.clone()));
    let own_port = tonic::transport::Server::builder()
        .add_service(grpc.service())
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(own),
            until_stopped(stopped),
        );
    let (same_port, own_port) = tokio::join!(lifecycle::with_grace(same_port), own_port,);
    same_port?;
    own_port?;
    println!("stopped");
    Ok(())
}
