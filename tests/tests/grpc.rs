//! The gRPC health service (`grpc.health.v1.Health`, feature `grpc`), asked by tonic's own
//! generated client over real TCP: on the app's port (HTTP/1.1 and HTTP/2 on one listener) and
//! on a port of its own (tonic's server).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use heartbeat::lifecycle::Lifecycle;
use heartbeat::{Check, Grpc, Heartbeat, Outcome};
use heartbeat_tests::http;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use yaml_rust2::YamlLoader;

const SERVING: ServingStatus = ServingStatus::Serving;
const NOT_SERVING: ServingStatus = ServingStatus::NotServing;

/// How long anything that should happen may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// A builder with none of this binary's registered checks (it declares none, but the
/// fixtures' crate may), its own lifecycle, and the gRPC service.
fn bare(grpc: &Grpc, lifecycle: &Lifecycle) -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .lifecycle(lifecycle.clone())
        .grpc(grpc)
}

/// Serves the heartbeat router and the gRPC service on one port, HTTP/1.1 and HTTP/2, as the
/// example does; the server stops when `stop` resolves (gracefully: open requests end first).
async fn serve_together(
    app: axum::Router,
    grpc: &Grpc,
    stop: impl Future<Output = ()> + Send + 'static,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let app = app.merge(grpc.axum_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    (addr, server)
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

fn request(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

/// `Check` of `service`: its status, or the error's code.
async fn check(client: &mut HealthClient<Channel>, service: &str) -> Result<ServingStatus, Code> {
    match client.check(request(service)).await {
        Ok(response) => Ok(status(&response.into_inner())),
        Err(status) => Err(status.code()),
    }
}

fn status(response: &HealthCheckResponse) -> ServingStatus {
    ServingStatus::try_from(response.status).unwrap()
}

/// The next message of a `Watch` stream (an error's code, or `None` at its end), within
/// [`PATIENCE`].
async fn next(
    stream: &mut tonic::Streaming<HealthCheckResponse>,
) -> Option<Result<ServingStatus, Code>> {
    let message = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("a Watch message within the patience");
    match message {
        Ok(Some(response)) => Some(Ok(status(&response))),
        Ok(None) => None,
        Err(status) => Some(Err(status.code())),
    }
}

async fn watch(
    client: &mut HealthClient<Channel>,
    service: &str,
) -> tonic::Streaming<HealthCheckResponse> {
    client.watch(request(service)).await.unwrap().into_inner()
}

/// Polls `condition` until it holds, failing after [`PATIENCE`].
async fn until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn check_answers_every_kind_of_name_as_the_http_probes_do() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new_async("db", || async { true }))
        .readiness(Check::new("disk", || Outcome::warn("disk 91% full")))
        .liveliness(Check::new("worker", || true))
        .liveliness(Check::new_async("queue", || async {
            Err::<(), _>("queue is full")
        }))
        .grpc_service("example.v1.Orders", ["db", "worker"])
        .grpc_service("example.v1.Jobs", ["queue", "db"])
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;

    // The whole server and the probe sets: as readiness (200) and liveliness (500) answer,
    // over HTTP/1.1 on the same port.
    assert_eq!(check(&mut client, "").await, Ok(SERVING));
    assert_eq!(check(&mut client, "readiness").await, Ok(SERVING));
    assert_eq!(check(&mut client, "liveness").await, Ok(NOT_SERVING));
    assert_eq!(check(&mut client, "liveliness").await, Ok(NOT_SERVING));
    let readiness = http(addr, "GET", "/.well-known/heartbeat/readiness", &[]).await;
    assert_eq!(readiness.status, 200, "{}", readiness.text());
    let liveliness = http(addr, "GET", "/.well-known/heartbeat/liveliness", &[]).await;
    assert_eq!(liveliness.status, 500, "{}", liveliness.text());

    // Each check by its name: warn serves, fail does not.
    assert_eq!(check(&mut client, "db").await, Ok(SERVING));
    assert_eq!(check(&mut client, "disk").await, Ok(SERVING));
    assert_eq!(check(&mut client, "worker").await, Ok(SERVING));
    assert_eq!(check(&mut client, "queue").await, Ok(NOT_SERVING));

    // The names given to checks.
    assert_eq!(check(&mut client, "example.v1.Orders").await, Ok(SERVING));
    assert_eq!(check(&mut client, "example.v1.Jobs").await, Ok(NOT_SERVING));

    // Anything else: NOT_FOUND, with a message that says what is served.
    assert_eq!(check(&mut client, "nope").await, Err(Code::NotFound));
    let error = client
        .check(request(&"x".repeat(10_000)))
        .await
        .unwrap_err();
    assert!(
        error.message().contains("unknown service"),
        "{}",
        error.message()
    );
    assert!(
        error.message().len() < 400,
        "the name is cut: {}",
        error.message()
    );
    // A method the protocol does not have.
    let unimplemented = http(addr, "GET", "/grpc.health.v1.Health/List", &[]).await;
    assert_ne!(unimplemented.status, 404, "routed to tonic's service");
}

#[tokio::test]
async fn check_on_the_whole_server_reads_the_lifecycle_and_runs_checks_as_a_probe() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(
            Check::new("counted", move || {
                counted.fetch_add(1, Ordering::SeqCst);
                true
            })
            .cache(Duration::ZERO),
        )
        .liveliness(Check::new("worker", || true))
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;

    // A probe: each Check runs a check whose result is not reused, as each HTTP probe does.
    assert_eq!(check(&mut client, "").await, Ok(SERVING));
    assert_eq!(check(&mut client, "").await, Ok(SERVING));
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    lifecycle.mark_not_ready("warming the cache");
    assert_eq!(check(&mut client, "").await, Ok(NOT_SERVING));
    assert_eq!(check(&mut client, "readiness").await, Ok(NOT_SERVING));
    let readiness = http(addr, "GET", "/.well-known/heartbeat/readiness", &[]).await;
    assert_eq!(readiness.status, 500);
    // Not ready is readiness's: the check itself and liveness still serve.
    assert_eq!(check(&mut client, "counted").await, Ok(SERVING));
    assert_eq!(check(&mut client, "liveness").await, Ok(SERVING));
    lifecycle.mark_ready();
    assert_eq!(check(&mut client, "").await, Ok(SERVING));
}

#[tokio::test]
async fn watch_follows_a_check_through_pass_fail_pass_and_sends_only_changes() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    static UP: AtomicBool = AtomicBool::new(true);
    let flaky_runs = Arc::new(AtomicUsize::new(0));
    let counted_runs = Arc::new(AtomicUsize::new(0));
    let noisy_runs = Arc::new(AtomicUsize::new(0));
    let (flaky, counted) = (Arc::clone(&flaky_runs), Arc::clone(&counted_runs));
    let noisy = Arc::clone(&noisy_runs);
    let app: axum::Router = bare(&grpc, &lifecycle)
        // Runs in the background every 20 ms: nobody asks for it.
        .readiness(
            Check::new("flaky", move || {
                flaky.fetch_add(1, Ordering::SeqCst);
                UP.load(Ordering::SeqCst)
            })
            .every(Duration::from_millis(20))
            // Not stale on a busy machine: only the flag changes what it serves.
            .max_stale(PATIENCE),
        )
        // Runs in the background every 20 ms, and changes its level at every run between
        // pass and warn: a status change each time, never a change of what gRPC serves.
        .readiness(
            Check::new("noisy", move || {
                if noisy.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
                    Outcome::pass()
                } else {
                    Outcome::warn("every other run")
                }
            })
            .every(Duration::from_millis(20))
            // Not stale on a busy machine: only the flag changes what it serves.
            .max_stale(PATIENCE),
        )
        // Runs when asked, never reused: counts who asks.
        .readiness(
            Check::new("counted", move || {
                counted.fetch_add(1, Ordering::SeqCst);
                true
            })
            .cache(Duration::ZERO),
        )
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;
    // The background check's first run has ended (before it, it is unknown: NOT_SERVING).
    until("flaky's first run", async || {
        check(&mut client, "flaky").await == Ok(SERVING)
    })
    .await;

    let mut whole = watch(&mut client, "").await;
    let mut flaky = watch(&mut client, "flaky").await;
    assert_eq!(next(&mut whole).await, Some(Ok(SERVING)));
    assert_eq!(next(&mut flaky).await, Some(Ok(SERVING)));
    // The first message of "" evaluated readiness once, as a probe would.
    assert_eq!(counted_runs.load(Ordering::SeqCst), 1);

    // Several more runs: flaky's at the same level, noisy's each a status change (which wakes
    // the streams to read again), none a change of what is served: no message (the next one
    // read is the change below).
    let seen = noisy_runs.load(Ordering::SeqCst);
    until("four more runs of noisy", async || {
        noisy_runs.load(Ordering::SeqCst) >= seen + 4
    })
    .await;
    UP.store(false, Ordering::SeqCst);
    assert_eq!(next(&mut whole).await, Some(Ok(NOT_SERVING)));
    assert_eq!(next(&mut flaky).await, Some(Ok(NOT_SERVING)));
    let seen = noisy_runs.load(Ordering::SeqCst);
    until("four more runs of noisy", async || {
        noisy_runs.load(Ordering::SeqCst) >= seen + 4
    })
    .await;
    UP.store(true, Ordering::SeqCst);
    assert_eq!(next(&mut whole).await, Some(Ok(SERVING)));
    assert_eq!(next(&mut flaky).await, Some(Ok(SERVING)));

    // The streams only read: the request-run check ran for the first message alone.
    assert_eq!(counted_runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn watch_follows_request_run_checks_and_the_lifecycle() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    static UP: AtomicBool = AtomicBool::new(true);
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new("db", || UP.load(Ordering::SeqCst)).cache(Duration::ZERO))
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;
    let mut db = watch(&mut client, "db").await;
    let mut whole = watch(&mut client, "").await;
    assert_eq!(next(&mut db).await, Some(Ok(SERVING)));
    assert_eq!(next(&mut whole).await, Some(Ok(SERVING)));

    // A probe over HTTP runs the check: the streams see its new state.
    UP.store(false, Ordering::SeqCst);
    let readiness = http(addr, "GET", "/.well-known/heartbeat/readiness", &[]).await;
    assert_eq!(readiness.status, 500);
    assert_eq!(next(&mut db).await, Some(Ok(NOT_SERVING)));
    assert_eq!(next(&mut whole).await, Some(Ok(NOT_SERVING)));
    UP.store(true, Ordering::SeqCst);
    assert_eq!(check(&mut client, "db").await, Ok(SERVING));
    assert_eq!(next(&mut db).await, Some(Ok(SERVING)));
    assert_eq!(next(&mut whole).await, Some(Ok(SERVING)));

    // Marked not ready: the whole server's stream says so, and again when ready.
    lifecycle.mark_not_ready("maintenance");
    assert_eq!(next(&mut whole).await, Some(Ok(NOT_SERVING)));
    lifecycle.mark_ready();
    assert_eq!(next(&mut whole).await, Some(Ok(SERVING)));
}

#[tokio::test]
async fn watch_of_an_unknown_service_sends_service_unknown_and_stays_open() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new("db", || true))
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;
    let mut unknown = watch(&mut client, "nope").await;
    assert_eq!(
        next(&mut unknown).await,
        Some(Ok(ServingStatus::ServiceUnknown))
    );
    // The call goes on: nothing more comes, and it does not end (the protocol: the service
    // may become known later).
    let more = tokio::time::timeout(Duration::from_millis(300), unknown.message()).await;
    assert!(more.is_err(), "the stream sent or ended: {more:?}");
    // Other calls on the same connection are answered meanwhile.
    assert_eq!(check(&mut client, "db").await, Ok(SERVING));
}

#[tokio::test]
async fn on_drain_every_stream_gets_not_serving_then_ends_and_the_server_stops() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new("db", || true))
        .liveliness(Check::new("worker", || true))
        .into_router();
    let (start, started) = tokio::sync::oneshot::channel::<()>();
    let draining = lifecycle.clone();
    // Long enough for the Check calls below, on a busy machine.
    let drain = Duration::from_secs(2);
    let (addr, server) = serve_together(app, &grpc, async move {
        let _ = started.await;
        draining.shutdown(drain).await;
    })
    .await;
    let mut client = client(addr).await;
    let mut streams = Vec::new();
    for service in ["", "liveness", "db", "worker"] {
        let mut stream = watch(&mut client, service).await;
        assert_eq!(next(&mut stream).await, Some(Ok(SERVING)), "{service:?}");
        streams.push((service, stream));
    }
    let mut unknown = watch(&mut client, "nope").await;
    assert_eq!(
        next(&mut unknown).await,
        Some(Ok(ServingStatus::ServiceUnknown))
    );

    start.send(()).unwrap();
    for (service, stream) in &mut streams {
        assert_eq!(next(stream).await, Some(Ok(NOT_SERVING)), "{service:?}");
    }
    // While it drains, Check says the same for every service (grpc-go's Shutdown()), and the
    // unknown service's stream stays as it was.
    for service in ["", "readiness", "liveness", "db", "worker"] {
        assert_eq!(
            check(&mut client, service).await,
            Ok(NOT_SERVING),
            "{service:?}"
        );
    }
    assert!(lifecycle.is_draining());
    // When the drain is over, every stream ends (UNAVAILABLE: clients retry elsewhere)…
    for (service, stream) in &mut streams {
        assert_eq!(
            next(stream).await,
            Some(Err(Code::Unavailable)),
            "{service:?}"
        );
        assert_eq!(next(stream).await, None, "{service:?}");
    }
    assert_eq!(next(&mut unknown).await, Some(Err(Code::Unavailable)));
    // …so the graceful shutdown is not held open by them.
    drop(client);
    let stopped = tokio::time::timeout(PATIENCE, server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
}

#[tokio::test]
async fn serves_on_a_port_of_its_own_with_tonics_server() {
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let _app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new("db", || true))
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = grpc.service();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
    });
    let mut client = client(addr).await;
    assert_eq!(check(&mut client, "").await, Ok(SERVING));
    assert_eq!(check(&mut client, "db").await, Ok(SERVING));
    assert_eq!(check(&mut client, "nope").await, Err(Code::NotFound));
    let mut stream = watch(&mut client, "").await;
    assert_eq!(next(&mut stream).await, Some(Ok(SERVING)));
}

#[tokio::test]
async fn a_handle_without_a_router_answers_unavailable() {
    let grpc = Grpc::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = grpc.axum_router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut client = client(addr).await;
    let error = client.check(request("")).await.unwrap_err();
    assert_eq!(error.code(), Code::Unavailable);
    assert!(
        error.message().contains(".grpc(&grpc)"),
        "{}",
        error.message()
    );
}

#[test]
fn configuration_errors_name_the_service_and_what_to_do() {
    let grpc = Grpc::new();
    let error = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .readiness(Check::new("db", || true))
        .liveliness(Check::new("liveness", || true))
        .grpc_service("example.v1.Orders", ["db", "cache"])
        .grpc_service("readiness", ["db"])
        .grpc_service("db", ["db"])
        .grpc_service("example.v1.Empty", Vec::<String>::new())
        .grpc_service("example.v1.Orders", ["db"])
        .grpc(&grpc)
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    for expected in [
        r#"`.grpc_service("example.v1.Orders", …)` names ["cache"], which this router serves as no readiness or liveliness check (served: ["db", "liveness"])"#,
        r#"`.grpc_service("readiness", …)`: "readiness" is one of the names heartbeat gives"#,
        r#"`.grpc_service("db", …)`: "db" is already the name of a check"#,
        r#"`.grpc_service("example.v1.Empty", …)` names no check"#,
        r#"`.grpc_service("example.v1.Orders", …)` is given more than once"#,
        r#"liveliness check "liveness" at "#,
    ] {
        assert!(
            error.contains(expected),
            "missing {expected:?} in:\n{error}"
        );
    }

    // A name for checks without the service that would answer it.
    let error = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .readiness(Check::new("db", || true))
        .grpc_service("example.v1.Orders", ["db"])
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    assert!(error.contains("add `.grpc(&grpc)`"), "{error}");

    // One handle, one router.
    let built: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .grpc(&grpc)
        .into_router();
    drop(built);
    let error = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .grpc(&grpc)
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    assert!(error.contains("make one `Grpc` per router"), "{error}");
}

/// The example's manifest: its `grpc:` probes ask services the router answers, on the port the
/// container serves.
#[tokio::test]
async fn the_grpc_manifest_probes_services_the_router_answers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("examples/kubernetes/grpc.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let documents = YamlLoader::load_from_str(&text).unwrap();
    let deployment = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("a Deployment");
    let (grpc, lifecycle) = (Grpc::new(), Lifecycle::new());
    let app: axum::Router = bare(&grpc, &lifecycle)
        .readiness(Check::new("db", || true))
        .liveliness(Check::new("worker", || true))
        .into_router();
    let (addr, _server) = serve_together(app, &grpc, std::future::pending()).await;
    let mut client = client(addr).await;
    let mut probes = 0;
    for container in deployment["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .unwrap()
    {
        let ports: Vec<i64> = container["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|p| p["containerPort"].as_i64())
            .collect();
        for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let probe = &container[kind]["grpc"];
            assert!(!probe.is_badvalue(), "{kind} is not a grpc: probe");
            probes += 1;
            let port = probe["port"].as_i64().unwrap();
            assert!(
                ports.contains(&port),
                "{kind} probes port {port}, not one of {ports:?}"
            );
            // kubelet sends "" when `service` is not set.
            let service = probe["service"].as_str().unwrap_or_default();
            assert_eq!(
                check(&mut client, service).await,
                Ok(SERVING),
                "{kind}: {service:?}"
            );
            let timeout = container[kind]["timeoutSeconds"].as_i64().unwrap();
            assert!(
                timeout * 1000 > 800,
                "{kind}: its timeout must exceed the 800 ms check timeout"
            );
        }
    }
    assert_eq!(probes, 3);
}
