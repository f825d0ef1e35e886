//! Status-change subscribers (SPEC §13): functions registered with `#[on_status_change]`, each
//! called for every change of a check's level, in order.
//!
//! Each subscriber has a task of its own with its own [`subscribe`] stream, so a slow one
//! never delays a probe (publishing never waits) or another subscriber (it only falls behind
//! on its own stream, and skips the oldest past [`CHANGES_KEPT`](crate::CHANGES_KEPT)). Each
//! call is contained like a check's run: a timeout, and panics caught and logged. An async
//! subscriber's future is dropped at its timeout; a sync subscriber runs on a detached thread
//! of its own, and one that has not returned keeps its subscriber from being called again
//! until it does (at most one call in flight per subscriber, so a hung one holds one thread).
//!
//! The tasks start lazily, on the runtime of the first router built inside one, or of its first
//! request ([`ensure`], called by `Background::ensure`), and again on the next one's if the
//! runtime that ran them shut down. A change is delivered to a subscriber only if its task's
//! stream existed when the change was published: from the moment a router is first built in a
//! runtime or first serves.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tracing::Instrument;

use crate::engine::panic_message;
use crate::registry::Site;
use crate::status::{StatusChange, Subscription, subscribe};

/// A subscriber's timeout when its attribute gives none.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a subscriber's function returned, converted: `Err` is logged with its text.
pub type Returned = Result<(), String>;

/// The future of an async subscriber's call: it owns the change it borrows.
pub type SubscriberFuture = Pin<Box<dyn Future<Output = Returned> + Send + 'static>>;

/// How a subscriber is called: generated code fills this with a plain `fn`.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum SubscriberCall {
    /// A sync function: called on a thread of its own.
    Sync(fn(&StatusChange) -> Returned),
    /// An async function: its future is polled by the subscriber's task.
    Async(fn(Arc<StatusChange>) -> SubscriberFuture),
}

/// One `#[on_status_change]` function, as its attribute recorded it: built in a `static` by
/// generated code.
#[doc(hidden)]
pub struct Subscriber {
    function: &'static str,
    site: Site,
    call: SubscriberCall,
    timeout: Duration,
}

#[doc(hidden)]
impl Subscriber {
    /// The function `function` (its name, as written), declared at `site`, with the default
    /// timeout.
    pub const fn new(function: &'static str, site: Site, call: SubscriberCall) -> Self {
        Subscriber {
            function,
            site,
            call,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// `timeout = "…"`.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A subscriber's name in logs: `module::function`.
struct Name(&'static Subscriber);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.site.module_path() {
            Some(module) => write!(f, "{module}::{}", self.0.function),
            None => f.write_str(self.0.function),
        }
    }
}

/// A registered subscriber and what its calls share across tasks and runtimes.
struct Dispatched {
    subscriber: &'static Subscriber,
    /// One permit: held by the call in flight (a sync call's thread holds it until the function
    /// returns, even after its timeout or its task's runtime is gone).
    in_flight: Arc<Semaphore>,
}

/// Every subscriber of the binary, sorted by where it was declared.
fn dispatched() -> &'static [Dispatched] {
    static ALL: OnceLock<Vec<Dispatched>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static Subscriber> = backend::all().collect();
        all.sort_by(|a, b| (a.site, a.function).cmp(&(b.site, b.function)));
        all.into_iter()
            .map(|subscriber| Dispatched {
                subscriber,
                in_flight: Arc::new(Semaphore::new(1)),
            })
            .collect()
    })
}

/// How many subscriber tasks are alive (on whatever runtime).
static ALIVE: AtomicUsize = AtomicUsize::new(0);

/// Held while the tasks are started, so that two routers never start two sets.
static STARTING: Mutex<()> = Mutex::new(());

/// Held by a task: counts it alive until it ends, or is dropped with its runtime.
struct Alive;

impl Drop for Alive {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Starts the subscribers' tasks on the current runtime unless they run: one atomic load when
/// they do. Does nothing outside a runtime or when no subscriber is registered. Each task's
/// stream is made here, before this returns, so it sees every change published after.
#[inline]
pub(crate) fn ensure() {
    // Without subscribers (the common case) this stays two atomic loads per request.
    if ALIVE.load(Ordering::Acquire) > 0 || dispatched().is_empty() {
        return;
    }
    start();
}

#[cold]
fn start() {
    let all = dispatched();
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if ALIVE.load(Ordering::Acquire) > 0 {
        return;
    }
    for dispatched in all {
        ALIVE.fetch_add(1, Ordering::AcqRel);
        let alive = Alive;
        runtime.spawn(deliver(dispatched, subscribe(), alive));
    }
}

/// One subscriber's task: each change, in order, one call at a time.
async fn deliver(dispatched: &'static Dispatched, mut changes: Subscription, _alive: Alive) {
    // The stream logs when it skips what this subscriber fell too far behind on: in this span,
    // so that the line names the subscriber.
    let reading =
        tracing::warn_span!("on_status_change", subscriber = %Name(dispatched.subscriber));
    while let Some(change) = changes.next().instrument(reading.clone()).await {
        // Waits while a call that outlived its timeout (on this task or a task of a runtime
        // that shut down since) has not returned: never two calls of one subscriber at once.
        let Ok(permit) = Arc::clone(&dispatched.in_flight).acquire_owned().await else {
            return; // never closed
        };
        let subscriber = dispatched.subscriber;
        let change = Arc::new(change);
        match subscriber.call {
            SubscriberCall::Async(call) => call_async(subscriber, call, change).await,
            SubscriberCall::Sync(call) => call_sync(subscriber, call, change, permit).await,
        }
    }
}

/// An async call, polled here with its panics caught, dropped at the timeout.
async fn call_async(
    subscriber: &'static Subscriber,
    call: fn(Arc<StatusChange>) -> SubscriberFuture,
    change: Arc<StatusChange>,
) {
    let what = Arc::clone(&change);
    let future = match catch_unwind(AssertUnwindSafe(|| call(change))) {
        Ok(future) => future,
        Err(panic) => return report(subscriber, &what, Ended::Panicked(&*panic), None),
    };
    let mut future = AssertUnwindSafe(future).catch_unwind();
    let ended = tokio::time::timeout(subscriber.timeout, &mut future).await;
    // The user's future is dropped here, its panics caught too.
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(future)));
    match (ended, dropped) {
        (Ok(Ok(returned)), _) => report(subscriber, &what, Ended::Returned(returned), None),
        (Ok(Err(panic)), _) => report(subscriber, &what, Ended::Panicked(&*panic), None),
        (Err(_), Ok(())) => report(subscriber, &what, Ended::TimedOut, None),
        (Err(_), Err(panic)) => {
            report(subscriber, &what, Ended::TimedOut, None);
            report(subscriber, &what, Ended::Panicked(&*panic), None);
        }
    }
}

/// A sync call, on a detached thread of its own (a hung function never keeps the process from
/// exiting, and never holds a thread that checks need). The thread holds `permit` until the
/// function returns; the task waits at most the timeout for it.
async fn call_sync(
    subscriber: &'static Subscriber,
    call: fn(&StatusChange) -> Returned,
    change: Arc<StatusChange>,
    permit: OwnedSemaphorePermit,
) {
    let (send, returned) = oneshot::channel::<Result<Returned, String>>();
    let what = Arc::clone(&change);
    let started = Instant::now();
    let thread = std::thread::Builder::new()
        .name("heartbeat-subscriber".to_owned())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| call(&change)))
                .map_err(|panic| panic_message(&*panic));
            drop(permit);
            // Err: the task stopped waiting (the timeout struck, or its runtime shut down):
            // what the call did is logged here.
            if let Err(result) = send.send(result) {
                let late = Some(started.elapsed()).filter(|took| *took > subscriber.timeout);
                match result {
                    Ok(returned) => report(subscriber, &change, Ended::Returned(returned), late),
                    Err(panic) => report(subscriber, &change, Ended::PanickedWith(&panic), late),
                }
            }
        });
    if let Err(error) = thread {
        tracing::error!(
            subscriber = %Name(subscriber),
            %error,
            "cannot start a thread for an #[on_status_change] subscriber: this change is not delivered to it"
        );
        return;
    }
    match tokio::time::timeout(subscriber.timeout, returned).await {
        Ok(Ok(Ok(returned))) => report(subscriber, &what, Ended::Returned(returned), None),
        Ok(Ok(Err(panic))) => report(subscriber, &what, Ended::PanickedWith(&panic), None),
        // The thread ended without sending: it cannot (it sends whatever the call did).
        Ok(Err(_)) => {}
        Err(_) => report(subscriber, &what, Ended::TimedOut, None),
    }
}

/// How one call ended.
enum Ended<'a> {
    Returned(Returned),
    Panicked(&'a (dyn Any + Send)),
    PanickedWith(&'a str),
    TimedOut,
}

/// Logs a call that did not end well, with the subscriber's name and the change it was given;
/// `late`: how long a sync call took that returned after its timeout.
fn report(
    subscriber: &'static Subscriber,
    change: &StatusChange,
    ended: Ended<'_>,
    late: Option<Duration>,
) {
    let name = Name(subscriber);
    let check = format!("{} {}", change.kind, change.name);
    let (from, to) = (change.from.as_str(), change.to.as_str());
    let site = subscriber.site;
    match ended {
        Ended::Returned(Ok(())) => {
            if let Some(took) = late {
                tracing::warn!(
                    subscriber = %name, %check, %from, %to, ?took, timeout = ?subscriber.timeout,
                    "an #[on_status_change] subscriber returned after its timeout; it was not called in the meantime: make it faster, or give it a longer `timeout`"
                );
            }
        }
        Ended::Returned(Err(error)) => match late {
            Some(took) => tracing::warn!(
                subscriber = %name, %check, %from, %to, %error, ?took, timeout = ?subscriber.timeout,
                "an #[on_status_change] subscriber returned an error, after its timeout"
            ),
            None => tracing::warn!(
                subscriber = %name, %check, %from, %to, %error,
                "an #[on_status_change] subscriber returned an error"
            ),
        },
        Ended::Panicked(panic) => log_panic(&name, site, &check, from, to, &panic_message(panic)),
        Ended::PanickedWith(panic) => log_panic(&name, site, &check, from, to, panic),
        Ended::TimedOut => {
            let what = match subscriber.call {
                SubscriberCall::Async(_) => {
                    "its future was dropped; it is called again on the next change"
                }
                SubscriberCall::Sync(_) => {
                    "it is still running on its thread, and is not called again until it returns"
                }
            };
            tracing::warn!(
                subscriber = %name, %check, %from, %to, timeout = ?subscriber.timeout,
                "an #[on_status_change] subscriber did not return within its timeout: {what}; make it faster (hand long work to a task of your own), or give it a longer `timeout`"
            );
        }
    }
}

fn log_panic(name: &Name, site: Site, check: &str, from: &str, to: &str, panic: &str) {
    tracing::error!(
        subscriber = %name, %site, %check, %from, %to, %panic,
        "an #[on_status_change] subscriber panicked; it is called again on the next change: fix the function, or return a `Result` whose error is logged"
    );
}

/// What a subscriber may return: `()`, or a `Result` whose error is logged.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a return type of an #[on_status_change] function",
    label = "return `()`, or `Result<(), E>` where `E: Display` (an error is logged)"
)]
#[doc(hidden)]
pub trait SubscriberOutput {
    /// `Err` with the error's text.
    fn into_returned(self) -> Returned;
}

impl SubscriberOutput for () {
    fn into_returned(self) -> Returned {
        Ok(())
    }
}

impl<E: fmt::Display> SubscriberOutput for Result<(), E> {
    fn into_returned(self) -> Returned {
        self.map_err(|error| error.to_string())
    }
}

/// The `inventory` backend (default): the subscribers' statics, collected before `main`.
#[cfg(not(feature = "linkme"))]
mod backend {
    use super::Subscriber;

    inventory::collect!(Subscriber);

    pub(super) fn all() -> impl Iterator<Item = &'static Subscriber> {
        inventory::iter::<Subscriber>.into_iter()
    }
}

/// The `linkme` backend (feature `linkme`): the linker gathers the subscribers' statics.
#[cfg(feature = "linkme")]
pub(crate) mod backend {
    use super::Subscriber;

    /// Every `#[on_status_change]` of the binary.
    #[linkme::distributed_slice]
    pub static SUBSCRIBERS: [Subscriber];

    pub(super) fn all() -> impl Iterator<Item = &'static Subscriber> {
        SUBSCRIBERS.iter()
    }
}

/// Registers an `#[on_status_change]`'s [`Subscriber`] with the active backend.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_subscriber {
    ($subscriber:expr) => {
        $crate::__private::inventory::submit! { $subscriber }
    };
}

/// Registers an `#[on_status_change]`'s [`Subscriber`] with the active backend (here `linkme`).
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_subscriber {
    ($subscriber:expr) => {
        #[$crate::__private::linkme::distributed_slice($crate::__private::SUBSCRIBERS)]
        #[linkme(crate = $crate::__private::linkme)]
        static __HEARTBEAT_SUBSCRIBER: $crate::__private::Subscriber = $subscriber;
    };
}
