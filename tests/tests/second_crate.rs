//! Checks declared in another crate of the workspace are found when this binary links it,
//! even though nothing here names anything of that crate.

use std::net::SocketAddr;

use heartbeat_fixture_checks as _;
use heartbeat_tests::get;

/// What the binary provides to the other crate's `fixture-provided`: an address.
fn address(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 7], port))
}

fn app() -> axum::Router {
    heartbeat::Heartbeat::new()
        .health_secret("s3cret")
        .provide(address(5432))
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
    assert_eq!(
        ready["checks"]["fixture-provided"]["address"], "10.0.0.7:5432",
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
    assert_eq!(all.len(), 5);
    for check in &all {
        assert_eq!(check.site().module_path(), Some("heartbeat_fixture_checks"));
        assert!(
            check.site().file().contains("fixture-checks"),
            "{}",
            check.site()
        );
    }
}

#[tokio::test]
async fn the_other_crate_s_check_takes_the_value_this_binary_provides() {
    let app: axum::Router = heartbeat::Heartbeat::new()
        .no_health_secret()
        .provide(address(0))
        .into_router();
    let answer = get(&app, "/.well-known/heartbeat/readiness").await;
    assert_eq!(answer.status, 500);
    let ready = answer.json();
    assert_eq!(
        ready["checks"]["fixture-provided"]["message"], "10.0.0.7:0 has no port",
        "{ready}"
    );
}

#[test]
fn a_value_the_other_crate_s_check_needs_is_named_when_missing() {
    let error = heartbeat::Heartbeat::new()
        .no_health_secret()
        .try_into_router::<()>()
        .unwrap_err();
    let [problem] = error.problems() else {
        panic!("one problem: {error}");
    };
    let line = heartbeat::registered()
        .into_iter()
        .find(|c| c.name() == "fixture-provided")
        .unwrap()
        .site()
        .line();
    assert_eq!(
        *problem,
        format!(
            "readiness check \"fixture-provided\" at heartbeat_fixture_checks (tests/fixture-checks/src/lib.rs:{line}): its parameter `address: Provided<SocketAddr>` needs a `core::net::socket_addr::SocketAddr`, and none was provided; give one with `.provide(value)`, or with `.with_state(state)` from a state that holds one (nothing was provided)"
        )
    );
}

#[test]
fn require_passes_when_the_checks_are_linked_and_names_what_is_missing() {
    let built = heartbeat::Heartbeat::new()
        .no_health_secret()
        .provide(address(5432))
        .require(["fixture-database", "fixture-worker", "fixture-queue"])
        .try_into_router::<()>();
    assert!(built.is_ok());
    let error = heartbeat::Heartbeat::new()
        .no_health_secret()
        .provide(address(5432))
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
