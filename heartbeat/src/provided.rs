//! Values the router gives annotated checks: [`Provided`], [`Provide`], the builder's
//! [`Heartbeat::provide`] and [`Heartbeat::with_state`], and how a check's parameters are bound
//! to those values when the router is built.
//!
//! A provided value flows: `.provide(value)` / `.with_state(state)` → [`Values`] (by
//! `TypeId`) → `Heartbeat::validate` calls each check's generated [`Bind`] with a [`Binder`]
//! → every parameter found: a [`Runner`] that owns its values (a missing one: a problem of
//! the [`crate::ConfigError`]) → the engine calls that runner like any other.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::builder::Heartbeat;
use crate::outcome::Outcome;
use crate::registry::{BoxFuture, CheckInfo, Runner};

/// A value the router gives an annotated check, as axum's `State` gives one to a handler.
///
/// A check takes one (or several) as parameters; the builder is given the values with
/// [`Heartbeat::provide`], or takes them from the application's state with
/// [`Heartbeat::with_state`]. Each value is looked up by its type when the router is built, and
/// each run of the check gets its own clone, so `T` is something cheap to clone that shares
/// what it holds (a pool, a client, an `Arc`).
///
/// `Provided<T>` dereferences to `T`; `.0` (or [`Provided::into_inner`]) takes it out. The
/// function stays callable as written: call it with `Provided(value)`.
///
/// ```standalone_crate
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// use heartbeat::{Heartbeat, Provided, readiness_probe};
///
/// /// The application's own flag, also read by its handlers.
/// #[derive(Clone, Default)]
/// struct Warm(Arc<AtomicBool>);
///
/// impl Warm {
///     fn is_warm(&self) -> bool { self.0.load(Ordering::Relaxed) }
/// }
///
/// #[readiness_probe]
/// fn cache(warm: Provided<Warm>) -> Result<(), &'static str> {
///     if warm.is_warm() { Ok(()) } else { Err("the cache is still warming") }
/// }
///
/// let warm = Warm::default();
/// assert!(cache(Provided(warm.clone())).is_err()); // callable as written
/// warm.0.store(true, Ordering::Relaxed);
/// let app: axum::Router = Heartbeat::new().no_health_secret().provide(warm).into_router();
/// ```
///
/// The parameter takes a plain name (`warm`, or `mut warm`), not a pattern: a missing value is
/// reported by that name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Provided<T>(pub T);

impl<T> Provided<T> {
    /// The value itself.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Provided<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Provided<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// An application state whose parts checks take as [`Provided`] values: what
/// [`Heartbeat::with_state`] asks of the state.
///
/// Derive it next to axum's `FromRef`: `#[derive(heartbeat::Provide)]` provides every field's
/// type, each taken from the state with `FromRef`, exactly as a handler's `State<T>` gets it.
/// A field marked `#[heartbeat(skip)]` (or axum's `#[from_ref(skip)]`) is left out; the derive
/// takes `#[heartbeat(crate = path)]` when heartbeat is renamed. It does not take generic types
/// or enums: implement the trait by hand for those, or for anything but the fields.
///
/// ```standalone_crate
/// use axum::extract::FromRef;
///
/// #[derive(Clone)]
/// struct Pool;
/// #[derive(Clone)]
/// struct Client;
///
/// #[derive(Clone, heartbeat::Provide)]
/// struct AppState {
///     pool: Pool,
///     client: Client,
/// }
///
/// // What `#[derive(FromRef)]` (axum's `macros` feature) writes:
/// impl FromRef<AppState> for Pool {
///     fn from_ref(state: &AppState) -> Self { state.pool.clone() }
/// }
/// impl FromRef<AppState> for Client {
///     fn from_ref(state: &AppState) -> Self { state.client.clone() }
/// }
///
/// #[heartbeat::readiness_probe]
/// fn both(pool: heartbeat::Provided<Pool>, client: heartbeat::Provided<Client>) -> bool {
///     true
/// }
///
/// let state = AppState { pool: Pool, client: Client };
/// let app: axum::Router<AppState> = heartbeat::Heartbeat::new()
///     .no_health_secret()
///     .with_state(state.clone())
///     .into_router();
/// let app: axum::Router = app.with_state(state);
/// ```
///
/// By hand, it hands each value to the builder:
///
/// ```
/// # #[derive(Clone)] struct Pool;
/// #[derive(Clone)]
/// struct AppState(std::sync::Arc<Inner>);
/// struct Inner { pool: Pool }
///
/// impl heartbeat::Provide for AppState {
///     fn provide_to(&self, heartbeat: heartbeat::Heartbeat) -> heartbeat::Heartbeat {
///         heartbeat.provide(self.0.pool.clone())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say which values it provides to heartbeat's checks",
    label = "`.with_state(…)` needs a state that implements `heartbeat::Provide`",
    note = "add `#[derive(heartbeat::Provide)]` to `{Self}` (beside axum's `#[derive(FromRef)]`), or give values one by one with `.provide(value)`"
)]
pub trait Provide {
    /// Gives `heartbeat` the values this state holds ([`Heartbeat::provide`] for each).
    fn provide_to(&self, heartbeat: Heartbeat) -> Heartbeat;
}

// The derive lives in the macro namespace, the trait in the type namespace, under one name
// (serde's `Serialize` does the same).
/// Implements [`Provide`](trait@Provide) for an application state: every field's type, taken
/// with axum's `FromRef<State>`, is provided to the checks.
///
/// `#[heartbeat(skip)]` (or axum's own `#[from_ref(skip)]`) on a field leaves it out;
/// `#[heartbeat(crate = path)]` on the struct names heartbeat when it is renamed. A field whose
/// type has no `FromRef` for the state is a compile error on that type. Not for enums or
/// generic types: implement the trait by hand for those.
///
/// ```standalone_crate
/// #[derive(Clone)]
/// struct Pool;
///
/// #[derive(Clone, heartbeat::Provide)]
/// struct AppState {
///     pool: Pool,
///     #[heartbeat(skip)]
///     name: &'static str,
/// }
///
/// // axum's `#[derive(FromRef)]` writes this for every field.
/// impl axum::extract::FromRef<AppState> for Pool {
///     fn from_ref(state: &AppState) -> Self { state.pool.clone() }
/// }
///
/// let heartbeat = heartbeat::Heartbeat::new().with_state(AppState { pool: Pool, name: "app" });
/// assert!(format!("{heartbeat:?}").contains("Pool"));
/// ```
#[doc(inline)]
pub use heartbeat_macros::Provide;

impl Heartbeat {
    /// Provides `value` to every annotated check that takes a [`Provided<T>`] of its type `T`.
    ///
    /// Values are looked up by type when the router is built, and each run of a check gets a
    /// clone. Given twice, a type keeps the value given last. A check whose parameter's type
    /// was never provided stops the router from building: the [`crate::ConfigError`] names the
    /// check, where it was declared, the parameter and the missing type.
    ///
    /// ```standalone_crate
    /// use heartbeat::{Heartbeat, Provided, health_check};
    ///
    /// #[derive(Clone)]
    /// struct Queue { depth: usize }
    ///
    /// #[health_check]
    /// async fn queue(queue: Provided<Queue>) -> bool {
    ///     queue.depth < 1_000
    /// }
    ///
    /// let app: axum::Router = Heartbeat::new()
    ///     .no_health_secret()
    ///     .provide(Queue { depth: 3 })
    ///     .into_router();
    ///
    /// // Without it, the router names what is missing:
    /// let error = Heartbeat::new().no_health_secret().try_into_router::<()>().unwrap_err();
    /// assert!(error.to_string().contains("parameter `queue: Provided<Queue>` needs a "));
    /// ```
    pub fn provide<T>(mut self, value: T) -> Self
    where
        T: Clone + Send + Sync + 'static,
    {
        self.values.insert(value);
        self
    }

    /// Provides the application's state, and every value it holds, to the annotated checks:
    /// the state itself (a check may take `Provided<AppState>`) and, through [`Provide`], each
    /// part a check may take (`Provided<PgPool>`), taken with axum's `FromRef`.
    ///
    /// One line for a service that already keeps its pool and clients in its `State`:
    ///
    /// ```no_run,standalone_crate
    /// # #[derive(Clone)] struct PgPool;
    /// # impl PgPool { async fn ping(&self) -> Result<(), std::io::Error> { Ok(()) } }
    /// use heartbeat::{Heartbeat, Provided, readiness_probe};
    ///
    /// #[derive(Clone, heartbeat::Provide)]
    /// struct AppState {
    ///     pool: PgPool,
    /// }
    /// # impl axum::extract::FromRef<AppState> for PgPool {
    /// #     fn from_ref(state: &AppState) -> Self { state.pool.clone() }
    /// # }
    ///
    /// #[readiness_probe(name = "database")]
    /// async fn database(pool: Provided<PgPool>) -> Result<(), std::io::Error> {
    ///     pool.ping().await
    /// }
    ///
    /// # async fn index() {}
    /// # fn main() {
    /// let state = AppState { pool: PgPool };
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", axum::routing::get(index))
    ///     .merge(Heartbeat::new().with_state(state.clone()).into_router())
    ///     .with_state(state);
    /// # }
    /// ```
    ///
    /// Values given with [`Heartbeat::provide`] after this call replace the state's of the same
    /// type (and the state's replace those given before).
    pub fn with_state<S>(self, state: S) -> Self
    where
        S: Provide + Clone + Send + Sync + 'static,
    {
        state.provide_to(self).provide(state)
    }
}

/// The values a builder was given, by type.
#[derive(Clone, Default)]
pub(crate) struct Values(HashMap<TypeId, Value>);

#[derive(Clone)]
struct Value {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Values {
    fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        let value = Value {
            value: Arc::new(value),
            type_name: type_name::<T>(),
        };
        self.0.insert(TypeId::of::<T>(), value);
    }

    fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.0
            .get(&TypeId::of::<T>())?
            .value
            .downcast_ref()
            .cloned()
    }

    /// The types provided, sorted.
    fn type_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.0.values().map(|v| v.type_name).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.type_names()).finish()
    }
}

/// A type an annotated check may take as a parameter: [`Provided<T>`]. Generated code asks for
/// it, spanned to the parameter's type, so any other type is reported there.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a heartbeat check",
    label = "a check's parameter is a `heartbeat::Provided<T>`",
    note = "take it as `heartbeat::Provided<T>`, where `T: Clone + Send + Sync + 'static`, and give the builder its value with `.provide(value)` or `.with_state(state)`"
)]
pub trait Parameter: Sized {
    /// The type the value is provided as.
    type Value: Clone + Send + Sync + 'static;

    /// The parameter, from its value.
    fn from_value(value: Self::Value) -> Self;

    /// Another of the same, for the next run. (Generated code asks for it through this trait,
    /// at the parameter's type, so a type that is not `Clone` is reported there once.)
    fn again(&self) -> Self;
}

impl<T: Clone + Send + Sync + 'static> Parameter for Provided<T> {
    type Value = T;

    fn from_value(value: T) -> Self {
        Provided(value)
    }

    fn again(&self) -> Self {
        self.clone()
    }
}

/// How generated code binds the parameters of an annotated function: it takes each from the
/// [`Binder`] and, when every one was there, returns the runner that owns them.
#[doc(hidden)]
pub type Bind = fn(&mut Binder<'_>) -> Option<Bound>;

/// What a [`Bind`] takes its parameters from; it records each one that was not provided.
#[doc(hidden)]
pub struct Binder<'a> {
    values: &'a Values,
    missing: Vec<Missing>,
}

/// A parameter without a value.
struct Missing {
    parameter: &'static str,
    written: &'static str,
    type_name: &'static str,
}

impl Binder<'_> {
    /// The parameter `parameter`, declared as `written`, if its value was provided.
    pub fn take<P: Parameter>(
        &mut self,
        parameter: &'static str,
        written: &'static str,
    ) -> Option<P> {
        let value = self.values.get::<P::Value>();
        if value.is_none() {
            self.missing.push(Missing {
                parameter,
                written,
                type_name: type_name::<P::Value>(),
            });
        }
        value.map(P::from_value)
    }
}

/// A check whose parameters are bound: how generated code hands back its runner.
#[doc(hidden)]
pub struct Bound(Runner);

impl Bound {
    /// A sync function with its values.
    pub fn sync<F>(check: F) -> Self
    where
        F: Fn() -> Outcome + Send + Sync + 'static,
    {
        Bound(Runner::Sync(Arc::new(check)))
    }

    /// An async function with its values.
    pub fn future<F>(check: F) -> Self
    where
        F: Fn() -> BoxFuture + Send + Sync + 'static,
    {
        Bound(Runner::Async(Arc::new(check)))
    }
}

/// Binds the check `info` to `values`: its runner, or one problem per missing parameter.
pub(crate) fn bind(bind: Bind, info: &CheckInfo, values: &Values) -> Result<Runner, Vec<String>> {
    let mut binder = Binder {
        values,
        missing: Vec::new(),
    };
    let bound = bind(&mut binder);
    let check = format!("{} check {:?} at {}", info.kind(), info.name(), info.site());
    match bound {
        Some(Bound(runner)) if binder.missing.is_empty() => Ok(runner),
        _ if binder.missing.is_empty() => Err(vec![format!(
            "{check}: its parameters could not be bound; this is a bug in heartbeat, please report it"
        )]),
        _ => Err(binder
            .missing
            .iter()
            .map(|missing| problem(&check, missing, values))
            .collect()),
    }
}

/// `readiness check "db" at app (src/main.rs:4): its parameter `pool: Provided<PgPool>` needs a
/// `sqlx_core::pool::Pool<…>`, and none was provided; …`
fn problem(check: &str, missing: &Missing, values: &Values) -> String {
    let Missing {
        parameter,
        written,
        type_name,
    } = missing;
    let names = values.type_names();
    let provided = if names.is_empty() {
        "nothing was provided".to_owned()
    } else {
        let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        format!("provided: {}", names.join(", "))
    };
    // `.provide(Provided(value))` provides a `Provided<T>`, not a `T`.
    let provided_path = std::any::type_name::<Provided<()>>().trim_end_matches("<()>");
    let wrapped = format!("{provided_path}<{type_name}>");
    let hint = if names.contains(&wrapped.as_str()) {
        "; give the value itself, `.provide(value)`, not `.provide(Provided(value))`"
    } else {
        ""
    };
    format!(
        "{check}: its parameter `{parameter}: {written}` needs a `{type_name}`, and none was provided; give one with `.provide(value)`, or with `.with_state(state)` from a state that holds one ({provided}){hint}"
    )
}
