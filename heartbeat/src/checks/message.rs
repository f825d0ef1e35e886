//! Wording the failures of built-in checks: an error with its causes, and no passwords.

use std::error::Error;

/// An error and its chain of sources, "outer: inner: innermost", skipping a source whose text
/// the message already holds (many errors repeat their source in their own text).
pub(crate) fn describe(error: &(dyn Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// `text` with the password of every URL in it (`scheme://user:password@host`) replaced by `***`.
///
/// Built-in checks never put a connection string in a message on purpose; this is the safety
/// net for a driver that does.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | ')' | '>') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str("***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted_and_the_rest_is_kept() {
        for (text, expected) in [
            (
                "cannot reach postgres://app:hunter2@db:5432/app now",
                "cannot reach postgres://app:***@db:5432/app now",
            ),
            (
                "redis://:s3cret@127.0.0.1:6379/",
                "redis://:***@127.0.0.1:6379/",
            ),
            ("http://user@host/path", "http://user@host/path"),
            ("(mysql://a:b@c)", "(mysql://a:***@c)"),
            ("a://x:y@z and b://p:q@r", "a://x:***@z and b://p:***@r"),
            ("no url: at all", "no url: at all"),
            ("trailing://", "trailing://"),
            ("mixed://ü:ß@ĥ/", "mixed://ü:***@ĥ/"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[derive(Debug)]
    struct Wrapper(&'static str, Option<std::io::Error>);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_ref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_are_chained_once() {
        let refused = || Some(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(
            describe(&Wrapper("error sending request", refused())),
            "error sending request: connection refused"
        );
        assert_eq!(
            describe(&Wrapper("tcp connect error: connection refused", refused())),
            "tcp connect error: connection refused"
        );
        assert_eq!(describe(&Wrapper("alone", None)), "alone");
    }
}
