// The check-name rule as a table: each name, and the problem both the attributes (at compile
// time) and the builder (for run-time checks) report for it. Each crate's unit tests hold its
// own rule against this one table, so the two rules cannot drift apart. Test-only.
const NAME_CASES: &[(&str, Option<&str>)] = &[
    ("db", None),
    ("Database", None),
    ("two words", None),
    ("über-check", None),
    ("a.b_c-d", None),
    ("", Some("a check name must not be empty")),
    (
        "a,b",
        Some("a check name must not contain `,`: it separates names in `?checks=`"),
    ),
    ("a/b", Some("a check name must not contain `/`")),
    (
        "_defaults",
        Some("`_defaults` is reserved: it selects the default set in `?checks=`"),
    ),
    (
        " padded",
        Some("a check name must not start or end with white space or hold control characters"),
    ),
    (
        "padded ",
        Some("a check name must not start or end with white space or hold control characters"),
    ),
    (
        "line\nbreak",
        Some("a check name must not start or end with white space or hold control characters"),
    ),
];
