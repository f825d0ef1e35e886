//! `build_info!()` in a standalone application crate outside this workspace, built with cargo:
//! it reads that crate's own `Cargo.lock` and lists what the application reaches through it,
//! with its sources: a git dependency (a local repository made here), path dependencies, a
//! crate linked in two versions, the same crate name from three sources, a pre-release and build
//! metadata. A member of its workspace that the application does not depend on is not listed,
//! and the lockfile's text is not in the binary.
//!
//! This builds a real crate with cargo (in `target/standalone`, reused between runs); only
//! crates.io is needed, and nothing of the cargo cache.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

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
# One crate name from three sources: a git repository and two directories.
fork_git = { package = "hb-fork", git = "GIT" }
fork_path = { package = "hb-fork", path = "../fork-path" }
fork_rc9 = { package = "hb-fork", path = "../fork-rc9" }
# Build metadata in a version.
hb-meta = { path = "../meta" }

[workspace]
members = [".", "tool"]
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
    let _ = (fork_git::FROM, fork_path::FROM, fork_rc9::FROM, hb_meta::FROM);
}
"#;

/// Writes a library crate `name version` in `dir` whose `FROM` says where it came from.
fn library(dir: &Path, name: &str, version: &str, from: &str, dependencies: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2024\"\n\n[dependencies]\n{dependencies}\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let lib =
        format!("//! A fixture.\n\n/// Where it came from.\npub const FROM: &str = \"{from}\";\n");
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=heartbeat",
            "-c",
            "user.email=heartbeat@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_standalone_crate_reports_what_it_reaches_through_its_own_lockfile() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let root = std::env::temp_dir().join(format!("heartbeat-standalone-{}", std::process::id()));
    let app = root.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();

    let fork_git = root.join("fork-git");
    library(&fork_git, "hb-fork", "1.0.0-rc.10", "git", "");
    git(&fork_git, &["init", "--quiet"]);
    git(&fork_git, &["add", "."]);
    git(&fork_git, &["commit", "--quiet", "-m", "a fork"]);
    library(
        &root.join("fork-path"),
        "hb-fork",
        "1.0.0-rc.10",
        "path",
        "",
    );
    library(&root.join("fork-rc9"), "hb-fork", "1.0.0-rc.9", "rc9", "");
    library(&root.join("meta"), "hb-meta", "0.3.0+local.7", "meta", "");
    // A member of the application's workspace, and its dependency, that it does not reach.
    library(
        &app.join("tool"),
        "standalone-tool",
        "0.1.0",
        "tool",
        "hb-only-tool = { path = \"../../only-tool\" }",
    );
    library(&root.join("only-tool"), "hb-only-tool", "0.1.0", "tool", "");

    let git_url = format!("file://{}", fork_git.to_str().unwrap());
    let heartbeat = workspace.join("heartbeat");
    let manifest = MANIFEST
        .replace("HEARTBEAT", heartbeat.to_str().unwrap())
        .replace("GIT", &git_url);
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(app.join("src/main.rs"), MAIN).unwrap();
    // Resolve with the same versions this workspace uses where they overlap.
    std::fs::copy(workspace.join("Cargo.lock"), app.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target_dir = workspace.join("target/standalone");
    let output = Command::new(&cargo)
        .args(["run", "--quiet", "-p", "standalone-app"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", &target_dir)
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
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let reached = heartbeat_tests::metadata(&app, "standalone-app").reached;
    std::fs::remove_dir_all(&root).unwrap();

    assert_eq!(body["application"]["name"], "standalone-app");
    assert_eq!(body["application"]["version"], "1.2.3");
    assert_eq!(body["lockfile"], "Cargo.lock");
    assert_eq!(body["profile"], "dev");
    let libraries = body["libraries"].as_object().unwrap();
    assert_eq!(
        libraries["standalone-app"],
        json!({ "version": "1.2.3", "source": "path", "conflicts": null })
    );
    let itoa = &libraries["itoa"];
    assert_eq!(itoa["source"], "registry");
    assert!(
        itoa["version"].as_str().unwrap().starts_with("1."),
        "{itoa}"
    );
    let conflicts = itoa["conflicts"].as_array().expect("itoa is linked twice");
    assert_eq!(conflicts.len(), 1, "{itoa}");
    assert!(conflicts[0].as_str().unwrap().starts_with("0.4."), "{itoa}");
    // rc.10 after rc.9; the git and path copies of the same version both kept.
    assert_eq!(
        libraries["hb-fork"],
        json!({ "version": "1.0.0-rc.10", "source": "git",
                "conflicts": ["1.0.0-rc.10 (path)", "1.0.0-rc.9 (path)"] }),
        "{lock}"
    );
    assert_eq!(
        libraries["hb-meta"],
        json!({ "version": "0.3.0+local.7", "source": "path", "conflicts": null })
    );
    assert!(lock.contains("name = \"standalone-tool\""), "{lock}");
    assert!(lock.contains("name = \"hb-only-tool\""), "{lock}");
    assert!(!libraries.contains_key("standalone-tool"), "{body}");
    assert!(!libraries.contains_key("hb-only-tool"), "{body}");

    // Everything a build for this platform resolves is listed with its versions.
    for (name, versions) in &reached {
        let library = libraries
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not listed"));
        let mut shown = BTreeSet::from([library["version"].as_str().unwrap().to_owned()]);
        for conflict in library["conflicts"].as_array().into_iter().flatten() {
            let conflict = conflict.as_str().unwrap();
            shown.insert(conflict.split(' ').next().unwrap().to_owned());
        }
        assert!(
            versions.is_subset(&shown),
            "{name}: {versions:?}, {library}"
        );
    }

    // The lockfile's text is not in the binary: only the table computed from it.
    let binary = std::fs::read(target_dir.join("debug/standalone-app")).unwrap();
    let contains = |needle: &[u8]| binary.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"1.0.0-rc.10 (path)"));
    assert!(!contains(b"[[package]]"));
    assert!(!contains(b"checksum = \""));
}
