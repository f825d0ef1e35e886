//! The registration record, the backend that collects it at link time, and [`registered`].
//!
//! A registration flows: attribute → [`crate::__private::register!`] → backend (here
//! `inventory`) → [`registered`] / [`checks`] → the builder.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::builder::Check;
use crate::outcome::Outcome;

/// Which endpoint a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `#[readiness_probe]`: `/.well-known/heartbeat/readiness`.
    Readiness,
    /// `#[liveliness_probe]`: `/.well-known/heartbeat/liveliness`.
    Liveliness,
    /// `#[environ_probe]`: merged into `/.well-known/heartbeat/environ`.
    Environ,
    /// `#[health_check]`: a named check of `/health/`.
    Health,
}

impl Kind {
    /// A short lowercase name: `readiness`, `liveliness`, `environ` or `health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Readiness => "readiness",
            Kind::Liveliness => "liveliness",
            Kind::Environ => "environ",
            Kind::Health => "health",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a check was declared: the attribute's function, or the run-time registration's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    module_path: Option<&'static str>,
    file: &'static str,
    line: u32,
}

impl Site {
    #[doc(hidden)]
    pub const fn new(module_path: &'static str, file: &'static str, line: u32) -> Self {
        Site {
            module_path: Some(module_path),
            file,
            line,
        }
    }

    /// The caller's location, for checks registered at run time.
    #[track_caller]
    pub(crate) fn caller() -> Self {
        let location = std::panic::Location::caller();
        Site {
            module_path: None,
            file: location.file(),
            line: location.line(),
        }
    }

    /// The module of an annotated function; `None` for a run-time registration.
    pub fn module_path(&self) -> Option<&'static str> {
        self.module_path
    }

    /// The source file.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line in [`Site::file`].
    pub fn line(&self) -> u32 {
        self.line
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.module_path {
            Some(module) => write!(f, "{module} ({}:{})", self.file, self.line),
            None => write!(f, "{}:{} (registered at run time)", self.file, self.line),
        }
    }
}

/// A description of one check: what [`registered`] lists and what the builder's filters see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInfo {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) options: Options,
    pub(crate) site: Site,
}

/// The options a check was given, by its attribute or on its [`Check`], before the router's
/// defaults apply: one record for both, so that they cannot differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// For a health check: whether it joins `_defaults`.
    pub(crate) default: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) cache: Option<Duration>,
    pub(crate) levels: Levels,
    pub(crate) every: Option<Duration>,
    pub(crate) max_stale: Option<Duration>,
}

impl Options {
    /// No option given: it joins `_defaults` (for a health check), and the router's timeout
    /// and cache time apply.
    pub(crate) const DEFAULT: Options = Options {
        default: true,
        timeout: None,
        cache: None,
        levels: Levels::DEFAULT,
        every: None,
        max_stale: None,
    };
}

/// How a check's runs become its level (SPEC §12): `critical` and the two thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Levels {
    /// `false`: every failure shows as a warning.
    pub(crate) critical: bool,
    /// Consecutive failures before the check fails (once it has passed).
    pub(crate) failure_threshold: u32,
    /// Consecutive passes before a failed check passes again.
    pub(crate) success_threshold: u32,
}

impl Levels {
    pub(crate) const DEFAULT: Levels = Levels {
        critical: true,
        failure_threshold: 1,
        success_threshold: 1,
    };
}

impl CheckInfo {
    /// The endpoint the check belongs to.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The check's name: the key of its result, and what `?checks=` selects.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// For a health check: whether it is in the `_defaults` set. Always false for other kinds.
    pub fn is_default(&self) -> bool {
        self.options.default
    }

    /// The check's own timeout, if it set one (else the router's default applies).
    pub fn timeout(&self) -> Option<Duration> {
        self.options.timeout
    }

    /// How long the check's own result may be reused, if it set one.
    pub fn cache(&self) -> Option<Duration> {
        self.options.cache
    }

    /// Whether a failure of the check fails its endpoint (`critical = false`: it warns).
    pub fn is_critical(&self) -> bool {
        self.options.levels.critical
    }

    /// Consecutive failures before the check fails, once it has passed (default 1).
    pub fn failure_threshold(&self) -> u32 {
        self.options.levels.failure_threshold
    }

    /// Consecutive passes before a failed check passes again (default 1).
    pub fn success_threshold(&self) -> u32 {
        self.options.levels.success_threshold
    }

    /// For a background check: the delay after each run before the next.
    pub fn every(&self) -> Option<Duration> {
        self.options.every
    }

    /// For a background check: how old its last run may be before it fails as stale (the
    /// option given; by default three times [`CheckInfo::every`]).
    pub fn max_stale(&self) -> Option<Duration> {
        let Options {
            every, max_stale, ..
        } = self.options;
        max_stale.or_else(|| every.map(|every| every.saturating_mul(3)))
    }

    /// Where the check was declared.
    pub fn site(&self) -> Site {
        self.site
    }
}

/// A boxed future of an async check.
pub type BoxFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// How an annotated function is called: generated code fills this with a plain `fn`.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Func {
    /// A sync function: runs on one of heartbeat's own threads.
    Sync(fn() -> Outcome),
    /// An async function: its future is polled on the runtime.
    Async(fn() -> BoxFuture),
    /// A function with `Provided` parameters (sync or async): bound to the builder's values
    /// when the router is built.
    Provided(crate::provided::Bind),
}

/// How any check is called, annotated or registered at run time.
#[derive(Clone)]
pub(crate) enum Runner {
    Sync(Arc<dyn Fn() -> Outcome + Send + Sync>),
    Async(Arc<dyn Fn() -> BoxFuture + Send + Sync>),
}

/// One annotated function, as the attribute recorded it: built in a `static` by generated code,
/// with the options the attribute was given.
///
/// ```text
/// Registration::new(Kind::Readiness, "db", Site::new(module_path!(), file!(), line!()), func)
///     .timeout(Duration::from_secs(2))
/// ```
#[doc(hidden)]
pub struct Registration {
    kind: Kind,
    name: &'static str,
    site: Site,
    func: Func,
    options: Options,
}

#[doc(hidden)]
impl Registration {
    /// A check with no options given: it joins `_defaults` (for a health check), and the
    /// router's timeout and cache time apply.
    pub const fn new(kind: Kind, name: &'static str, site: Site, func: Func) -> Self {
        Registration {
            kind,
            name,
            site,
            func,
            options: Options::DEFAULT,
        }
    }

    /// `default = …`: whether a health check joins `_defaults`.
    pub const fn default(mut self, default: bool) -> Self {
        self.options.default = default;
        self
    }

    /// `timeout = "…"`.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// `cache = "…"`.
    pub const fn cache(mut self, cache: Duration) -> Self {
        self.options.cache = Some(cache);
        self
    }

    /// `critical = …`.
    pub const fn critical(mut self, critical: bool) -> Self {
        self.options.levels.critical = critical;
        self
    }

    /// `failure_threshold = …` (at least 1: the attribute checks it).
    pub const fn failure_threshold(mut self, threshold: u32) -> Self {
        self.options.levels.failure_threshold = threshold;
        self
    }

    /// `success_threshold = …` (at least 1: the attribute checks it).
    pub const fn success_threshold(mut self, threshold: u32) -> Self {
        self.options.levels.success_threshold = threshold;
        self
    }

    /// `every = "…"`.
    pub const fn every(mut self, every: Duration) -> Self {
        self.options.every = Some(every);
        self
    }

    /// `max_stale = "…"`.
    pub const fn max_stale(mut self, max_stale: Duration) -> Self {
        self.options.max_stale = Some(max_stale);
        self
    }

    fn check(&self) -> Check {
        let info = CheckInfo {
            kind: self.kind,
            name: self.name.to_owned(),
            options: Options {
                default: self.options.default && self.kind == Kind::Health,
                ..self.options
            },
            site: self.site,
        };
        match self.func {
            Func::Sync(f) => Check::from_parts(info, Runner::Sync(Arc::new(f))),
            Func::Async(f) => Check::from_parts(info, Runner::Async(Arc::new(f))),
            Func::Provided(bind) => Check::from_binding(info, bind),
        }
    }
}

/// Every check registered by an attribute in this binary, sorted by name, then kind, then site.
///
/// Run-time checks added to a [`crate::Heartbeat`] are not listed: they belong to that builder.
///
/// ```standalone_crate
/// #[heartbeat::liveliness_probe]
/// fn event_loop() -> bool {
///     true
/// }
///
/// let checks = heartbeat::registered();
/// let check = checks.iter().find(|c| c.name() == "event_loop").unwrap();
/// assert_eq!(check.kind(), heartbeat::Kind::Liveliness);
/// ```
pub fn registered() -> Vec<CheckInfo> {
    checks().into_iter().map(|c| c.info().clone()).collect()
}

/// Every registered check, for the builder, sorted like [`registered`].
pub(crate) fn checks() -> Vec<Check> {
    let mut all: Vec<Check> = backend::all().map(Registration::check).collect();
    all.sort_by(|a, b| {
        let (a, b) = (a.info(), b.info());
        (&a.name, a.kind, a.site).cmp(&(&b.name, b.kind, b.site))
    });
    all
}

/// The registration backend this build uses: `"inventory"` (default) or `"linkme"` (feature).
pub const REGISTRATION_BACKEND: &str = if cfg!(feature = "linkme") {
    "linkme"
} else {
    "inventory"
};

/// The `inventory` backend (default): life-before-main constructors append to a global list.
#[cfg(not(feature = "linkme"))]
mod backend {
    use super::Registration;

    inventory::collect!(Registration);

    pub(super) fn all() -> impl Iterator<Item = &'static Registration> {
        inventory::iter::<Registration>.into_iter()
    }
}

/// The `linkme` backend (feature `linkme`): the linker gathers every registration into one
/// section, read as a slice.
#[cfg(feature = "linkme")]
pub(crate) mod backend {
    use super::Registration;

    /// Every registration of the binary.
    #[linkme::distributed_slice]
    pub static REGISTRATIONS: [Registration];

    pub(super) fn all() -> impl Iterator<Item = &'static Registration> {
        REGISTRATIONS.iter()
    }
}

/// Submits one [`Registration`] to the active backend. Generated code calls it as
/// `heartbeat::__private::register! { Registration::new(…) }`, whatever the backend.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_register {
    ($registration:expr) => {
        $crate::__private::inventory::submit! { $registration }
    };
}

/// Submits one [`Registration`] to the active backend (here `linkme`).
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_register {
    ($registration:expr) => {
        #[$crate::__private::linkme::distributed_slice($crate::__private::REGISTRATIONS)]
        #[linkme(crate = $crate::__private::linkme)]
        static __HEARTBEAT_REGISTRATION: $crate::__private::Registration = $registration;
    };
}
