//! This binary depends on `heartbeat-fixture-checks` (a dev-dependency of this crate) but never
//! names it, so the linker leaves it out, and its checks with it. `require` turns that silent
//! loss into an error at startup.

#[test]
fn a_crate_the_binary_never_names_is_not_linked_and_require_says_so() {
    assert!(
        heartbeat::registered().is_empty(),
        "{:?}",
        heartbeat::registered()
    );
    let error = heartbeat::Heartbeat::new()
        .no_health_secret()
        .require(["fixture-database"])
        .try_into_router::<()>()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("is the crate that declares them linked"),
        "{error}"
    );
}
