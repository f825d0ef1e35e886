//! Whether `build_info!()` is compiled into a library, told by the variables cargo sets for
//! rustc, which the macro reads as rustc runs it: `CARGO_CRATE_NAME` for every target cargo
//! compiles, `CARGO_BIN_NAME` for a binary or an example only. Rustdoc sets
//! `UNSTABLE_RUSTDOC_TEST_PATH` when it compiles a doctest as a crate of its own. Integration
//! tests, benches and a library's unit tests are compiled with `cfg(test)`, under which the
//! expansion leaves the warning out.

use std::path::Path;

/// Whether the crate being compiled is the library of a package that has no binary target: a
/// library that another package's binary links, whose name and lockfile `build_info!()` would
/// then report as the application's. `false` whenever the variables do not tell (a doctest, a
/// build that cargo does not drive), so that a binary is never warned.
pub(crate) fn library_without_binary() -> bool {
    let set = |key: &str| std::env::var_os(key).is_some();
    set("CARGO_CRATE_NAME")
        && !set("CARGO_BIN_NAME")
        && !set("UNSTABLE_RUSTDOC_TEST_PATH")
        && std::env::var_os("CARGO_MANIFEST_DIR").is_some_and(|dir| !has_binary(Path::new(&dir)))
}

/// Whether the package in `dir` has a binary target: cargo's default `src/main.rs` or
/// `src/bin/`, or a `[[bin]]` in its manifest. `true` when the manifest cannot be read.
fn has_binary(dir: &Path) -> bool {
    let src = dir.join("src");
    src.join("main.rs").is_file()
        || src.join("bin").is_dir()
        || std::fs::read_to_string(dir.join("Cargo.toml"))
            .map_or(true, |manifest| declares_binary(&manifest))
}

/// Whether a manifest declares a `[[bin]]` target (`true` when it is not TOML).
fn declares_binary(manifest: &str) -> bool {
    manifest.parse::<toml::Table>().map_or(true, |table| {
        table
            .get("bin")
            .and_then(toml::Value::as_array)
            .is_some_and(|bins| !bins.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::declares_binary;

    #[test]
    fn a_bin_table_declares_a_binary() {
        assert!(declares_binary(
            "[package]\nname = \"app\"\n\n[[bin]]\nname = \"app\"\npath = \"main.rs\"\n"
        ));
        assert!(!declares_binary(
            "[package]\nname = \"lib\"\n\n[lib]\npath = \"lib.rs\"\n"
        ));
        assert!(!declares_binary("bin = []\n\n[package]\nname = \"lib\"\n"));
        assert!(declares_binary("not = [toml"));
    }
}
