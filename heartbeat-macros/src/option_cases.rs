// The option rules as a table: each set of options, and the rules both the attributes (at
// compile time) and the builder (for every check, when the router is built) find broken, in
// this order. Each crate's unit tests hold its own rules against this one table, so the two
// cannot drift apart. Test-only; durations in milliseconds.
#[derive(Debug, Default)]
struct OptionCase {
    environ: bool,
    timeout_ms: Option<u64>,
    cache_ms: Option<u64>,
    every_ms: Option<u64>,
    max_stale_ms: Option<u64>,
    failure_threshold: Option<u32>,
    success_threshold: Option<u32>,
    critical: Option<bool>,
    broken: &'static [&'static str],
}

const NONE: OptionCase = OptionCase {
    environ: false,
    timeout_ms: None,
    cache_ms: None,
    every_ms: None,
    max_stale_ms: None,
    failure_threshold: None,
    success_threshold: None,
    critical: None,
    broken: &[],
};

const OPTION_CASES: &[OptionCase] = &[
    NONE,
    OptionCase { timeout_ms: Some(0), broken: &["zero timeout"], ..NONE },
    OptionCase { failure_threshold: Some(3), success_threshold: Some(2), critical: Some(false), ..NONE },
    OptionCase { failure_threshold: Some(0), broken: &["zero failure_threshold"], ..NONE },
    OptionCase { success_threshold: Some(0), broken: &["zero success_threshold"], ..NONE },
    OptionCase { every_ms: Some(10_000), ..NONE },
    OptionCase { every_ms: Some(10_000), timeout_ms: Some(10_000), max_stale_ms: Some(10_001), ..NONE },
    OptionCase { every_ms: Some(0), broken: &["zero every"], ..NONE },
    OptionCase { every_ms: Some(10_000), cache_ms: Some(5_000), broken: &["every with cache"], ..NONE },
    OptionCase { max_stale_ms: Some(30_000), broken: &["max_stale without every"], ..NONE },
    OptionCase { every_ms: Some(10_000), max_stale_ms: Some(10_000), broken: &["max_stale not over every"], ..NONE },
    OptionCase { every_ms: Some(10_000), max_stale_ms: Some(5_000), broken: &["max_stale not over every"], ..NONE },
    OptionCase { every_ms: Some(1_000), timeout_ms: Some(2_000), broken: &["timeout over every"], ..NONE },
    OptionCase {
        every_ms: Some(1_000),
        timeout_ms: Some(2_000),
        cache_ms: Some(1),
        max_stale_ms: Some(500),
        broken: &["every with cache", "max_stale not over every", "timeout over every"],
        ..NONE
    },
    OptionCase { environ: true, ..NONE },
    OptionCase { environ: true, timeout_ms: Some(0), broken: &["zero timeout"], ..NONE },
    OptionCase { environ: true, critical: Some(false), broken: &["levels on environ"], ..NONE },
    OptionCase { environ: true, every_ms: Some(1_000), broken: &["levels on environ"], ..NONE },
    OptionCase { environ: true, failure_threshold: Some(2), broken: &["levels on environ"], ..NONE },
];
