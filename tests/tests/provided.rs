//! Annotated checks that take values the router provides (`heartbeat::Provided<T>`): given
//! with `.provide(value)`, or taken from the application's state with `.with_state(state)`
//! through axum's `FromRef`; a missing one is a `ConfigError` naming the check, its site, the
//! parameter and the type, among every other problem.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::FromRef;
use heartbeat::{
    Heartbeat, Outcome, Provided, environ_probe, health_check, liveliness_probe, readiness_probe,
};
use heartbeat_tests::get;
use serde_json::{Value, json};

/// A stand-in for a pool: counts the runs of every check it is handed to, across clones.
#[derive(Clone, Debug, Default)]
struct Pool {
    runs: Arc<AtomicUsize>,
    reachable: bool,
}

impl Pool {
    fn up() -> Self {
        Pool {
            runs: Arc::default(),
            reachable: true,
        }
    }

    fn ping(&self) -> Result<usize, String> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if self.reachable {
            Ok(run)
        } else {
            Err(format!("the pool is unreachable (run {run})"))
        }
    }
}

/// A second provided type, for a check with several parameters.
#[derive(Clone, Debug)]
struct Region(&'static str);

/// Async, readiness: one parameter.
#[readiness_probe(name = "database")]
async fn database(pool: Provided<Pool>) -> Result<Value, String> {
    tokio::task::yield_now().await;
    let run = pool.ping()?;
    Ok(json!({ "run": run }))
}

/// Sync, readiness: two parameters, the second `mut`; shares its `Pool` with `database`.
#[readiness_probe(name = "replica")]
fn replica(pool: Provided<Pool>, mut region: Provided<Region>) -> Outcome {
    region.0 = Region(region.0.0);
    match pool.ping() {
        Ok(_) => Outcome::pass().with("region", region.0.0),
        Err(message) => Outcome::fail(message),
    }
}

/// Sync, liveliness.
#[liveliness_probe(name = "worker")]
fn worker(region: Provided<Region>) -> (bool, Value) {
    (true, json!({ "region": region.0.0 }))
}

/// Async, `/health/`.
#[health_check(name = "cache")]
async fn cache(pool: Provided<Pool>) -> bool {
    pool.reachable
}

/// Sync, environ.
#[environ_probe]
fn deployment(region: Provided<Region>) -> Value {
    json!({ "deployment": { "region": region.0.0 } })
}

const READINESS: &str = "/.well-known/heartbeat/readiness";

fn builder() -> Heartbeat {
    Heartbeat::new().no_health_secret()
}

#[tokio::test]
async fn provided_values_reach_sync_and_async_checks_of_every_kind() {
    let pool = Pool::up();
    let app: axum::Router = builder()
        .provide(pool.clone())
        .provide(Region("eu-west-1"))
        .into_router();

    let ready = get(&app, READINESS).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let ready = ready.json();
    assert_eq!(ready["checks"]["database"]["status"], true, "{ready}");
    assert_eq!(ready["checks"]["replica"]["region"], "eu-west-1", "{ready}");
    let live = get(&app, "/.well-known/heartbeat/liveliness").await.json();
    assert_eq!(live["checks"]["worker"]["region"], "eu-west-1", "{live}");
    let health = get(&app, "/health/").await.json();
    assert_eq!(health["checks"]["cache"], true, "{health}");
    let environ = get(&app, "/.well-known/heartbeat/environ").await.json();
    assert_eq!(environ["deployment"]["region"], "eu-west-1", "{environ}");
}

#[tokio::test]
async fn two_checks_share_one_value() {
    // `database` and `replica` are each handed a clone of this one pool: both runs count here.
    let pool = Pool::up();
    let app: axum::Router = builder()
        .provide(pool.clone())
        .provide(Region("eu-west-1"))
        .default_cache(std::time::Duration::ZERO)
        .into_router();
    assert_eq!(get(&app, READINESS).await.status, 200);
    assert_eq!(pool.runs.load(Ordering::SeqCst), 2);
    assert_eq!(get(&app, READINESS).await.status, 200);
    assert_eq!(pool.runs.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_failing_provided_value_fails_its_checks() {
    let down = Pool {
        reachable: false,
        ..Pool::default()
    };
    let app: axum::Router = builder()
        .provide(down)
        .provide(Region("eu-west-1"))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let ready = answer.json();
    let message = ready["checks"]["database"]["message"].as_str().unwrap();
    assert!(message.starts_with("the pool is unreachable"), "{ready}");
}

#[test]
fn the_functions_stay_callable_as_written() {
    let pool = Pool::up();
    let outcome = replica(Provided(pool.clone()), Provided(Region("us-east-2")));
    assert!(outcome.passed());
    assert_eq!(outcome.data()["region"], "us-east-2");
    assert_eq!(
        worker(Provided(Region("ap-south-1"))).1["region"],
        "ap-south-1"
    );
    assert_eq!(
        deployment(Provided(Region("x")))["deployment"]["region"],
        "x"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(
        runtime.block_on(database(Provided(pool.clone()))),
        Ok(json!({ "run": 2 }))
    );
    assert!(runtime.block_on(cache(Provided(pool))));
}

/// The application's state, as an axum service keeps it: axum's `FromRef` derive gives each
/// field to handlers' `State<T>`, heartbeat's `Provide` derive to checks' `Provided<T>`.
#[derive(Clone, FromRef, heartbeat::Provide)]
struct AppState {
    pool: Pool,
    region: Region,
    /// Neither a handler's nor a check's: axum's `skip` is heartbeat's too.
    #[from_ref(skip)]
    #[allow(dead_code)]
    secret: String,
    /// A handler's, but not given to checks.
    #[heartbeat(skip)]
    requests: Arc<AtomicUsize>,
}

#[tokio::test]
async fn with_state_provides_each_part_through_from_ref() {
    let state = AppState {
        pool: Pool::up(),
        region: Region("eu-central-1"),
        secret: "not a check's".to_owned(),
        requests: Arc::default(),
    };
    // The app router's own handler uses the same state.
    let index = |axum::extract::State(requests): axum::extract::State<Arc<AtomicUsize>>| async move {
        requests.fetch_add(1, Ordering::SeqCst);
        "hello"
    };
    let app: axum::Router = axum::Router::new()
        .route("/", axum::routing::get(index))
        .merge(builder().with_state(state.clone()).into_router())
        .with_state(state.clone());

    let ready = get(&app, READINESS).await.json();
    assert_eq!(ready["status"], true, "{ready}");
    assert_eq!(ready["checks"]["replica"]["region"], "eu-central-1");
    assert_eq!(state.pool.runs.load(Ordering::SeqCst), 2);
    assert_eq!(get(&app, "/").await.text(), "hello");
    assert_eq!(state.requests.load(Ordering::SeqCst), 1);

    // What the state provided, by type: its parts, and the state itself.
    let debug = format!("{:?}", builder().with_state(state));
    assert!(debug.contains("provided::AppState"), "{debug}");
    assert!(debug.contains("provided::Pool"), "{debug}");
    assert!(debug.contains("provided::Region"), "{debug}");
    assert!(!debug.contains("alloc::string::String"), "{debug}");
    assert!(!debug.contains("AtomicUsize"), "{debug}");
}

#[tokio::test]
async fn a_value_given_later_replaces_the_state_s() {
    let state = AppState {
        pool: Pool::up(),
        region: Region("eu-central-1"),
        secret: String::new(),
        requests: Arc::default(),
    };
    let app: axum::Router = builder()
        .with_state(state)
        .provide(Region("sa-east-1"))
        .into_router();
    let ready = get(&app, READINESS).await.json();
    assert_eq!(ready["checks"]["replica"]["region"], "sa-east-1", "{ready}");
}

/// The one problem a missing parameter makes: every word of it.
fn missing(check: &str, parameter: &str, type_name: &str, provided: &str) -> String {
    let info = heartbeat::registered()
        .into_iter()
        .find(|c| c.name() == check)
        .unwrap();
    format!(
        "{} check {check:?} at {}: its parameter `{parameter}` needs a `{type_name}`, and none was provided; give one with `.provide(value)`, or with `.with_state(state)` from a state that holds one ({provided})",
        info.kind(),
        info.site()
    )
}

#[test]
fn a_missing_value_is_a_config_error_naming_check_site_parameter_and_type() {
    let error = builder()
        .provide(Pool::up())
        .require(["not-registered"])
        .try_into_router::<()>()
        .unwrap_err();
    let provided = "provided: `provided::Pool`";
    let region = "provided::Region";
    let problems = error.problems();
    // The checks that take a `Region`, in name order, then the unrelated problem: all at once.
    assert_eq!(
        problems[..3],
        [
            missing("deployment", "region: Provided<Region>", region, provided),
            missing("replica", "region: Provided<Region>", region, provided),
            missing("worker", "region: Provided<Region>", region, provided),
        ],
        "{error}"
    );
    assert_eq!(problems.len(), 4, "{error}");
    assert!(problems[3].contains("\"not-registered\""), "{error}");

    // The site is the function's: this file, the line of its name.
    let worker = heartbeat::registered()
        .into_iter()
        .find(|c| c.name() == "worker")
        .unwrap();
    assert_eq!(worker.site().file(), "tests/tests/provided.rs");
    assert_eq!(worker.site().module_path(), Some("provided"));
    let source = include_str!("provided.rs");
    let line = source
        .lines()
        .nth(worker.site().line() as usize - 1)
        .unwrap();
    assert_eq!(
        line,
        "fn worker(region: Provided<Region>) -> (bool, Value) {"
    );
}

#[test]
fn nothing_provided_says_so_and_every_missing_parameter_is_named() {
    let error = builder().try_into_router::<()>().unwrap_err();
    let nothing = "nothing was provided";
    let (pool, region) = ("provided::Pool", "provided::Region");
    let expected = [
        missing("cache", "pool: Provided<Pool>", pool, nothing),
        missing("database", "pool: Provided<Pool>", pool, nothing),
        missing("deployment", "region: Provided<Region>", region, nothing),
        missing("replica", "pool: Provided<Pool>", pool, nothing),
        missing("replica", "region: Provided<Region>", region, nothing),
        missing("worker", "region: Provided<Region>", region, nothing),
    ];
    assert_eq!(error.problems(), expected, "{error}");
}

#[test]
fn a_value_wrapped_in_provided_is_named_as_the_mistake() {
    let error = builder()
        .provide(Provided(Region("eu-west-1")))
        .provide(Pool::up())
        .try_into_router::<()>()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("`heartbeat::provided::Provided<provided::Region>`"),
        "{text}"
    );
    assert!(
        text.contains("give the value itself, `.provide(value)`, not `.provide(Provided(value))`"),
        "{text}"
    );
}

#[test]
fn a_check_left_out_needs_no_value() {
    let built = builder()
        .provide(Pool::up())
        .filter(|info| !["deployment", "replica", "worker"].contains(&info.name()))
        .try_into_router::<()>();
    assert!(built.is_ok(), "{:?}", built.err());
}
