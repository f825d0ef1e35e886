//! Formats and views (SPEC §14, issue 17): `application/health+json`, the Kubernetes text form
//! (`?verbose`), `?exclude=`, per-check paths, `/health/`'s messages, how much a probe reveals
//! (`Details`), the HTML page, and one status code per state in every format. Run-time checks
//! only (this binary registers none), async on tokio's paused clock where timing matters.

use std::time::Duration;

use heartbeat::{Check, ConfigError, Details, Heartbeat, Outcome};
use heartbeat_tests::{Answer, request};
use serde_json::{Value, json};

heartbeat::build_info!();

const READINESS: &str = "/.well-known/heartbeat/readiness";
const LIVELINESS: &str = "/.well-known/heartbeat/liveliness";
const HEALTH: &str = "/health/";
const HEALTH_JSON: &str = "application/health+json";
/// What Chromium sends when it navigates to a page.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .default_cache(Duration::ZERO)
}

/// Three checks on every endpoint: `db` passes, `disk` warns, `queue` fails.
fn three(builder: Heartbeat) -> Heartbeat {
    let checks = || {
        [
            Check::new_async("db", || async { Outcome::pass().with("pool", 5) }),
            Check::new_async("disk", || async { Outcome::warn("disk 91% full") }),
            Check::new_async("queue", || async { Outcome::fail("queue is full") }),
        ]
    };
    let mut builder = builder;
    for check in checks() {
        builder = builder.readiness(check);
    }
    for check in checks() {
        builder = builder.liveliness(check);
    }
    for check in checks() {
        builder = builder.health_check(check);
    }
    builder
}

async fn ask(app: &axum::Router, uri: &str, accept: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
    request(app, axum::http::Method::GET, uri, &headers).await
}

#[tokio::test(start_paused = true)]
async fn health_json_follows_the_draft_on_every_endpoint() {
    let app: axum::Router = three(bare().no_health_secret()).into_router();
    for path in [READINESS, LIVELINESS, HEALTH] {
        let answer = ask(&app, path, Some(HEALTH_JSON)).await;
        let expected_status = if path == HEALTH { 503 } else { 500 };
        assert_eq!(answer.status, expected_status, "{path}: {}", answer.text());
        assert_eq!(answer.header("content-type"), HEALTH_JSON, "{path}");
        assert_eq!(answer.header("cache-control"), "no-cache", "{path}");
        let body = answer.json();
        assert_eq!(body["status"], "fail", "{path}: {body}");
        // From this binary's `build_info!()`.
        assert_eq!(body["releaseId"], env!("CARGO_PKG_VERSION"), "{body}");
        assert_eq!(body["version"], "0", "{body}");
        assert_eq!(body["serviceId"], "heartbeat-tests", "{body}");
        let checks = body["checks"].as_object().unwrap();
        let keys: Vec<&str> = checks.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["db:responseTime", "disk:responseTime", "queue:responseTime"],
            "{path}"
        );
        for (key, name, status, output) in [
            ("db:responseTime", "db", "pass", None),
            ("disk:responseTime", "disk", "warn", Some("disk 91% full")),
            ("queue:responseTime", "queue", "fail", Some("queue is full")),
        ] {
            let list = checks[key].as_array().unwrap();
            assert_eq!(list.len(), 1, "{path} {key}");
            let object = &list[0];
            assert_eq!(object["componentId"], name, "{object}");
            assert_eq!(object["componentType"], "component", "{object}");
            assert_eq!(object["status"], status, "{object}");
            assert_eq!(object["observedUnit"], "ms", "{object}");
            assert!(object["observedValue"].is_number(), "{object}");
            let time = object["time"].as_str().unwrap();
            // RFC 3339 in UTC: 2026-11-22T08:30:00.123Z
            assert_eq!(time.len(), 24, "{time}");
            assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
            assert_eq!(object["output"].as_str(), output, "{object}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn health_json_passes_and_warns() {
    let app: axum::Router = bare()
        .no_health_secret()
        .readiness(Check::new_async("db", || async { true }))
        .liveliness(Check::new_async("disk", || async {
            Outcome::warn("80% full")
        }))
        .into_router();
    let pass = ask(&app, READINESS, Some(HEALTH_JSON)).await;
    assert_eq!(pass.status, 200);
    assert_eq!(pass.json()["status"], "pass");
    assert!(
        pass.json()["checks"]["db:responseTime"][0]
            .get("output")
            .is_none()
    );
    let warn = ask(&app, LIVELINESS, Some(HEALTH_JSON)).await;
    assert_eq!(warn.status, 200);
    assert_eq!(warn.json()["status"], "warn");
}

#[tokio::test(start_paused = true)]
async fn the_seed_json_stays_the_default_for_every_other_accept() {
    let app: axum::Router = three(bare().no_health_secret()).into_router();
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("image/png"),
        Some("application/health+json;q=0.5, application/json"),
        Some("text/html;q=0, */*"),
    ] {
        let answer = ask(&app, READINESS, accept).await;
        assert_eq!(answer.header("vary"), "accept", "{accept:?}");
        assert_eq!(
            answer.header("content-type"),
            "application/json",
            "{accept:?}"
        );
        let body = answer.json();
        assert_eq!(body["status"], false, "{accept:?}");
        assert_eq!(body["checks"]["queue"]["message"], "queue is full");
        let health = ask(&app, HEALTH, accept).await;
        assert_eq!(
            health.header("content-type"),
            "application/json",
            "{accept:?}"
        );
        assert_eq!(health.json()["health"], "degraded");
    }
    for accept in [BROWSER, "text/html"] {
        let answer = ask(&app, READINESS, Some(accept)).await;
        assert_eq!(answer.header("content-type"), "text/html; charset=utf-8");
        assert_eq!(answer.header("vary"), "accept");
    }
}

#[tokio::test(start_paused = true)]
async fn verbose_answers_the_kubernetes_text_form() {
    let app: axum::Router = three(bare().no_health_secret()).into_router();
    let answer = ask(&app, &format!("{READINESS}?verbose"), Some(BROWSER)).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        answer.text(),
        "[+]db ok\n[+]disk ok (warn: disk 91% full)\n[-]queue failed: queue is full\nreadiness check failed\n"
    );
    let excluded = ask(
        &app,
        &format!("{LIVELINESS}?verbose=1&exclude=queue&exclude=nope"),
        None,
    )
    .await;
    assert_eq!(excluded.status, 200, "{}", excluded.text());
    assert_eq!(
        excluded.text(),
        "[+]db ok\n[+]disk ok (warn: disk 91% full)\n[+]queue excluded: ok\nwarn: some health checks cannot be excluded: no matches for \"nope\"\nliveliness check passed\n"
    );
    let health = ask(&app, &format!("{HEALTH}?verbose&checks=db"), None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), "[+]db ok\nhealth check passed\n");
}

#[tokio::test(start_paused = true)]
async fn a_message_stays_on_one_line_of_text() {
    let app: axum::Router = bare()
        .no_health_secret()
        .readiness(Check::new_async("multi", || async {
            Outcome::fail("line one\nline two\r\n")
        }))
        .into_router();
    let answer = ask(&app, &format!("{READINESS}?verbose"), None).await;
    assert_eq!(
        answer.text(),
        "[-]multi failed: line one line two  \nreadiness check failed\n"
    );
}

#[tokio::test(start_paused = true)]
async fn exclude_leaves_checks_out_and_reports_unknown_names() {
    let app: axum::Router = three(bare().no_health_secret()).into_router();
    let answer = ask(
        &app,
        &format!("{READINESS}?exclude=queue&exclude=typo"),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["status"], true);
    assert!(body["checks"].get("queue").is_none(), "{body}");
    assert_eq!(body["checks"]["disk"]["level"], "warn");
    assert_eq!(body["excluded"], json!(["queue"]));
    assert_eq!(body["unknown_excluded"], json!(["typo"]));

    let health = ask(&app, &format!("{HEALTH}?exclude=queue&exclude=disk"), None).await;
    assert_eq!(health.status, 200, "{}", health.text());
    let body = health.json();
    assert_eq!(body["checks"], json!({"db": true}));
    assert_eq!(body["excluded"], json!(["disk", "queue"]));
    assert_eq!(body["health"], "running");

    let health_json = ask(
        &app,
        &format!("{READINESS}?exclude=queue"),
        Some(HEALTH_JSON),
    )
    .await;
    assert_eq!(health_json.status, 200);
    assert_eq!(health_json.json()["status"], "warn");

    // Bounded: at most 256 names.
    let many = "exclude=x&".repeat(257);
    let refused = ask(&app, &format!("{READINESS}?{many}"), None).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["error"], "bad query");
}

#[tokio::test(start_paused = true)]
async fn a_per_check_path_answers_for_one_check() {
    let app: axum::Router = three(bare().health_secret("s3cret"))
        .readiness(Check::new_async("two words ü", || async { true }).cache(Duration::ZERO))
        .into_router();
    let db = ask(&app, &format!("{READINESS}/db"), None).await;
    assert_eq!(db.status, 200, "{}", db.text());
    let body = db.json();
    assert_eq!(body["status"], true);
    assert_eq!(body["checks"].as_object().unwrap().len(), 1, "{body}");
    assert_eq!(body["checks"]["db"]["pool"], 5);

    let queue = ask(&app, &format!("{LIVELINESS}/queue"), None).await;
    assert_eq!(queue.status, 500);
    assert_eq!(queue.json()["checks"]["queue"]["message"], "queue is full");
    // Kubernetes' name for liveliness.
    let queue = ask(&app, "/.well-known/heartbeat/liveness/queue?verbose", None).await;
    assert_eq!(queue.status, 500);
    assert_eq!(
        queue.text(),
        "[-]queue failed: queue is full\nliveliness check failed\n"
    );

    let unknown = ask(&app, &format!("{READINESS}/nope"), None).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(unknown.json()["error"], "unknown check");
    assert_eq!(
        unknown.json()["available_checks"],
        json!(["db", "disk", "queue", "two words ü"])
    );
    // A name whose characters are percent-encoded in the path (a name never holds `/`).
    let encoded = ask(&app, &format!("{READINESS}/two%20words%20%C3%BC"), None).await;
    assert_eq!(encoded.status, 200, "{}", encoded.text());
    assert!(encoded.json()["checks"].get("two words ü").is_some());

    // `/health/<name>`: behind the secret, like the rest of `/health/`.
    let refused = ask(&app, "/health/queue", None).await;
    assert_eq!(refused.status, 401);
    let queue = ask(&app, "/health/queue?auth=s3cret", None).await;
    assert_eq!(queue.status, 503, "{}", queue.text());
    let body = queue.json();
    assert_eq!(body["checks"], json!({"queue": false}));
    assert_eq!(body["messages"], json!({"queue": "queue is full"}));
    let unknown = ask(&app, "/health/nope?auth=s3cret", None).await;
    assert_eq!(unknown.status, 404);
    let unknown = ask(&app, "/health/nope", None).await;
    assert_eq!(unknown.status, 401, "no name is revealed before the secret");
    // `/health/ping` stays the ping.
    let ping = ask(&app, "/health/ping", None).await;
    assert_eq!((ping.status.as_u16(), ping.text().as_str()), (200, "pong"));
}

#[test]
fn no_health_check_may_be_named_ping() {
    let error: ConfigError = bare()
        .no_health_secret()
        .health_check(Check::new("ping", || true))
        .try_into_router::<()>()
        .unwrap_err();
    assert_eq!(error.problems().len(), 1, "{error}");
    assert!(
        error.problems()[0]
            .contains("`ping` is reserved for health checks: `/health/ping` answers `pong`"),
        "{error}"
    );
    // Probes may.
    let _: axum::Router = bare()
        .no_health_secret()
        .readiness(Check::new("ping", || true))
        .liveliness(Check::new("ping", || true))
        .try_into_router()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn health_tells_why_a_check_failed_or_warned() {
    let app: axum::Router = three(bare().health_secret("s3cret")).into_router();
    let refused = ask(&app, HEALTH, None).await;
    assert_eq!(refused.status, 401);
    assert!(!refused.text().contains("queue is full"));
    let answer = ask(&app, "/health/?auth=s3cret", None).await;
    assert_eq!(answer.status, 503);
    let body = answer.json();
    assert_eq!(
        body["checks"],
        json!({"db": true, "disk": true, "queue": false})
    );
    assert_eq!(
        body["messages"],
        json!({"disk": "disk 91% full", "queue": "queue is full"})
    );
    assert_eq!(body["warnings"], json!(["disk"]));
    let passing = ask(&app, "/health/?auth=s3cret&checks=db", None).await;
    assert_eq!(passing.json()["messages"], json!({}));
}

#[tokio::test(start_paused = true)]
async fn details_are_shown_always_by_default() {
    let app: axum::Router = three(bare().no_health_secret()).into_router();
    let body = ask(&app, READINESS, None).await.json();
    assert_eq!(body["checks"]["queue"]["message"], "queue is full");
    assert_eq!(body["checks"]["db"]["pool"], 5);
}

/// Every format of readiness and liveliness, asked without and with the secret.
async fn every_format(app: &axum::Router, auth: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    for path in [READINESS, LIVELINESS] {
        for (query, accept) in [
            ("", None),
            ("", Some(HEALTH_JSON)),
            ("verbose&", None),
            ("", Some("text/html")),
        ] {
            let uri = format!("{path}?{query}{auth}");
            let answer = ask(app, &uri, accept).await;
            assert_eq!(answer.status, 500, "{uri} {accept:?}");
            bodies.push(answer.text());
            let one = ask(app, &format!("{path}/queue?{query}{auth}"), accept).await;
            assert_eq!(one.status, 500, "{uri} {accept:?}");
            bodies.push(one.text());
        }
    }
    bodies
}

#[tokio::test(start_paused = true)]
async fn details_when_authorized_withholds_messages_and_data_without_the_secret() {
    let app: axum::Router = three(
        bare()
            .health_secret("s3cret")
            .details(Details::WhenAuthorized),
    )
    .into_router();
    let withheld = ask(&app, READINESS, None).await.json();
    let queue = &withheld["checks"]["queue"];
    assert_eq!(queue["message"], "reason withheld", "{withheld}");
    assert_eq!(queue["level"], "fail");
    assert_eq!(withheld["checks"]["disk"]["message"], "reason withheld");
    assert!(withheld["checks"]["db"].get("pool").is_none(), "{withheld}");
    assert!(withheld["checks"]["db"]["time"].is_number());
    for body in every_format(&app, "").await {
        assert!(!body.contains("queue is full"), "{body}");
        assert!(!body.contains("disk 91% full"), "{body}");
        assert!(body.contains("reason withheld"), "{body}");
    }
    let wrong = ask(&app, &format!("{READINESS}?auth=wrong"), None).await;
    assert_eq!(wrong.status, 500, "a wrong secret is not a 401 on a probe");
    assert_eq!(
        wrong.json()["checks"]["queue"]["message"],
        "reason withheld"
    );

    for body in every_format(&app, "auth=s3cret").await {
        assert!(body.contains("queue is full"), "{body}");
        assert!(!body.contains("reason withheld"), "{body}");
    }
    let bearer = request(
        &app,
        axum::http::Method::GET,
        READINESS,
        &[("authorization", "Bearer s3cret")],
    )
    .await
    .json();
    assert_eq!(bearer["checks"]["queue"]["message"], "queue is full");
    assert_eq!(bearer["checks"]["db"]["pool"], 5);
    // `/health/` is behind the secret: with it, everything shows.
    let health = ask(&app, "/health/?auth=s3cret", None).await.json();
    assert_eq!(health["messages"]["queue"], "queue is full");
}

#[tokio::test(start_paused = true)]
async fn details_never_withholds_even_with_the_secret() {
    let app: axum::Router =
        three(bare().health_secret("s3cret").details(Details::Never)).into_router();
    for body in every_format(&app, "auth=s3cret").await {
        assert!(!body.contains("queue is full"), "{body}");
        assert!(body.contains("reason withheld"), "{body}");
    }
}

#[test]
fn details_when_authorized_needs_a_secret() {
    let error = bare()
        .no_health_secret()
        .details(Details::WhenAuthorized)
        .try_into_router::<()>()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`.details(Details::WhenAuthorized)` needs a secret"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_page_shows_every_check_its_level_and_message_escaped() {
    let app: axum::Router = bare()
        .no_health_secret()
        .readiness(Check::new_async("db", || async { true }))
        .readiness(Check::new_async("<b>x", || async {
            Outcome::fail("<script>alert(1)</script> & \"quoted\"")
        }))
        .into_router();
    let page = ask(&app, READINESS, Some(BROWSER)).await;
    assert_eq!(page.status, 500);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    let policy = page.header("content-security-policy");
    assert!(
        policy.starts_with("default-src 'none'; script-src 'sha256-"),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let html = page.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<title>readiness: fail</title>"), "{html}");
    assert!(
        html.contains("data-name=\"db\" data-level=\"pass\"><span class=\"level pass\">pass</span><span class=\"name\">db</span>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"name\">&lt;b&gt;x</span>"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    // Self-contained: one inline script and style, no external resource.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(
        !html.contains("src=") && !html.contains("href=\"http"),
        "{html}"
    );
    assert!(
        !html.contains("@import") && !html.contains("url("),
        "{html}"
    );
}

/// One check at each level; `unknown` is a background check whose first run has not ended.
fn at(level: &str) -> Check {
    match level {
        "pass" => Check::new_async("c", || async { true }),
        "warn" => Check::new_async("c", || async { Outcome::warn("w") }),
        "fail" => Check::new_async("c", || async { Outcome::fail("f") }),
        _ => Check::new_async("c", || async {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            true
        })
        .every(Duration::from_secs(7_200))
        .timeout(Duration::from_secs(7_000)),
    }
}

/// Every format answers the same status code as the seed JSON for the same state: pass, warn,
/// fail and unknown, on readiness, liveliness, `/health/` and a per-check path of each.
#[tokio::test(start_paused = true)]
async fn every_format_has_the_status_code_of_the_seed_json() {
    let formats: [(&str, &str, Option<&str>); 5] = [
        ("seed JSON", "", None),
        ("health+json", "", Some(HEALTH_JSON)),
        ("verbose text", "verbose", None),
        ("html", "", Some(BROWSER)),
        ("html", "", Some("text/html")),
    ];
    let expected = [
        ("pass", 200, 200),
        ("warn", 200, 200),
        ("fail", 500, 503),
        ("unknown", 500, 503),
    ];
    for (level, probe_status, health_status) in expected {
        let app: axum::Router = bare()
            .no_health_secret()
            .readiness(at(level))
            .liveliness(at(level))
            .health_check(at(level))
            .into_router();
        for (path, status) in [
            (READINESS, probe_status),
            (LIVELINESS, probe_status),
            (HEALTH, health_status),
            ("/.well-known/heartbeat/readiness/c", probe_status),
            ("/.well-known/heartbeat/liveliness/c", probe_status),
            ("/health/c", health_status),
        ] {
            let seed = ask(&app, path, None).await;
            assert_eq!(seed.status, status, "{level} {path}: {}", seed.text());
            let shown = if path.starts_with("/health") {
                seed.json()["checks"]["c"].clone()
            } else {
                seed.json()["checks"]["c"]["level"].clone()
            };
            let expected_shown = match (path.starts_with("/health"), level) {
                (true, "pass" | "warn") => Value::Bool(true),
                (true, _) => Value::Bool(false),
                (false, level) => Value::from(level),
            };
            assert_eq!(shown, expected_shown, "{level} {path}");
            for (format, query, accept) in formats {
                let separator = if query.is_empty() { "" } else { "?" };
                let answer = ask(&app, &format!("{path}{separator}{query}"), accept).await;
                assert_eq!(
                    answer.status,
                    seed.status,
                    "{format} of {path} at {level}: {}",
                    answer.text()
                );
                if format == "health+json" {
                    let draft = if level == "unknown" { "fail" } else { level };
                    assert_eq!(answer.json()["status"], draft, "{path} at {level}");
                }
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn details_when_authorized_withholds_environs_libraries() {
    const ENVIRON: &str = "/.well-known/heartbeat/environ";
    let app: axum::Router = bare()
        .health_secret("s3cret")
        .details(Details::WhenAuthorized)
        .into_router();
    let withheld = ask(&app, ENVIRON, None).await;
    assert_eq!(withheld.status, 200);
    let body = withheld.json();
    assert_eq!(body["libraries"], json!({}), "{body}");
    assert!(body.get("lockfile").is_none(), "{body}");
    assert!(
        body["libraries_note"]
            .as_str()
            .unwrap()
            .starts_with("reason withheld")
    );
    assert_eq!(body["application"]["name"], "heartbeat-tests");
    let shown = ask(&app, &format!("{ENVIRON}?auth=s3cret"), None)
        .await
        .json();
    assert!(shown["libraries"]["axum"]["version"].is_string(), "{shown}");
    // With environ probes: their failures' messages are withheld too.
    let app: axum::Router = bare()
        .health_secret("s3cret")
        .details(Details::Never)
        .environ(Check::new_async("config", || async {
            Outcome::fail("/etc/app.toml: permission denied")
        }))
        .into_router();
    let body = ask(&app, &format!("{ENVIRON}?auth=s3cret"), None)
        .await
        .json();
    assert_eq!(
        body["errors"],
        json!({"config": "reason withheld"}),
        "{body}"
    );
    assert_eq!(body["libraries"], json!({}), "{body}");
    // The default shows them.
    let app: axum::Router = bare().no_health_secret().into_router();
    let body = ask(&app, ENVIRON, None).await.json();
    assert!(body["libraries"]["axum"]["version"].is_string(), "{body}");
}
