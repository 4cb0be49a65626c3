//! npm: what `npm install` takes for one dependency spec of package.json.
//!
//! The spec's kinds follow npm-package-arg (npm's own parser): a registry
//! range (node-semver's grammar, read by `nodejs-semver`), an exact version,
//! a dist-tag, an alias (`npm:`), or something not from the registry (git,
//! a URL, a file path). The choice follows npm-pick-manifest: the version
//! the `latest` dist-tag names when it satisfies the range (always for `*`),
//! else the newest satisfying version; both are kept, since a lock file
//! may hold either.

use nodejs_semver::{Range, Version};

use super::{exact, pick, End, Needs, Offered};

/// What an npm dependency spec (`versionRequirement`, trimmed) needs of
/// `offered`.
pub(super) fn needs(spec: &str, offered: &[Offered<'_>]) -> Needs {
    match kind(spec) {
        Kind::Elsewhere => Needs::Nothing,
        Kind::Unreadable(reason) => Needs::unreadable(reason),
        // node-semver's `eq`: `Version`'s equality ignores build metadata.
        Kind::Exact(wanted) => exact(offered, spec, |o| parse(o).map(|o| o == wanted)),
        Kind::Latest => Needs::of(offered.iter().filter(|o| o.latest).map(|o| o.version)),
        Kind::Range(range) => {
            let any = matches!(spec, "" | "*" | "x" | "X");
            let newest = pick(offered, End::Newest, parse, |v| range.satisfies(v));
            let latest = offered
                .iter()
                .filter(|o| o.latest && o.published)
                .find(|o| any || parse(o.version).is_some_and(|v| range.satisfies(&v)));
            let mut versions = match newest {
                Needs::Versions(v) => v,
                _ => Vec::new(),
            };
            versions.extend(latest.map(|o| o.version.to_owned()));
            Needs::of(versions.iter().map(String::as_str))
        }
    }
}

/// An offered version as npm reads it.
fn parse(version: &str) -> Option<Version> {
    Version::parse(version).ok()
}

/// What a spec is, in npm-package-arg's terms.
#[derive(Debug)]
enum Kind {
    /// Not from the registry: git, a URL, a file or directory.
    Elsewhere,
    /// One version, `1.2.3`, `=1.2.3` or `v1.2.3`.
    Exact(Version),
    /// The dist-tag `latest`.
    Latest,
    /// A registry range (`""` is `*`, as npm-package-arg reads it).
    Range(Range),
    /// Something this resolver does not follow, and why.
    Unreadable(&'static str),
}

/// Protocols npm-package-arg sends to git, a tarball URL or the file
/// system (npm docs, package.json "dependencies": URLs, Git URLs, GitHub
/// URLs, local paths).
const ELSEWHERE: [&str; 10] = [
    "file:",
    "link:",
    "git+",
    "git:",
    "http:",
    "https:",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
];

/// Classify a spec, in npm-package-arg's order: aliases and workspaces,
/// then URLs and paths, then a version, a range, a tag.
fn kind(spec: &str) -> Kind {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("npm:") {
        return Kind::Unreadable("an npm alias installs another package");
    }
    if lower.starts_with("workspace:") {
        return Kind::Unreadable("a workspace reference names no registry version");
    }
    // npm-package-arg's file specs: `.`, `/` or `~/` first, or a tarball.
    let path = [".", "/", "~/"].iter().any(|p| spec.starts_with(p))
        || [".tgz", ".tar.gz", ".tar"]
            .iter()
            .any(|s| lower.ends_with(s));
    // `user/repo` (GitHub shorthand) and `git@host:path`: no range has a `/`.
    if path || ELSEWHERE.iter().any(|p| lower.starts_with(p)) || spec.contains('/') {
        return Kind::Elsewhere;
    }
    if spec.contains(':') {
        return Kind::Unreadable("an npm protocol with no registry version");
    }
    if let Some(version) = exact_version(spec) {
        return Kind::Exact(version);
    }
    if let Ok(range) = Range::parse(spec) {
        return Kind::Range(range);
    }
    if spec == "latest" {
        Kind::Latest
    } else if is_tag(spec) {
        Kind::Unreadable("an npm dist-tag other than latest")
    } else {
        Kind::Unreadable("not a valid npm range")
    }
}

/// The version of an exact spec: `1.2.3`, `=1.2.3`, `v1.2.3` (a full
/// SemVer 2 version, as npm stores them), else None.
fn exact_version(spec: &str) -> Option<Version> {
    let bare = spec.strip_prefix('=').unwrap_or(spec).trim_start();
    let bare = bare.strip_prefix(['v', 'V']).unwrap_or(bare);
    semver::Version::parse(bare).ok()?;
    Version::parse(bare).ok()
}

/// Whether a spec can be a dist-tag: npm-package-arg takes a spec that is
/// neither a version nor a range as a tag when `encodeURIComponent` leaves
/// it unchanged.
fn is_tag(spec: &str) -> bool {
    !spec.is_empty()
        && spec
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c))
}
