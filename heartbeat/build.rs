//! Records facts about the build for the environ endpoint: the compiler's version, the target
//! and the profile. They are the same for the binary that links this crate.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_default();
    println!("cargo:rustc-env=HEARTBEAT_RUSTC_VERSION={version}");
    for (from, to) in [
        ("TARGET", "HEARTBEAT_TARGET"),
        ("PROFILE", "HEARTBEAT_PROFILE"),
    ] {
        let value = std::env::var(from).unwrap_or_default();
        println!("cargo:rustc-env={to}={value}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}
