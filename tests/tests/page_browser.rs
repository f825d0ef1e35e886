//! The HTML page in a real browser: headless Chromium (Debian's `chromium`,
//! `HEARTBEAT_TEST_CHROMIUM`, installed by `.ci/services`) loads the page from a server on
//! loopback; the tests read the DOM it rendered (`--dump-dom`) and keep a screenshot at a
//! phone's width in `target/tmp/heartbeat-page.png` (a CI artifact).
//!
//! The page runs its script under its own strict `Content-Security-Policy`: the script only
//! runs when the policy's hash matches it, and the tests see that it ran. The live stream
//! (`?watch`) is served here by a stand-in that follows its contract (one default SSE message
//! whose `data:` is the seed JSON document), to test that the page renders what it receives.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heartbeat::{Check, Heartbeat, Outcome};

/// The browser's path, from the environment the tests run in.
fn chromium() -> PathBuf {
    match std::env::var("HEARTBEAT_TEST_CHROMIUM") {
        Ok(path) if !path.trim().is_empty() => PathBuf::from(path),
        _ => panic!(
            "HEARTBEAT_TEST_CHROMIUM was set when the tests were built but is not set now: run \
             `source <(bash .ci/services)` (or set it to a chromium binary) and run again"
        ),
    }
}

/// A check at each level: `unknown` is a background check whose first run has not ended.
fn app() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .health_secret("s3cret")
        .readiness(Check::new_async("database", || async {
            Outcome::pass().with("pool", 5)
        }))
        .readiness(Check::new_async("disk", || async {
            Outcome::warn("disk 91% full on /var")
        }))
        .readiness(Check::new_async("queue", || async {
            Outcome::fail("queue is full (10000 messages waiting)")
        }))
        .readiness(
            Check::new_async("cache warm-up", || async {
                tokio::time::sleep(Duration::from_secs(3_600)).await;
                true
            })
            .every(Duration::from_secs(7_200))
            .timeout(Duration::from_secs(7_000)),
        )
        .health_check(Check::new_async("queue", || async {
            Outcome::fail("queue is full")
        }))
}

/// Runs headless Chromium on `url` and returns the DOM it rendered; with `screenshot`, also
/// saves the page as a PNG there, at a phone's size.
async fn render(url: String, screenshot: Option<PathBuf>) -> String {
    let binary = chromium();
    tokio::task::spawn_blocking(move || {
        // A profile of its own per run: two browsers cannot share one.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let profile =
            std::env::temp_dir().join(format!("heartbeat-chromium-{}-{run}", std::process::id()));
        let mut command = Command::new(&binary);
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Time for the script to run and the stream's events to arrive, then the dump.
            "--virtual-time-budget=3000",
            "--window-size=390,640",
        ]);
        command.arg(format!("--user-data-dir={}", profile.display()));
        match &screenshot {
            Some(path) => command.arg(format!("--screenshot={}", path.display())),
            None => command.arg("--dump-dom"),
        };
        let output = command
            .arg(&url)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let _ = std::fs::remove_dir_all(&profile);
        assert!(
            output.status.success(),
            "chromium failed on {url}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .expect("chromium ran")
}

/// The text of the element with `id` in a dumped DOM.
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {dom}"));
    let rest = &dom[start..];
    let open = rest.find('>').expect("a tag") + 1;
    let close = rest[open..].find('<').expect("an end");
    &rest[open..open + close]
}

/// The `<li>` of check `name` in a dumped DOM.
fn item<'a>(dom: &'a str, name: &str) -> &'a str {
    let marker = format!("data-name=\"{name}\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no check {name:?} in {dom}"));
    let end = dom[start..].find("</li>").expect("the item's end");
    &dom[start..start + end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(heartbeat_chromium),
    ignore = "needs Chromium: HEARTBEAT_TEST_CHROMIUM was not set at build time (source <(bash .ci/services))"
)]
async fn chromium_renders_every_check_with_its_level_and_message() {
    let address = heartbeat_tests::serve(app().into_router()).await;
    let url = format!("http://{address}/.well-known/heartbeat/readiness");
    let dom = render(url.clone(), None).await;

    assert!(dom.contains("<title>readiness: fail</title>"), "{dom}");
    assert_eq!(text_of(&dom, "status"), "fail", "{dom}");
    for (name, level, message) in [
        (
            "cache warm-up",
            "unknown",
            Some("unknown: the check runs in the background"),
        ),
        ("database", "pass", None),
        ("disk", "warn", Some("disk 91% full on /var")),
        (
            "queue",
            "fail",
            Some("queue is full (10000 messages waiting)"),
        ),
    ] {
        let item = item(&dom, name);
        assert!(item.contains(&format!("data-level=\"{level}\"")), "{item}");
        assert!(
            item.contains(&format!("<span class=\"level {level}\">{level}</span>")),
            "{item}"
        );
        let facts = if level == "unknown" {
            "class=\"facts\">first run not ended yet"
        } else {
            "class=\"facts\">took "
        };
        assert!(item.contains(facts), "{item}");
        match message {
            Some(message) => assert!(item.contains(message), "{item}"),
            None => assert!(!item.contains("class=\"message\""), "{item}"),
        }
    }
    // The script ran under the page's policy (a blocked script leaves "connecting"): with no
    // stream on this branch's server, it says so and keeps the page as rendered.
    assert_eq!(
        text_of(&dom, "live"),
        "no live stream: reloading every 30 s",
        "{dom}"
    );

    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("heartbeat-page.png");
    let _ = std::fs::remove_file(&screenshot);
    render(url, Some(screenshot.clone())).await;
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The width and height in the IHDR chunk: a phone's width.
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 390);
}

/// Answers `?watch` as the live stream's contract says, with one document in which every
/// check passes, when the page passed the secret on; everything else goes to heartbeat.
async fn stand_in_stream(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or_default().to_owned();
    let watched = query.split('&').any(|pair| pair == "watch");
    if !watched {
        return next.run(request).await;
    }
    if !query.split('&').any(|pair| pair == "auth=s3cret") {
        return (axum::http::StatusCode::UNAUTHORIZED, "no secret").into_response();
    }
    let document = if request.uri().path().starts_with("/health") {
        r#"{"available_checks":["queue"],"checks":{"queue":true},"health":"running","messages":{},"warnings":[]}"#
    } else {
        r#"{"checks":{"database":{"status":true,"level":"pass","time":0.0012},"queue":{"status":true,"level":"warn","message":"draining the backlog","time":0.25,"age":1.5}},"status":true}"#
    };
    // The event, then the end of the stream (as when the server drains), with a long `retry`
    // so that the browser does not reconnect before the dump: an open stream would hold
    // Chromium's virtual time (`--virtual-time-budget`) still.
    (
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        format!(": keep-alive\nretry: 600000\n\ndata: {document}\n\n"),
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(heartbeat_chromium),
    ignore = "needs Chromium: HEARTBEAT_TEST_CHROMIUM was not set at build time (source <(bash .ci/services))"
)]
async fn the_page_renders_what_the_live_stream_sends() {
    let router: axum::Router = app()
        .into_router()
        .layer(axum::middleware::from_fn(stand_in_stream));
    let address = heartbeat_tests::serve(router).await;

    let dom = render(
        format!("http://{address}/.well-known/heartbeat/readiness?auth=s3cret&exclude=nothing"),
        None,
    )
    .await;
    // Rendered from the stream's document: two checks, the queue now warning.
    assert_eq!(text_of(&dom, "status"), "warn", "{dom}");
    // The stand-in's stream ended after its event: the page waits to reconnect.
    assert_eq!(text_of(&dom, "live"), "reconnecting", "{dom}");
    assert!(dom.contains("<title>readiness: warn</title>"), "{dom}");
    assert!(!dom.contains("data-name=\"disk\""), "{dom}");
    let queue = item(&dom, "queue");
    assert!(queue.contains("data-level=\"warn\""), "{queue}");
    assert!(queue.contains("draining the backlog"), "{queue}");
    assert!(queue.contains("took 250 ms · ran 1.5 s ago"), "{queue}");
    assert!(item(&dom, "database").contains("took 1.2 ms"), "{dom}");
    assert_eq!(text_of(&dom, "summary"), "2 checks: 0 failing, 1 warning");

    // A per-check page keeps to its check whatever the stream's document holds.
    let dom = render(
        format!("http://{address}/.well-known/heartbeat/readiness/queue?auth=s3cret"),
        None,
    )
    .await;
    assert!(!dom.contains("data-name=\"database\""), "{dom}");
    assert!(
        item(&dom, "queue").contains("draining the backlog"),
        "{dom}"
    );
    assert_eq!(text_of(&dom, "summary"), "1 check: 0 failing, 1 warning");

    // `/health/`'s document: `checks` as booleans, `messages`, `warnings`.
    let dom = render(format!("http://{address}/health/?auth=s3cret"), None).await;
    assert_eq!(text_of(&dom, "status"), "pass", "{dom}");
    assert!(item(&dom, "queue").contains("data-level=\"pass\""), "{dom}");
}
