//! Records facts about the build for the environ endpoint: the compiler's version, the target
//! and the cargo profile. They are the same for the binary that links this crate.

use std::path::Path;
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
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=HEARTBEAT_TARGET={target}");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!(
        "cargo:rustc-env=HEARTBEAT_PROFILE={}",
        profile_name(&out_dir, &profile)
    );
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}

/// The cargo profile's name. `PROFILE` only says `debug` or `release` (`release` for a
/// `release-lto` build), but cargo builds each profile in a directory of its own,
/// `<target dir>/[<triple>/]<profile>/build/heartbeat-<hash>/out`, so `OUT_DIR` names it. The
/// `dev` profile's directory is `debug` (the `test` profile shares it, and `bench` shares
/// `release`'s): that one is reported as `dev`, the profile's name.
fn profile_name(out_dir: &str, profile: &str) -> String {
    let from_dir = Path::new(out_dir)
        .ancestors()
        .skip_while(|dir| dir.file_name().is_none_or(|name| name != "build"))
        .nth(1)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str());
    match from_dir.unwrap_or(profile) {
        "debug" => "dev".to_owned(),
        name => name.to_owned(),
    }
}
