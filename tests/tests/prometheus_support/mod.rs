//! A real Prometheus server for the metrics tests: Debian's `prometheus` binary, named by
//! `HEARTBEAT_TEST_PROMETHEUS` (`source <(bash .ci/services)`), started on a loopback port with
//! its own configuration and storage in a temporary directory, and killed when dropped.

#![allow(dead_code)] // Each test binary uses a part.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const VAR: &str = "HEARTBEAT_TEST_PROMETHEUS";

/// The prometheus binary's path.
pub(crate) fn binary() -> PathBuf {
    match std::env::var(VAR) {
        Ok(path) if !path.trim().is_empty() => PathBuf::from(path),
        _ => panic!(
            "{VAR} was set when the tests were built but is not set now: run \
             `source <(bash .ci/services)` (or set it to a prometheus binary) and run again"
        ),
    }
}

/// A Prometheus server of this test: killed, and its directory removed, on drop.
pub(crate) struct Prometheus {
    child: Child,
    dir: PathBuf,
    pub(crate) address: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus with `scrape_configs` (YAML, indented as a top-level key's value),
    /// scraping and evaluating every second, and waits until it is ready.
    pub(crate) async fn start(scrape_configs: &str) -> Prometheus {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "heartbeat-prometheus-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{scrape_configs}"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let address = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new(binary())
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary().display()));
        let prometheus = Prometheus {
            child,
            dir,
            address,
        };
        prometheus.wait_ready().await;
        prometheus
    }

    async fn wait_ready(&self) {
        for _ in 0..300 {
            if let Ok(answer) =
                tokio::time::timeout(Duration::from_secs(1), get_http10(self.address, "/-/ready"))
                    .await
            {
                if answer.is_some_and(|(status, _)| status == 200) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Prometheus did not get ready within 30 s:\n{}", self.log());
    }

    /// An instant query's result vector (`/api/v1/query`).
    pub(crate) async fn query(&self, query: &str) -> Vec<Value> {
        let target = format!("/api/v1/query?query={}", percent_encode(query));
        let (status, body) = get_http10(self.address, &target)
            .await
            .unwrap_or_else(|| panic!("Prometheus did not answer:\n{}", self.log()));
        let json: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{status}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert_eq!(json["status"], "success", "{json}");
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// What Prometheus logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nothing listens on now.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The status and body of `GET target` over HTTP/1.0 (so that the body is never chunked),
/// or `None` when nothing answers yet.
async fn get_http10(address: SocketAddr, target: &str) -> Option<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let head = format!("GET {target} HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = String::from_utf8_lossy(&raw[..split])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, raw[split + 4..].to_vec()))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
