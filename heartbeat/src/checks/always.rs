//! Checks that always pass or always fail: the seed's `check_true` and `check_false`, useful to
//! try a monitoring setup and in tests.

use crate::builder::Check;
use crate::outcome::Outcome;

/// A check named `name` that always passes.
#[track_caller]
pub fn always_up(name: impl Into<String>) -> Check {
    Check::new(name, || true)
}

/// A check named `name` that always fails.
#[track_caller]
pub fn always_down(name: impl Into<String>) -> Check {
    Check::new(name, || Outcome::fail("this check always fails"))
}
