//! `/.well-known/heartbeat/environ` with `build_info!()` in a workspace member: the libraries
//! of the workspace's real `Cargo.lock`, and this package's name and version.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use heartbeat_tests::get;
use serde_json::Value;

heartbeat::build_info!();

/// Every package cargo resolves for this workspace on this platform: name → versions.
///
/// `--filter-platform` keeps cargo to what a build for this target needs (the lockfile also
/// holds wasm and Windows packages, which it would otherwise download); cargo may download, as
/// a build does, so this works with an empty cache.
fn resolved_packages() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target = env!("HEARTBEAT_TESTS_TARGET");
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", target])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        packages
            .entry(package["name"].as_str().unwrap().to_owned())
            .or_default()
            .insert(package["version"].as_str().unwrap().to_owned());
    }
    packages
}

#[tokio::test]
async fn libraries_match_the_workspace_lockfile() {
    let app: axum::Router = heartbeat::router();
    let body = get(&app, "/.well-known/heartbeat/environ").await.json();
    assert_eq!(body["status"], true, "{body}");
    assert_eq!(
        body["application"],
        serde_json::json!({ "name": "heartbeat-tests", "version": env!("CARGO_PKG_VERSION") })
    );
    let workspace_lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("Cargo.lock");
    assert_eq!(body["lockfile"], workspace_lock.to_str().unwrap());
    assert!(body.get("libraries_note").is_none(), "{body}");

    let libraries = body["libraries"].as_object().unwrap();
    // `cargo metadata` lists what this platform's build resolves; the lockfile holds every
    // platform's packages too, so it is a superset.
    for (name, versions) in resolved_packages() {
        let library = libraries
            .get(&name)
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
    assert_eq!(libraries["heartbeat"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(libraries["heartbeat"]["conflicts"], Value::Null);
}
