//! The rules a check's options must follow (SPEC §12): the builder applies them to every check
//! when the router is built, and the attributes apply the same rules at compile time (both are
//! held against one table, `heartbeat-macros/src/option_cases.rs`).

use std::time::Duration;

use crate::registry::{CheckInfo, Kind};

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

/// The options a rule reads, as the attribute or the builder gave them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Given {
    pub(crate) timeout: Option<Duration>,
    pub(crate) cache: Option<Duration>,
    pub(crate) every: Option<Duration>,
    pub(crate) max_stale: Option<Duration>,
    pub(crate) failure_threshold: u32,
    pub(crate) success_threshold: u32,
    /// Whether `critical`, a threshold, `every` or `max_stale` was given.
    pub(crate) levels_given: bool,
}

impl Given {
    pub(crate) fn of(info: &CheckInfo) -> Self {
        let levels = info.levels;
        Given {
            timeout: info.timeout,
            cache: info.cache,
            every: info.every,
            max_stale: info.max_stale,
            failure_threshold: levels.failure_threshold,
            success_threshold: levels.success_threshold,
            levels_given: levels != crate::registry::Levels::DEFAULT
                || info.every.is_some()
                || info.max_stale.is_some(),
        }
    }
}

/// Every rule `given` breaks, for a check of `kind`.
pub(crate) fn broken(kind: Kind, given: &Given) -> Vec<Rule> {
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
        rule(given.levels_given, Rule::LevelsOnEnviron);
        return rules;
    }
    rule(given.failure_threshold == 0, Rule::ZeroFailureThreshold);
    rule(given.success_threshold == 0, Rule::ZeroSuccessThreshold);
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

    use super::{Given, broken};
    use crate::registry::Kind;
    use std::time::Duration;

    #[test]
    fn the_option_rules_are_the_shared_table() {
        for case in OPTION_CASES {
            let ms = |ms: Option<u64>| ms.map(Duration::from_millis);
            let given = Given {
                timeout: ms(case.timeout_ms),
                cache: ms(case.cache_ms),
                every: ms(case.every_ms),
                max_stale: ms(case.max_stale_ms),
                failure_threshold: case.failure_threshold.unwrap_or(1),
                success_threshold: case.success_threshold.unwrap_or(1),
                levels_given: case.failure_threshold.is_some()
                    || case.success_threshold.is_some()
                    || case.critical.is_some()
                    || case.every_ms.is_some()
                    || case.max_stale_ms.is_some(),
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
