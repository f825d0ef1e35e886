//! Host name lookups for the built-in checks that reach a host by name: at most one lookup of a
//! name in flight in the whole process, on a detached thread of its own. TCP and HTTP connect
//! to what it finds; SQL and Redis, whose client libraries look the name up again, ask it first,
//! so that with a hung resolver their clients never start a lookup of their own.
//!
//! The system resolver blocks, and cannot be cancelled: tokio's `TcpStream::connect("name:port")`
//! hands it to the blocking pool, and when the check's timeout drops the connect the lookup
//! goes on. With a hung resolver every run would then leave one more thread behind. Here a run
//! that finds a lookup of its name still in flight waits for that one instead of starting
//! another, so a hung resolver holds one thread per name, and a thread that does not keep the
//! runtime's shutdown waiting.

use std::collections::HashMap;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::Shared;

use crate::checks::message::describe;

/// The addresses of a name (with port 0), or why there are none.
type Addresses = Result<Arc<[SocketAddr]>, String>;

type Lookup = Shared<Pin<Box<dyn Future<Output = Addresses> + Send>>>;

/// Lookups by name; a finished one is replaced by the next lookup of its name.
static LOOKUPS: LazyLock<Mutex<HashMap<String, Lookup>>> = LazyLock::new(Mutex::default);

/// Beyond this many names, finished lookups are forgotten.
const NAMES: usize = 256;

/// How a name is resolved: the system's resolver, which blocks.
type Resolve = fn(&str) -> std::io::Result<Vec<SocketAddr>>;

fn system(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    Ok((host, 0).to_socket_addrs()?.collect())
}

/// Looks `host` up, joining a lookup of the same name already in flight.
pub(crate) async fn lookup(host: &str) -> Addresses {
    lookup_with(host, system).await
}

async fn lookup_with(host: &str, resolve: Resolve) -> Addresses {
    let lookup = {
        let mut lookups = LOOKUPS.lock().unwrap_or_else(PoisonError::into_inner);
        match lookups.get(host) {
            Some(lookup) if lookup.peek().is_none() => lookup.clone(),
            _ => {
                if lookups.len() >= NAMES {
                    lookups.retain(|_, lookup| lookup.peek().is_none());
                }
                let lookup = start(host.to_owned(), resolve);
                lookups.insert(host.to_owned(), lookup.clone());
                lookup
            }
        }
    };
    lookup.await
}

/// A lookup on a detached thread of its own.
fn start(host: String, resolve: Resolve) -> Lookup {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("heartbeat-lookup".to_owned())
        .spawn(move || {
            let addresses = resolve(&host)
                .map(Arc::from)
                .map_err(|error| format!("cannot resolve {host}: {}", describe(&error)));
            let _ = sender.send(addresses);
        })
        .map(drop)
        .map_err(|error| format!("cannot start a thread to resolve a name: {error}"));
    let lookup: Pin<Box<dyn Future<Output = Addresses> + Send>> = Box::pin(async move {
        spawned?;
        receiver
            .await
            .unwrap_or_else(|_| Err("the lookup ended without an answer".to_owned()))
    });
    lookup.shared()
}

/// Whether connecting to `host` looks a name up: not for an IP address (`[::1]` included) or a
/// socket path.
#[cfg(any(
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite",
    feature = "redis"
))]
pub(crate) fn needs_lookup(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    !host.is_empty() && !host.starts_with('/') && bare.parse::<std::net::IpAddr>().is_err()
}

/// `host:port` as socket addresses: an IP address as it is, a name looked up.
pub(crate) async fn socket_addresses(address: &str) -> Result<Vec<SocketAddr>, String> {
    if let Ok(address) = address.parse::<SocketAddr>() {
        return Ok(vec![address]);
    }
    let (host, port) = address
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("{address:?} is not `host:port`"))?;
    let addresses = lookup(host).await?;
    Ok(addresses
        .iter()
        .map(|a| SocketAddr::new(a.ip(), port))
        .collect())
}

/// The resolver of the HTTP checks' own client.
#[cfg(feature = "http")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolver;

#[cfg(feature = "http")]
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = lookup(&host).await?;
            let addresses: reqwest::dns::Addrs =
                Box::new(addresses.iter().copied().collect::<Vec<_>>().into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(
        feature = "postgres",
        feature = "mysql",
        feature = "sqlite",
        feature = "redis"
    ))]
    #[test]
    fn only_names_are_looked_up() {
        for host in ["db.internal", "localhost"] {
            assert!(needs_lookup(host), "{host}");
        }
        for host in ["10.0.0.1", "::1", "[::1]", "/var/run/postgresql", ""] {
            assert!(!needs_lookup(host), "{host}");
        }
    }

    #[tokio::test]
    async fn names_and_addresses_resolve() {
        let addresses = socket_addresses("localhost:80").await.unwrap();
        assert!(
            addresses
                .iter()
                .all(|a| a.port() == 80 && a.ip().is_loopback()),
            "{addresses:?}"
        );
        assert_eq!(
            socket_addresses("[::1]:81").await.unwrap(),
            vec!["[::1]:81".parse().unwrap()]
        );
        assert!(
            socket_addresses("no-port")
                .await
                .unwrap_err()
                .contains("host:port")
        );
        let unknown = socket_addresses("no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(
            unknown.contains("cannot resolve no-such-host.invalid"),
            "{unknown}"
        );
    }

    /// How many times [`slow`] was called, and whether it may answer.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static RELEASED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// A resolver that hangs until released, as a hung DNS server does.
    fn slow(_: &str) -> std::io::Result<Vec<SocketAddr>> {
        CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        while !RELEASED.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(vec!["10.0.0.1:0".parse().unwrap()])
    }

    #[tokio::test]
    async fn a_lookup_in_flight_is_joined_not_repeated() {
        let name = "hung.example";
        // Three runs of a check give up at their timeouts while the resolver hangs.
        for _ in 0..3 {
            let attempt = tokio::time::timeout(
                std::time::Duration::from_millis(20),
                lookup_with(name, slow),
            );
            assert!(attempt.await.is_err());
        }
        assert_eq!(
            CALLS.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one thread per name"
        );
        // The next run, after the resolver answered, gets the answer.
        RELEASED.store(true, std::sync::atomic::Ordering::SeqCst);
        let addresses = lookup_with(name, slow).await.unwrap();
        assert_eq!(&addresses[..], &["10.0.0.1:0".parse().unwrap()]);
        assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
