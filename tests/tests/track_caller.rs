//! A configuration that cannot be served: `heartbeat::router()` and `Heartbeat::into_router()`
//! panic, and the panic names the line that called them, not heartbeat's own code
//! (`#[track_caller]`). Two readiness checks share a name here, so the router refuses to build
//! whatever the environment holds.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

#[heartbeat::readiness_probe(name = "twin")]
fn first() -> bool {
    true
}

#[heartbeat::readiness_probe(name = "twin")]
fn second() -> bool {
    true
}

/// Where `build` panicked (file, line) and with what message. The panic hook is global, so
/// the tests of this binary take turns.
fn panic_site(build: impl FnOnce()) -> (String, u32, String) {
    static TURN: Mutex<()> = Mutex::new(());
    static SITE: Mutex<Option<(String, u32)>> = Mutex::new(None);
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let site = info
            .location()
            .map(|location| (location.file().to_owned(), location.line()));
        *SITE.lock().unwrap_or_else(PoisonError::into_inner) = site;
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(build));
    panic::set_hook(previous);
    let payload = result.expect_err("the router was built");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let (file, line) = SITE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("the panic has a location");
    (file, line, message)
}

#[test]
fn router_panics_at_the_callers_line() {
    let (file, line, message) = panic_site(|| drop(heartbeat::router::<()>()));
    let expected = line!() - 1;
    assert!(message.contains("\"twin\""), "{message}");
    assert_eq!((file.as_str(), line), (file!(), expected), "{message}");
}

#[test]
fn into_router_panics_at_the_callers_line() {
    let builder = heartbeat::Heartbeat::new().no_health_secret();
    let (file, line, message) = panic_site(|| drop(builder.into_router::<()>()));
    let expected = line!() - 1;
    assert!(message.contains("\"twin\""), "{message}");
    assert_eq!((file.as_str(), line), (file!(), expected), "{message}");
}

#[test]
fn both_checks_are_registered() {
    // The functions stay callable; the configuration error is the only thing wrong.
    assert!(first() && second());
    let twins = heartbeat::registered()
        .into_iter()
        .filter(|check| check.name() == "twin")
        .count();
    assert_eq!(twins, 2);
}
