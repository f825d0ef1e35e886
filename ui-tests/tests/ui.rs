//! Every misuse of the four attributes is one compile-fail case in `tests/fail/`, each with the
//! `.stderr` rustc gives; every accepted use is a case in `tests/pass/` that must compile.

// The `.stderr` files are blessed on stable 1.95: rustc's wording and layout change between
// releases, so on any other toolchain the test is ignored rather than failing on cosmetics.
// After a toolchain change, re-bless in one commit with
// `TRYBUILD=overwrite cargo test -p heartbeat-ui-tests`, then read the diff of every `.stderr`.
#[rustversion::attr(not(stable(1.95)), ignore)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    if cfg!(not(feature = "linkme")) {
        t.compile_fail("tests/fail/*.rs");
    }
    t.pass("tests/pass/*.rs");
}
