//! What the built-in checks' tests share: where the real servers are, and fake ones that refuse
//! or never answer. Each test binary uses some of these.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

/// The URL of a real server from the environment variable `var`. Tests that call it are
/// `#[ignore]`d when `var` was not set at build time (see `tests/build.rs`), so reaching here
/// without it means it was unset between building and running.
pub(crate) fn server_url(var: &str) -> String {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{var} was set when the tests were built but is not set now: run \
             `source <(bash .ci/services)` (or set it to your own server's URL) and run again"
        ),
    }
}

/// A loopback port where nothing listens: connections are refused.
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A loopback server that accepts connections and never answers, for the rest of the test.
pub(crate) async fn silent_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    address
}

/// `url` with its port replaced by `port`.
pub(crate) fn with_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (format!("{userinfo}@"), host_port),
        None => (String::new(), authority),
    };
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host);
    format!("{scheme}://{userinfo}{host}:{port}{path}")
}

/// `url` with its password replaced by `password`.
pub(crate) fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The failure message of a check's JSON object, asserting that it failed.
pub(crate) fn failure(check: &Value) -> String {
    assert_eq!(check["status"], false, "expected a failure: {check}");
    check["message"].as_str().unwrap().to_owned()
}

/// Asserts that `message` names what was tried and what happened, and holds no `secret`.
pub(crate) fn assert_message(message: &str, tried: &str, happened: &[&str], secret: Option<&str>) {
    eprintln!("message: {message}");
    assert!(
        message.contains(tried),
        "{message:?} does not say {tried:?}"
    );
    assert!(
        happened.iter().any(|h| message.contains(h)),
        "{message:?} says none of {happened:?}"
    );
    if let Some(secret) = secret {
        assert!(!message.contains(secret), "{message:?} leaks the password");
    }
}

/// Asserts that `elapsed` is about `timeout`: it struck, and not much later.
pub(crate) fn assert_timed_out_in(elapsed: Duration, timeout: Duration) {
    assert!(
        elapsed >= timeout,
        "gave up after {elapsed:?}, before {timeout:?}"
    );
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "took {elapsed:?}, long past {timeout:?}"
    );
}
