//! `build_info!()` in a library crate warns at the call: the library's name would be reported
//! as the application of whichever binary links it. It does not warn in a binary, an example,
//! an integration test, a bench, the library's own unit tests, the library of a package that
//! has a binary, a doctest (a crate that denies warnings in its doctests still passes), or
//! under `#[allow(deprecated)]`.
//!
//! This builds a small workspace with cargo, offline, in `target/standalone` (shared with the
//! other tests that build crates, so heartbeat's dependencies are built once).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const WORKSPACE: &str = r#"
[workspace]
resolver = "3"
members = ["checks", "app"]

[workspace.dependencies]
heartbeat = { path = "HEARTBEAT" }
"#;

/// A library of checks that also, by mistake, says what the application is; its other targets
/// (an example, an integration test, a bench) have their own `build_info!()`.
const CHECKS_MANIFEST: &str = r#"
[package]
name = "warned-checks"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
heartbeat.workspace = true

# As criterion's are: a binary without the test harness (cargo still sets `cfg(test)`).
[[bench]]
name = "bench"
harness = false
"#;

/// The line of `build_info!()` in [`CHECKS_LIB`].
const CHECKS_LINE: u64 = 8;
const CHECKS_LIB: &str = r#"//! Checks.
//!
//! ```
//! heartbeat::build_info!();
//! ```
#![doc(test(attr(deny(warnings))))]

heartbeat::build_info!();

// On purpose (a cdylib that is the application): no warning.
#[allow(deprecated)]
mod on_purpose {
    heartbeat::build_info!();
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds() {}
}
"#;

/// A package with a library and a binary, each with its own `build_info!()`.
const APP_MANIFEST: &str = r#"
[package]
name = "quiet-app"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
heartbeat.workspace = true
"#;

const BUILD_INFO: &str = "heartbeat::build_info!();\n";
const BUILD_INFO_AND_MAIN: &str = "heartbeat::build_info!();\n\nfn main() {}\n";

/// The messages of `build_info!()`'s warning that `cargo <args> --message-format=json`
/// printed; panics when cargo fails.
fn warnings(dir: &Path, args: &[&str]) -> Vec<Value> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .args(["--offline", "--message-format=json"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace.join("target/standalone"));
    // Only cargo decides what kind of target each crate is.
    for inherited in [
        "CARGO_BIN_NAME",
        "CARGO_TARGET_TMPDIR",
        "CARGO_CRATE_NAME",
        "UNSTABLE_RUSTDOC_TEST_PATH",
    ] {
        command.env_remove(inherited);
    }
    let output = command.output().expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-message")
        .filter(|message| {
            message["message"]["message"]
                .as_str()
                .is_some_and(|text| text.contains("build_info!()"))
        })
        .collect()
}

#[test]
fn build_info_warns_in_a_library_only() {
    let heartbeat = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("heartbeat");
    let root = std::env::temp_dir().join(format!("heartbeat-in-a-library-{}", std::process::id()));
    let files = [
        (
            "Cargo.toml",
            WORKSPACE.replace("HEARTBEAT", heartbeat.to_str().unwrap()),
        ),
        // A library package: its example, integration test and bench are binaries of their own.
        ("checks/Cargo.toml", CHECKS_MANIFEST.to_owned()),
        ("checks/src/lib.rs", CHECKS_LIB.to_owned()),
        ("checks/examples/tour.rs", BUILD_INFO_AND_MAIN.to_owned()),
        ("checks/tests/integration.rs", BUILD_INFO.to_owned()),
        ("checks/benches/bench.rs", BUILD_INFO_AND_MAIN.to_owned()),
        // A package with a binary: its library's name is the application's.
        ("app/Cargo.toml", APP_MANIFEST.to_owned()),
        ("app/src/lib.rs", BUILD_INFO.to_owned()),
        ("app/src/main.rs", BUILD_INFO_AND_MAIN.to_owned()),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // Resolve with the versions this workspace uses, so that nothing is downloaded.
    let lockfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(lockfile, root.join("Cargo.lock")).unwrap();

    let library = warnings(&root, &["build", "-p", "warned-checks", "--lib"]);
    let unit_tests = warnings(&root, &["test", "--no-run", "-p", "warned-checks", "--lib"]);
    // Every target; the library itself is built too, for the others (its warning is above).
    let mut others = warnings(&root, &["build", "--workspace", "--all-targets"]);
    others.retain(|message| {
        message["target"]["name"] != "warned_checks" || message["target"]["kind"][0] != "lib"
    });
    // The doctest denies warnings: this fails if it warns.
    warnings(&root, &["test", "--doc", "-p", "warned-checks"]);
    std::fs::remove_dir_all(&root).unwrap();

    assert_eq!(library.len(), 1, "{library:#?}");
    let warning = &library[0];
    assert_eq!(warning["target"]["name"], "warned_checks");
    assert_eq!(warning["message"]["level"], "warning");
    let text = warning["message"]["message"].as_str().unwrap();
    assert!(
        text.contains(
            "`heartbeat::build_info!()` is in a library crate: it would report `warned-checks` \
             as the application"
        ),
        "{text}"
    );
    assert!(
        text.contains("move it to the binary crate's main.rs"),
        "{text}"
    );
    let span = &warning["message"]["spans"][0];
    assert!(
        span["file_name"]
            .as_str()
            .unwrap()
            .ends_with("checks/src/lib.rs"),
        "{span}"
    );
    assert_eq!(span["line_start"], CHECKS_LINE, "{span}");

    assert!(unit_tests.is_empty(), "{unit_tests:#?}");
    assert!(others.is_empty(), "{others:#?}");
}
