//! The TCP connect check against real loopback listeners (open, closed, and one whose accept
//! queue is full so connections hang), and the disk check on the real temporary directory.

mod builtin_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use builtin_support::{assert_message, assert_timed_out_in, closed_port, failure};
use heartbeat::checks::{self, Disk, Tcp};
use heartbeat::{Heartbeat, Outcome, liveliness_probe};
use heartbeat_tests::get;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const READINESS: &str = "/.well-known/heartbeat/readiness";

fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

#[tokio::test]
async fn tcp_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let outcome = Tcp::new(address.to_string()).run().await;
    assert!(outcome.passed(), "{outcome:?}");
    assert_eq!(outcome.data()["peer"], address.to_string());
    assert!(outcome.data()["round_trip_ms"].is_f64());

    let by_name = Tcp::new(format!("localhost:{}", address.port()))
        .run()
        .await;
    assert!(by_name.passed() || by_name.message().unwrap().contains("refused"));

    let app: axum::Router = bare()
        .readiness(checks::tcp("port", address.to_string()))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
}

#[tokio::test]
async fn tcp_down() {
    let address = closed_port().await;
    let start = Instant::now();
    let outcome = Tcp::new(address.to_string()).run().await;
    assert!(start.elapsed() < Duration::from_millis(600), "{outcome:?}");
    assert_message(
        outcome.message().unwrap(),
        &format!("TCP connect to {address}: "),
        &["refused"],
        None,
    );

    let unknown = Tcp::new("no-such-host.invalid:80").run().await;
    assert_message(
        unknown.message().unwrap(),
        "TCP connect to no-such-host.invalid:80: ",
        &["lookup", "resolve", "not known", "no answer within"],
        None,
    );
    let no_port = Tcp::new("127.0.0.1").run().await;
    assert_message(
        no_port.message().unwrap(),
        "TCP connect to 127.0.0.1: ",
        &["invalid", "port"],
        None,
    );

    let app: axum::Router = bare()
        .readiness(checks::tcp("port", address.to_string()))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = failure(&answer.json()["checks"]["port"]);
    assert!(message.contains("refused"), "{message}");
}

/// A listener with a backlog of one that never accepts: once its queue is full, the kernel
/// drops new handshakes, so a connection attempt hangs. Returns it, with the connections that
/// filled the queue.
async fn hanging_listener() -> (SocketAddr, TcpListener, Vec<TcpStream>) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let address = listener.local_addr().unwrap();
    let mut filled = Vec::new();
    for _ in 0..64 {
        let connect = tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(address));
        match connect.await {
            Ok(Ok(stream)) => filled.push(stream),
            Ok(Err(error)) => panic!("filling the queue: {error}"),
            Err(_) => return (address, listener, filled),
        }
    }
    panic!("the accept queue of {address} never filled");
}

#[tokio::test]
async fn tcp_slow() {
    let (address, _listener, _filled) = hanging_listener().await;
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let outcome = Tcp::new(address.to_string()).timeout(timeout).run().await;
    assert_timed_out_in(start.elapsed(), timeout);
    assert_message(
        outcome.message().unwrap(),
        &format!("TCP connect to {address}"),
        &["no answer within 300ms"],
        None,
    );

    let app: axum::Router = bare()
        .readiness(Tcp::new(address.to_string()).timeout(timeout).check("port"))
        .into_router();
    let start = Instant::now();
    let answer = get(&app, READINESS).await;
    assert_timed_out_in(start.elapsed(), timeout);
    let message = failure(&answer.json()["checks"]["port"]);
    assert!(message.contains("no answer within 300ms"), "{message}");
}

#[tokio::test]
async fn disk_up() {
    let temp = std::env::temp_dir();
    let outcome = Disk::new(&temp).min_free_bytes(1).run();
    assert!(outcome.passed(), "{outcome:?}");
    let data = outcome.data();
    assert!(data["available_bytes"].as_u64().unwrap() > 0);
    assert!(data["total_bytes"].as_u64() >= data["available_bytes"].as_u64());
    let percent = data["available_percent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&percent), "{percent}");
    assert!(
        Disk::new(&temp)
            .min_free_percent(percent / 2.0)
            .run()
            .passed()
    );
    assert!(Disk::new(&temp).run().passed(), "no minimum only reports");

    let app: axum::Router = bare()
        .readiness(Disk::new(&temp).min_free_bytes(1).check("disk"))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["disk"]["available_bytes"].is_u64());
}

#[tokio::test]
async fn disk_down() {
    let temp = std::env::temp_dir();
    let tried = format!("free space at {}: ", temp.display());
    let too_much = Disk::new(&temp).min_free_bytes(u64::MAX).run();
    assert_message(
        too_much.message().unwrap(),
        &tried,
        &["below the minimum of 16384.0 PiB"],
        None,
    );
    assert!(too_much.data()["available_bytes"].is_u64());
    let both = Disk::new(&temp)
        .min_free_bytes(u64::MAX)
        .min_free_percent(100.5)
        .run();
    assert!(
        both.message()
            .unwrap()
            .ends_with("below the minimum of 16384.0 PiB and of 100.5%"),
        "{both:?}"
    );

    let missing = temp.join("heartbeat-no-such-directory");
    let outcome = Disk::new(&missing).run();
    assert_message(
        outcome.message().unwrap(),
        &format!("free space at {}: cannot read", missing.display()),
        &["No such file"],
        None,
    );

    let app: axum::Router = bare()
        .readiness(Disk::new(&temp).min_free_percent(101.0).check("disk"))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = failure(&answer.json()["checks"]["disk"]);
    assert!(message.contains("below the minimum of 101%"), "{message}");
}

/// The sync disk check inside an annotated (sync) function.
#[liveliness_probe(name = "annotated-disk")]
fn annotated_disk() -> Outcome {
    Disk::new(std::env::temp_dir()).min_free_bytes(1).run()
}

#[tokio::test]
async fn disk_from_an_annotated_function() {
    let app: axum::Router = Heartbeat::new().only(["annotated-disk"]).into_router();
    let answer = get(&app, "/.well-known/heartbeat/liveliness").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["annotated-disk"]["available_bytes"].is_u64());
}
