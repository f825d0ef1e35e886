//! `heartbeat::Metrics` registered into the application's own `prometheus_client` registry
//! (feature `prometheus-client`): the same series as the endpoint, read at each encoding of
//! the registry, under the registry's prefix when it has one.

use std::collections::BTreeMap;
use std::time::Duration;

use heartbeat::{Check, Heartbeat, Metrics, Outcome};
use heartbeat_tests::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// Each sample line's series (name and labels, sorted: the order of labels means nothing)
/// → its value, from an OpenMetrics text.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let series = match series.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').unwrap();
                    format!("{name}{{{}}}", sorted_labels(labels).join(","))
                }
                None => series.to_owned(),
            };
            (series, value.parse().unwrap())
        })
        .collect()
}

/// `a="x",b="y,z"` → the labels, sorted (a comma inside quotes does not split).
fn sorted_labels(labels: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in labels.chars() {
        match c {
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            '"' if !escaped => {
                quoted = !quoted;
                current.push(c);
            }
            _ => current.push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.sort();
    out
}

/// The `# TYPE` lines.
fn types(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("# TYPE")).collect()
}

#[tokio::test]
async fn the_registry_serves_the_endpoints_series_read_at_each_encoding() {
    let metrics = Metrics::new();
    let mut registry = Registry::default();
    let requests: Counter = Counter::default();
    registry.register(
        "app_requests",
        "The application's own counter",
        requests.clone(),
    );
    registry.register_collector(Box::new(metrics.clone()));

    // Before the router is built: the application's metrics only.
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(!text.contains("heartbeat_"), "{text}");

    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
        .metrics_path("/metrics")
        .metrics(&metrics)
        .readiness(Check::new("database", || true))
        .readiness(Check::new("disk", || Outcome::warn("91% full")))
        .liveliness(Check::new("worker", || false))
        .health_check(Check::new("say \"hi\"", || true))
        .into_router();
    get(&app, "/.well-known/heartbeat/readiness").await;
    get(&app, "/.well-known/heartbeat/readiness").await;
    get(&app, "/.well-known/heartbeat/liveliness").await;

    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(text.contains("app_requests_total 0\n"), "{text}");
    assert!(
        text.contains("heartbeat_check_up{kind=\"readiness\",name=\"database\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "heartbeat_check_level{kind=\"liveliness\",name=\"worker\",level=\"fail\"} 1\n"
        ),
        "{text}"
    );

    // The same series, with the same values, as the endpoint's OpenMetrics.
    let own = metrics.openmetrics();
    let served = heartbeat_tests::request(
        &app,
        axum::http::Method::GET,
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
    )
    .await
    .text();
    let mut registry_samples = samples(&text);
    registry_samples.remove("app_requests_total");
    let own_samples = samples(&own);
    let mut served_samples = samples(&served);
    // The last success's time is converted from the monotonic clock at each reading: the
    // same to within a few milliseconds.
    for map in [&mut registry_samples, &mut served_samples] {
        for (series, value) in map.iter_mut() {
            if series.starts_with("heartbeat_check_last_success_timestamp_seconds") {
                let own = own_samples[series];
                assert!((*value - own).abs() < 0.01, "{series}: {value} vs {own}");
                *value = own;
            }
        }
    }
    assert_eq!(registry_samples, own_samples);
    assert_eq!(served_samples, own_samples);
    assert_eq!(
        registry_samples["heartbeat_check_runs_total{kind=\"readiness\",name=\"database\",result=\"pass\"}"],
        2.0
    );
    let heartbeat_types: Vec<&str> = types(&text)
        .into_iter()
        .filter(|t| t.contains("heartbeat_"))
        .collect();
    assert_eq!(heartbeat_types, types(&own));

    // Read again at the next encoding: a new run shows.
    get(&app, "/.well-known/heartbeat/readiness").await;
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(
            "heartbeat_check_runs_total{kind=\"readiness\",name=\"database\",result=\"pass\"} 3\n"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn under_a_prefix_and_one_router_per_handle() {
    let metrics = Metrics::new();
    let mut registry = Registry::default();
    registry
        .sub_registry_with_prefix("myapp")
        .register_collector(Box::new(metrics.clone()));
    let _app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .metrics(&metrics)
        .readiness(Check::new("database", || true))
        .into_router();
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("myapp_heartbeat_check_up{kind=\"readiness\",name=\"database\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE myapp_heartbeat_build info\n"),
        "{text}"
    );

    let error = Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .metrics(&metrics)
        .try_into_router::<()>()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`.metrics(…)` was given a `Metrics` that another router already reads"),
        "{error}"
    );
}
