//! The rules a check's options must follow (SPEC §12): the builder applies them to every check
//! when the router is built, and the attributes apply the same rules at compile time (both are
//! held against one table, `heartbeat-macros/src/option_cases.rs`).

use crate::registry::{Kind, Levels, Options};

/// One broken rule. [`Rule::id`] names it in the shared table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    ZeroTimeout,
    ZeroFailureThreshold,
    ZeroSuccessThreshold,
    ZeroEvery,
    EveryWithCache,
    MaxStaleWithoutEvery,
    MaxStaleNotOverEvery,
    TimeoutOverEvery,
    LevelsOnEnviron,
}

impl Rule {
    /// The rule's name in the shared table.
    #[cfg(test)]
    fn id(self) -> &'static str {
        match self {
            Rule::ZeroTimeout => "zero timeout",
            Rule::ZeroFailureThreshold => "zero failure_threshold",
            Rule::ZeroSuccessThreshold => "zero success_threshold",
            Rule::ZeroEvery => "zero every",
            Rule::EveryWithCache => "every with cache",
            Rule::MaxStaleWithoutEvery => "max_stale without every",
            Rule::MaxStaleNotOverEvery => "max_stale not over every",
            Rule::TimeoutOverEvery => "timeout over every",
            Rule::LevelsOnEnviron => "levels on environ",
        }
    }

    /// What is wrong, and what to do about it.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Rule::ZeroTimeout => "a zero timeout would fail every run; give a positive duration",
            Rule::ZeroFailureThreshold => {
                "`failure_threshold` is zero: it counts the consecutive failures that fail the check, so give 1 (fail at once, the default) or more"
            }
            Rule::ZeroSuccessThreshold => {
                "`success_threshold` is zero: it counts the consecutive passes that end a failure, so give 1 (the default) or more"
            }
            Rule::ZeroEvery => {
                "`every` is zero: a background check needs a positive period, such as \"10s\""
            }
            Rule::EveryWithCache => {
                "`every` and `cache` do not go together: a background check is never run by a request, so there is nothing to cache; drop `cache`"
            }
            Rule::MaxStaleWithoutEvery => {
                "`max_stale` applies only to a background check: add `every`, or drop `max_stale`"
            }
            Rule::MaxStaleNotOverEvery => {
                "`max_stale` must be longer than `every`: the check would go stale between two runs; leave it out for three times `every`"
            }
            Rule::TimeoutOverEvery => {
                "the `timeout` is longer than `every`: a run could outlast its period; give a shorter timeout or a longer period"
            }
            Rule::LevelsOnEnviron => {
                "an environ probe has no level: `critical`, the thresholds, `every` and `max_stale` apply to readiness, liveliness and health checks"
            }
        }
    }
}

/// Every rule `given` breaks, for a check of `kind`.
pub(crate) fn broken(kind: Kind, given: &Options) -> Vec<Rule> {
    let mut rules = Vec::new();
    let mut rule = |broken: bool, rule: Rule| {
        if broken {
            rules.push(rule);
        }
    };
    rule(
        given.timeout.is_some_and(|t| t.is_zero()),
        Rule::ZeroTimeout,
    );
    if kind == Kind::Environ {
        let levels_given =
            given.levels != Levels::DEFAULT || given.every.is_some() || given.max_stale.is_some();
        rule(levels_given, Rule::LevelsOnEnviron);
        return rules;
    }
    rule(
        given.levels.failure_threshold == 0,
        Rule::ZeroFailureThreshold,
    );
    rule(
        given.levels.success_threshold == 0,
        Rule::ZeroSuccessThreshold,
    );
    match given.every {
        Some(every) => {
            rule(every.is_zero(), Rule::ZeroEvery);
            rule(given.cache.is_some(), Rule::EveryWithCache);
            rule(
                given.max_stale.is_some_and(|stale| stale <= every),
                Rule::MaxStaleNotOverEvery,
            );
            rule(
                given.timeout.is_some_and(|timeout| timeout > every),
                Rule::TimeoutOverEvery,
            );
        }
        None => rule(given.max_stale.is_some(), Rule::MaxStaleWithoutEvery),
    }
    rules
}

#[cfg(test)]
mod tests {
    include!("../../heartbeat-macros/src/option_cases.rs");

    use super::broken;
    use crate::registry::{Kind, Levels, Options};
    use std::time::Duration;

    #[test]
    fn the_option_rules_are_the_shared_table() {
        for case in OPTION_CASES {
            let ms = |ms: Option<u64>| ms.map(Duration::from_millis);
            let given = Options {
                timeout: ms(case.timeout_ms),
                cache: ms(case.cache_ms),
                every: ms(case.every_ms),
                max_stale: ms(case.max_stale_ms),
                levels: Levels {
                    critical: case.critical.unwrap_or(true),
                    failure_threshold: case.failure_threshold.unwrap_or(1),
                    success_threshold: case.success_threshold.unwrap_or(1),
                },
                ..Options::DEFAULT
            };
            let kind = if case.environ {
                Kind::Environ
            } else {
                Kind::Readiness
            };
            let ids: Vec<&str> = broken(kind, &given).into_iter().map(|r| r.id()).collect();
            assert_eq!(ids, case.broken, "{case:?}");
        }
    }
}
