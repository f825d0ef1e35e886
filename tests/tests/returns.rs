//! Every return type, names, stacking, sync and async, the readiness and liveliness JSON and
//! status codes, in process and over real TCP.

use heartbeat::{Kind, Outcome, liveliness_probe, readiness_probe};
use heartbeat_tests::{get, http, request, serve};
use serde_json::{Value, json};

#[readiness_probe]
fn r_bool() -> bool {
    true
}

#[readiness_probe]
fn r_unit() {}

#[readiness_probe]
async fn r_async_unit() {}

#[readiness_probe]
fn r_outcome() -> Outcome {
    Outcome::pass().with("hits", 17)
}

#[readiness_probe]
fn r_value() -> Value {
    json!({ "version": "15.2" })
}

#[readiness_probe]
fn r_tuple() -> (bool, Value) {
    (true, json!({ "lag": 3 }))
}

#[readiness_probe]
fn r_named_str() -> (&'static str, bool, Value) {
    ("renamed-by-str", true, json!({ "from": "str" }))
}

#[readiness_probe]
async fn r_named_string() -> (String, bool, Value) {
    ("renamed-by-string".to_owned(), true, json!({}))
}

#[readiness_probe]
fn r_result() -> Result<bool, std::io::Error> {
    Ok(true)
}

#[readiness_probe(name = "Database", timeout = "2s", cache = "250ms")]
async fn r_result_async() -> Result<Value, String> {
    Ok(json!({ "pool": 4 }))
}

/// A raw identifier registers without its `r#`, as serde names fields.
#[readiness_probe]
fn r#type() -> bool {
    true
}

#[readiness_probe]
fn r_own_time() -> Value {
    json!({ "time": 42 })
}

#[liveliness_probe]
fn l_false() -> bool {
    false
}

#[liveliness_probe]
fn l_err() -> Result<(), String> {
    Err("Error accessing database".to_owned())
}

#[liveliness_probe]
async fn l_fail() -> Outcome {
    Outcome::fail("queue is full").with("depth", 10)
}

#[liveliness_probe]
fn l_tuple() -> (bool, Value) {
    (false, json!({ "lag": 99 }))
}

#[readiness_probe(name = "stacked")]
#[liveliness_probe(name = "stacked")]
fn stacked() -> bool {
    true
}

fn app() -> axum::Router {
    // No health checks in this binary, so no secret needs deciding.
    heartbeat::router()
}

#[tokio::test]
async fn readiness_passes_with_every_return_type() {
    let answer = get(&app(), "/.well-known/heartbeat/readiness").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.header("cache-control"), "no-cache");
    let body = answer.json();
    assert_eq!(body["status"], true);
    let checks = body["checks"].as_object().unwrap();
    let names: Vec<&str> = checks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Database",
            "r_async_unit",
            "r_bool",
            "r_outcome",
            "r_own_time",
            "r_result",
            "r_tuple",
            "r_unit",
            "r_value",
            "renamed-by-str",
            "renamed-by-string",
            "stacked",
            "type",
        ]
    );
    for (name, check) in checks {
        assert_eq!(check["status"], true, "{name}: {check}");
        assert!(check.get("message").is_none(), "{name}: {check}");
        assert!(check["time"].is_number(), "{name}: {check}");
    }
    assert_eq!(checks["r_outcome"]["hits"], 17);
    assert_eq!(checks["r_value"]["version"], "15.2");
    assert_eq!(checks["r_tuple"]["lag"], 3);
    assert_eq!(checks["renamed-by-str"]["from"], "str");
    assert_eq!(checks["Database"]["pool"], 4);
    assert_eq!(
        checks["r_own_time"]["time"], 42,
        "the check's own `time` wins"
    );
}

#[tokio::test]
async fn liveliness_fails_with_500_and_names_each_failure() {
    let answer = get(&app(), "/.well-known/heartbeat/liveliness").await;
    assert_eq!(answer.status, 500, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["status"], false);
    let checks = &body["checks"];
    assert_eq!(checks["stacked"]["status"], true);
    assert_eq!(checks["l_false"]["status"], false);
    assert_eq!(checks["l_false"]["message"], "the check returned false");
    assert_eq!(checks["l_err"]["message"], "Error accessing database");
    assert_eq!(checks["l_fail"]["message"], "queue is full");
    assert_eq!(checks["l_fail"]["depth"], 10);
    assert_eq!(checks["l_tuple"]["lag"], 99);
    assert_eq!(checks.as_object().unwrap().len(), 5);
}

#[tokio::test]
async fn head_is_served_without_a_body() {
    let answer = request(
        &app(),
        axum::http::Method::HEAD,
        "/.well-known/heartbeat/readiness",
        &[],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/json");
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn other_methods_are_refused() {
    let answer = request(
        &app(),
        axum::http::Method::POST,
        "/.well-known/heartbeat/readiness",
        &[],
    )
    .await;
    assert_eq!(answer.status, 405);
}

#[tokio::test]
async fn over_real_tcp() {
    let address = serve(app()).await;
    let ready = http(address, "GET", "/.well-known/heartbeat/readiness", &[]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.header("cache-control"), "no-cache");
    assert_eq!(ready.json()["checks"]["Database"]["status"], true);
    let live = http(address, "GET", "/.well-known/heartbeat/liveliness", &[]).await;
    assert_eq!(live.status, 500);
    assert_eq!(
        live.json()["checks"]["l_err"]["message"],
        "Error accessing database"
    );
    let head = http(address, "HEAD", "/.well-known/heartbeat/liveliness", &[]).await;
    assert_eq!(head.status, 500);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn functions_stay_callable_as_written() {
    assert!(r_bool());
    r_unit();
    r_async_unit().await;
    assert!(r_tuple().0);
    assert_eq!(r_result_async().await, Ok(json!({ "pool": 4 })));
    assert!(stacked());
}

#[test]
fn registered_lists_kind_name_options_and_site_sorted() {
    let all = heartbeat::registered();
    let names: Vec<(&str, Kind)> = all.iter().map(|c| (c.name(), c.kind())).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(all.len(), 18);
    assert!(names.contains(&("stacked", Kind::Readiness)));
    assert!(names.contains(&("stacked", Kind::Liveliness)));

    let database = all.iter().find(|c| c.name() == "Database").unwrap();
    assert_eq!(database.kind(), Kind::Readiness);
    assert_eq!(database.timeout(), Some(std::time::Duration::from_secs(2)));
    assert_eq!(
        database.cache(),
        Some(std::time::Duration::from_millis(250))
    );
    assert!(!database.is_default());
    let site = database.site();
    assert_eq!(site.module_path(), Some("returns"));
    assert!(site.file().ends_with("returns.rs"), "{}", site.file());
    let source = include_str!("returns.rs");
    let line = source.lines().nth(site.line() as usize - 1).unwrap();
    assert!(
        line.contains("async fn r_result_async"),
        "line {}: {line}",
        site.line()
    );

    let r_bool = all.iter().find(|c| c.name() == "r_bool").unwrap();
    assert_eq!(r_bool.timeout(), None);
    assert_eq!(r_bool.cache(), None);
}
