//! Decides, when the tests are built, which real servers they can reach: a test that needs a
//! server is `#[ignore]`d (with the reason) unless its URL was set, so that `cargo test` reports
//! it as ignored instead of passing it without a server. `source <(bash ../.ci/services)` sets
//! the URLs; with `HEARTBEAT_REQUIRE_SERVERS=1` (CI) a missing URL stops the build.

/// Each server: the environment variable with its URL (for Prometheus: the path of its
/// binary, which the tests start themselves; for Chromium too), and the `cfg` set when it is there.
const SERVERS: [(&str, &str); 5] = [
    ("HEARTBEAT_TEST_POSTGRES_URL", "heartbeat_postgres"),
    ("HEARTBEAT_TEST_MYSQL_URL", "heartbeat_mysql"),
    ("HEARTBEAT_TEST_REDIS_URL", "heartbeat_redis"),
    ("HEARTBEAT_TEST_PROMETHEUS", "heartbeat_prometheus"),
    // The browser that renders the HTML page (the path of Debian's `chromium`).
    ("HEARTBEAT_TEST_CHROMIUM", "heartbeat_chromium"),
];

const REQUIRE_SERVERS: &str = "HEARTBEAT_REQUIRE_SERVERS";

fn main() {
    println!("cargo:rerun-if-env-changed={REQUIRE_SERVERS}");
    let required = std::env::var(REQUIRE_SERVERS).is_ok_and(|v| v == "1");
    let mut missing = Vec::new();
    for (var, cfg) in SERVERS {
        println!("cargo:rerun-if-env-changed={var}");
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        if std::env::var(var).is_ok_and(|url| !url.trim().is_empty()) {
            println!("cargo:rustc-cfg={cfg}");
        } else {
            missing.push(var);
        }
    }
    assert!(
        !required || missing.is_empty(),
        "{REQUIRE_SERVERS}=1 but {} not set: run `source <(bash .ci/services)` first",
        missing.join(", ")
    );
    // The platform the tests run on, for `cargo metadata --filter-platform`.
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=HEARTBEAT_TESTS_TARGET={target}");
}
