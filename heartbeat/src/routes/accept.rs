//! Which format an answer takes: the request's `Accept` (with q-values), or `?verbose`.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// The forms of a probe's or `/health/`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// The seed's JSON (`application/json`): the default for every other `Accept`.
    Json,
    /// `application/health+json`, draft-inadarei-api-health-check-06.
    HealthJson,
    /// The Kubernetes text form (`?verbose`), as the API server's `/readyz?verbose`.
    Text,
    /// A page for people (`text/html`).
    Html,
}

/// At most this many media ranges of an `Accept` are read; the rest are ignored, so a long
/// header costs a bounded amount of work.
const MAX_RANGES: usize = 32;

impl Format {
    /// `?verbose` wins; else the offered type the `Accept` header rates highest (the most
    /// specific matching range gives a type its q-value), ties to the seed JSON, then
    /// health+json, then the page. Without `Accept`, or when nothing offered is acceptable,
    /// the seed JSON.
    pub(super) fn negotiate(headers: &HeaderMap, verbose: bool) -> Format {
        if verbose {
            return Format::Text;
        }
        // What probes send (kubelet: `*/*`; most clients nothing): the seed JSON, at once. A
        // first range of `*/*` or `application/json` gives the seed JSON q=1, the most any
        // type gets, and ties go to the seed JSON: whatever follows, it is the answer.
        match headers.get(ACCEPT).map(|value| value.as_bytes()) {
            None | Some(b"*/*" | b"application/json") => return Format::Json,
            Some(_) => {}
        }
        const OFFERED: [(Format, &str, &str); 3] = [
            (Format::Json, "application", "json"),
            (Format::HealthJson, "application", "health+json"),
            (Format::Html, "text", "html"),
        ];
        let mut best = (Format::Json, 0u16);
        for (format, kind, subtype) in OFFERED {
            let q = headers
                .get_all(ACCEPT)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(|value| quality(value, kind, subtype))
                .fold(None, |best: Option<(u8, u16)>, found| match (best, found) {
                    (Some(b), Some(f)) => Some(if f.0 > b.0 { f } else { b }),
                    (b, f) => b.or(f),
                });
            if let Some((_, q)) = q {
                if q > best.1 {
                    best = (format, q);
                }
            }
        }
        best.0
    }
}

/// The q-value (in thousandths) that `accept` gives `kind/subtype`, with the specificity of the
/// range that gave it (2 exact, 1 `kind/*`, 0 `*/*`); `None` when no range matches.
fn quality(accept: &str, kind: &str, subtype: &str) -> Option<(u8, u16)> {
    let mut best: Option<(u8, u16)> = None;
    for range in accept.split(',').take(MAX_RANGES) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let (k, s) = (k.trim(), s.trim());
        let specificity = if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) {
            2
        } else if k.eq_ignore_ascii_case(kind) && s == "*" {
            1
        } else if k == "*" && s == "*" {
            0
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(1000, |(_, value)| thousandths(value.trim()));
        if best.is_none_or(|(b, _)| specificity > b) {
            best = Some((specificity, q));
        }
    }
    best
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; anything else counts as 0 (not acceptable).
fn thousandths(value: &str) -> u16 {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let fraction: u16 = format!("{fraction:0<3}").parse().unwrap_or(0);
    match whole {
        "0" => fraction,
        "1" if fraction == 0 => 1000,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn format(accept: Option<&str>) -> Format {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        Format::negotiate(&headers, false)
    }

    #[test]
    fn accept_headers_choose_formats() {
        let cases = [
            (None, Format::Json),
            (Some("*/*"), Format::Json),
            (Some("application/json"), Format::Json),
            (Some("application/health+json"), Format::HealthJson),
            (
                Some("application/health+json, application/json;q=0.9"),
                Format::HealthJson,
            ),
            (
                Some("application/json;q=0.5, application/health+json"),
                Format::HealthJson,
            ),
            (Some("application/health+json;q=0.5, */*"), Format::Json),
            // Chromium's and Firefox's navigation.
            (
                Some(
                    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
                ),
                Format::Html,
            ),
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Format::Html,
            ),
            (Some("text/*"), Format::Html),
            (Some("text/html;q=0, */*"), Format::Json),
            (Some("image/png"), Format::Json),
            (Some("text/html;q=bogus"), Format::Json),
            (Some("TEXT/HTML"), Format::Html),
            (
                Some("application/json;q=0.4,text/html;q=0.45"),
                Format::Html,
            ),
            (Some("garbage"), Format::Json),
        ];
        for (accept, expected) in cases {
            assert_eq!(format(accept), expected, "{accept:?}");
        }
    }

    #[test]
    fn verbose_wins() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/html"));
        assert_eq!(Format::negotiate(&headers, true), Format::Text);
    }

    #[test]
    fn q_values_parse() {
        for (text, q) in [
            ("1", 1000),
            ("1.0", 1000),
            ("0.8", 800),
            ("0.05", 50),
            ("0", 0),
            ("2", 0),
            ("0.1234", 0),
            ("1.5", 0),
            ("", 0),
        ] {
            assert_eq!(thousandths(text), q, "{text:?}");
        }
    }
}
