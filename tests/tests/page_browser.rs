//! The HTML page in a real browser: headless Chromium (Debian's `chromium`,
//! `HEARTBEAT_TEST_CHROMIUM`, installed by `.ci/services`) loads the page from a server on
//! loopback; the tests read the DOM it rendered (`--dump-dom`) and keep a screenshot at a
//! phone's width in `target/tmp/heartbeat-page.png` (a CI artifact).
//!
//! The page runs its script under its own strict `Content-Security-Policy`: the script only
//! runs when the policy's hash matches it, and the tests see that it ran. It then opens the
//! real live stream (`?watch`); a check's result changes just before the stream's first
//! document is read, so the DOM shows what the stream sent, not what the server rendered.
//! Each stream is ended after its first event (with a long `retry`): Chromium's virtual time
//! (`--virtual-time-budget`), which lets the script run before the dump, stands still while a
//! request is open.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
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
    let router: axum::Router =
        app()
            .into_router()
            .layer(axum::middleware::from_fn(|request: Request, next: Next| {
                one_event(request, next, || {})
            }));
    let address = heartbeat_tests::serve(router).await;
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
    // The script ran under the page's policy (a blocked script leaves "connecting"), read the
    // stream's first document (the same states) and, the stream ended, waits to reconnect.
    assert_eq!(text_of(&dom, "live"), "reconnecting", "{dom}");
    assert_eq!(text_of(&dom, "status"), "fail", "{dom}");

    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("heartbeat-page.png");
    let _ = std::fs::remove_file(&screenshot);
    render(url, Some(screenshot.clone())).await;
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The width and height in the IHDR chunk: a phone's width.
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 390);
}

/// Ends each live stream (`?watch`) after its first event, with a `retry` long enough that the
/// browser does not reconnect before the dump (an open stream would hold Chromium's virtual
/// time still); first runs `before`, so that the stream's first document differs from the page
/// the server rendered.
async fn one_event(request: Request, next: Next, before: impl FnOnce()) -> Response {
    let watched = request
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair == "watch"));
    if !watched {
        return next.run(request).await;
    }
    before();
    let response = next.run(request).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (parts, body) = response.into_parts();
    let mut events = body.into_data_stream();
    let first = events.next().await.expect("a first event").expect("a body");
    let mut body = b"retry: 600000\n\n".to_vec();
    body.extend_from_slice(&first);
    Response::from_parts(parts, Body::from(body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(heartbeat_chromium),
    ignore = "needs Chromium: HEARTBEAT_TEST_CHROMIUM was not set at build time (source <(bash .ci/services))"
)]
async fn the_page_renders_what_the_live_stream_sends() {
    // Until the page's stream opens: the queue fails, and so does `/health/`'s check. When it
    // opens, they recover, never cached: the stream's first document shows it.
    static READINESS_STREAM: AtomicBool = AtomicBool::new(false);
    static HEALTH_STREAM: AtomicBool = AtomicBool::new(false);
    let router: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .health_secret("s3cret")
        .readiness(Check::new_async("database", || async {
            Outcome::pass().with("pool", 5)
        }))
        .readiness(
            Check::new_async("queue", || async {
                if READINESS_STREAM.load(Ordering::SeqCst) {
                    Outcome::warn("draining the backlog")
                } else {
                    Outcome::fail("queue is full")
                }
            })
            .cache(Duration::ZERO),
        )
        .health_check(
            Check::new_async("queue", || async {
                if HEALTH_STREAM.load(Ordering::SeqCst) {
                    Outcome::pass()
                } else {
                    Outcome::fail("queue is full")
                }
            })
            .cache(Duration::ZERO),
        )
        .into_router()
        .layer(axum::middleware::from_fn(|request: Request, next: Next| {
            let flag = if request.uri().path().starts_with("/health") {
                &HEALTH_STREAM
            } else {
                &READINESS_STREAM
            };
            one_event(request, next, move || flag.store(true, Ordering::SeqCst))
        }));
    let address = heartbeat_tests::serve(router).await;

    let dom = render(
        format!("http://{address}/.well-known/heartbeat/readiness?auth=s3cret"),
        None,
    )
    .await;
    // Rendered from the stream's document: the queue now warning, so the page warns.
    assert_eq!(text_of(&dom, "status"), "warn", "{dom}");
    assert_eq!(text_of(&dom, "live"), "reconnecting", "{dom}");
    assert!(dom.contains("<title>readiness: warn</title>"), "{dom}");
    let queue = item(&dom, "queue");
    assert!(queue.contains("data-level=\"warn\""), "{queue}");
    assert!(queue.contains("draining the backlog"), "{queue}");
    assert!(!queue.contains("queue is full"), "{queue}");
    assert!(
        item(&dom, "database").contains("data-level=\"pass\""),
        "{dom}"
    );
    assert_eq!(text_of(&dom, "summary"), "2 checks: 0 failing, 1 warning");

    // The page's `?exclude=` goes to its stream: the stream's document leaves it out too.
    let dom = render(
        format!("http://{address}/.well-known/heartbeat/readiness?auth=s3cret&exclude=database"),
        None,
    )
    .await;
    assert!(!dom.contains("data-name=\"database\""), "{dom}");
    assert_eq!(text_of(&dom, "summary"), "1 check: 0 failing, 1 warning");

    // A per-check page streams its one check.
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

    // `/health/`'s document (`checks` as booleans, `messages`, `warnings`), from its stream:
    // rendered failing, then passing.
    let dom = render(format!("http://{address}/health/?auth=s3cret"), None).await;
    assert_eq!(text_of(&dom, "status"), "pass", "{dom}");
    assert!(item(&dom, "queue").contains("data-level=\"pass\""), "{dom}");
    assert_eq!(text_of(&dom, "live"), "reconnecting", "{dom}");
}
