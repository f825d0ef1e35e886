//! `SELECT 1` on sqlx pools of real servers: PostgreSQL and MySQL (MariaDB) from
//! `HEARTBEAT_TEST_POSTGRES_URL` / `HEARTBEAT_TEST_MYSQL_URL` (`source <(bash .ci/services)`),
//! SQLite in a temporary file. Each is up, down (nothing listens, or a wrong password: the
//! message never shows it) and slow (a query past the timeout).

mod builtin_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::extract::{FromRef, State};
use builtin_support::{
    assert_message, assert_timed_out_in, closed_port, failure, server_url, with_password, with_port,
};
use heartbeat::checks::{self, Sql};
use heartbeat::{Heartbeat, Outcome, Provided, readiness_probe};
use heartbeat_tests::get;
use sqlx::pool::PoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection, Pool, SqliteConnection};

const POSTGRES: &str = "HEARTBEAT_TEST_POSTGRES_URL";
const MYSQL: &str = "HEARTBEAT_TEST_MYSQL_URL";
const READINESS: &str = "/.well-known/heartbeat/readiness";
const SECRET: &str = "pa55-w0rd-never-shown";

/// A builder with only run-time checks.
fn bare() -> Heartbeat {
    Heartbeat::new().filter(|_| false).no_health_secret()
}

fn lazy<DB: checks::sql::Database>(url: &str) -> Pool<DB> {
    PoolOptions::<DB>::new().connect_lazy(url).unwrap()
}

/// Up: the plain function passes with a round trip, and so does the check through the router.
async fn up<DB: checks::sql::Database>(url: &str) {
    let pool = lazy::<DB>(url);
    let outcome = checks::sql::ping(&pool).await;
    assert!(outcome.passed(), "{outcome:?}");
    assert!(outcome.data()["round_trip_ms"].as_f64().unwrap() > 0.0);

    let app: axum::Router = bare().readiness(Sql::new(pool).check("db")).into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["db"]["round_trip_ms"].is_f64());
}

/// Down: nothing listens. sqlx's pool retries a refused connection, so the timeout strikes; the
/// message says what was tried and, from one direct attempt, that the connection is refused.
async fn down<DB: checks::sql::Database>(url_with_secret: &str, tried: &str) {
    let url = with_port(url_with_secret, closed_port().await.port());
    let timeout = Duration::from_millis(400);
    let start = Instant::now();
    let outcome = Sql::new(lazy::<DB>(&url)).timeout(timeout).run().await;
    assert_timed_out_in(start.elapsed(), timeout);
    let message = outcome.message().unwrap();
    assert_message(message, tried, &["no answer within 400ms"], Some(SECRET));
    assert_message(
        message,
        "a new connection fails",
        &["refused"],
        Some(SECRET),
    );

    // The same through the router: the built-in's message, not the router's "timed out".
    let app: axum::Router = bare()
        .readiness(Sql::new(lazy::<DB>(&url)).timeout(timeout).check("db"))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = failure(&answer.json()["checks"]["db"]);
    assert_message(&message, tried, &["refused"], Some(SECRET));
}

/// A wrong password: the server's refusal (not a timeout), without the password.
async fn wrong_password<DB: checks::sql::Database>(url: &str, says: &[&str]) {
    let url = with_password(url, SECRET);
    let outcome = checks::sql::ping(&lazy::<DB>(&url)).await;
    let message = outcome.message().unwrap();
    assert_message(message, "`SELECT 1` on 127.0.0.1:", says, Some(SECRET));
    assert!(!message.contains("no answer"), "{message}");
}

/// Slow: a query past the timeout fails at the timeout, and says what a new connection does.
async fn slow<DB: checks::sql::Database>(url: &str, sleep: &'static str) {
    let pool = lazy::<DB>(url);
    // Open a connection first: its password hash, slow in a debug build, is not what is timed.
    let warm = checks::sql::ping(&pool).await;
    assert!(warm.passed(), "{warm:?}");
    let timeout = Duration::from_secs(1);
    let check = Sql::new(pool).query(sleep).timeout(timeout);
    let start = Instant::now();
    let outcome = check.run().await;
    assert_timed_out_in(start.elapsed(), timeout);
    let message = outcome.message().unwrap();
    assert_message(message, sleep, &["no answer within 1s"], None);
    assert!(message.contains("; a new connection "), "{message}");

    let app: axum::Router = bare().readiness(check.check("slow")).into_router();
    let start = Instant::now();
    let answer = get(&app, READINESS).await;
    assert_timed_out_in(start.elapsed(), timeout);
    let message = failure(&answer.json()["checks"]["slow"]);
    assert!(message.contains("no answer within 1s"), "{message}");
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_postgres),
    ignore = "needs PostgreSQL: HEARTBEAT_TEST_POSTGRES_URL was not set at build time (source <(bash .ci/services))"
)]
async fn postgres_up() {
    let url = server_url(POSTGRES);
    up::<sqlx::Postgres>(&url).await;
}

#[tokio::test]
async fn postgres_down() {
    let url = format!("postgres://heartbeat:{SECRET}@127.0.0.1:5432/heartbeat");
    down::<sqlx::Postgres>(&url, "PostgreSQL `SELECT 1` on 127.0.0.1:").await;
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_postgres),
    ignore = "needs PostgreSQL: HEARTBEAT_TEST_POSTGRES_URL was not set at build time (source <(bash .ci/services))"
)]
async fn postgres_wrong_password() {
    let url = server_url(POSTGRES);
    wrong_password::<sqlx::Postgres>(&url, &["password authentication failed"]).await;
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_postgres),
    ignore = "needs PostgreSQL: HEARTBEAT_TEST_POSTGRES_URL was not set at build time (source <(bash .ci/services))"
)]
async fn postgres_slow() {
    let url = server_url(POSTGRES);
    slow::<sqlx::Postgres>(&url, "SELECT pg_sleep(5)").await;
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_mysql),
    ignore = "needs MySQL/MariaDB: HEARTBEAT_TEST_MYSQL_URL was not set at build time (source <(bash .ci/services))"
)]
async fn mysql_up() {
    let url = server_url(MYSQL);
    up::<sqlx::MySql>(&url).await;
}

#[tokio::test]
async fn mysql_down() {
    let url = format!("mysql://heartbeat:{SECRET}@127.0.0.1:3306/heartbeat");
    down::<sqlx::MySql>(&url, "MySQL `SELECT 1` on 127.0.0.1:").await;
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_mysql),
    ignore = "needs MySQL/MariaDB: HEARTBEAT_TEST_MYSQL_URL was not set at build time (source <(bash .ci/services))"
)]
async fn mysql_wrong_password() {
    let url = server_url(MYSQL);
    wrong_password::<sqlx::MySql>(&url, &["Access denied"]).await;
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_mysql),
    ignore = "needs MySQL/MariaDB: HEARTBEAT_TEST_MYSQL_URL was not set at build time (source <(bash .ci/services))"
)]
async fn mysql_slow() {
    let url = server_url(MYSQL);
    slow::<sqlx::MySql>(&url, "SELECT SLEEP(5)").await;
}

/// A database file in the temporary directory, removed at the end of the test.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "heartbeat-{name}-{}-{:?}.sqlite",
            std::process::id(),
            std::thread::current().id()
        ));
        TempFile(path)
    }

    fn options(&self) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(&self.0)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Delete)
            .busy_timeout(Duration::from_secs(5))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn sqlite_up() {
    let file = TempFile::new("up");
    let pool = sqlx::SqlitePool::connect_lazy_with(file.options());
    let outcome = checks::sql::ping(&pool).await;
    assert!(outcome.passed(), "{outcome:?}");

    let app: axum::Router = bare()
        .readiness(checks::sqlite("sqlite", pool))
        .into_router();
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["sqlite"]["round_trip_ms"].is_f64());
}

#[tokio::test]
async fn sqlite_down() {
    let missing = std::env::temp_dir().join("heartbeat-no-such-directory/db.sqlite");
    let options = SqliteConnectOptions::new().filename(&missing);
    let start = Instant::now();
    let outcome = checks::sql::ping(&sqlx::SqlitePool::connect_lazy_with(options)).await;
    assert!(start.elapsed() < Duration::from_millis(600), "{outcome:?}");
    let tried = format!("SQLite `SELECT 1` on {}", missing.display());
    assert_message(
        outcome.message().unwrap(),
        &tried,
        &["unable to open database file"],
        None,
    );
}

#[tokio::test]
async fn sqlite_slow() {
    // Another connection holds the database's exclusive lock: the query waits on it.
    let file = TempFile::new("slow");
    let mut holder = SqliteConnection::connect_with(&file.options())
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)")
        .execute(&mut holder)
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect_lazy_with(file.options());
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let outcome = Sql::new(pool)
        .query("SELECT count(*) FROM t")
        .timeout(timeout)
        .run()
        .await;
    assert_timed_out_in(start.elapsed(), timeout);
    assert_message(
        outcome.message().unwrap(),
        "SQLite `SELECT count(*) FROM t` on ",
        &["no answer within 300ms"],
        None,
    );
    drop(holder);
}

/// Inside a check with less time than the built-in's own 700 ms plus its diagnosis, the
/// built-in fits in the check's timeout: its own message with its diagnosis is the answer, not
/// the router's "timed out". Nothing listens, so no server is needed.
#[tokio::test]
async fn fits_inside_the_timeout_of_the_check_it_runs_in() {
    let url = with_port(
        &format!("postgres://app:{SECRET}@127.0.0.1/app"),
        closed_port().await.port(),
    );
    let pool = lazy::<sqlx::Postgres>(&url);
    let timeout = Duration::from_millis(400);
    let check = heartbeat::Check::new_async("annotated", move || {
        let pool = pool.clone();
        async move { checks::sql::ping(&pool).await }
    })
    .timeout(timeout);
    let app: axum::Router = bare().readiness(check).into_router();
    let start = Instant::now();
    let answer = get(&app, READINESS).await;
    assert!(
        start.elapsed() < timeout + Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
    let message = failure(&answer.json()["checks"]["annotated"]);
    assert!(!message.contains("timed out after"), "{message}");
    assert_message(
        &message,
        "PostgreSQL `SELECT 1` on 127.0.0.1:",
        &["no answer within"],
        Some(SECRET),
    );
    assert!(message.contains("; a new connection fails"), "{message}");
}

/// The README's pattern for databases: the application's own pool, kept in its axum state,
/// reaches an annotated check through `.with_state(state)` (axum's `FromRef`), and the check
/// runs the built-in `SELECT 1` on it.
#[derive(Clone, FromRef, heartbeat::Provide)]
struct AppState {
    pool: sqlx::PgPool,
}

#[readiness_probe(name = "annotated-postgres")]
async fn annotated_postgres(pool: Provided<sqlx::PgPool>) -> Outcome {
    checks::sql::ping(&pool).await
}

/// The application's router: its own handler and heartbeat's, on one state.
fn app_with_state(url: &str) -> axum::Router {
    let state = AppState { pool: lazy(url) };
    let pool_size = |State(pool): State<sqlx::PgPool>| async move { pool.size().to_string() };
    axum::Router::new()
        .route("/pool-size", axum::routing::get(pool_size))
        .merge(
            Heartbeat::new()
                .only(["annotated-postgres"])
                .with_state(state.clone())
                .into_router(),
        )
        .with_state(state)
}

#[tokio::test]
#[cfg_attr(
    not(heartbeat_postgres),
    ignore = "needs PostgreSQL: HEARTBEAT_TEST_POSTGRES_URL was not set at build time (source <(bash .ci/services))"
)]
async fn postgres_from_an_annotated_function_on_the_app_state_s_pool() {
    let app = app_with_state(&server_url(POSTGRES));
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["checks"]["annotated-postgres"]["round_trip_ms"].is_f64());
    // The check ran on the application's pool: the connection it opened is the pool's.
    assert_eq!(get(&app, "/pool-size").await.text(), "1");
}

/// The same with nothing listening: the built-in's own message, through the annotated check.
#[tokio::test]
async fn postgres_from_an_annotated_function_down() {
    let url = with_port(
        &format!("postgres://app:{SECRET}@127.0.0.1/app"),
        closed_port().await.port(),
    );
    let app = app_with_state(&url);
    let answer = get(&app, READINESS).await;
    assert_eq!(answer.status, 500);
    let message = failure(&answer.json()["checks"]["annotated-postgres"]);
    assert_message(
        &message,
        "PostgreSQL `SELECT 1` on 127.0.0.1:",
        &["refused"],
        Some(SECRET),
    );
}

/// A new connection's host is looked up by heartbeat first (one lookup per name at a time, on
/// a thread of its own), so that a hung resolver cannot leave a thread of sqlx's behind at
/// every timeout: an unknown name is reported by heartbeat's lookup.
#[tokio::test]
async fn a_new_connections_host_is_looked_up_by_heartbeat_first() {
    for (url, what) in [
        (
            "postgres://heartbeat:x@no-such-host.invalid:5432/heartbeat",
            "PostgreSQL `SELECT 1` on no-such-host.invalid:5432/heartbeat: cannot resolve no-such-host.invalid",
        ),
        (
            "mysql://heartbeat:x@no-such-host.invalid:3306/heartbeat",
            "MySQL `SELECT 1` on no-such-host.invalid:3306/heartbeat: cannot resolve no-such-host.invalid",
        ),
    ] {
        let outcome = if url.starts_with("postgres") {
            Sql::new(lazy::<sqlx::Postgres>(url)).run().await
        } else {
            Sql::new(lazy::<sqlx::MySql>(url)).run().await
        };
        let message = outcome.message().unwrap();
        assert!(message.starts_with(what), "{message}");
    }
}
