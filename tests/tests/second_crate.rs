//! Checks declared in another crate of the workspace are found when this binary links it,
//! even though nothing here names anything of that crate.

use heartbeat_fixture_checks as _;
use heartbeat_tests::get;

fn app() -> axum::Router {
    heartbeat::Heartbeat::new()
        .health_secret("s3cret")
        .into_router()
}

#[tokio::test]
async fn every_kind_of_check_from_the_other_crate_is_served() {
    let app = app();
    let ready = get(&app, "/.well-known/heartbeat/readiness").await.json();
    assert_eq!(
        ready["checks"]["fixture-database"]["status"], true,
        "{ready}"
    );
    let live = get(&app, "/.well-known/heartbeat/liveliness").await.json();
    assert_eq!(live["checks"]["fixture-worker"]["status"], true, "{live}");
    let environ = get(&app, "/.well-known/heartbeat/environ").await.json();
    assert_eq!(
        environ["fixture"]["crate"], "heartbeat-fixture-checks",
        "{environ}"
    );
    let health = get(&app, "/health/?auth=s3cret&checks=fixture-queue")
        .await
        .json();
    assert_eq!(health["checks"]["fixture-queue"], true, "{health}");
    assert_eq!(
        health["available_checks"],
        serde_json::json!(["fixture-queue"])
    );
}

#[test]
fn registered_names_the_other_crate_as_the_site() {
    let all = heartbeat::registered();
    assert_eq!(all.len(), 4);
    for check in &all {
        assert_eq!(check.site().module_path(), Some("heartbeat_fixture_checks"));
        assert!(
            check.site().file().contains("fixture-checks"),
            "{}",
            check.site()
        );
    }
}

#[test]
fn require_passes_when_the_checks_are_linked_and_names_what_is_missing() {
    let built = heartbeat::Heartbeat::new()
        .no_health_secret()
        .require(["fixture-database", "fixture-worker", "fixture-queue"])
        .try_into_router::<()>();
    assert!(built.is_ok());
    let error = heartbeat::Heartbeat::new()
        .no_health_secret()
        .require(["fixture-database", "billing-database"])
        .try_into_router::<()>()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("[\"billing-database\"] are not registered"),
        "{text}"
    );
    assert!(text.contains("use that_crate as _;"), "{text}");
}
