//! A real Prometheus server (Debian's `prometheus`, `HEARTBEAT_TEST_PROMETHEUS`) scrapes a
//! test app's protected metrics every second, with the Bearer token of the README's scrape
//! config; `heartbeat_check_up` and `heartbeat_check_level` are read back through its HTTP
//! API. Prometheus asks for OpenMetrics first, so this is the OpenMetrics exposition's test.

mod prometheus_support;

use std::time::{Duration, Instant};

use heartbeat::{Check, Heartbeat, Outcome};
use heartbeat_tests::{get, serve};
use prometheus_support::Prometheus;
use serde_json::Value;

const SECRET: &str = "scrape-s3cret";

/// `name` label → value of each series of a query's result.
fn by_name(result: &[Value]) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = result
        .iter()
        .map(|series| {
            let name = series["metric"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let value = series["value"][1].as_str().unwrap_or_default().to_owned();
            (name, value)
        })
        .collect();
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(heartbeat_prometheus),
    ignore = "needs Prometheus: HEARTBEAT_TEST_PROMETHEUS was not set at build time (source <(bash .ci/services))"
)]
async fn prometheus_scrapes_up_and_level() {
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .health_secret(SECRET)
        .protect_metrics()
        .metrics_path("/metrics")
        .readiness(Check::new("database", || true))
        .readiness(Check::new("disk", || Outcome::warn("91% full")))
        .liveliness(Check::new("worker", || false))
        .health_check(Check::new("never_probed", || true))
        .into_router();
    assert_eq!(
        get(&app, "/.well-known/heartbeat/readiness").await.status,
        200
    );
    assert_eq!(
        get(&app, "/.well-known/heartbeat/liveliness").await.status,
        500
    );
    let address = serve(app).await;

    let prometheus = Prometheus::start(&format!(
        "  - job_name: heartbeat\n    metrics_path: /metrics\n    authorization:\n      credentials: {SECRET}\n    static_configs:\n      - targets: ['{address}']\n"
    ))
    .await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let up = loop {
        let up = prometheus.query("heartbeat_check_up").await;
        if up.len() == 4 {
            break up;
        }
        let target = prometheus.query("up{job=\"heartbeat\"}").await;
        assert!(
            Instant::now() < deadline,
            "no scrape within 30 s; up: {target:?}\n{}",
            prometheus.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        by_name(&up),
        [
            ("database".to_owned(), "1".to_owned()),
            ("disk".to_owned(), "1".to_owned()),
            ("never_probed".to_owned(), "0".to_owned()),
            ("worker".to_owned(), "0".to_owned()),
        ]
    );
    let kinds: Vec<&str> = up
        .iter()
        .map(|s| s["metric"]["kind"].as_str().unwrap_or_default())
        .collect();
    assert!(
        kinds.contains(&"liveliness") && kinds.contains(&"health"),
        "{kinds:?}"
    );

    let current = prometheus.query("heartbeat_check_level == 1").await;
    let levels: Vec<(String, String)> = {
        let mut levels: Vec<(String, String)> = current
            .iter()
            .map(|s| {
                (
                    s["metric"]["name"].as_str().unwrap_or_default().to_owned(),
                    s["metric"]["level"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        levels.sort();
        levels
    };
    assert_eq!(
        levels,
        [
            ("database".to_owned(), "pass".to_owned()),
            ("disk".to_owned(), "warn".to_owned()),
            ("never_probed".to_owned(), "unknown".to_owned()),
            ("worker".to_owned(), "fail".to_owned()),
        ]
    );
    assert_eq!(prometheus.query("heartbeat_check_level").await.len(), 16);

    // The target is healthy: the scrape, with its Bearer token, parsed.
    let target = prometheus.query("up{job=\"heartbeat\"}").await;
    assert_eq!(target.len(), 1, "{target:?}");
    assert_eq!(target[0]["value"][1], "1", "{target:?}");
    let runs = prometheus
        .query("heartbeat_check_runs_total{name=\"worker\",result=\"fail\"}")
        .await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["value"][1], "1");
    let build = prometheus.query("heartbeat_build_info").await;
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0]["metric"]["version"], env!("CARGO_PKG_VERSION"));
    drop(prometheus);
}
