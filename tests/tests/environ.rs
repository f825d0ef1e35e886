//! `/.well-known/heartbeat/environ` with `build_info!()` in a workspace member: the libraries
//! this package reaches through the workspace's real `Cargo.lock`, and this package's name and
//! version.

use std::collections::BTreeSet;

use heartbeat_tests::{Metadata, get, http, metadata, serve};
use serde_json::Value;

heartbeat::build_info!();

#[tokio::test]
async fn libraries_are_what_this_package_reaches() {
    let app: axum::Router = heartbeat::router();
    let body = get(&app, "/.well-known/heartbeat/environ").await.json();
    assert_eq!(body["status"], true, "{body}");
    assert_eq!(
        body["application"],
        serde_json::json!({ "name": "heartbeat-tests", "version": env!("CARGO_PKG_VERSION") })
    );
    // Named from the workspace root: no absolute path.
    assert_eq!(body["lockfile"], "Cargo.lock");
    assert!(body.get("libraries_note").is_none(), "{body}");

    let libraries = body["libraries"].as_object().unwrap();
    let Metadata { reached, members } = metadata(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        env!("CARGO_PKG_NAME"),
    );
    // What a build of this package resolves on this platform is listed; the lockfile also
    // holds other platforms' and features' packages, so the list may hold more.
    for (name, versions) in &reached {
        let library = libraries
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not listed"));
        let mut shown: BTreeSet<String> = BTreeSet::new();
        shown.insert(library["version"].as_str().unwrap().to_owned());
        if let Some(conflicts) = library["conflicts"].as_array() {
            shown.extend(conflicts.iter().map(|v| v.as_str().unwrap().to_owned()));
        }
        assert!(
            versions.is_subset(&shown),
            "{name}: resolved {versions:?}, shown {library}"
        );
        if versions.len() > 1 {
            assert!(
                library["conflicts"].is_array(),
                "{name} has {versions:?}: {library}"
            );
        }
    }
    // The workspace's other members (the benchmark, the ui tests, the examples) are not.
    let unreached: Vec<&String> = members
        .iter()
        .filter(|m| !reached.contains_key(*m))
        .collect();
    assert!(
        unreached.iter().any(|m| *m == "heartbeat-bench"),
        "{unreached:?}"
    );
    for member in unreached {
        assert!(!libraries.contains_key(member), "{member} is listed");
    }
    for (name, library) in libraries {
        let source = library["source"].as_str().unwrap_or_default();
        assert!(
            ["registry", "git", "path"].contains(&source),
            "{name}: {library}"
        );
    }
    assert_eq!(libraries["heartbeat"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(libraries["heartbeat"]["source"], "path");
    assert_eq!(libraries["heartbeat"]["conflicts"], Value::Null);
    assert_eq!(libraries["serde_json"]["source"], "registry");
}

/// `profile` is the cargo profile this test was built with: cargo builds it in
/// `<target>/<profile>/deps/`, `debug` for the `dev` (and `test`) profile.
#[tokio::test]
async fn profile_is_the_cargo_profile() {
    let app: axum::Router = heartbeat::router();
    let body = get(&app, "/.well-known/heartbeat/environ").await.json();
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let expected = match dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev",
        name => name,
    };
    assert_eq!(body["profile"], expected, "{body}");
    assert_eq!(body["target"], env!("HEARTBEAT_TESTS_TARGET"));
}

/// Nothing of the document but `uptime` changes from one request to the next.
#[tokio::test]
async fn only_uptime_changes() {
    let app: axum::Router = heartbeat::router();
    let mut first = get(&app, "/.well-known/heartbeat/environ").await.json();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut second = get(&app, "/.well-known/heartbeat/environ").await.json();
    let (a, b) = (
        first["uptime"].as_f64().unwrap(),
        second["uptime"].as_f64().unwrap(),
    );
    assert!(b > a, "{a} then {b}");
    first.as_object_mut().unwrap().remove("uptime");
    second.as_object_mut().unwrap().remove("uptime");
    assert_eq!(first, second);
}

/// Over TCP the answer keeps its `Content-Length` (its body is sent in parts) and is the same
/// document.
#[tokio::test]
async fn over_tcp_with_a_content_length() {
    let app: axum::Router = heartbeat::router();
    let address = serve(app.clone()).await;
    let answer = http(address, "GET", "/.well-known/heartbeat/environ", &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.header("cache-control"), "no-cache");
    assert_eq!(answer.header("transfer-encoding"), "");
    assert_eq!(
        answer.header("content-length"),
        answer.body.len().to_string()
    );
    let mut over_tcp = answer.json();
    let mut in_process = get(&app, "/.well-known/heartbeat/environ").await.json();
    over_tcp.as_object_mut().unwrap().remove("uptime");
    in_process.as_object_mut().unwrap().remove("uptime");
    assert_eq!(over_tcp, in_process);
}
