//! The query parameters every endpoint of the family reads, parsed in one place: one more key
//! is one more field and one more arm of [`Query::parse`].

/// `?exclude=` is taken at most this many times (a 400 beyond), so a long query costs a
/// bounded, linear amount of work.
pub(super) const MAX_EXCLUDED: usize = 256;

/// The parameters the endpoints read; others are ignored (cache busters, say).
#[derive(Default)]
pub(super) struct Query {
    /// `/health/`'s selection: `None` when absent; repeated `checks=` are joined as one
    /// comma-separated list.
    pub(super) checks: Option<String>,
    /// The shared secret, when given in the query.
    pub(super) auth: Option<String>,
    /// `?verbose` (any value): the Kubernetes text form.
    pub(super) verbose: bool,
    /// `?exclude=name` (repeatable): checks left out of this answer, in the order given.
    pub(super) exclude: Vec<String>,
    /// `?watch` (any value but `false` and `0`): the live stream of the answer's document.
    pub(super) watch: bool,
}

impl Query {
    /// The query of a request, or why it is refused (a 400).
    #[inline]
    pub(super) fn parse(query: Option<&str>) -> Result<Query, &'static str> {
        let mut parsed = Query::default();
        // A probe's request (kubelet's) has no query.
        let Some(query) = query else {
            return Ok(parsed);
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "checks" => match &mut parsed.checks {
                    Some(checks) => {
                        checks.push(',');
                        checks.push_str(&value);
                    }
                    None => parsed.checks = Some(value.into_owned()),
                },
                "auth" if parsed.auth.is_some() => return Err("`auth` is given more than once"),
                "auth" => parsed.auth = Some(value.into_owned()),
                "verbose" => parsed.verbose = true,
                "exclude" if parsed.exclude.len() >= MAX_EXCLUDED => {
                    return Err("`exclude` is given more than 256 times");
                }
                "exclude" => parsed.exclude.push(value.trim().to_owned()),
                "watch" => parsed.watch = !matches!(&*value, "false" | "0"),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read_and_others_ignored() {
        let query = Query::parse(Some(
            "verbose&exclude=a&exclude=%20b%2Fc&checks=x&checks=y&auth=s&z=1",
        ))
        .unwrap();
        assert!(query.verbose);
        assert_eq!(query.exclude, ["a", "b/c"]);
        assert_eq!(query.checks.as_deref(), Some("x,y"));
        assert_eq!(query.auth.as_deref(), Some("s"));
        assert!(!query.watch);
        assert!(Query::parse(Some("watch")).unwrap().watch);
        assert!(Query::parse(Some("watch=1")).unwrap().watch);
        assert!(!Query::parse(Some("watch=false")).unwrap().watch);
        assert!(!Query::parse(Some("watch=0")).unwrap().watch);
        let empty = Query::parse(None).unwrap();
        assert!(!empty.verbose && empty.exclude.is_empty() && empty.checks.is_none());
    }

    #[test]
    fn repeated_auth_and_too_many_excludes_are_refused() {
        assert!(Query::parse(Some("auth=a&auth=b")).is_err());
        let many = "exclude=x&".repeat(MAX_EXCLUDED);
        assert_eq!(
            Query::parse(Some(&many)).unwrap().exclude.len(),
            MAX_EXCLUDED
        );
        assert!(Query::parse(Some(&format!("{many}exclude=y"))).is_err());
    }
}
