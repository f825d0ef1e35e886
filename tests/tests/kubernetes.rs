//! The Kubernetes side: the example manifests probe paths the router serves, with consistent
//! timings, and the quickstart example drains on SIGTERM as a pod should.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use heartbeat::lifecycle::DEFAULT_DRAIN;
use heartbeat_tests::{get, http};
use yaml_rust2::{Yaml, YamlLoader};

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[tokio::test]
async fn manifest_probes_point_at_served_paths_with_consistent_timings() {
    let path = workspace().join("examples/kubernetes/quickstart.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let documents = YamlLoader::load_from_str(&text).unwrap();
    let app: axum::Router = heartbeat::Heartbeat::new().no_health_secret().into_router();
    let deployment = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("Deployment"))
        .expect("a Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let grace = pod["terminationGracePeriodSeconds"].as_i64().unwrap();
    assert!(
        grace as u64 > DEFAULT_DRAIN.as_secs() + 10,
        "grace period {grace} s too short"
    );

    let mut probes = 0;
    for container in pod["containers"].as_vec().unwrap() {
        let port = container["ports"][0]["containerPort"].as_i64().unwrap();
        for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let probe = &container[kind];
            assert!(!probe.is_badvalue(), "{kind} is missing");
            probes += 1;
            let target = probe["httpGet"]["path"].as_str().unwrap();
            assert_eq!(probe["httpGet"]["port"].as_i64(), Some(port), "{kind}");
            let answer = get(&app, target).await;
            assert_eq!(
                answer.status,
                200,
                "{kind} probes {target}: {}",
                answer.text()
            );
            let timeout_ms = seconds(&probe["timeoutSeconds"]) * 1000;
            assert!(
                timeout_ms > 800,
                "{kind}: its timeout must exceed the 800 ms check timeout"
            );
            if kind == "readinessProbe" {
                let noticed =
                    seconds(&probe["periodSeconds"]) * seconds(&probe["failureThreshold"]);
                assert!(
                    noticed < DEFAULT_DRAIN.as_secs(),
                    "kubelet notices draining after {noticed} s"
                );
            }
        }
    }
    assert_eq!(probes, 3);
    let service = documents
        .iter()
        .find(|d| d["kind"].as_str() == Some("Service"))
        .expect("a Service");
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"].as_i64(),
        Some(8080)
    );
}

/// `cargo run --example quickstart`, the README's first command, builds no database client:
/// those checks are behind the example's `databases` feature.
#[test]
fn the_quickstart_builds_no_database_client_by_default() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let tree = |features: &[&str]| {
        let output = Command::new(&cargo)
            .args([
                "tree",
                "-p",
                "heartbeat-examples",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .args(features)
            .current_dir(workspace())
            .output()
            .expect("run cargo tree");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let client = |tree: &str| {
        tree.lines()
            .any(|line| line.starts_with("sqlx ") || line.starts_with("redis "))
    };
    assert!(!client(&tree(&[])), "{}", tree(&[]));
    assert!(client(&tree(&["--features", "databases"])));
}

/// The manifest's command for the secret makes one that `?auth=` carries as is: hex.
#[test]
fn the_manifest_generates_a_hex_secret() {
    let text =
        std::fs::read_to_string(workspace().join("examples/kubernetes/quickstart.yaml")).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("--from-literal=health-url-secret="))
        .expect("the command that creates the secret");
    let command = line.split_once("health-url-secret=").unwrap().1.trim();
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s {command}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{command}: {output:?}");
    let secret = String::from_utf8(output.stdout).unwrap();
    assert_eq!(secret.len(), 48, "{secret:?}");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret:?}");
}

/// The quickstart's example URLs carry any secret: `+`, `/`, `=`, `&` and spaces are
/// percent-encoded, so `?auth=` decodes back to the secret.
#[tokio::test(flavor = "multi_thread")]
async fn the_quickstart_prints_urls_that_carry_the_secret() {
    let secret = "a+b/c=d e&f";
    let (mut child, address) = start_quickstart(&[("HEALTH_URL_SECRET", secret)]).await;
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        std::io::BufRead::lines(std::io::BufReader::new(stdout))
            .map(Result::unwrap)
            .find(|line| line.contains("/health/?auth="))
            .expect("an example URL of /health/")
    })
    .await
    .unwrap();
    let path = line
        .split_once(&address.to_string())
        .unwrap()
        .1
        .trim_end_matches('\'');
    assert!(path.contains("auth=a%2Bb%2Fc%3Dd%20e%26f"), "{line}");
    let answer = http(address, "GET", path, &[]).await;
    assert_ne!(answer.status, 401, "{line}");
    assert_ne!(answer.status, 400, "{line}");
}

/// A probe setting, or Kubernetes' default when absent.
fn seconds(value: &Yaml) -> u64 {
    value.as_i64().map_or(1, |v| v as u64)
}

/// Builds the quickstart example with this test's registration backend (in its own target
/// dir, so it never waits for this test run's cargo lock) and returns its path.
fn quickstart_binary() -> PathBuf {
    let target = workspace().join("target/standalone");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut args = vec![
        "build",
        "--quiet",
        "-p",
        "heartbeat-examples",
        "--example",
        "quickstart",
    ];
    if heartbeat::REGISTRATION_BACKEND == "linkme" {
        args.extend(["--features", "heartbeat/linkme"]);
    }
    let status = Command::new(cargo)
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("run cargo build");
    assert!(status.success());
    target.join("debug/examples/quickstart")
}

/// Kills the example if the test fails half-way, so no server outlives the test (and holds
/// the test runner's output open).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_fails_readiness_keeps_liveliness_finishes_requests_and_exits() {
    let drain = Duration::from_millis(2_000);
    let (mut child, address) =
        start_quickstart(&[("QUICKSTART_DRAIN_MS", &drain.as_millis().to_string())]).await;

    // Ready once it listens, its worker has ticked (the startup gate) and its checks pass.
    let readiness = "/.well-known/heartbeat/readiness";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(address).await.is_ok()
            && http(address, "GET", readiness, &[]).await.status == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the quickstart never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let environ = http(address, "GET", "/.well-known/heartbeat/environ", &[])
        .await
        .json();
    assert_eq!(environ["registration"], heartbeat::REGISTRATION_BACKEND);
    let ready = http(address, "GET", readiness, &[]).await.json();
    assert_eq!(
        ready["checks"]["listener"]["status"], true,
        "the example's own checks are served: {ready}"
    );

    let in_flight = tokio::spawn(async move { http(address, "GET", "/slow?ms=3000", &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = sigterm(&child);

    // Readiness fails at once, naming the drain; liveliness stays green.
    let mut draining = None;
    while signalled.elapsed() < drain / 2 {
        let answer = http(address, "GET", readiness, &[]).await;
        if answer.status == 500 {
            draining = Some(answer.json());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let draining = draining.expect("readiness did not fail after SIGTERM");
    let shutdown = &draining["checks"]["shutdown"];
    assert_eq!(shutdown["status"], false, "{draining}");
    assert!(
        shutdown["message"]
            .as_str()
            .unwrap()
            .starts_with("draining"),
        "{draining}"
    );
    let live = http(address, "GET", "/.well-known/heartbeat/liveliness", &[]).await;
    assert_eq!(live.status, 200, "{}", live.text());

    // The request in flight completes.
    let slow = in_flight.await.unwrap();
    assert_eq!(slow.status, 200);
    assert_eq!(slow.text(), "done after 3000 ms\n");

    // The process exits 0 after the drain (and the request), within a margin.
    let status = exit(&mut child, signalled, drain + Duration::from_secs(3 + 10)).await;
    assert!(status.success(), "exit status {status}");
    assert!(
        signalled.elapsed() >= drain,
        "stopped before the drain delay"
    );
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(stdout.contains("stopped gracefully"), "{stdout}");
}

/// Starts the quickstart on a free port with `env`, and waits until it accepts connections.
async fn start_quickstart(env: &[(&str, &str)]) -> (KillOnDrop, std::net::SocketAddr) {
    let binary = quickstart_binary();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = Command::new(binary);
    // No hung dependency unless the test asks for one (a flag file of the machine's own would
    // hang the quickstart's `dependency` check).
    let no_flag =
        std::env::temp_dir().join(format!("heartbeat-e2e-no-hang-{}", std::process::id()));
    command
        .env("QUICKSTART_ADDR", address.to_string())
        .env("QUICKSTART_HANG_FLAG", no_flag)
        .env("HEALTH_URL_SECRET", "e2e")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = KillOnDrop(command.spawn().expect("start the quickstart"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(address).await.is_err() {
        assert!(Instant::now() < deadline, "the quickstart never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, address)
}

/// Waits for the child to exit, failing the test if it still runs `limit` after `signalled`.
async fn exit(
    child: &mut KillOnDrop,
    signalled: Instant,
    limit: Duration,
) -> std::process::ExitStatus {
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            signalled.elapsed() < limit,
            "still running {:?} after SIGTERM",
            signalled.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A sync check that hangs for an hour does not keep the process alive after SIGTERM: it exits
/// within its drain delay plus a second.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_check_does_not_keep_the_process_alive() {
    let flag = std::env::temp_dir().join(format!("heartbeat-e2e-hang-{}", std::process::id()));
    std::fs::write(&flag, b"").unwrap();
    let drain = Duration::from_millis(500);
    let (mut child, address) = start_quickstart(&[
        ("QUICKSTART_HANG_FLAG", flag.to_str().unwrap()),
        ("QUICKSTART_DRAIN_MS", &drain.as_millis().to_string()),
    ])
    .await;

    // The hung dependency is a named timeout, and is not started again while it hangs.
    let started = Instant::now();
    let body = http(address, "GET", "/.well-known/heartbeat/readiness", &[])
        .await
        .json();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        body["checks"]["dependency"]["message"], "timed out after 800ms",
        "{body}"
    );
    let again = http(address, "GET", "/.well-known/heartbeat/readiness", &[])
        .await
        .json();
    assert_eq!(
        again["checks"]["dependency"]["message"],
        "timed out after 800ms"
    );

    let signalled = sigterm(&child);
    let status = exit(&mut child, signalled, drain + Duration::from_secs(1)).await;
    assert!(status.success(), "exit status {status}");
    std::fs::remove_file(&flag).unwrap();
}

/// Clients that never finish their requests do not keep the process alive after SIGTERM: it
/// exits within its drain plus its grace period (and not before).
#[tokio::test(flavor = "multi_thread")]
async fn half_sent_requests_do_not_keep_the_process_alive() {
    let drain = Duration::from_millis(500);
    let grace = Duration::from_millis(1_000);
    let (mut child, address) = start_quickstart(&[
        ("QUICKSTART_DRAIN_MS", &drain.as_millis().to_string()),
        ("QUICKSTART_GRACE_MS", &grace.as_millis().to_string()),
    ])
    .await;
    // 200 clients that send half a request and wait.
    let mut half_open = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        half_open.push(stream);
    }
    let signalled = sigterm(&child);
    let status = exit(
        &mut child,
        signalled,
        drain + grace + Duration::from_secs(1),
    )
    .await;
    assert!(status.success(), "exit status {status}");
    assert!(
        signalled.elapsed() >= drain + grace,
        "the grace period was cut short"
    );
    drop(half_open);
}

/// Sends SIGTERM with the shell's builtin `kill` (no procps needed, and no unsafe signal call
/// here), and says when.
fn sigterm(child: &KillOnDrop) -> Instant {
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.0.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    Instant::now()
}
