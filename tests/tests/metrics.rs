//! The metrics endpoint (SPEC §13): every series of every served check from the start, read
//! from the checks' states without running them; runs counted once each; the Prometheus text
//! format and OpenMetrics by `Accept`; the path rules and the secret; `promtool check metrics`
//! (Debian's `prometheus` package, `HEARTBEAT_TEST_PROMETHEUS`).

mod prometheus_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heartbeat::{Check, Heartbeat, Outcome};
use heartbeat_tests::{get, http, request, serve};

const READINESS: &str = "/.well-known/heartbeat/readiness";
const LIVELINESS: &str = "/.well-known/heartbeat/liveliness";
const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Runs of the registered readiness check `registered`: a scrape must never add one.
static REGISTERED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[heartbeat::readiness_probe(name = "registered")]
fn registered() -> bool {
    REGISTERED_RUNS.fetch_add(1, Ordering::SeqCst);
    true
}

#[heartbeat::health_check(name = "background", every = "50ms")]
async fn background() -> Outcome {
    Outcome::warn("half full")
}

/// Only run-time checks.
fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .metrics_path("/metrics")
}

/// The value of the one sample line that starts with `series` followed by a space.
fn value(text: &str, series: &str) -> f64 {
    let values: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .collect();
    assert_eq!(values.len(), 1, "{series} in:\n{text}");
    values[0].parse().unwrap()
}

#[tokio::test]
async fn every_series_of_every_registered_check_exists_before_any_probe_and_a_scrape_runs_none() {
    let app: axum::Router = Heartbeat::new()
        .no_health_secret()
        .metrics_path("/metrics")
        .into_router();
    let answer = get(&app, "/metrics").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(answer.header("cache-control"), "no-cache");
    let text = answer.text();
    let labels = r#"kind="readiness",name="registered""#;
    assert_eq!(
        value(&text, &format!("heartbeat_check_up{{{labels}}}")),
        0.0
    );
    for (level, expected) in [
        ("pass", 0.0),
        ("warn", 0.0),
        ("fail", 0.0),
        ("unknown", 1.0),
    ] {
        let series = format!("heartbeat_check_level{{{labels},level=\"{level}\"}}");
        assert_eq!(value(&text, &series), expected, "{series}");
    }
    for le in ["0.005", "0.01", "0.1", "1.0", "10.0", "+Inf"] {
        let series = format!("heartbeat_check_duration_seconds_bucket{{{labels},le=\"{le}\"}}");
        assert_eq!(value(&text, &series), 0.0);
    }
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_sum{{{labels}}}")
        ),
        0.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_count{{{labels}}}")
        ),
        0.0
    );
    for result in ["pass", "warn", "fail"] {
        let series = format!("heartbeat_check_runs_total{{{labels},result=\"{result}\"}}");
        assert_eq!(value(&text, &series), 0.0);
    }
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_last_success_timestamp_seconds{{{labels}}}")
        ),
        0.0
    );
    // The background check has the same series; it is unknown until its first run ends.
    assert!(text.contains(r#"heartbeat_check_up{kind="health",name="background"} "#));
    let build = text
        .lines()
        .find(|line| line.starts_with("heartbeat_build_info{"))
        .unwrap();
    assert!(
        build.starts_with(&format!(
            "heartbeat_build_info{{version=\"{}\",rustc=\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{build}"
    );
    assert!(build.ends_with(",profile=\"dev\"} 1"), "{build}");

    for _ in 0..3 {
        get(&app, "/metrics").await;
    }
    assert_eq!(
        REGISTERED_RUNS.load(Ordering::SeqCst),
        0,
        "a scrape ran a check"
    );

    // A probe runs it: the scrape now reads its state.
    assert_eq!(get(&app, READINESS).await.status, 200);
    assert_eq!(REGISTERED_RUNS.load(Ordering::SeqCst), 1);
    let text = get(&app, "/metrics").await.text();
    assert_eq!(
        value(&text, &format!("heartbeat_check_up{{{labels}}}")),
        1.0
    );
    let series = format!("heartbeat_check_level{{{labels},level=\"pass\"}}");
    assert_eq!(value(&text, &series), 1.0);
    let series = format!("heartbeat_check_runs_total{{{labels},result=\"pass\"}}");
    assert_eq!(value(&text, &series), 1.0);
    assert_eq!(
        REGISTERED_RUNS.load(Ordering::SeqCst),
        1,
        "a scrape ran a check"
    );

    // The background check's first run, read without a request to /health/.
    let bg = r#"kind="health",name="background""#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = get(&app, "/metrics").await.text();
        if value(
            &text,
            &format!("heartbeat_check_level{{{bg},level=\"warn\"}}"),
        ) == 1.0
        {
            assert_eq!(value(&text, &format!("heartbeat_check_up{{{bg}}}")), 1.0);
            let series = format!("heartbeat_check_runs_total{{{bg},result=\"warn\"}}");
            assert!(value(&text, &series) >= 1.0);
            break;
        }
        assert_eq!(
            value(
                &text,
                &format!("heartbeat_check_level{{{bg},level=\"unknown\"}}")
            ),
            1.0
        );
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn levels_runs_durations_and_the_last_success_follow_the_runs() {
    let app: axum::Router = bare()
        .default_cache(Duration::ZERO)
        .readiness(Check::new_async("ok", || async { true }))
        .readiness(Check::new_async("soft", || async { false }).critical(false))
        .liveliness(Check::new_async("broken", || async {
            Err::<(), _>("connection refused")
        }))
        .into_router();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    for _ in 0..3 {
        assert_eq!(get(&app, READINESS).await.status, 200);
    }
    assert_eq!(get(&app, LIVELINESS).await.status, 500);
    let text = get(&app, "/metrics").await.text();

    let ok = r#"kind="readiness",name="ok""#;
    assert_eq!(value(&text, &format!("heartbeat_check_up{{{ok}}}")), 1.0);
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{ok},result=\"pass\"}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_count{{{ok}}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_bucket{{{ok},le=\"+Inf\"}}")
        ),
        3.0
    );
    // Three near-instant runs: in the first bucket.
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_bucket{{{ok},le=\"0.005\"}}")
        ),
        3.0
    );
    let last = value(
        &text,
        &format!("heartbeat_check_last_success_timestamp_seconds{{{ok}}}"),
    );
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(
        before.as_secs_f64() - 0.01 <= last && last <= after.as_secs_f64() + 0.01,
        "{before:?} <= {last} <= {after:?}"
    );

    // critical = false: the failure shows as warn and is up; the run counts as a failure.
    let soft = r#"kind="readiness",name="soft""#;
    assert_eq!(value(&text, &format!("heartbeat_check_up{{{soft}}}")), 1.0);
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_level{{{soft},level=\"warn\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_level{{{soft},level=\"fail\"}}")
        ),
        0.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{soft},result=\"fail\"}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{soft},result=\"warn\"}}")
        ),
        0.0
    );

    let broken = r#"kind="liveliness",name="broken""#;
    assert_eq!(
        value(&text, &format!("heartbeat_check_up{{{broken}}}")),
        0.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_level{{{broken},level=\"fail\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{broken},result=\"fail\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_last_success_timestamp_seconds{{{broken}}}")
        ),
        0.0
    );
}

#[tokio::test]
async fn a_timed_out_run_counts_once_with_its_timeout_even_when_its_result_comes_late() {
    let app: axum::Router = bare()
        .readiness(
            Check::new("slow", || {
                std::thread::sleep(Duration::from_millis(300));
                true
            })
            .timeout(Duration::from_millis(40)),
        )
        .into_router();
    assert_eq!(get(&app, READINESS).await.status, 500);
    // The late result replaces the recorded timeout: still one run.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let text = get(&app, "/metrics").await.text();
    let slow = r#"kind="readiness",name="slow""#;
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{slow},result=\"fail\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_runs_total{{{slow},result=\"pass\"}}")
        ),
        0.0
    );
    assert_eq!(
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_count{{{slow}}}")
        ),
        1.0
    );
    // It counts its timeout: 40 ms, in the 0.05 bucket and not the 0.025 one.
    let bucket = |le: &str| {
        value(
            &text,
            &format!("heartbeat_check_duration_seconds_bucket{{{slow},le=\"{le}\"}}"),
        )
    };
    assert_eq!(bucket("0.025"), 0.0);
    assert_eq!(bucket("0.05"), 1.0);
    let sum = value(
        &text,
        &format!("heartbeat_check_duration_seconds_sum{{{slow}}}"),
    );
    assert!((0.04..0.05).contains(&sum), "{sum}");
}

#[tokio::test]
async fn openmetrics_when_the_scraper_asks_for_it() {
    let app: axum::Router = bare().readiness(Check::new("ok", || true)).into_router();
    let answer = request(
        &app,
        axum::http::Method::GET,
        "/metrics",
        &[("accept", OPENMETRICS)],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = answer.text();
    assert!(text.ends_with("\n# EOF\n"), "{text}");
    assert!(text.contains("# TYPE heartbeat_check_runs counter\n"));
    assert!(text.contains(
        "heartbeat_check_runs_total{kind=\"readiness\",name=\"ok\",result=\"pass\"} 0\n"
    ));
    assert!(text.contains("# TYPE heartbeat_build info\n"));
    assert!(text.contains("# TYPE heartbeat_check_duration_seconds histogram\n"));
    assert!(!text.contains("# TYPE heartbeat_check_runs_total"));

    // The Prometheus text format otherwise: no `# EOF`, the counter's family named with _total.
    let text = get(&app, "/metrics").await.text();
    assert!(!text.contains("# EOF"));
    assert!(text.contains("# TYPE heartbeat_check_runs_total counter\n"));
    assert!(text.contains("# TYPE heartbeat_build_info gauge\n"));
}

#[tokio::test]
async fn names_are_escaped_and_sorted_by_kind_then_name() {
    let app: axum::Router = bare()
        .health_check(Check::new("say \"hi\" \\ bye", || true))
        .readiness(Check::new("b", || true))
        .readiness(Check::new("a", || true))
        .liveliness(Check::new("a", || true))
        .into_router();
    let text = get(&app, "/metrics").await.text();
    let ups: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("heartbeat_check_up{"))
        .collect();
    assert_eq!(
        ups,
        [
            r#"heartbeat_check_up{kind="readiness",name="a"} 0"#,
            r#"heartbeat_check_up{kind="readiness",name="b"} 0"#,
            r#"heartbeat_check_up{kind="liveliness",name="a"} 0"#,
            r#"heartbeat_check_up{kind="health",name="say \"hi\" \\ bye"} 0"#,
        ]
    );
}

#[tokio::test]
async fn no_metrics_unless_a_path_is_given() {
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .into_router();
    assert_eq!(get(&app, "/metrics").await.status, 404);
}

#[tokio::test]
async fn protected_metrics_ask_for_the_secret() {
    let app: axum::Router = bare()
        .health_secret("s3cret")
        .protect_metrics()
        .metrics_path("/internal/metrics")
        .into_router();
    assert_eq!(get(&app, "/metrics").await.status, 404);
    let refused = get(&app, "/internal/metrics").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), "Bearer");
    assert!(!refused.text().contains("heartbeat_"));
    let wrong = request(
        &app,
        axum::http::Method::GET,
        "/internal/metrics",
        &[("authorization", "Bearer nope")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let bearer = request(
        &app,
        axum::http::Method::GET,
        "/internal/metrics",
        &[("authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(bearer.status, 200);
    assert!(bearer.text().contains("heartbeat_build_info{"));
    assert_eq!(get(&app, "/internal/metrics?auth=s3cret").await.status, 200);

    // Unprotected by default, even with a secret.
    let open: axum::Router = bare().health_secret("s3cret").into_router();
    assert_eq!(get(&open, "/metrics").await.status, 200);
}

#[test]
fn bad_metrics_settings_are_config_errors() {
    let problems = |heartbeat: Heartbeat| -> String {
        heartbeat
            .try_into_router::<()>()
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let text = problems(bare().metrics_path("metrics"));
    assert!(
        text.contains("`.metrics_path(\"metrics\")` is not a path: it must start with `/`"),
        "{text}"
    );
    let text = problems(bare().metrics_path("/metrics/"));
    assert!(text.contains("is not a path"), "{text}");
    let text = problems(bare().metrics_path("/health/ping"));
    assert!(
        text.contains("`.well_known_prefix(\"/.well-known/heartbeat\")`, `.health_prefix(\"/health\")` and `.metrics_path(\"/health/ping\")` both serve [\"/health/ping\"]"),
        "{text}"
    );
    let text = problems(bare().metrics_path("/.well-known/heartbeat/readiness"));
    assert!(text.contains("both serve"), "{text}");
    let text = problems(bare().protect_metrics());
    assert!(
        text.contains("`.protect_metrics()` needs a secret"),
        "{text}"
    );
    let text = problems(
        Heartbeat::new()
            .filter(|_| false)
            .health_secret("s3cret")
            .protect_metrics(),
    );
    assert!(
        text.contains("`.protect_metrics()` protects nothing"),
        "{text}"
    );
}

#[tokio::test]
async fn over_tcp_get_and_head() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let app: axum::Router = bare()
        .readiness(Check::new("ok", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            true
        }))
        .into_router();
    let address = serve(app).await;
    let answer = http(address, "GET", "/metrics", &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        answer.text().contains(
            "heartbeat_check_level{kind=\"readiness\",name=\"ok\",level=\"unknown\"} 1\n"
        )
    );
    let answer = http(address, "GET", "/metrics", &[("Accept", OPENMETRICS)]).await;
    assert!(answer.text().ends_with("# EOF\n"));
    let head = http(address, "HEAD", "/metrics", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// `promtool check metrics` (from the prometheus binary's directory) on the Prometheus text
/// format, with checks in every level and every kind of run counted.
#[tokio::test]
#[cfg_attr(
    not(heartbeat_prometheus),
    ignore = "needs promtool: HEARTBEAT_TEST_PROMETHEUS was not set at build time (source <(bash .ci/services))"
)]
async fn promtool_accepts_the_exposition() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let promtool = prometheus_support::binary().with_file_name("promtool");
    let app: axum::Router = bare()
        .default_cache(Duration::ZERO)
        .readiness(Check::new("ok", || true))
        .readiness(Check::new("warns", || Outcome::warn("80% full")))
        .liveliness(Check::new("fails", || false))
        .health_check(Check::new("never run \"quoted\"", || true))
        .health_check(Check::new("background", || true).every(Duration::from_secs(60)))
        .into_router();
    get(&app, READINESS).await;
    get(&app, LIVELINESS).await;
    let text = get(&app, "/metrics").await.text();
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", promtool.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool: {said}\n{text}");
    assert!(said.trim().is_empty(), "promtool's lint: {said}\n{text}");
}

/// The README's scrape config and alert rule, as Prometheus reads them.
#[test]
#[cfg_attr(
    not(heartbeat_prometheus),
    ignore = "needs promtool: HEARTBEAT_TEST_PROMETHEUS was not set at build time (source <(bash .ci/services))"
)]
fn the_readmes_scrape_config_and_alert_rule_pass_promtool() {
    use std::process::Command;

    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Metrics\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Metrics section");
    let yaml: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap())
        .collect();
    assert_eq!(yaml.len(), 2, "a scrape config and a rule file");
    let (config, rules) = (yaml[0], yaml[1]);
    assert!(rules.contains("expr: heartbeat_check_up == 0\n") && rules.contains("for: 1m\n"));

    let dir = std::env::temp_dir().join(format!("heartbeat-readme-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("secret");
    std::fs::write(&secret, "s3cret").unwrap();
    // The secret's file must exist for promtool: the README's path, moved to the test's.
    let config = config.replace(
        "/etc/prometheus/myapp-health-secret",
        &secret.display().to_string(),
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    let promtool = prometheus_support::binary().with_file_name("promtool");
    for (what, file) in [("config", "prometheus.yml"), ("rules", "rules.yml")] {
        let output = Command::new(&promtool)
            .args(["check", what])
            .arg(dir.join(file))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "promtool check {what}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_scrape_after_a_change_shows_it_and_one_without_gives_the_same_body() {
    use std::sync::atomic::AtomicBool;

    let up = Arc::new(AtomicBool::new(true));
    let read = Arc::clone(&up);
    let app: axum::Router = bare()
        .default_cache(Duration::ZERO)
        .readiness(Check::new("flag", move || read.load(Ordering::SeqCst)))
        .into_router();
    let flag = r#"kind="readiness",name="flag""#;
    assert_eq!(get(&app, READINESS).await.status, 200);
    let first = get(&app, "/metrics").await.text();
    assert_eq!(get(&app, "/metrics").await.text(), first);
    assert_eq!(value(&first, &format!("heartbeat_check_up{{{flag}}}")), 1.0);

    up.store(false, Ordering::SeqCst);
    assert_eq!(get(&app, READINESS).await.status, 500);
    let text = get(&app, "/metrics").await.text();
    assert_eq!(value(&text, &format!("heartbeat_check_up{{{flag}}}")), 0.0);
    let series = format!("heartbeat_check_runs_total{{{flag},result=\"fail\"}}");
    assert_eq!(value(&text, &series), 1.0);
    let series = format!("heartbeat_check_runs_total{{{flag},result=\"pass\"}}");
    assert_eq!(value(&text, &series), 1.0);

    up.store(true, Ordering::SeqCst);
    assert_eq!(get(&app, READINESS).await.status, 200);
    let text = get(&app, "/metrics").await.text();
    assert_eq!(value(&text, &format!("heartbeat_check_up{{{flag}}}")), 1.0);
    let series = format!("heartbeat_check_runs_total{{{flag},result=\"pass\"}}");
    assert_eq!(value(&text, &series), 2.0);
}
