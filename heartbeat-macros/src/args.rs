//! The attribute's options: parsed into [`Options`], every problem collected.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Path};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Readiness,
    Liveliness,
    Environ,
    Health,
    /// `#[on_status_change]`: a subscriber, not a check.
    OnStatusChange,
}

impl Kind {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Readiness => "#[readiness_probe]",
            Kind::Liveliness => "#[liveliness_probe]",
            Kind::Environ => "#[environ_probe]",
            Kind::Health => "#[health_check]",
            Kind::OnStatusChange => "#[on_status_change]",
        }
    }

    /// The variant of `heartbeat::Kind` this attribute registers (for a subscriber, which is
    /// no check, only the name of its registration's constant uses it).
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::Readiness => "Readiness",
            Kind::Liveliness => "Liveliness",
            Kind::Environ => "Environ",
            Kind::Health => "Health",
            Kind::OnStatusChange => "OnStatusChange",
        }
    }

    /// What the attribute registers, for messages: `check` or `subscriber`.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::OnStatusChange => "subscriber",
            _ => "check",
        }
    }

    /// Whether the attribute takes option `key`.
    fn allows(self, key: &str) -> bool {
        match key {
            "timeout" | "crate" => true,
            "default" => self == Kind::Health,
            _ => !matches!(self, Kind::Environ | Kind::OnStatusChange) && ALL.contains(&key),
        }
    }
}

/// A duration given as a literal, kept in nanoseconds.
pub(crate) type Nanos = u64;

/// Every option any attribute takes, in the order messages list them.
const ALL: &[&str] = &[
    "name",
    "default",
    "timeout",
    "cache",
    "critical",
    "failure_threshold",
    "success_threshold",
    "every",
    "max_stale",
    "crate",
];

/// Everything the attribute said, with defaults still unapplied. Each value keeps the span of
/// its token, for the rules between options.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    pub(crate) default: Option<bool>,
    pub(crate) timeout: Option<(Nanos, Span)>,
    pub(crate) cache: Option<(Nanos, Span)>,
    pub(crate) critical: Option<bool>,
    pub(crate) failure_threshold: Option<(u32, Span)>,
    pub(crate) success_threshold: Option<(u32, Span)>,
    pub(crate) every: Option<(Nanos, Span)>,
    pub(crate) max_stale: Option<(Nanos, Span)>,
    pub(crate) krate: Option<Path>,
}

/// Collects every error instead of stopping at the first (serde's `Ctxt`, linkme's `combine`).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error over all of `tokens` (start to end), not just their first token.
    pub(crate) fn spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        message: impl std::fmt::Display,
    ) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn count(&self) -> usize {
        self.0.as_ref().map_or(0, |e| e.into_iter().count())
    }

    pub(crate) fn into_compile_error(self) -> Option<TokenStream> {
        self.0.map(|e| e.to_compile_error())
    }
}

/// Parses `name = "…", timeout = "2s", …` for the attribute `kind`.
pub(crate) fn parse(kind: Kind, args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        option(kind, &mut options, meta, errors);
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }
    for (_, message, span) in broken(&options) {
        errors.at(span, message);
    }
    options
}

/// The rules between options (the runtime's `rules.rs`, held against the same table,
/// `option_cases.rs`): each rule's name in that table, its message, and the span of the
/// option at fault. Zero thresholds and zero durations are reported as they are parsed.
fn broken(options: &Options) -> Vec<(&'static str, &'static str, Span)> {
    let mut broken = Vec::new();
    match options.every {
        Some((every, _)) => {
            if let Some((_, span)) = options.cache {
                broken.push((
                    "every with cache",
                    "`every` and `cache` do not go together: a background check is never run by a request, so there is nothing to cache; drop `cache`",
                    span,
                ));
            }
            if let Some((_, span)) = options.max_stale.filter(|(stale, _)| *stale <= every) {
                broken.push((
                    "max_stale not over every",
                    "`max_stale` must be longer than `every`: the check would go stale between two runs; leave it out for three times `every`",
                    span,
                ));
            }
            if let Some((_, span)) = options.timeout.filter(|(timeout, _)| *timeout > every) {
                broken.push((
                    "timeout over every",
                    "the `timeout` is longer than `every`: a run could outlast its period; give a shorter timeout or a longer period",
                    span,
                ));
            }
        }
        None => {
            if let Some((_, span)) = options.max_stale {
                broken.push((
                    "max_stale without every",
                    "`max_stale` applies only to a background check: add `every`, or drop `max_stale`",
                    span,
                ));
            }
        }
    }
    broken
}

fn option(kind: Kind, options: &mut Options, meta: ParseNestedMeta<'_>, errors: &mut Errors) {
    let attribute = kind.attribute();
    let expected = expected(kind);
    let key = match meta.path.get_ident() {
        Some(ident) => ident.to_string(),
        None => {
            errors.spanned(
                &meta.path,
                format!("unknown option for {attribute}; expected one of: {expected}"),
            );
            skip_value(&meta);
            return;
        }
    };
    let span = meta.path.span();
    if !meta.input.peek(syn::Token![=]) {
        errors.at(
            span,
            format!("`{key}` needs a value, as in `{key} = …`; {attribute} takes: {expected}"),
        );
        skip_value(&meta);
        return;
    }
    let value: Expr = match meta.value().and_then(|v| v.parse()) {
        Ok(value) => value,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    if !kind.allows(&key) {
        let message = if ALL.contains(&key.as_str()) {
            let owner = if kind == Kind::OnStatusChange {
                "a subscriber is called on every change of every check, and has no name, level, cache or schedule of its own"
            } else if key == "default" {
                "only #[health_check] has it"
            } else if kind == Kind::Environ && key != "name" && key != "cache" {
                "an environ probe reports facts and has no level; `critical`, the thresholds, `every` and `max_stale` apply to readiness, liveliness and health checks"
            } else {
                "it has no meaning there"
            };
            format!("`{key}` is not an option of {attribute}: {owner}; expected one of: {expected}")
        } else {
            format!("unknown option `{key}` for {attribute}; expected one of: {expected}")
        };
        errors.at(span, message);
        return;
    }
    let given_twice = match key.as_str() {
        "name" => options.name.is_some(),
        "default" => options.default.is_some(),
        "timeout" => options.timeout.is_some(),
        "cache" => options.cache.is_some(),
        "critical" => options.critical.is_some(),
        "failure_threshold" => options.failure_threshold.is_some(),
        "success_threshold" => options.success_threshold.is_some(),
        "every" => options.every.is_some(),
        "max_stale" => options.max_stale.is_some(),
        _ => options.krate.is_some(),
    };
    if given_twice {
        errors.at(
            span,
            format!("`{key}` is given more than once in {attribute}"),
        );
        return;
    }
    let at = value.span();
    match key.as_str() {
        "name" => options.name = string(&value, "name", errors).and_then(|s| name(s, errors)),
        "default" => options.default = boolean(&value, "default", errors),
        "critical" => options.critical = boolean(&value, "critical", errors),
        "timeout" => {
            options.timeout =
                positive_duration(&value, "timeout", errors, "\"800ms\"").map(|nanos| (nanos, at));
        }
        "every" => {
            options.every =
                positive_duration(&value, "every", errors, "\"10s\"").map(|nanos| (nanos, at));
        }
        "cache" => {
            options.cache = string(&value, "cache", errors)
                .and_then(|s| duration(&s, errors))
                .map(|nanos| (nanos, at));
        }
        "max_stale" => {
            options.max_stale = string(&value, "max_stale", errors)
                .and_then(|s| duration(&s, errors))
                .map(|nanos| (nanos, at));
        }
        "failure_threshold" | "success_threshold" => {
            let threshold = threshold(&value, &key, errors).map(|n| (n, at));
            if key == "failure_threshold" {
                options.failure_threshold = threshold;
            } else {
                options.success_threshold = threshold;
            }
        }
        _ => options.krate = path(&value, errors),
    }
}

/// A duration that must not be zero (`timeout`, `every`).
fn positive_duration(value: &Expr, key: &str, errors: &mut Errors, example: &str) -> Option<Nanos> {
    let nanos = string(value, key, errors).and_then(|s| duration(&s, errors))?;
    if nanos == 0 {
        let message = if key == "timeout" {
            format!(
                "a zero `timeout` would fail every run; give a positive duration such as {example}"
            )
        } else {
            format!(
                "`every` is zero: a background check needs a positive period, such as {example}"
            )
        };
        errors.spanned(value, message);
        return None;
    }
    Some(nanos)
}

/// `failure_threshold = 3`: a positive integer.
fn threshold(value: &Expr, key: &str, errors: &mut Errors) -> Option<u32> {
    let parsed = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(n), ..
        }) => n.base10_parse::<u32>().ok(),
        _ => None,
    };
    match parsed {
        Some(0) => {
            let counts = if key == "failure_threshold" {
                "the consecutive failures that fail the check, so give 1 (fail at once, the default) or more"
            } else {
                "the consecutive passes that end a failure, so give 1 (the default) or more"
            };
            errors.spanned(value, format!("`{key}` is zero: it counts {counts}"));
            None
        }
        Some(n) => Some(n),
        None => {
            errors.spanned(
                value,
                format!("`{key}` takes a positive integer literal, as in `{key} = 3`"),
            );
            None
        }
    }
}

fn expected(kind: Kind) -> String {
    let names: Vec<String> = ALL
        .iter()
        .filter(|k| kind.allows(k))
        .map(|k| format!("`{k}`"))
        .collect();
    names.join(", ")
}

/// Consumes whatever follows a key we already reported, so parsing goes on after it.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.value().and_then(|v| v.parse::<Expr>());
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            skip_value(&inner);
            Ok(())
        });
    }
}

fn string(value: &Expr, key: &str, errors: &mut Errors) -> Option<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.clone()),
        _ => {
            let example = match key {
                "name" => "name = \"database\"",
                "cache" => "cache = \"5s\"",
                "every" => "every = \"10s\"",
                "max_stale" => "max_stale = \"30s\"",
                _ => "timeout = \"2s\"",
            };
            errors.at(
                value.span(),
                format!("`{key}` takes a string literal, as in `{example}`"),
            );
            None
        }
    }
}

fn boolean(value: &Expr, key: &str, errors: &mut Errors) -> Option<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Some(b.value),
        _ => {
            errors.spanned(value, format!("`{key}` takes `true` or `false`"));
            None
        }
    }
}

fn path(value: &Expr, errors: &mut Errors) -> Option<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Some(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.parse::<Path>() {
            Ok(path) => Some(path),
            Err(_) => {
                errors.at(
                    s.span(),
                    "`crate` takes a path, as in `crate = ::heartbeat`",
                );
                None
            }
        },
        _ => {
            errors.at(
                value.span(),
                "`crate` takes a path, as in `crate = ::heartbeat`",
            );
            None
        }
    }
}

/// The same rule as the runtime's `heartbeat::Heartbeat` applies to run-time names; both are
/// held against one table (`name_cases.rs`).
fn name(lit: LitStr, errors: &mut Errors) -> Option<LitStr> {
    match name_problem(&lit.value()) {
        Some(problem) => {
            errors.at(lit.span(), problem);
            None
        }
        None => Some(lit),
    }
}

/// Why a health check may not be named `ping` (the builder says the same).
pub(crate) const PING_RESERVED: &str = "`ping` is reserved for health checks: `/health/ping` answers `pong`, so a check of that name could not be asked for at `/health/<name>`; give another `name = \"…\"`";

fn name_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("a check name must not be empty")
    } else if value.contains(',') {
        Some("a check name must not contain `,`: it separates names in `?checks=`")
    } else if value.contains('/') {
        Some("a check name must not contain `/`")
    } else if value == "_defaults" {
        Some("`_defaults` is reserved: it selects the default set in `?checks=`")
    } else if value.trim() != value || value.chars().any(char::is_control) {
        Some("a check name must not start or end with white space or hold control characters")
    } else {
        None
    }
}

/// `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"1h"` into nanoseconds.
fn duration(lit: &LitStr, errors: &mut Errors) -> Option<Nanos> {
    let text = lit.value();
    let text = text.trim();
    let hint = "expected a duration such as \"250ms\", \"2s\", \"1.5s\", \"1m\" or \"1h\"";
    if text.starts_with('-') {
        errors.at(lit.span(), format!("a duration cannot be negative; {hint}"));
        return None;
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_nanos: u128 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => {
            errors.at(lit.span(), format!("invalid duration `{text}`; {hint}"));
            return None;
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(fraction) || fraction.len() > 9 {
        errors.at(lit.span(), format!("invalid duration `{text}`; {hint}"));
        return None;
    }
    let whole: u128 = whole.parse().unwrap_or(u128::MAX);
    let mut nanos = whole.saturating_mul(unit_nanos);
    if !fraction.is_empty() {
        let scale = 10u128.pow(fraction.len() as u32);
        let fraction: u128 = fraction.parse().unwrap_or(0);
        nanos = nanos.saturating_add(fraction * unit_nanos / scale);
    }
    match u64::try_from(nanos) {
        Ok(nanos) => Some(nanos),
        Err(_) => {
            errors.at(lit.span(), format!("the duration `{text}` is too long"));
            None
        }
    }
}

/// Parses the optional `crate = path` of `build_info!(…)`.
pub(crate) fn parse_crate_only(args: TokenStream, errors: &mut Errors) -> Option<Path> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") && krate.is_none() {
            let value: Expr = meta.value()?.parse()?;
            krate = path(&value, errors);
        } else {
            errors.spanned(&meta.path, "build_info!() takes only `crate = path`");
            skip_value(&meta);
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }
    krate
}

#[cfg(test)]
mod tests {
    include!("name_cases.rs");
    include!("option_cases.rs");

    /// The rules the attribute applies, by the shared table's names: those of [`super::broken`]
    /// and the zero values refused while parsing.
    fn broken_ids(case: &OptionCase) -> Vec<&'static str> {
        let span = proc_macro2::Span::call_site();
        let nanos = |ms: Option<u64>| ms.map(|ms| (ms * 1_000_000, span));
        if case.environ {
            let mut ids = Vec::new();
            if case.timeout_ms == Some(0) {
                ids.push("zero timeout");
            }
            let levels = case.critical.is_some()
                || case.failure_threshold.is_some()
                || case.success_threshold.is_some()
                || case.every_ms.is_some()
                || case.max_stale_ms.is_some();
            if levels {
                ids.push("levels on environ");
            }
            return ids;
        }
        let options = super::Options {
            timeout: nanos(case.timeout_ms),
            cache: nanos(case.cache_ms),
            every: nanos(case.every_ms),
            max_stale: nanos(case.max_stale_ms),
            ..super::Options::default()
        };
        let mut ids = Vec::new();
        let zero = |ms: Option<u64>| ms == Some(0);
        if zero(case.timeout_ms) {
            ids.push("zero timeout");
        }
        if case.failure_threshold == Some(0) {
            ids.push("zero failure_threshold");
        }
        if case.success_threshold == Some(0) {
            ids.push("zero success_threshold");
        }
        if zero(case.every_ms) {
            ids.push("zero every");
        }
        ids.extend(super::broken(&options).into_iter().map(|(id, _, _)| id));
        ids
    }

    #[test]
    fn the_option_rules_are_the_shared_table() {
        for case in OPTION_CASES {
            assert_eq!(broken_ids(case), case.broken, "{case:?}");
        }
    }

    #[test]
    fn the_name_rule_is_the_shared_table() {
        for (name, problem) in NAME_CASES {
            assert_eq!(super::name_problem(name), *problem, "{name:?}");
        }
    }
}
