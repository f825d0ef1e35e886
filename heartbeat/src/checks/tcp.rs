//! [`Tcp`]: a TCP connection to `host:port` opens within the timeout.

use std::time::Duration;

use crate::builder::Check;
use crate::checks::attempt::{Attempt, DEFAULT_TIMEOUT, Probe, into_check};
use crate::checks::lookup::socket_addresses;
use crate::checks::message::describe;
use crate::outcome::Outcome;

/// A TCP connection to `host:port` opens within the timeout (default
/// [`DEFAULT_TIMEOUT`]); the connection is closed at once.
///
/// Passes with `peer` (the address connected to) and `round_trip_ms`; fails with "TCP connect to
/// db:5432: Connection refused (os error 111)", "…: no answer within 700ms" and the like.
///
/// ```
/// use std::time::Duration;
/// use heartbeat::{Heartbeat, checks::Tcp};
///
/// let app: axum::Router = Heartbeat::new()
///     .no_health_secret()
///     .readiness(Tcp::new("127.0.0.1:5432").timeout(Duration::from_secs(1)).check("postgres-port"))
///     .into_router();
/// ```
///
/// Inside an annotated function:
///
/// ```standalone_crate
/// #[heartbeat::readiness_probe]
/// async fn smtp() -> heartbeat::Outcome {
///     heartbeat::checks::Tcp::new("mail.internal:25").run().await
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Tcp {
    address: String,
    timeout: Duration,
}

impl Tcp {
    /// Connects to `address`: `host:port`, where `host` is a name (looked up at each run, on a
    /// thread of heartbeat's, one lookup of a name at a time however long the resolver hangs)
    /// or an IP address (IPv6 in brackets: `[::1]:80`).
    pub fn new(address: impl Into<String>) -> Self {
        Tcp {
            address: address.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long resolving and connecting may take together.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects once.
    pub async fn run(&self) -> Outcome {
        let attempt = Attempt::new(format!("TCP connect to {}", self.address), self.timeout);
        attempt
            .run(async {
                let addresses = socket_addresses(&self.address).await?;
                let stream = tokio::net::TcpStream::connect(&addresses[..])
                    .await
                    .map_err(|error| describe(&error))?;
                let mut outcome = Outcome::pass();
                if let Ok(peer) = stream.peer_addr() {
                    outcome = outcome.with("peer", peer.to_string());
                }
                Ok(outcome)
            })
            .await
    }

    /// A check named `name` that runs this one, for [`Heartbeat`](crate::Heartbeat)'s builder.
    ///
    /// Its router timeout is set just above this check's own: change the timeout with
    /// [`Tcp::timeout`], before this call.
    #[track_caller]
    pub fn check(self, name: impl Into<String>) -> Check {
        into_check(name, self)
    }
}

impl Probe for Tcp {
    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn probe(&self) -> impl Future<Output = Outcome> + Send {
        self.run()
    }
}

/// A check named `name` that opens a TCP connection to `address` (`host:port`) within
/// [`DEFAULT_TIMEOUT`]; see [`Tcp`] for other timeouts.
#[track_caller]
pub fn tcp(name: impl Into<String>, address: impl Into<String>) -> Check {
    Tcp::new(address).check(name)
}
