//! `build_info!()` in a standalone application crate outside this workspace: it finds that
//! crate's own `Cargo.lock`, and a crate linked in two versions is shown as a conflict.
//!
//! This builds a real crate with cargo (in `target/standalone`, reused between runs).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const MANIFEST: &str = r#"
[package]
name = "standalone-app"
version = "1.2.3"
edition = "2024"
publish = false

[dependencies]
heartbeat = { path = "HEARTBEAT" }
axum = { version = "0.8.9", default-features = false }
tokio = { version = "1.54", default-features = false, features = ["rt", "macros"] }
tower = { version = "0.5.3", default-features = false, features = ["util"] }
# serde_json links itoa 1; this is the second, semver-incompatible copy.
itoa = "0.4"

[workspace]
"#;

const MAIN: &str = r#"
use tower::ServiceExt;

heartbeat::build_info!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let app: axum::Router = heartbeat::router();
    let request = axum::http::Request::get("/.well-known/heartbeat/environ")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    println!("{}", String::from_utf8(body.to_vec()).unwrap());
    let _ = itoa::Buffer::new();
}
"#;

#[test]
fn a_standalone_crate_reports_its_own_lockfile_and_conflicts() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = std::env::temp_dir().join(format!("heartbeat-standalone-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let heartbeat = workspace.join("heartbeat");
    let manifest = MANIFEST.replace("HEARTBEAT", heartbeat.to_str().unwrap());
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    // Resolve with the same versions this workspace uses where they overlap.
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["run", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", workspace.join("target/standalone"))
        .env_remove("HEALTH_URL_SECRET")
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body: Value = serde_json::from_str(stdout.trim()).unwrap();
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    assert_eq!(body["application"]["name"], "standalone-app");
    assert_eq!(body["application"]["version"], "1.2.3");
    assert_eq!(body["lockfile"], dir.join("Cargo.lock").to_str().unwrap());
    let libraries = &body["libraries"];
    assert_eq!(libraries["standalone-app"]["version"], "1.2.3");
    let itoa = &libraries["itoa"];
    assert!(
        itoa["version"].as_str().unwrap().starts_with("1."),
        "{itoa}"
    );
    let conflicts = itoa["conflicts"].as_array().expect("itoa is linked twice");
    assert_eq!(conflicts.len(), 1, "{itoa}");
    assert!(conflicts[0].as_str().unwrap().starts_with("0.4."), "{itoa}");
    // Every package of the lockfile is listed.
    let packages = lock.matches("[[package]]").count();
    let listed: usize = libraries
        .as_object()
        .unwrap()
        .values()
        .map(|l| 1 + l["conflicts"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(listed, packages);
}
