//! Helpers for the integration tests: ask a router in process (`oneshot`) or over real TCP.
//!
//! This crate registers no check: every test binary in `tests/` declares its own set, because
//! registration is global to a binary.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// An answer, from either path.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON; panics with the body's text when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A check that passes while `up` is true, and fails with "down" otherwise: a level to change
/// at will.
pub fn switch(name: &str, up: &Arc<std::sync::atomic::AtomicBool>) -> heartbeat::Check {
    let up = Arc::clone(up);
    heartbeat::Check::new_async(name, move || {
        let up = up.load(std::sync::atomic::Ordering::SeqCst);
        async move { if up { Ok(()) } else { Err("down") } }
    })
}

/// `GET uri` through the router in process.
pub async fn get(app: &Router, uri: &str) -> Answer {
    request(app, Method::GET, uri, &[]).await
}

/// Any request through the router in process.
pub async fn request(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Body::empty()).expect("a valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.expect("a body");
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.to_vec(),
    }
}

/// Serves `app` on a free loopback port for the rest of the test.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// A real HTTP/1.1 request over TCP, with `Connection: close`, so the whole stack is exercised.
pub async fn http(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("a status line, got {status_line:?}"));
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name: axum::http::HeaderName = name.trim().parse().expect("a header name");
            headers.append(name, value.trim().parse().expect("a header value"));
        }
    }
    Answer {
        status: StatusCode::from_u16(code).expect("a status code"),
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Runs the ignored test `name` of the current test binary in a child process with `env` set
/// (a value of `None` removes the variable), and returns whether it passed, with its output.
/// Environment variables are process-wide, so tests that depend on one run alone this way.
pub fn run_alone(name: &str, env: &[(&str, Option<&str>)]) -> (bool, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let output = command.output().expect("run the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success() && text.contains("1 passed"), text)
}

/// What `cargo metadata` says of the package `root` in `dir`, for this platform.
pub struct Metadata {
    /// Every package `root` reaches (any kind of dependency, itself included): name → versions.
    pub reached: BTreeMap<String, BTreeSet<String>>,
    /// The names of the workspace's members.
    pub members: BTreeSet<String>,
}

/// Runs `cargo metadata` in `dir` for the platform the tests run on and walks its resolve graph
/// from `root`. `--filter-platform` keeps cargo to what a build for this target needs (a
/// lockfile also holds wasm and Windows packages, which it would otherwise download); cargo may
/// download, as a build does, so this works with an empty cache.
pub fn metadata(dir: &Path, root: &str) -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", env!("HEARTBEAT_TESTS_TARGET")])
        .current_dir(dir)
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo's JSON");
    let text = |value: &Value| value.as_str().expect("a string").to_owned();
    let packages: BTreeMap<String, (String, String)> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (text(&p["id"]), (text(&p["name"]), text(&p["version"]))))
        .collect();
    let members = metadata["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .map(|id| packages[&text(id)].0.clone())
        .collect();
    let edges: BTreeMap<String, Vec<String>> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|node| {
            let deps = node["deps"].as_array().expect("deps");
            (
                text(&node["id"]),
                deps.iter().map(|d| text(&d["pkg"])).collect(),
            )
        })
        .collect();
    let start = packages
        .iter()
        .find(|(_, (name, _))| name == root)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("{root} is not in cargo metadata's packages"));
    let mut seen = BTreeSet::from([start.clone()]);
    let mut queue = vec![start];
    while let Some(id) = queue.pop() {
        for next in &edges[&id] {
            if seen.insert(next.clone()) {
                queue.push(next.clone());
            }
        }
    }
    let mut reached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in seen {
        let (name, version) = &packages[&id];
        reached
            .entry(name.clone())
            .or_default()
            .insert(version.clone());
    }
    Metadata { reached, members }
}

/// Everything this test binary logged so far (INFO and above, no colours): the first call
/// installs a [`Captured`] writer as the binary's global `tracing` subscriber, so call it once
/// before anything logs.
pub fn logged() -> String {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        log
    })
    .text()
}

/// A log writer that keeps everything written to it, for tests that read the log
/// (`tracing_subscriber::fmt().with_writer(move || captured.clone())`).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What was written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// The workspace README's examples, compiled as doctests of this crate, and run unless marked
// `no_run` (the servers) or `ignore` (one line naming the reader's own crate of checks). They
// use sqlx, reqwest, heartbeat's `postgres` and `grpc` features: this crate has them with its
// default features `builtin` and `grpc`, which `cargo test --workspace` (the README's command,
// and `.ci/run`'s) builds; without them (CI's MSRV run) they are left out rather than failing
// on a missing crate.
// They are not heartbeat's doctests because the README is outside heartbeat's package and its
// examples need features heartbeat does not enable by default. Each example that builds a
// router is `standalone_crate`: merged doctests share one binary, and registration is global to
// a binary. An indented block is a doctest too: fence a formula as ```text.
#[cfg(all(doctest, feature = "builtin", feature = "grpc"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
