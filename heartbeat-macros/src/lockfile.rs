//! `build_info!()`'s reading of a `Cargo.lock`, at compile time: the packages reachable from the
//! application's own package, grouped by name, newest first by semver.
//!
//! Pure functions of the lockfile's text, so they are unit-tested without a compiler.

use std::collections::{BTreeMap, HashMap};

use semver::Version;

/// One package of the lockfile.
#[derive(Debug)]
struct Package {
    name: String,
    version: Version,
    /// The version as cargo wrote it (what the endpoint shows).
    version_text: String,
    /// `registry+…`, `sparse+…`, `git+…`; `None` for a path package (a workspace member, or a
    /// path dependency).
    source: Option<String>,
    dependencies: Vec<String>,
}

/// One crate name of the application's build, as the environ endpoint lists it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Library {
    pub(crate) name: String,
    /// The newest copy's version, as cargo wrote it.
    pub(crate) version: String,
    /// The newest copy's source: `registry`, `git` or `path`.
    pub(crate) source: &'static str,
    /// Every other copy, newest first: its version, followed by ` (git)` (its source's kind)
    /// when it comes from another source than the newest copy.
    pub(crate) conflicts: Vec<String>,
}

/// What a lockfile says about the application `root_name root_version`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The libraries reachable from the application's package, sorted by name.
    Libraries(Vec<Library>),
    /// The lockfile does not hold the application's package (it belongs to another workspace).
    NotHere,
}

/// Reads a lockfile's text. An error is a lockfile cargo would not have written: not TOML, a
/// package without a name or a semver version, a dependency entry that names no package or
/// more than one.
pub(crate) fn read(text: &str, root_name: &str, root_version: &str) -> Result<Reading, String> {
    let packages = packages(text)?;
    let by_name = index(&packages);
    let roots: Vec<usize> = by_name
        .get(root_name)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| packages[i].source.is_none() && packages[i].version_text == root_version)
        .collect();
    let root = match roots[..] {
        [] => return Ok(Reading::NotHere),
        [root] => root,
        _ => {
            return Err(format!(
                "the lockfile holds more than one path package `{root_name} {root_version}`"
            ));
        }
    };

    // Breadth-first through the `dependencies` entries, from the application's package.
    let mut reached = vec![false; packages.len()];
    reached[root] = true;
    let mut queue = vec![root];
    while let Some(at) = queue.pop() {
        for entry in &packages[at].dependencies {
            let next = resolve(&packages, &by_name, entry).map_err(|why| {
                format!(
                    "the dependency entry {entry:?} of `{} {}` {why}",
                    packages[at].name, packages[at].version_text
                )
            })?;
            if !reached[next] {
                reached[next] = true;
                queue.push(next);
            }
        }
    }

    let mut groups: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for (package, _) in packages.iter().zip(&reached).filter(|(_, r)| **r) {
        groups.entry(&package.name).or_default().push(package);
    }
    let libraries = groups
        .into_iter()
        .map(|(name, mut copies)| {
            // Newest first; the same version from several sources: registry, git, then path.
            copies.sort_by(|a, b| {
                b.version
                    .cmp(&a.version)
                    .then_with(|| source_rank(&a.source).cmp(&source_rank(&b.source)))
                    .then_with(|| a.source.cmp(&b.source))
            });
            let newest = copies[0];
            let conflicts = copies[1..]
                .iter()
                .map(|copy| {
                    if copy.source == newest.source {
                        copy.version_text.clone()
                    } else {
                        format!("{} ({})", copy.version_text, source_kind(&copy.source))
                    }
                })
                .collect();
            Library {
                name: name.to_owned(),
                version: newest.version_text.clone(),
                source: source_kind(&newest.source),
                conflicts,
            }
        })
        .collect();
    Ok(Reading::Libraries(libraries))
}

/// The `[[package]]` array; every other table (`[metadata]`, `[[patch.unused]]`) is ignored.
fn packages(text: &str) -> Result<Vec<Package>, String> {
    let document: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("it is not TOML: {}", e.message()))?;
    let Some(packages) = document.get("package") else {
        return Ok(Vec::new());
    };
    let packages = packages
        .as_array()
        .ok_or("`package` is not an array of tables")?;
    packages
        .iter()
        .enumerate()
        .map(|(i, package)| {
            let field = |key: &str| package.get(key).and_then(toml::Value::as_str);
            let name = field("name").ok_or(format!("package {} has no `name`", i + 1))?;
            let version_text =
                field("version").ok_or(format!("package `{name}` has no `version`"))?;
            let version = Version::parse(version_text)
                .map_err(|e| format!("package `{name}` has the version {version_text:?}: {e}"))?;
            let dependencies = match package.get("dependencies") {
                None => Vec::new(),
                Some(list) => list
                    .as_array()
                    .and_then(|list| {
                        list.iter()
                            .map(|entry| entry.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or(format!(
                        "package `{name} {version_text}` has `dependencies` that are not strings"
                    ))?,
            };
            Ok(Package {
                name: name.to_owned(),
                version,
                version_text: version_text.to_owned(),
                source: field("source").map(str::to_owned),
                dependencies,
            })
        })
        .collect()
}

fn index(packages: &[Package]) -> HashMap<&str, Vec<usize>> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, package) in packages.iter().enumerate() {
        by_name.entry(&package.name).or_default().push(i);
    }
    by_name
}

/// The package a `dependencies` entry names, as cargo reads it: `name` (the only package of
/// that name), `name version` (the only one of that name and version, or else the only path
/// package among them: a path package has no source to write), `name version (source)`.
fn resolve(
    packages: &[Package],
    by_name: &HashMap<&str, Vec<usize>>,
    entry: &str,
) -> Result<usize, &'static str> {
    let mut parts = entry.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = match parts.next() {
        Some(source) => Some(
            source
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or("has a source that is not in parentheses")?,
        ),
        None => None,
    };
    let candidates: Vec<usize> = match version {
        None => by_name.get(name).cloned().unwrap_or_default(),
        Some(version) => {
            let version = Version::parse(version).map_err(|_| "has no semver version")?;
            by_name
                .get(name)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| packages[i].version == version)
                .collect()
        }
    };
    let only = |found: Vec<usize>| match found[..] {
        [one] => Ok(one),
        [] => Err("names no package of the lockfile"),
        _ => Err("names more than one package of the lockfile"),
    };
    match source {
        Some(source) => only(
            candidates
                .into_iter()
                .filter(|&i| packages[i].source.as_deref().map(without_revision) == Some(source))
                .collect(),
        ),
        None if version.is_none() => only(candidates),
        None => {
            let paths: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| packages[i].source.is_none())
                .collect();
            if paths.is_empty() {
                only(candidates)
            } else {
                only(paths)
            }
        }
    }
}

/// A source as a `dependencies` entry names it: a git package's `source` ends with the commit
/// it was resolved to (`git+https://…?branch=main#0123abcd`), an entry names the repository and
/// reference only (cargo's `SourceId` equality ignores the commit).
fn without_revision(source: &str) -> &str {
    source.split_once('#').map_or(source, |(source, _)| source)
}

/// `registry` (crates.io or another registry, sparse or not), `git`, or `path` (no source).
fn source_kind(source: &Option<String>) -> &'static str {
    match source.as_deref().and_then(|s| s.split_once('+')) {
        None => "path",
        Some(("registry" | "sparse", _)) => "registry",
        Some(("git", _)) => "git",
        Some(_) => "other",
    }
}

fn source_rank(source: &Option<String>) -> u8 {
    match source_kind(source) {
        "registry" => 0,
        "git" => 1,
        "path" => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn libraries(text: &str) -> Vec<Library> {
        match read(text, "app", "0.1.0") {
            Ok(Reading::Libraries(libraries)) => libraries,
            other => panic!("{other:?}"),
        }
    }

    fn library(libraries: &[Library], name: &str) -> (String, &'static str, Vec<String>) {
        let library = libraries
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("{name} is not listed in {libraries:?}"));
        (
            library.version.clone(),
            library.source,
            library.conflicts.clone(),
        )
    }

    fn names(libraries: &[Library]) -> Vec<&str> {
        libraries.iter().map(|l| l.name.as_str()).collect()
    }

    /// A lockfile with the application, `[[package]]` tables written as given.
    fn lock(app_dependencies: &[&str], packages: &str) -> String {
        let deps: Vec<String> = app_dependencies
            .iter()
            .map(|d| format!(" \"{d}\",\n"))
            .collect();
        format!(
            "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n{}]\n{packages}",
            deps.concat()
        )
    }

    fn package(name: &str, version: &str, source: Option<&str>, deps: &[&str]) -> String {
        let mut text = format!("\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n");
        if let Some(source) = source {
            text.push_str(&format!("source = \"{source}\"\n"));
        }
        if !deps.is_empty() {
            let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
            text.push_str(&format!("dependencies = [{}]\n", deps.join(", ")));
        }
        text
    }

    #[test]
    fn only_what_the_application_reaches_is_listed() {
        let text = lock(
            &["serde"],
            &[
                package("serde", "1.0.0", Some(CRATES_IO), &["serde_derive"]),
                package("serde_derive", "1.0.0", Some(CRATES_IO), &[]),
                // Another member of the workspace and its own dependency.
                package("bench", "0.1.0", None, &["criterion"]),
                package("criterion", "0.5.0", Some(CRATES_IO), &[]),
            ]
            .concat(),
        );
        assert_eq!(names(&libraries(&text)), ["app", "serde", "serde_derive"]);
        assert_eq!(
            library(&libraries(&text), "app"),
            ("0.1.0".to_owned(), "path", vec![])
        );
    }

    #[test]
    fn versions_compare_by_semver() {
        let text = lock(
            &[
                "a 1.0.0-rc.9",
                "a 1.0.0-rc.10",
                "b 1.0.0+build.2",
                "b 1.0.0-zzz",
                "c 1.9.0",
                "c 1.10.0",
            ],
            &[
                package("a", "1.0.0-rc.9", Some(CRATES_IO), &[]),
                package("a", "1.0.0-rc.10", Some(CRATES_IO), &[]),
                package("b", "1.0.0+build.2", Some(CRATES_IO), &[]),
                package("b", "1.0.0-zzz", Some(CRATES_IO), &[]),
                package("c", "1.9.0", Some(CRATES_IO), &[]),
                package("c", "1.10.0", Some(CRATES_IO), &[]),
            ]
            .concat(),
        );
        let libraries = libraries(&text);
        assert_eq!(
            library(&libraries, "a"),
            (
                "1.0.0-rc.10".to_owned(),
                "registry",
                vec!["1.0.0-rc.9".to_owned()]
            )
        );
        // Build metadata is not a pre-release: `1.0.0+build.2` is the release.
        assert_eq!(
            library(&libraries, "b"),
            (
                "1.0.0+build.2".to_owned(),
                "registry",
                vec!["1.0.0-zzz".to_owned()]
            )
        );
        assert_eq!(
            library(&libraries, "c"),
            ("1.10.0".to_owned(), "registry", vec!["1.9.0".to_owned()])
        );
    }

    #[test]
    fn the_same_name_from_different_sources_stays_apart() {
        let git = "git+https://example.invalid/fork?branch=main";
        let git_package = format!("{git}#0123456789abcdef");
        let text = lock(
            &[
                &format!("fork 1.0.0 ({CRATES_IO})"),
                &format!("fork 1.0.0 ({git})"),
                "fork 1.0.0",
                "fork 0.9.0",
            ],
            &[
                package("fork", "1.0.0", Some(&git_package), &[]),
                package("fork", "1.0.0", None, &[]),
                package("fork", "1.0.0", Some(CRATES_IO), &[]),
                package("fork", "0.9.0", Some(CRATES_IO), &[]),
            ]
            .concat(),
        );
        assert_eq!(
            library(&libraries(&text), "fork"),
            (
                "1.0.0".to_owned(),
                "registry",
                vec![
                    "1.0.0 (git)".to_owned(),
                    "1.0.0 (path)".to_owned(),
                    "0.9.0".to_owned()
                ]
            )
        );
    }

    #[test]
    fn entries_resolve_exactly() {
        // Cargo names a git source without the commit the package's `source` ends with.
        let git = "git+https://example.invalid/fork";
        let git_package = format!("{git}#0123");
        // `fork 1.0.0` without a source is the path package, as cargo reads it; the git copy
        // is reached only through the full entry, which `unreached` has.
        let text = lock(
            &["fork 1.0.0", "only"],
            &[
                package("fork", "1.0.0", Some(&git_package), &[]),
                package("fork", "1.0.0", None, &[]),
                package("only", "2.0.0", Some(CRATES_IO), &[]),
                package(
                    "unreached",
                    "2.0.0",
                    Some(CRATES_IO),
                    &[&format!("fork 1.0.0 ({git})")],
                ),
            ]
            .concat(),
        );
        assert_eq!(
            library(&libraries(&text), "fork"),
            ("1.0.0".to_owned(), "path", vec![])
        );
        assert_eq!(names(&libraries(&text)), ["app", "fork", "only"]);

        let with_git = text.replace("\"fork 1.0.0\",", &format!("\"fork 1.0.0 ({git})\","));
        assert_eq!(
            library(&libraries(&with_git), "fork"),
            ("1.0.0".to_owned(), "git", vec![])
        );
    }

    #[test]
    fn patch_unused_and_metadata_are_ignored_and_key_order_does_not_matter() {
        let text = r#"
version = 3

[[package]]
dependencies = ["dep"]
version = "0.1.0"
name = "app"

[[package]]
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"
version = "1.2.3"
name = "dep"

[[patch.unused]]
name = "dep"
version = "9.0.0"

[metadata]
"checksum dep 1.2.3 (registry+https://github.com/rust-lang/crates.io-index)" = "00"
"#;
        let libraries = libraries(text);
        assert_eq!(names(&libraries), ["app", "dep"]);
        assert_eq!(
            library(&libraries, "dep"),
            ("1.2.3".to_owned(), "registry", vec![])
        );
    }

    #[test]
    fn another_workspace_s_lockfile_is_not_here() {
        let text = lock(&[], "");
        assert_eq!(read(&text, "app", "0.2.0"), Ok(Reading::NotHere));
        assert_eq!(read(&text, "other", "0.1.0"), Ok(Reading::NotHere));
        // A registry package of the same name and version is not the application.
        let text = package("app", "0.1.0", Some(CRATES_IO), &[]);
        assert_eq!(read(&text, "app", "0.1.0"), Ok(Reading::NotHere));
    }

    #[test]
    fn what_cargo_would_not_write_is_an_error() {
        let error = |text: &str| read(text, "app", "0.1.0").expect_err("an error");
        assert!(
            error("[[package]").contains("not TOML"),
            "{}",
            error("[[package]")
        );
        let dangling = lock(&["missing"], "");
        assert!(
            error(&dangling).contains("\"missing\" of `app 0.1.0` names no package"),
            "{}",
            error(&dangling)
        );
        let ambiguous = lock(
            &["two"],
            &[
                package("two", "1.0.0", Some(CRATES_IO), &[]),
                package("two", "2.0.0", Some(CRATES_IO), &[]),
            ]
            .concat(),
        );
        assert!(
            error(&ambiguous).contains("more than one"),
            "{}",
            error(&ambiguous)
        );
        let bad_version = lock(&[], &package("x", "1.0", Some(CRATES_IO), &[]));
        assert!(
            error(&bad_version).contains("\"1.0\""),
            "{}",
            error(&bad_version)
        );
    }
}
