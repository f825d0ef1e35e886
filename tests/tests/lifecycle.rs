//! The application's own readiness: marked not ready and ready again, and the startup gate.
//! The state is process-wide, so this binary holds one sequential test.

use heartbeat::{lifecycle, readiness_probe};
use heartbeat_tests::get;

#[readiness_probe]
fn database() -> bool {
    true
}

const READINESS: &str = "/.well-known/heartbeat/readiness";

#[tokio::test]
async fn not_ready_ready_and_the_startup_gate() {
    let app: axum::Router = heartbeat::router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200);
    let names: Vec<String> = answer.json()["checks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        names,
        ["database"],
        "nothing changes until the application asks"
    );
    assert!(!lifecycle::is_draining());

    lifecycle::mark_not_ready("warming the cache");
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let body = answer.json();
    assert_eq!(body["checks"]["ready"]["status"], false);
    assert_eq!(
        body["checks"]["ready"]["message"],
        "marked not ready: warming the cache"
    );
    assert_eq!(body["checks"]["database"]["status"], true);
    // Liveliness is not the application's readiness.
    assert_eq!(
        get(&app, "/.well-known/heartbeat/liveliness").await.status,
        200
    );

    lifecycle::mark_ready();
    assert_eq!(
        get(&app, READINESS).await.status,
        200,
        "a change shows at once, never cached"
    );

    lifecycle::require_startup();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = answer.json()["checks"]["startup"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("mark_started"), "{message}");

    lifecycle::mark_started();
    assert_eq!(get(&app, READINESS).await.status, 200);
    lifecycle::require_startup();
    assert_eq!(
        get(&app, READINESS).await.status,
        200,
        "the gate opens for good"
    );
}
