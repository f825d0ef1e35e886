//! The page for people (`Accept: text/html`): every check, its level in colour and words, its
//! time, age and message; self-contained (its one style and one script inline, named by hash in
//! a strict `Content-Security-Policy`), and updated from the live stream (`?watch`) when the
//! endpoint serves one.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::view::{Row, View};
use crate::outcome::Level;

/// The page's style: readable on a phone (one column, wrapping names and messages), light or
/// dark as the device prefers. Each level has a colour and is always written out in words.
const STYLE: &str = r#"
:root { color-scheme: light dark; --pass: #1a7f37; --warn: #9a6700; --fail: #cf222e;
  --unknown: #57606a; --muted: #6e7781;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0 auto; max-width: 48rem; padding: 1rem; line-height: 1.4; }
header { display: flex; align-items: center; gap: .6rem; flex-wrap: wrap; }
h1 { font-size: 1.35rem; margin: 0; overflow-wrap: anywhere; }
#summary { margin: .4rem 0 0; color: var(--muted); }
ul { list-style: none; padding: 0; margin: 1rem 0; }
li { border: 1px solid #8886; border-left: .45rem solid var(--unknown); border-radius: .4rem;
  padding: .55rem .75rem; margin: .5rem 0; display: grid; grid-template-columns: auto 1fr;
  gap: .15rem .6rem; align-items: baseline; }
li.pass { border-left-color: var(--pass); } li.warn { border-left-color: var(--warn); }
li.fail { border-left-color: var(--fail); }
.level { font-weight: 700; text-transform: uppercase; font-size: .78rem; letter-spacing: .03em;
  padding: .1rem .45rem; border-radius: .3rem; color: #fff; background: var(--unknown); }
.level.pass { background: var(--pass); } .level.warn { background: var(--warn); }
.level.fail { background: var(--fail); }
.name { font-weight: 600; overflow-wrap: anywhere; }
.facts { grid-column: 2; color: var(--muted); font-size: .85rem; }
.message { grid-column: 1 / -1; margin: .2rem 0 0; font-family: ui-monospace, monospace;
  font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .8rem; }
"#;

/// The page's script: it opens the live stream (`<path>?watch`, with the page's own `checks`
/// and `auth` parameters) and renders every document it receives, the seed JSON of the same
/// request. Without a stream (an error that closes it) the page stays as rendered and reloads
/// itself every 30 seconds. It writes text only (`textContent`), never markup.
const SCRIPT: &str = r#"
(function () {
  'use strict';
  var body = document.body;
  var only = body.getAttribute('data-check');
  var search = new URLSearchParams(location.search);
  var excluded = search.getAll('exclude').map(function (n) { return n.trim(); });
  var state = document.getElementById('live');

  function seconds(s) {
    return s < 1 ? (Math.round(s * 10000) / 10) + ' ms' : (Math.round(s * 100) / 100) + ' s';
  }
  function element(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function rowsOf(doc) {
    var checks = doc.checks || {};
    return Object.keys(checks).sort().filter(function (name) {
      return (only === null || name === only) && excluded.indexOf(name) < 0;
    }).map(function (name) {
      var c = checks[name];
      if (typeof c === 'boolean') {
        var warned = (doc.warnings || []).indexOf(name) >= 0;
        return { name: name, level: c ? (warned ? 'warn' : 'pass') : 'fail',
                 message: (doc.messages || {})[name] };
      }
      c = c || {};
      var level = typeof c.level === 'string' ? c.level : (c.status ? 'pass' : 'fail');
      return { name: name, level: level, message: c.message, time: c.time, age: c.age };
    });
  }
  function render(doc) {
    var rows = rowsOf(doc);
    var passed = typeof doc.status === 'boolean' ? doc.status : doc.health === 'running';
    if (only !== null || excluded.length > 0) {
      passed = rows.every(function (r) { return r.level === 'pass' || r.level === 'warn'; });
    }
    var warned = rows.some(function (r) { return r.level === 'warn'; });
    var level = !passed ? 'fail' : (warned ? 'warn' : 'pass');
    var status = document.getElementById('status');
    status.className = 'level ' + level;
    status.textContent = level;
    document.title = body.getAttribute('data-endpoint') + ': ' + level;
    var failed = rows.filter(function (r) { return r.level === 'fail' || r.level === 'unknown'; });
    var warnings = rows.filter(function (r) { return r.level === 'warn'; });
    document.getElementById('summary').textContent = rows.length +
      (rows.length === 1 ? ' check: ' : ' checks: ') +
      failed.length + ' failing, ' + warnings.length + ' warning';
    var list = element('ul');
    list.id = 'checks';
    rows.forEach(function (r) {
      var item = element('li', 'check ' + r.level);
      item.setAttribute('data-name', r.name);
      item.setAttribute('data-level', r.level);
      item.appendChild(element('span', 'level ' + r.level, r.level));
      item.appendChild(element('span', 'name', r.name));
      var facts = [];
      if (r.level === 'unknown') {
        facts.push('first run not ended yet');
      } else {
        if (typeof r.time === 'number') { facts.push('took ' + seconds(r.time)); }
        facts.push(typeof r.age === 'number' ? 'ran ' + seconds(r.age) + ' ago' : 'ran just now');
      }
      item.appendChild(element('span', 'facts', facts.join(' \u00b7 ')));
      if (typeof r.message === 'string') { item.appendChild(element('p', 'message', r.message)); }
      list.appendChild(item);
    });
    document.getElementById('checks').replaceWith(list);
    document.getElementById('updated').textContent = new Date().toISOString();
  }

  if (!window.EventSource) { state.textContent = 'no live updates in this browser'; return; }
  var keep = new URLSearchParams();
  ['checks', 'exclude', 'auth'].forEach(function (key) {
    search.getAll(key).forEach(function (value) { keep.append(key, value); });
  });
  var query = keep.toString();
  var source = new EventSource(location.pathname + '?watch' + (query ? '&' + query : ''));
  source.onopen = function () { state.textContent = 'live'; };
  source.onmessage = function (event) {
    var doc;
    try { doc = JSON.parse(event.data); } catch (e) { return; }
    render(doc);
    state.textContent = 'live';
  };
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      state.textContent = 'no live stream: reloading every 30 s';
      setTimeout(function () { location.reload(); }, 30000);
    } else {
      state.textContent = 'reconnecting';
    }
  };
})();
"#;

/// The `Content-Security-Policy`: nothing but the page's own style and script (by hash), and
/// connections to its own origin (the stream).
fn policy() -> &'static HeaderValue {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    POLICY.get_or_init(|| {
        let policy = format!(
            "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(SCRIPT),
            hash(STYLE)
        );
        // Base64 and the fixed text are visible ASCII.
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
    })
}

/// A CSP source expression for `text`: `sha256-<base64 of its SHA-256>`.
fn hash(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64, with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Writes `text` escaped for HTML text and attribute values.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// What the script writes for a duration: milliseconds below a second.
fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s < 1.0 {
        format!("{} ms", (s * 10_000.0).round() / 10.0)
    } else {
        format!("{} s", (s * 100.0).round() / 100.0)
    }
}

/// The page of `view`; `only` names the check of a per-check path.
pub(super) fn page(status: StatusCode, view: &View<'_>, only: Option<&str>) -> Response {
    let level = view.level().as_str();
    let endpoint = view.endpoint.as_str();
    let mut html =
        String::with_capacity(STYLE.len() + SCRIPT.len() + 1_024 + 256 * view.rows.len());
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>");
    let _ = write!(
        html,
        "{endpoint}: {level}</title>\n<style>{STYLE}</style></head>\n"
    );
    let _ = write!(html, "<body data-endpoint=\"{endpoint}\"");
    if let Some(only) = only {
        html.push_str(" data-check=\"");
        escape(&mut html, only);
        html.push('"');
    }
    let _ = write!(
        html,
        ">\n<header><h1>{endpoint}</h1><span id=\"status\" class=\"level {level}\">{level}</span></header>\n"
    );
    let failing = view
        .rows
        .iter()
        .filter(|r| matches!(r.level, Level::Fail | Level::Unknown))
        .count();
    let warning = view.rows.iter().filter(|r| r.level == Level::Warn).count();
    let _ = write!(
        html,
        "<p id=\"summary\">{} {}: {failing} failing, {warning} warning</p>\n<ul id=\"checks\">\n",
        view.rows.len(),
        if view.rows.len() == 1 {
            "check"
        } else {
            "checks"
        }
    );
    for row in &view.rows {
        write_row(&mut html, row, view);
    }
    html.push_str("</ul>\n");
    if !view.excluded.is_empty() || !view.unknown_excluded.is_empty() {
        html.push_str("<p id=\"excluded\">excluded: ");
        escape(&mut html, &view.excluded.join(", "));
        if !view.unknown_excluded.is_empty() {
            html.push_str("; no check is named ");
            escape(&mut html, &view.unknown_excluded.join(", "));
        }
        html.push_str("</p>\n");
    }
    let _ = write!(
        html,
        "<footer>updated <span id=\"updated\">{}</span> \u{b7} <span id=\"live\">connecting</span></footer>\n<script>{SCRIPT}</script></body></html>\n",
        super::view::timestamp(view.asked)
    );
    let mut response = Response::new(html.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(VARY, HeaderValue::from_static("accept"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        policy().clone(),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The page's address may hold the secret (`?auth=`): never send it on.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// One check as the script renders it too.
fn write_row(html: &mut String, row: &Row<'_>, view: &View<'_>) {
    let level = row.level.as_str();
    html.push_str("<li class=\"check ");
    html.push_str(level);
    html.push_str("\" data-name=\"");
    escape(html, &row.key);
    let _ = write!(
        html,
        "\" data-level=\"{level}\"><span class=\"level {level}\">{level}</span><span class=\"name\">"
    );
    escape(html, &row.key);
    html.push_str("</span><span class=\"facts\">");
    match row.age(view.asked) {
        _ if row.level == Level::Unknown => html.push_str("first run not ended yet"),
        Some(age) => {
            let _ = write!(
                html,
                "took {} \u{b7} ran {} ago",
                seconds(row.duration),
                seconds(age)
            );
        }
        None => html.push_str("ran just now"),
    }
    html.push_str("</span>");
    if let Some(message) = row.message {
        html.push_str("<p class=\"message\">");
        escape(html, message);
        html.push_str("</p>");
    }
    html.push_str("</li>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_standard() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(bytes), text);
        }
        // `printf abc | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            hash("abc"),
            "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn markup_is_escaped() {
        let mut out = String::new();
        escape(&mut out, r#"<script>"a" & 'b'</script>"#);
        assert_eq!(
            out,
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_policy_names_the_inline_script_and_style() {
        let policy = policy().to_str().unwrap();
        assert!(policy.contains(&format!("script-src '{}'", hash(SCRIPT))));
        assert!(policy.contains(&format!("style-src '{}'", hash(STYLE))));
        assert!(policy.starts_with("default-src 'none';"));
    }
}
