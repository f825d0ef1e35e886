//! [`Redis`]: a Redis (or Valkey) server answers `PING` with `PONG` (feature `redis`).
//!
//! ```
//! use heartbeat::{Heartbeat, checks};
//!
//! # fn main() -> redis::RedisResult<()> {
//! let client = redis::Client::open("redis://:password@cache.internal:6379/")?;
//! let app: axum::Router = Heartbeat::new()
//!     .no_health_secret()
//!     .readiness(checks::redis("cache", client))
//!     .into_router();
//! # Ok(()) }
//! ```
//!
//! Inside an annotated function, on the application's own connection:
//!
//! ```no_run,standalone_crate
//! # fn connection() -> redis::aio::MultiplexedConnection { unimplemented!() }
//! #[heartbeat::readiness_probe(name = "cache")]
//! async fn cache() -> heartbeat::Outcome {
//!     heartbeat::checks::redis::ping(&mut connection()).await
//! }
//! # fn main() {}
//! ```

use std::time::Duration;

use ::redis::aio::ConnectionLike;
use ::redis::{AsyncConnectionConfig, Client, ConnectionAddr};

use crate::builder::Check;
use crate::checks::attempt::{Attempt, DEFAULT_TIMEOUT, Probe, into_check};
use crate::checks::lookup;
use crate::checks::message::describe;
use crate::outcome::Outcome;

/// A new connection to a Redis server opens and answers `PING` with `PONG` within the timeout
/// (default [`DEFAULT_TIMEOUT`]).
///
/// Passes with `round_trip_ms` (connecting, authenticating and the `PING`); fails with "Redis
/// PING to 127.0.0.1:6379: Connection refused (os error 111)", "…: WRONGPASS invalid
/// username-password pair…", "…: no answer within 700ms". Never with the password.
#[derive(Debug, Clone)]
pub struct Redis {
    client: Client,
    timeout: Duration,
}

impl Redis {
    /// Connects with `client` (`redis::Client::open(url)`) at each run.
    pub fn new(client: Client) -> Self {
        Redis {
            client,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long connecting and the `PING` may take together.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects and pings once.
    pub async fn run(&self) -> Outcome {
        let address = self.client.get_connection_info().addr();
        let attempt = Attempt::new(format!("Redis PING to {address}"), self.timeout);
        // The attempt's timeout bounds everything; the client's own would word it differently.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(None)
            .set_response_timeout(None);
        // The client looks its host up on tokio's blocking pool, where a hung resolver leaves
        // a thread at every timeout: look it up first through heartbeat's own lookups (one per
        // name at a time), so that with a hung resolver the client never starts one.
        let host = match address {
            ConnectionAddr::Tcp(host, _) | ConnectionAddr::TcpTls { host, .. } => Some(host),
            _ => None,
        }
        .filter(|host| lookup::needs_lookup(host));
        attempt
            .run(async {
                if let Some(host) = host {
                    lookup::lookup(host).await?;
                }
                let mut connection = self
                    .client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(|error| describe(&error))?;
                pong(&mut connection).await
            })
            .await
    }

    /// A check named `name` that runs this one, for [`Heartbeat`](crate::Heartbeat)'s builder.
    ///
    /// Its router timeout is set just above this check's own: change the timeout with
    /// [`Redis::timeout`], before this call.
    #[track_caller]
    pub fn check(self, name: impl Into<String>) -> Check {
        into_check(name, self)
    }
}

impl Probe for Redis {
    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn probe(&self) -> impl Future<Output = Outcome> + Send {
        self.run()
    }
}

/// `PING` on an open connection (a `MultiplexedConnection`, a `ConnectionManager`, …), within
/// [`DEFAULT_TIMEOUT`]: for an annotated function.
pub async fn ping<C: ConnectionLike + Send>(connection: &mut C) -> Outcome {
    Attempt::new("Redis PING", DEFAULT_TIMEOUT)
        .run(pong(connection))
        .await
}

/// Sends `PING`, expects `PONG`.
async fn pong<C: ConnectionLike + Send>(connection: &mut C) -> Result<Outcome, String> {
    let reply: String = ::redis::cmd("PING")
        .query_async(connection)
        .await
        .map_err(|error| describe(&error))?;
    if reply == "PONG" {
        Ok(Outcome::pass())
    } else {
        Err(format!("answered {reply:?}, expected PONG"))
    }
}

/// A check named `name`: a new connection with `client` answers `PING` within
/// [`DEFAULT_TIMEOUT`]; see [`Redis`] for other timeouts.
#[track_caller]
pub fn redis(name: impl Into<String>, client: Client) -> Check {
    Redis::new(client).check(name)
}
