//! `build_info!()` written twice in one binary: the router refuses to build and names both.

mod first {
    heartbeat::build_info!();
}

mod second {
    heartbeat::build_info!(crate = heartbeat);
}

#[test]
fn two_build_infos_are_a_configuration_error() {
    let error = heartbeat::Heartbeat::new()
        .try_into_router::<()>()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`heartbeat::build_info!()` is written more than once"),
        "{error}"
    );
    assert!(error.contains("environ_twice::first"), "{error}");
    assert!(error.contains("environ_twice::second"), "{error}");
}
