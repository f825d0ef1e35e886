//! `?watch` (SPEC §13): an endpoint's document as a live stream, read by a real streaming HTTP
//! client (reqwest, chunk by chunk) over TCP: the whole document at once, one event per change
//! and none for a result at the same level, the lifecycle's changes, `/health/`'s secret and
//! selection, a client that disconnects, the cap on open streams, the keep-alive comment
//! (paused time) and the end of every stream when the server drains.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use heartbeat::lifecycle::Lifecycle;
use heartbeat::{Check, Heartbeat};
use heartbeat_tests::{get, switch};
use serde_json::Value;
use tower::ServiceExt;

const READINESS: &str = "/.well-known/heartbeat/readiness";
const LIVELINESS: &str = "/.well-known/heartbeat/liveliness";

fn bare() -> Heartbeat {
    Heartbeat::new()
        .filter(|_| false)
        .no_health_secret()
        .default_cache(Duration::ZERO)
}

/// Serves `app` on a free loopback port until `shutdown` resolves; the server's task.
async fn serve_until(
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    (format!("http://{address}"), server)
}

/// A server-sent events reader over a real HTTP response, read chunk by chunk.
struct Events {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

/// One event: a document, or a comment.
#[derive(Debug)]
enum Event {
    Document(Value),
    Comment,
}

impl Events {
    async fn open(url: &str) -> Events {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert_eq!(content_type, "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        Events {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or `None` when the stream ended; fails after 10 s.
    async fn next(&mut self) -> Option<Event> {
        tokio::time::timeout(Duration::from_secs(10), self.read())
            .await
            .expect("an event or the end within 10 s")
    }

    /// The next document, skipping comments.
    async fn document(&mut self) -> Value {
        loop {
            match self.next().await.expect("a document, not the end") {
                Event::Document(document) => return document,
                Event::Comment => {}
            }
        }
    }

    /// Whether no document arrives within 300 ms.
    async fn quiet(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(300), self.document())
            .await
            .is_err()
    }

    async fn read(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(parse(&String::from_utf8(event).unwrap()));
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }
}

fn parse(event: &str) -> Event {
    let event = event.trim_end_matches('\n');
    if let Some(comment) = event.strip_prefix(':') {
        assert_eq!(comment.trim(), "keep-alive");
        return Event::Comment;
    }
    let data: Vec<&str> = event
        .lines()
        .map(|line| line.strip_prefix("data: ").expect("only data lines"))
        .collect();
    Event::Document(serde_json::from_str(&data.join("\n")).unwrap())
}

/// The document's checks with their levels: what must agree between the stream and a GET
/// (time and age differ from one read to the next).
fn levels(document: &Value) -> Vec<(String, String)> {
    document["checks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, check)| (name.clone(), check["level"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_stream_sends_the_document_then_one_event_per_change() {
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = bare()
        .readiness(switch("switch", &up))
        .readiness(Check::new("steady", || true))
        .into_router();
    let (base, _server) = serve_until(app.clone(), std::future::pending()).await;
    let mut events = Events::open(&format!("{base}{READINESS}?watch")).await;

    let first = events.document().await;
    let answer = get(&app, READINESS).await;
    assert_eq!(first["status"], true, "{first}");
    assert_eq!(levels(&first), levels(&answer.json()), "{first}");
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        answer
            .json()
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        "the stream's document is the endpoint's"
    );

    // Probes at the same level: no event.
    get(&app, READINESS).await;
    get(&app, READINESS).await;
    assert!(
        events.quiet().await,
        "a result at the same level is no change"
    );

    // A probe runs the check, which fails now: one event, with the whole document.
    up.store(false, Ordering::SeqCst);
    get(&app, READINESS).await;
    let failed = events.document().await;
    assert_eq!(failed["status"], false, "{failed}");
    assert_eq!(failed["checks"]["switch"]["message"], "down", "{failed}");
    assert_eq!(failed["checks"]["steady"]["status"], true, "{failed}");
    get(&app, READINESS).await;
    assert!(events.quiet().await, "failing again is no change");

    up.store(true, Ordering::SeqCst);
    get(&app, READINESS).await;
    let recovered = events.document().await;
    assert_eq!(recovered["status"], true, "{recovered}");
}

#[tokio::test]
async fn the_stream_runs_no_check_after_its_first_document() {
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let app: axum::Router = bare()
        .liveliness(Check::new("counted", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            true
        }))
        .into_router();
    let (base, _server) = serve_until(app, std::future::pending()).await;
    let mut events = Events::open(&format!("{base}{LIVELINESS}?watch")).await;
    let first = events.document().await;
    assert_eq!(first["checks"]["counted"]["level"], "pass", "{first}");
    assert!(events.quiet().await);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "only the first document ran it"
    );
}

#[tokio::test]
async fn readiness_streams_the_lifecycle_and_every_stream_ends_when_the_server_drains() {
    let lifecycle = Lifecycle::new();
    let app: axum::Router = bare()
        .lifecycle(lifecycle.clone())
        .readiness(Check::new("steady", || true))
        .health_check(Check::new("queue", || true))
        .into_router();
    let drain = lifecycle.clone();
    let (begin, signal) = tokio::sync::oneshot::channel::<()>();
    let (base, server) = serve_until(app, async move {
        let _ = signal.await;
        drain.shutdown(Duration::from_millis(500)).await;
    })
    .await;
    let mut readiness = Events::open(&format!("{base}{READINESS}?watch")).await;
    let mut health = Events::open(&format!("{base}/health/?watch")).await;
    assert_eq!(readiness.document().await["status"], true);
    assert_eq!(health.document().await["health"], "running");

    lifecycle.mark_not_ready("maintenance");
    let not_ready = readiness.document().await;
    assert_eq!(not_ready["status"], false, "{not_ready}");
    assert_eq!(
        not_ready["checks"]["ready"]["message"],
        "marked not ready: maintenance"
    );
    lifecycle.mark_ready();
    assert_eq!(readiness.document().await["status"], true);

    // The shutdown signal: the drain begins, readiness says so at once, and both streams end
    // when the drain is over, so that the graceful shutdown completes.
    begin.send(()).unwrap();
    let started = std::time::Instant::now();
    let draining = readiness.document().await;
    assert_eq!(
        draining["checks"]["shutdown"]["status"], false,
        "{draining}"
    );
    assert!(readiness.next().await.is_none(), "the stream ends");
    loop {
        match health.next().await {
            None => break,
            Some(Event::Comment) => {}
            Some(Event::Document(document)) => panic!("no change on /health/: {document}"),
        }
    }
    let served = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops: no stream holds it");
    served.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped after the drain, not after a timeout"
    );
}

#[tokio::test]
async fn health_streams_keep_the_secret_and_the_selection() {
    let queue = Arc::new(AtomicBool::new(true));
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .health_secret("s3cret")
        .default_cache(Duration::ZERO)
        .health_check(switch("queue", &queue))
        .health_check(Check::new("disk", || true))
        .into_router();
    let (base, _server) = serve_until(app.clone(), std::future::pending()).await;

    let refused = reqwest::get(format!("{base}/health/?watch")).await.unwrap();
    assert_eq!(
        refused.status(),
        401,
        "the secret first: no stream without it"
    );
    let wrong = reqwest::get(format!("{base}/health/?watch&auth=guess"))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let mut disk = Events::open(&format!("{base}/health/?watch&checks=disk&auth=s3cret")).await;
    let mut all = Events::open(&format!("{base}/health/?watch&auth=s3cret")).await;
    let first = disk.document().await;
    assert_eq!(
        first["checks"],
        serde_json::json!({"disk": true}),
        "{first}"
    );
    let first = all.document().await;
    assert_eq!(
        first["checks"],
        serde_json::json!({"disk": true, "queue": true})
    );

    queue.store(false, Ordering::SeqCst);
    let answer = heartbeat_tests::request(
        &app,
        axum::http::Method::GET,
        "/health/",
        &[("authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(answer.status, 503);
    let degraded = all.document().await;
    assert_eq!(degraded["health"], "degraded", "{degraded}");
    assert_eq!(degraded["checks"]["queue"], false);
    assert!(
        disk.quiet().await,
        "a check outside the selection is no change"
    );

    let unknown = reqwest::get(format!("{base}/health/?watch&checks=nope&auth=s3cret"))
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        400,
        "a selection is checked before streaming"
    );
}

#[tokio::test]
async fn watch_false_is_the_plain_answer() {
    let app: axum::Router = bare().readiness(Check::new("a", || true)).into_router();
    for query in ["watch=false", "watch=0"] {
        let answer = get(&app, &format!("{READINESS}?{query}")).await;
        assert_eq!(answer.header("content-type"), "application/json", "{query}");
    }
}

/// Streams opened and dropped in process: the cap answers 503, and a client that goes away
/// frees its place at once.
#[tokio::test]
async fn a_disconnected_client_frees_its_stream_and_the_cap_holds() {
    const MAX_STREAMS: usize = 4096;
    let app: axum::Router = bare().liveliness(Check::new("a", || true)).into_router();
    let open = |app: axum::Router| async move {
        let request = Request::get(format!("{LIVELINESS}?watch"))
            .body(Body::empty())
            .unwrap();
        app.oneshot(request).await.unwrap()
    };
    let mut streams = Vec::with_capacity(MAX_STREAMS);
    for _ in 0..MAX_STREAMS {
        let response = open(app.clone()).await;
        assert_eq!(response.status(), 200);
        streams.push(response);
    }
    let refused = open(app.clone()).await;
    assert_eq!(refused.status(), 503);
    let body = axum::body::to_bytes(refused.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "too many streams", "{body}");

    // One client goes away: its place is free.
    streams.pop();
    let response = open(app.clone()).await;
    assert_eq!(response.status(), 200);
    let mut frames = response.into_body().into_data_stream();
    let first = frames.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: {"), "{first:?}");
}

/// Over real TCP: a client that disconnects mid-stream leaves the server serving the others.
#[tokio::test]
async fn a_client_that_disconnects_leaves_the_others_streaming() {
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = bare().readiness(switch("switch", &up)).into_router();
    let (base, _server) = serve_until(app.clone(), std::future::pending()).await;
    let url = format!("{base}{READINESS}?watch");
    let mut staying = Events::open(&url).await;
    staying.document().await;
    for _ in 0..20 {
        let mut leaving = Events::open(&url).await;
        leaving.document().await;
        drop(leaving);
    }
    up.store(false, Ordering::SeqCst);
    get(&app, READINESS).await;
    assert_eq!(staying.document().await["status"], false);
}

/// A comment every 15 s keeps proxies from closing a quiet stream (tokio's paused clock).
#[tokio::test(start_paused = true)]
async fn a_quiet_stream_sends_a_comment_every_15_s() {
    let app: axum::Router = bare()
        .liveliness(Check::new_async("a", || async { true }))
        .into_router();
    let request = Request::get(format!("{LIVELINESS}?watch"))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let mut frames = response.into_body().into_data_stream();
    let start = tokio::time::Instant::now();
    let first = frames.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: {"));
    for n in 1..=3u32 {
        let comment = frames.next().await.unwrap().unwrap();
        assert_eq!(&comment[..], b": keep-alive\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(15) * n);
    }
}

/// A client that reads nothing while thousands of changes happen holds up no probe and no
/// other stream; its stream falls behind, skips what it missed, and sends the current
/// document once the client reads again.
#[tokio::test]
async fn a_client_that_does_not_read_holds_nothing_up() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let up = Arc::new(AtomicBool::new(true));
    // 16 KB in every document: 3,000 of them are far more than the sockets' buffers hold.
    let blob = "x".repeat(16 << 10);
    let big = Check::new("big", move || {
        heartbeat::Outcome::pass().with("blob", blob.clone())
    });
    let app: axum::Router = bare()
        .readiness(switch("switch", &up))
        .readiness(big.cache(Duration::from_secs(3600)))
        .into_router();
    let (base, _server) = serve_until(app.clone(), std::future::pending()).await;
    let address = base.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!("GET {READINESS}?watch HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stalled.write_all(request.as_bytes()).await.unwrap();
    let mut reading = Events::open(&format!("{base}{READINESS}?watch")).await;
    reading.document().await;

    // 3,000 changes, more than the 1,024 a stream may fall behind; the last one passes.
    const CHANGES: usize = 3_000;
    for i in 1..=CHANGES {
        up.store(i % 2 == 0, Ordering::SeqCst);
        get(&app, READINESS).await;
    }
    let mut last = None;
    while let Ok(document) =
        tokio::time::timeout(Duration::from_millis(500), reading.document()).await
    {
        last = Some(document);
    }
    assert_eq!(
        last.unwrap()["status"],
        true,
        "the reading client got to the end"
    );

    // The stalled client reads now: it gets the current document, not all it missed.
    let mut received = Vec::new();
    let mut buffer = vec![0; 64 << 10];
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_millis(500), stalled.read(&mut buffer)).await
    {
        assert!(n > 0, "the stream stays open");
        received.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&received);
    let events = text.matches("data: ").count();
    assert!(
        events < CHANGES,
        "{events} events: it skipped what it missed"
    );
    let last = text.rsplit("data: ").next().unwrap();
    let last: Value = serde_json::from_str(last.lines().next().unwrap()).unwrap();
    assert_eq!(last["status"], true, "the current document, last");
}

/// A stream is of the request's own document: one check's path streams that check alone, and
/// `?exclude=` and `Details::WhenAuthorized` apply as without `?watch`.
#[tokio::test]
async fn a_stream_keeps_the_requests_selection_and_details() {
    let up = Arc::new(AtomicBool::new(true));
    let app: axum::Router = Heartbeat::new()
        .filter(|_| false)
        .health_secret("s3cret")
        .details(heartbeat::Details::WhenAuthorized)
        .default_cache(Duration::ZERO)
        .readiness(switch("switch", &up))
        .readiness(Check::new("steady", || true))
        .into_router();
    let (base, _server) = serve_until(app.clone(), std::future::pending()).await;
    let mut one = Events::open(&format!("{base}{READINESS}/switch?watch")).await;
    let mut excluding = Events::open(&format!("{base}{READINESS}?watch&exclude=switch")).await;
    let mut authorised = Events::open(&format!("{base}{READINESS}?watch&auth=s3cret")).await;
    let first = one.document().await;
    assert_eq!(levels(&first), [("switch".to_owned(), "pass".to_owned())]);
    let first = excluding.document().await;
    assert_eq!(levels(&first), [("steady".to_owned(), "pass".to_owned())]);
    assert_eq!(first["excluded"], serde_json::json!(["switch"]), "{first}");
    authorised.document().await;

    up.store(false, Ordering::SeqCst);
    get(&app, READINESS).await;
    let failed = one.document().await;
    assert_eq!(failed["status"], false, "{failed}");
    assert_eq!(failed["checks"]["switch"]["message"], "reason withheld");
    assert!(
        excluding.quiet().await,
        "the excluded check's change is not this stream's"
    );
    let told = authorised.document().await;
    assert_eq!(told["checks"]["switch"]["message"], "down", "{told}");
}
