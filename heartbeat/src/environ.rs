//! The environ document's facts: the compiler, target and profile (recorded by the build
//! script), and what `heartbeat::build_info!()` computed from the lockfile at compile time.
//!
//! Nothing here changes while the process runs, so [`document`] renders it once; a request only
//! adds `uptime` and the environ probes' data (`routes/environ.rs`).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};

use serde_json::{Map, Value, json};

use crate::registry::{REGISTRATION_BACKEND, Site};

/// The compiler's version as `[major, minor, patch]`, or `null` if the build could not ask it.
pub(crate) fn rust_version() -> Value {
    let text = env!("HEARTBEAT_RUSTC_VERSION");
    // `1.95.0`, `1.96.0-nightly`: the numbers before any pre-release suffix.
    let numbers: Vec<u64> = text
        .split(['.', '-'])
        .take(3)
        .map_while(|part| part.parse().ok())
        .collect();
    if numbers.len() == 3 {
        json!(numbers)
    } else {
        Value::Null
    }
}

/// Said in place of `libraries` when no `build_info!()` contributed them.
pub(crate) const NO_LIBRARIES: &str =
    "add `heartbeat::build_info!();` to the binary crate to list the libraries of its Cargo.lock";

/// One crate name of the application's build, as `build_info!()` computed it at compile time:
/// the newest copy's version and source kind, and every other copy (`"0.4.3"`, or
/// `"1.0.0 (git)"` when it comes from another source).
#[doc(hidden)]
#[derive(Debug)]
pub struct Library {
    name: &'static str,
    version: &'static str,
    source: &'static str,
    conflicts: &'static [&'static str],
}

impl Library {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        version: &'static str,
        source: &'static str,
        conflicts: &'static [&'static str],
    ) -> Self {
        Library {
            name,
            version,
            source,
            conflicts,
        }
    }

    fn to_json(&self) -> Value {
        let conflicts = if self.conflicts.is_empty() {
            Value::Null
        } else {
            json!(self.conflicts)
        };
        json!({ "version": self.version, "source": self.source, "conflicts": conflicts })
    }
}

/// What one `build_info!()` recorded, in a `static` its expansion registers.
#[doc(hidden)]
#[derive(Debug)]
pub struct BuildInfo {
    name: &'static str,
    version: &'static str,
    /// The lockfile's path relative to the workspace root, and the libraries; or why there are
    /// none.
    lockfile: Result<(&'static str, &'static [Library]), &'static str>,
    site: Site,
}

impl BuildInfo {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        version: &'static str,
        lockfile: Result<(&'static str, &'static [Library]), &'static str>,
        site: Site,
    ) -> Self {
        BuildInfo {
            name,
            version,
            lockfile,
            site,
        }
    }

    /// The keys it contributes to the document.
    fn entries(&self, into: &mut Map<String, Value>) {
        let application = json!({ "name": self.name, "version": self.version });
        into.insert("application".to_owned(), application);
        match self.lockfile {
            Ok((path, libraries)) => {
                let libraries = libraries
                    .iter()
                    .map(|library| (library.name.to_owned(), library.to_json()))
                    .collect();
                into.insert("libraries".to_owned(), Value::Object(libraries));
                into.insert("lockfile".to_owned(), path.into());
            }
            Err(why) => {
                into.insert("libraries".to_owned(), Value::Object(Map::new()));
                into.insert("libraries_note".to_owned(), why.into());
            }
        }
    }
}

/// Every `build_info!()` of the binary, sorted by where it was written.
fn build_infos() -> Vec<&'static BuildInfo> {
    let mut all: Vec<&'static BuildInfo> = backend::all().collect();
    all.sort_by_key(|info| info.site);
    all
}

/// The application's package name and version, from the binary's `build_info!()`, if any.
pub(crate) fn application() -> Option<(&'static str, &'static str)> {
    static APPLICATION: OnceLock<Option<(&'static str, &'static str)>> = OnceLock::new();
    *APPLICATION.get_or_init(|| build_infos().first().map(|info| (info.name, info.version)))
}

/// A configuration problem: `build_info!()` written in more than one crate (or twice).
pub(crate) fn problems() -> Option<String> {
    let all = build_infos();
    if all.len() < 2 {
        return None;
    }
    let sites: Vec<String> = all
        .iter()
        .map(|info| format!("{} {} at {}", info.name, info.version, info.site))
        .collect();
    Some(format!(
        "`heartbeat::build_info!()` is written more than once: in {}; keep only the one in the binary crate",
        sites.join(" and in ")
    ))
}

/// The environ document as far as it is known before any request: rendered once per process.
pub(crate) struct Document {
    /// Every key that never changes, with its value as JSON text, sorted by key.
    entries: Vec<(String, String)>,
    /// Whether `libraries` came from `build_info!()` (else `libraries_note` says why not).
    has_build_info: bool,
    /// The whole answer when there is no environ probe, up to `uptime`'s number…
    head: Bytes,
    /// …and after it.
    tail: String,
}

/// The document of this process, rendered on first use.
pub(crate) fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| Document::new(&facts(), !build_infos().is_empty()))
}

/// Every fact known at compile time, as the environ document's keys.
fn facts() -> Map<String, Value> {
    let mut facts = Map::new();
    facts.insert("rust".to_owned(), rust_version());
    facts.insert("rustc".to_owned(), env!("HEARTBEAT_RUSTC_VERSION").into());
    facts.insert("target".to_owned(), env!("HEARTBEAT_TARGET").into());
    facts.insert("profile".to_owned(), env!("HEARTBEAT_PROFILE").into());
    facts.insert("heartbeat".to_owned(), env!("CARGO_PKG_VERSION").into());
    facts.insert("registration".to_owned(), REGISTRATION_BACKEND.into());
    match build_infos().first() {
        Some(info) => info.entries(&mut facts),
        None => {
            facts.insert("libraries".to_owned(), Value::Object(Map::new()));
            facts.insert("libraries_note".to_owned(), NO_LIBRARIES.into());
        }
    }
    facts
}

/// A value of the document: rendered once, or given by this request.
enum Piece<'a> {
    Rendered(&'a str),
    Value(&'a Value),
}

impl Document {
    fn new(facts: &Map<String, Value>, has_build_info: bool) -> Self {
        let entries: Vec<(String, String)> = facts
            .iter()
            .map(|(key, value)| (key.clone(), value.to_string()))
            .collect();
        // Without probes the answer is these keys, `"status":true` and `uptime`, sorted.
        let mut head = String::from("{");
        let mut tail = String::new();
        let status = ("status".to_owned(), "true".to_owned());
        let mut all: Vec<&(String, String)> = entries.iter().chain([&status]).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, value) in all {
            let part = if key.as_str() < "uptime" {
                &mut head
            } else {
                &mut tail
            };
            write_key(part, key);
            part.push_str(value);
            part.push(',');
        }
        head.push_str("\"uptime\":");
        if tail.is_empty() {
            tail.push('}');
        } else {
            tail.insert(0, ',');
            tail.pop();
            tail.push('}');
        }
        Document {
            entries,
            has_build_info,
            head: Bytes::from(head),
            tail,
        }
    }

    /// The answer when there is no environ probe: only `uptime` (a JSON number) is new. The
    /// rendered document before it is shared, not copied: the body is that and `uptime`'s part.
    pub(crate) fn without_probes(&self, uptime: &Value) -> Parts {
        let mut rest = Vec::with_capacity(24 + self.tail.len());
        // Writing to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut rest, uptime);
        rest.extend_from_slice(self.tail.as_bytes());
        Parts::new(self.head.clone(), Bytes::from(rest))
    }

    /// The answer with probes' keys merged over the facts, in the order given (the last one of
    /// a key wins), then `status` and `errors`, which are always heartbeat's.
    pub(crate) fn with_probes<'a>(
        &'a self,
        uptime: &'a Value,
        probes: impl IntoIterator<Item = (&'a String, &'a Value)>,
        status: &'a Value,
        errors: Option<&'a Value>,
    ) -> String {
        let mut keys: std::collections::BTreeMap<&str, Piece<'a>> = self
            .entries
            .iter()
            .map(|(key, value)| (key.as_str(), Piece::Rendered(value)))
            .collect();
        keys.insert("uptime", Piece::Value(uptime));
        let mut libraries_given = false;
        for (key, value) in probes {
            libraries_given |= key == "libraries";
            keys.insert(key, Piece::Value(value));
        }
        if libraries_given && !self.has_build_info {
            // The note explains a missing table; a probe gave one.
            if let Some(Piece::Rendered(_)) = keys.get("libraries_note") {
                keys.remove("libraries_note");
            }
        }
        keys.insert("status", Piece::Value(status));
        match errors {
            Some(errors) => keys.insert("errors", Piece::Value(errors)),
            None => keys.remove("errors"),
        };
        let mut body = String::with_capacity(self.head.len() + self.tail.len() + 256);
        body.push('{');
        for (i, (key, piece)) in keys.into_iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            write_key(&mut body, key);
            match piece {
                Piece::Rendered(text) => body.push_str(text),
                Piece::Value(value) => {
                    let _ = write!(body, "{value}");
                }
            }
        }
        body.push('}');
        body
    }
}

/// A body of two byte strings whose length is known, so the answer keeps its
/// `Content-Length`.
pub(crate) struct Parts {
    parts: [Option<Bytes>; 2],
}

impl Parts {
    fn new(first: Bytes, second: Bytes) -> Self {
        Parts {
            parts: [Some(first), Some(second)],
        }
    }
}

impl HttpBody for Parts {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.parts.iter_mut().find_map(Option::take);
        Poll::Ready(next.map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.iter().all(Option::is_none)
    }

    fn size_hint(&self) -> SizeHint {
        let length = self.parts.iter().flatten().map(Bytes::len).sum::<usize>();
        SizeHint::with_exact(length as u64)
    }
}

impl From<Parts> for Body {
    fn from(parts: Parts) -> Body {
        Body::new(parts)
    }
}

fn write_key(body: &mut String, key: &str) {
    let _ = write!(body, "{}:", Value::from(key));
}

/// The `inventory` backend (default): `build_info!()`'s static, collected before `main`.
#[cfg(not(feature = "linkme"))]
mod backend {
    use super::BuildInfo;

    inventory::collect!(BuildInfo);

    pub(super) fn all() -> impl Iterator<Item = &'static BuildInfo> {
        inventory::iter::<BuildInfo>.into_iter()
    }
}

/// The `linkme` backend (feature `linkme`): the linker gathers `build_info!()`'s static.
#[cfg(feature = "linkme")]
pub(crate) mod backend {
    use super::BuildInfo;

    /// Every `build_info!()` of the binary (one, unless the router refuses to build).
    #[linkme::distributed_slice]
    pub static BUILD_INFOS: [BuildInfo];

    pub(super) fn all() -> impl Iterator<Item = &'static BuildInfo> {
        BUILD_INFOS.iter()
    }
}

/// Registers `build_info!()`'s [`BuildInfo`] with the active backend.
#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_build_info {
    ($info:expr) => {
        $crate::__private::inventory::submit! { $info }
    };
}

/// Registers `build_info!()`'s [`BuildInfo`] with the active backend (here `linkme`).
#[cfg(feature = "linkme")]
#[doc(hidden)]
#[macro_export]
macro_rules! __heartbeat_build_info {
    ($info:expr) => {
        #[$crate::__private::linkme::distributed_slice($crate::__private::BUILD_INFOS)]
        #[linkme(crate = $crate::__private::linkme)]
        static __HEARTBEAT_BUILD_INFO: $crate::__private::BuildInfo = $info;
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(has: &[(&str, Value)]) -> Map<String, Value> {
        has.iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    }

    /// The text of a body of parts, and its size hint.
    fn body_text(parts: Parts) -> String {
        let length = parts.size_hint().exact();
        let text: Vec<u8> = parts.parts.into_iter().flatten().flatten().collect();
        assert_eq!(length, Some(text.len() as u64));
        String::from_utf8(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[test]
    fn without_probes_is_the_facts_with_status_and_uptime() {
        let facts = facts(&[
            ("a", json!(1)),
            ("rust", json!([1, 95, 0])),
            ("zzz", json!("after uptime")),
            ("libraries", json!({"x": {"version": "1.0.0"}})),
        ]);
        let document = Document::new(&facts, true);
        let text = body_text(document.without_probes(&json!(1.500001)));
        let mut expected = facts.clone();
        expected.insert("status".to_owned(), true.into());
        expected.insert("uptime".to_owned(), json!(1.500001));
        assert_eq!(parse(&text), Value::Object(expected));
        // Sorted keys, as every map heartbeat writes.
        assert!(text.find("\"uptime\"") < text.find("\"zzz\""), "{text}");
    }

    #[test]
    fn with_probes_merges_in_order_and_keeps_status_and_errors() {
        let facts = facts(&[
            ("libraries", json!({})),
            ("libraries_note", json!("why")),
            ("profile", json!("dev")),
        ]);
        let document = Document::new(&facts, false);
        let (first, second) = (json!("first"), json!("second"));
        let (libraries, status) = (json!({"x": {}}), json!(false));
        let errors = json!({"probe": "broken"});
        let (profile, uptime, status_key) = ("profile".to_owned(), json!(2.0), "status".to_owned());
        let libraries_key = "libraries".to_owned();
        let text = document.with_probes(
            &uptime,
            [
                (&profile, &first),
                (&profile, &second),
                (&libraries_key, &libraries),
                (&status_key, &first),
            ],
            &status,
            Some(&errors),
        );
        assert_eq!(
            parse(&text),
            json!({"errors": {"probe": "broken"}, "libraries": {"x": {}}, "profile": "second",
                   "status": false, "uptime": 2.0})
        );
        // With no probe data, the same answer as without probes.
        let quiet = document.with_probes(&json!(1.5), [], &json!(true), None);
        assert_eq!(quiet, body_text(document.without_probes(&json!(1.5))));
    }

    #[test]
    fn one_build_info_at_most() {
        // This crate's tests write no `build_info!()`.
        assert!(problems().is_none());
        let document = document();
        let text = body_text(document.without_probes(&json!(0.0)));
        let body = parse(&text);
        assert_eq!(body["libraries_note"], NO_LIBRARIES);
        assert_eq!(body["registration"], REGISTRATION_BACKEND);
    }
}
