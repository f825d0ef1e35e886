//! [`Sql`]: `SELECT 1` on an sqlx pool of PostgreSQL (feature `postgres`), MySQL or MariaDB
//! (feature `mysql`) or SQLite (feature `sqlite`).
//!
//! ```no_run
//! # #[cfg(feature = "postgres")] mod example {
//! use heartbeat::{Heartbeat, checks};
//!
//! fn app() -> Result<axum::Router, sqlx::Error> {
//!     let pool = sqlx::PgPool::connect_lazy("postgres://app@db.internal/app")?;
//!     Ok(Heartbeat::new()
//!         .no_health_secret()
//!         .readiness(checks::postgres("database", pool.clone()))
//!         .health_check(checks::Sql::new(pool).query("SELECT 1 FROM orders LIMIT 1").check("orders"))
//!         .into_router())
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! Inside an annotated function, with the application's own pool, which `main` sets once in a
//! static:
//!
//! ```no_run,standalone_crate
//! # #[cfg(feature = "postgres")] mod example {
//! use std::sync::OnceLock;
//!
//! static POOL: OnceLock<sqlx::PgPool> = OnceLock::new();
//!
//! #[heartbeat::readiness_probe(name = "database")]
//! async fn database() -> heartbeat::Outcome {
//!     match POOL.get() {
//!         Some(pool) => heartbeat::checks::sql::ping(pool).await,
//!         None => heartbeat::Outcome::fail("the database pool is not set up yet"),
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), sqlx::Error> {
//!     let pool = sqlx::PgPool::connect_lazy("postgres://app@db.internal/app")?;
//!     let _ = POOL.set(pool.clone());
//!     // … the application uses `pool`; serve `heartbeat::router()` …
//!     Ok(())
//! }
//! # }
//! # fn main() {}
//! ```

use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::{ConnectOptions, Connection, Pool};

use crate::builder::Check;
use crate::checks::attempt::{Attempt, DEFAULT_TIMEOUT, Probe, budget, into_check};
use crate::checks::lookup;
use crate::checks::message::describe;
use crate::outcome::Outcome;

/// How long a failed run may spend learning why the pool gave no connection.
const DIAGNOSIS: Duration = Duration::from_millis(200);

/// A database whose sqlx pool [`Sql`] can query: `sqlx::Postgres`, `sqlx::MySql` or
/// `sqlx::Sqlite`, each with its Cargo feature of heartbeat. Sealed.
pub trait Database: sqlx::Database + sealed::Sealed {
    /// Where the pool connects to, for messages: `host:port/database` or the file name. Never
    /// the user name or the password.
    #[doc(hidden)]
    fn target(pool: &Pool<Self>) -> String;

    /// Runs `sql` on the pool, ignoring any rows.
    #[doc(hidden)]
    fn execute(pool: &Pool<Self>, sql: &'static str)
    -> BoxFuture<'static, Result<(), sqlx::Error>>;

    /// The host name a new connection looks up, if any (not an IP address, a socket or a
    /// file).
    #[doc(hidden)]
    fn host(pool: &Pool<Self>) -> Option<String>;
}

mod sealed {
    /// Keeps [`super::Database`] to the databases heartbeat knows.
    #[allow(unreachable_pub)] // public in a private module: the sealed-trait pattern
    pub trait Sealed {}
}

macro_rules! database {
    // A database reached over the network: `host:port/database`, and its host to look up.
    ($feature:literal, $db:ty, network) => {
        database!(
            $feature,
            $db,
            |options| format!(
                "{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            ),
            |options| Some(options.get_host().to_owned())
        );
    };
    ($feature:literal, $db:ty, |$options:ident| $target:expr, |$host_options:ident| $host:expr) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for $db {}

        #[cfg(feature = $feature)]
        #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
        impl Database for $db {
            fn target(pool: &Pool<Self>) -> String {
                let $options = pool.connect_options();
                $target
            }

            fn execute(
                pool: &Pool<Self>,
                sql: &'static str,
            ) -> BoxFuture<'static, Result<(), sqlx::Error>> {
                let pool = pool.clone();
                Box::pin(async move { sqlx::raw_sql(sql).execute(&pool).await.map(drop) })
            }

            fn host(pool: &Pool<Self>) -> Option<String> {
                let $host_options = pool.connect_options();
                let host: Option<String> = $host;
                host.filter(|host| lookup::needs_lookup(host))
            }
        }
    };
}

database!("postgres", sqlx::Postgres, network);
database!("mysql", sqlx::MySql, network);
database!(
    "sqlite",
    sqlx::Sqlite,
    |options| options.get_filename().display().to_string(),
    |_options| None
);

/// A query (default `SELECT 1`) on an sqlx pool answers within the timeout (default
/// [`DEFAULT_TIMEOUT`]).
///
/// Passes with `round_trip_ms` (taking a connection from the pool and the query's round trip);
/// fails with "PostgreSQL `SELECT 1` on 127.0.0.1:5432/app: error returned from database:
/// password authentication failed for user \"app\"" and the like: the driver's message, never
/// the connection string or its password.
///
/// sqlx's pool keeps retrying a refused connection until its acquire timeout, so a server
/// that is down first shows as "no answer within …": the check then makes one direct connection
/// attempt and adds what it says ("a new connection fails: … Connection refused").
#[derive(Debug, Clone)]
pub struct Sql<DB: Database> {
    pool: Pool<DB>,
    query: &'static str,
    timeout: Duration,
}

impl<DB: Database> Sql<DB> {
    /// `SELECT 1` on `pool` (a clone of the application's pool shares its connections).
    pub fn new(pool: Pool<DB>) -> Self {
        Sql {
            pool,
            query: "SELECT 1",
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Runs `sql` instead of `SELECT 1`: one or more statements, whose rows are ignored.
    pub fn query(mut self, sql: &'static str) -> Self {
        self.query = sql;
        self
    }

    /// How long taking a connection and running the query may take together.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the query once.
    pub async fn run(&self) -> Outcome {
        let what = format!(
            "{} `{}` on {}",
            <DB as sqlx::Database>::NAME,
            self.query,
            DB::target(&self.pool)
        );
        // The query and its diagnosis fit in the check's deadline together: when the check
        // has less time than both, the diagnosis gets a quarter of it, the query the rest.
        let wanted = self.timeout.saturating_add(DIAGNOSIS);
        let budget = budget(wanted);
        let diagnosis = if budget < wanted {
            DIAGNOSIS.min(budget / 4)
        } else {
            DIAGNOSIS
        };
        let attempt = Attempt::new(what, self.timeout.min(budget - diagnosis));
        let query = DB::execute(&self.pool, self.query);
        // A new connection looks its host up on tokio's blocking pool, where a hung resolver
        // leaves a thread at every timeout: look it up first through heartbeat's own lookups
        // (one per name at a time), so that with a hung resolver the pool never starts one.
        let host = DB::host(&self.pool).filter(|_| self.pool.num_idle() == 0);
        let outcome = attempt.within(async {
            if let Some(host) = &host {
                lookup::lookup(host).await?;
            }
            query.await.map_err(|error| describe(&error))?;
            Ok(Outcome::pass())
        });
        match outcome.await {
            Some(outcome) => outcome,
            None => attempt.timed_out(Some(&self.diagnose(diagnosis).await)),
        }
    }

    /// Why the pool may have given no connection: what one direct connection attempt says,
    /// within `within`.
    async fn diagnose(&self, within: Duration) -> String {
        let pool = format!(
            "the pool has {} connection(s), {} idle",
            self.pool.size(),
            self.pool.num_idle()
        );
        let options = self.pool.connect_options();
        let host = DB::host(&self.pool);
        let direct = async {
            if let Some(host) = &host {
                lookup::lookup(host).await?;
            }
            let connection = options.connect().await.map_err(|e| describe(&e))?;
            connection.close().await.map_err(|e| describe(&e))
        };
        match tokio::time::timeout(within, direct).await {
            Ok(Ok(())) => format!("{pool}; a new connection opens fine"),
            Ok(Err(error)) => format!("{pool}; a new connection fails: {error}"),
            Err(_) => format!("{pool}; a new connection does not open within {within:?} either"),
        }
    }

    /// A check named `name` that runs this one, for [`Heartbeat`](crate::Heartbeat)'s builder.
    ///
    /// Its router timeout is set just above this check's own: change the timeout with
    /// [`Sql::timeout`], before this call.
    #[track_caller]
    pub fn check(self, name: impl Into<String>) -> Check {
        into_check(name, self)
    }
}

impl<DB: Database> Probe for Sql<DB> {
    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn probe(&self) -> impl Future<Output = Outcome> + Send {
        self.run()
    }
}

/// `SELECT 1` on `pool`, within [`DEFAULT_TIMEOUT`]: for an
/// annotated function. [`Sql`] sets another query or timeout.
pub async fn ping<DB: Database>(pool: &Pool<DB>) -> Outcome {
    Sql::new(pool.clone()).run().await
}

/// A check named `name`: `SELECT 1` on a PostgreSQL pool.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[track_caller]
pub fn postgres(name: impl Into<String>, pool: sqlx::PgPool) -> Check {
    Sql::new(pool).check(name)
}

/// A check named `name`: `SELECT 1` on a MySQL or MariaDB pool.
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
#[track_caller]
pub fn mysql(name: impl Into<String>, pool: sqlx::MySqlPool) -> Check {
    Sql::new(pool).check(name)
}

/// A check named `name`: `SELECT 1` on an SQLite pool.
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[track_caller]
pub fn sqlite(name: impl Into<String>, pool: sqlx::SqlitePool) -> Check {
    Sql::new(pool).check(name)
}
