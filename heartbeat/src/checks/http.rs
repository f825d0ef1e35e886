//! [`Http`]: a URL answers with the expected status (the seed's `base_check_api_liveliness`).

use std::fmt;
use std::ops::{Range, RangeInclusive};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode, Url};

use crate::builder::Check;
use crate::checks::attempt::{Attempt, DEFAULT_TIMEOUT, Probe, into_check};
use crate::checks::message::describe;
use crate::outcome::Outcome;

/// A request to a URL is answered, within the timeout, with a status in the expected range
/// (default `200..=299`). Redirects are followed; the body is not read.
///
/// Passes with `http_status` and `round_trip_ms`; fails with "GET http://api:8080/health:
/// answered 502 Bad Gateway, expected 200..=299", "…: error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)", "…: no answer within
/// 700ms". Messages show the URL without its password, query or fragment; headers are never
/// shown.
///
/// Plain `http://` works as is. For `https://`, enable a TLS feature of reqwest in your own
/// `Cargo.toml` (say `reqwest = { version = "0.13", default-features = false, features =
/// ["rustls"] }`): cargo gives heartbeat's reqwest the same features. Pass your own client with
/// [`Http::client`] for proxies, certificates or another redirect policy.
///
/// ```
/// use std::time::Duration;
/// use heartbeat::{Heartbeat, checks::Http};
///
/// let app: axum::Router = Heartbeat::new()
///     .health_secret("s3cret")
///     .health_check(
///         Http::get("http://search.internal:9200/_cluster/health")
///             .expect_status(200..=299)
///             .header("Authorization", "Bearer t0ken")
///             .timeout(Duration::from_secs(2))
///             .check("search"),
///     )
///     .into_router();
/// ```
///
/// Inside an annotated function:
///
/// ```standalone_crate
/// #[heartbeat::health_check(name = "api", timeout = "2s")]
/// async fn api() -> heartbeat::Outcome {
///     heartbeat::checks::Http::get("http://api.internal/health")
///         .timeout(std::time::Duration::from_millis(1900))
///         .run()
///         .await
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Http {
    method: Method,
    url: String,
    expected: ExpectedStatus,
    headers: Vec<(String, String)>,
    timeout: Duration,
    client: Option<Client>,
}

impl Http {
    /// A request with `method` to `url`.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Http {
            method,
            url: url.into(),
            expected: ExpectedStatus::from(200..=299),
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            client: None,
        }
    }

    /// A `GET` request to `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Http::new(Method::GET, url)
    }

    /// A `HEAD` request to `url`.
    pub fn head(url: impl Into<String>) -> Self {
        Http::new(Method::HEAD, url)
    }

    /// The status (`204`, `StatusCode::OK`) or range of statuses (`200..=399`, `200..300`)
    /// that passes.
    pub fn expect_status(mut self, expected: impl Into<ExpectedStatus>) -> Self {
        self.expected = expected.into();
        self
    }

    /// Sends this header with the request (added to any of the same name). An invalid name or
    /// value fails every run, with a message that says so.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long connecting, sending and receiving the status line may take together.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request with this client instead of a default one shared by all HTTP checks.
    ///
    /// The default client looks names up one at a time per name, on heartbeat's own threads;
    /// a client of yours uses its own resolver (reqwest's default hands each lookup to tokio's
    /// blocking pool, where a hung resolver leaves a thread behind at every timeout).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Sends the request once.
    pub async fn run(&self) -> Outcome {
        let url = match Url::parse(&self.url) {
            Ok(url) => url,
            Err(error) => {
                return Attempt::new(format!("{} {}", self.method, self.url), self.timeout)
                    .failed(&format!("not a valid URL: {error}"));
            }
        };
        let attempt = Attempt::new(format!("{} {}", self.method, shown(&url)), self.timeout);
        let client = match &self.client {
            Some(client) => client,
            None => match default_client() {
                Ok(client) => client,
                Err(error) => return attempt.failed(error),
            },
        };
        let mut request = client.request(self.method.clone(), url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        attempt
            .run(async {
                let response = request
                    .send()
                    .await
                    .map_err(|error| describe(&error.without_url()))?;
                let status = response.status();
                if self.expected.contains(status) {
                    Ok(Outcome::pass().with("http_status", status.as_u16()))
                } else {
                    Err(format!("answered {status}, expected {}", self.expected))
                }
            })
            .await
    }

    /// A check named `name` that runs this one, for [`Heartbeat`](crate::Heartbeat)'s builder.
    ///
    /// Its router timeout is set just above this check's own: change the timeout with
    /// [`Http::timeout`], before this call.
    #[track_caller]
    pub fn check(self, name: impl Into<String>) -> Check {
        into_check(name, self)
    }
}

impl Probe for Http {
    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn probe(&self) -> impl Future<Output = Outcome> + Send {
        self.run()
    }
}

/// The URL as messages show it: no password, query or fragment.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// The client of HTTP checks that bring none, built once.
fn default_client() -> Result<&'static Client, &'static str> {
    static CLIENT: OnceLock<Result<Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // Names are looked up one at a time per name, on heartbeat's own threads, so a hung
            // resolver cannot pile up blocking threads.
            Client::builder()
                .dns_resolver(crate::checks::lookup::Resolver)
                .build()
                .map_err(|error| format!("cannot build an HTTP client: {}", describe(&error)))
        })
        .as_ref()
        .map_err(String::as_str)
}

/// The statuses an [`Http`] check accepts: one code or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedStatus {
    low: u16,
    high: u16,
}

impl ExpectedStatus {
    /// Whether `status` is accepted.
    pub fn contains(&self, status: StatusCode) -> bool {
        (self.low..=self.high).contains(&status.as_u16())
    }
}

impl fmt::Display for ExpectedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}..={}", self.low, self.high)
        }
    }
}

impl From<u16> for ExpectedStatus {
    fn from(code: u16) -> Self {
        ExpectedStatus {
            low: code,
            high: code,
        }
    }
}

impl From<StatusCode> for ExpectedStatus {
    fn from(status: StatusCode) -> Self {
        ExpectedStatus::from(status.as_u16())
    }
}

impl From<RangeInclusive<u16>> for ExpectedStatus {
    fn from(range: RangeInclusive<u16>) -> Self {
        ExpectedStatus {
            low: *range.start(),
            high: *range.end(),
        }
    }
}

impl From<Range<u16>> for ExpectedStatus {
    /// `200..300` is `200..=299`; an empty range accepts nothing.
    fn from(range: Range<u16>) -> Self {
        ExpectedStatus {
            low: range.start,
            high: range.end.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_statuses_read_and_match() {
        let ok = ExpectedStatus::from(200..300);
        assert_eq!(ok.to_string(), "200..=299");
        assert!(ok.contains(StatusCode::NO_CONTENT));
        assert!(!ok.contains(StatusCode::FOUND));
        assert_eq!(ExpectedStatus::from(StatusCode::OK).to_string(), "200");
        assert!(!ExpectedStatus::from(0..0).contains(StatusCode::OK));
    }

    #[test]
    fn shown_urls_hold_no_secrets() {
        let url = Url::parse("http://user:pw@host:81/path?token=t#frag").expect("a URL");
        assert_eq!(shown(&url), "http://user:***@host:81/path");
    }
}
