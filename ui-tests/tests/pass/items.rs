//! The attributes leave the function as the user wrote it: visibility, docs, other attributes,
//! nested modules, and checks defined inside a function body.

mod checks {
    /// Documented, `pub(crate)`, with other attributes around it.
    #[must_use]
    #[heartbeat::readiness_probe]
    #[inline]
    pub(crate) fn documented() -> bool {
        true
    }

    pub(crate) mod deeper {
        #[heartbeat::health_check(name = "deep")]
        pub(crate) async fn deep() {}
    }
}

fn main() {
    #[heartbeat::liveliness_probe]
    fn inside_main() -> bool {
        true
    }

    assert!(checks::documented());
    drop(checks::deeper::deep());
    assert!(inside_main());
}
