//! `ALLOWED_TARGETS`: defence in depth beside IAM. A request outside the
//! list is refused before any call and dead-lettered as `NOT_PERMITTED`.
//!
//! A pattern is `codeartifact:<domain>/<repository>/<format>/<package>`
//! (`<namespace>/<package>` for a namespaced package) or `iot:<package>`,
//! where `*` stands for any run of characters, `/` included: so
//! `codeartifact:acme/releases/npm/*` covers every npm package of one
//! repository, scoped or not, and `iot:fw-*` every IoT package named `fw-…`.
//!
//! An entry `group:<domain>/<repository>:<pattern>` admits the packages
//! CodeArtifact associates with the package group `<pattern>` (each
//! package with its most specific group only) in that repository, whether a
//! request names the group (`packageGroup`) or one of its packages: that
//! needs a read ([`AllowList::groups_in`] says which patterns to ask about).

use std::fmt;

use crate::request::{Scope, Service, Target};

/// One `service:glob` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TargetPattern {
    service: Service,
    glob: String,
}

impl fmt::Display for TargetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.glob)
    }
}

/// A `group:<domain>/<repository>:<pattern>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupGrant {
    domain: String,
    repository: String,
    pattern: String,
}

impl fmt::Display for GroupGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "group:{}/{}:{}",
            self.domain, self.repository, self.pattern
        )
    }
}

/// The packages this deployment may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<TargetPattern>,
    groups: Vec<GroupGrant>,
}

impl AllowList {
    /// Parses a comma-separated list. Every entry needs a service and a
    /// non-empty pattern.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut patterns = Vec::new();
        let mut groups = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(rest) = entry.strip_prefix("group:") {
                groups.push(group_grant(entry, rest)?);
                continue;
            }
            let (service, glob) = match entry.split_once(':') {
                Some(("codeartifact", g)) => (Service::CodeArtifact, g),
                Some(("iot", g)) => (Service::Iot, g),
                _ => {
                    return Err(format!(
                        "{entry:?} must start with \"codeartifact:\", \"iot:\" or \"group:\""
                    ))
                }
            };
            if glob.is_empty() {
                return Err(format!("{entry:?} names no package pattern"));
            }
            patterns.push(TargetPattern {
                service,
                glob: glob.to_owned(),
            });
        }
        if patterns.is_empty() && groups.is_empty() {
            return Err("no pattern given".into());
        }
        Ok(AllowList { patterns, groups })
    }

    /// The group patterns granted in a repository (`group:` entries).
    pub(crate) fn groups_in(&self, domain: &str, repository: &str) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.domain == domain && g.repository == repository)
            .map(|g| g.pattern.as_str())
            .collect()
    }

    /// Whether a request for this package may run.
    pub(crate) fn permits(&self, target: &Target) -> bool {
        // `domain/repository/format/[namespace/]package`, or the IoT name.
        let name = target.package_label();
        self.of(target.service())
            .any(|p| matches(p.glob.as_bytes(), name.as_bytes(), false))
    }

    /// Whether some package of this scope could be permitted: the scope
    /// runs, and each package it lists is checked with [`AllowList::permits`].
    /// A scope in a repository with a `group:` entry may hold packages of
    /// that group.
    pub(crate) fn may_cover(&self, scope: &Scope) -> bool {
        let (service, prefix) = scope_prefix(scope);
        let by_group = match scope {
            Scope::CodeArtifact {
                domain, repository, ..
            } => !self.groups_in(domain, repository).is_empty(),
            Scope::Iot { .. } => false,
        };
        by_group
            || self
                .of(service)
                .any(|p| matches(p.glob.as_bytes(), prefix.as_bytes(), true))
    }

    fn of(&self, service: Service) -> impl Iterator<Item = &TargetPattern> {
        self.patterns.iter().filter(move |p| p.service == service)
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self
            .patterns
            .iter()
            .map(ToString::to_string)
            .chain(self.groups.iter().map(ToString::to_string))
            .collect();
        f.write_str(&all.join(","))
    }
}

/// `group:<domain>/<repository>:<pattern>`, `rest` what follows `group:`.
fn group_grant(entry: &str, rest: &str) -> Result<GroupGrant, String> {
    let (place, pattern) = rest
        .split_once(':')
        .ok_or_else(|| format!("{entry:?} must read group:<domain>/<repository>:<pattern>"))?;
    let (domain, repository) = place
        .split_once('/')
        .filter(|(d, r)| !d.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| format!("{entry:?} must name <domain>/<repository> before the pattern"))?;
    if !pattern.starts_with('/') || pattern.len() < 2 {
        return Err(format!(
            "{entry:?}: a package group's pattern starts with `/`, like /npm/acme/*"
        ));
    }
    Ok(GroupGrant {
        domain: domain.to_owned(),
        repository: repository.to_owned(),
        pattern: pattern.to_owned(),
    })
}

/// What every package name of a scope starts with.
fn scope_prefix(scope: &Scope) -> (Service, String) {
    match scope {
        Scope::CodeArtifact {
            domain,
            repository,
            format,
            namespace,
            prefix,
            ..
        } => {
            let mut s = format!("{domain}/{repository}/");
            if let Some(f) = format {
                s.push_str(f.as_str());
                s.push('/');
                if let Some(ns) = namespace {
                    s.push_str(ns);
                    s.push('/');
                }
                if let Some(p) = prefix {
                    s.push_str(p);
                }
            }
            (Service::CodeArtifact, s)
        }
        Scope::Iot { prefix } => (Service::Iot, prefix.clone().unwrap_or_default()),
    }
}

/// Whether `glob` (`*` for any run of bytes) matches all of `text`, or, with
/// `prefix_only`, some string that starts with `text`.
fn matches(glob: &[u8], text: &[u8], prefix_only: bool) -> bool {
    // row[j]: glob[..i] matches text[..j].
    let mut row = vec![false; text.len() + 1];
    row[0] = true;
    let mut any_full = row[text.len()];
    for &g in glob {
        let mut next = vec![false; text.len() + 1];
        if g == b'*' {
            let mut seen = false;
            for j in 0..=text.len() {
                seen |= row[j];
                next[j] = seen;
            }
        } else {
            for j in 1..=text.len() {
                next[j] = row[j - 1] && text[j - 1] == g;
            }
        }
        row = next;
        any_full |= row[text.len()];
    }
    if prefix_only {
        // Once the text is used up, the rest of the glob can always go on.
        any_full
    } else {
        row[text.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RawRequest;
    use serde_json::json;

    fn target(v: serde_json::Value) -> Target {
        let raw: RawRequest = serde_json::from_value(v).unwrap();
        raw.validate().unwrap().target
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(matches(b"fw-*", b"fw-1", false));
        assert!(!matches(b"fw-*", b"xfw-1", false));
        assert!(matches(b"*", b"", false));
        assert!(matches(b"a*b*c", b"aXbYc", false));
        assert!(!matches(b"a*b*c", b"aXbY", false));
        assert!(matches(b"a*b*c", b"aX", true));
        assert!(!matches(b"ab", b"ax", true));
        assert!(matches(b"acme/releases/npm/*", b"acme/rel", true));
    }

    #[test]
    fn codeartifact_targets_match_by_repository_format_and_namespace() {
        let allow = AllowList::parse("codeartifact:acme/releases/npm/*, iot:fw-*").unwrap();
        let npm = |ns: Option<&str>, repo: &str| {
            target(
                json!({"service": "codeartifact", "domain": "acme", "repository": repo,
                          "format": "npm", "namespace": ns, "package": "web", "versions": ["1"]}),
            )
        };
        assert!(allow.permits(&npm(None, "releases")));
        assert!(allow.permits(&npm(Some("scope"), "releases")));
        assert!(!allow.permits(&npm(None, "staging")));
        let iot = |p: &str| target(json!({"service": "iot", "package": p, "versions": ["1"]}));
        assert!(allow.permits(&iot("fw-cam")));
        assert!(!allow.permits(&iot("cam-fw")));
        let only_iot = AllowList::parse("iot:*").unwrap();
        assert!(!only_iot.permits(&npm(None, "releases")));
    }

    /// Every package of `acme/<repo>`, or of its package group.
    fn ca_scope(repo: &str, package_group: Option<&str>) -> Scope {
        Scope::CodeArtifact {
            domain: "acme".into(),
            domain_owner: None,
            repository: repo.into(),
            format: None,
            namespace: None,
            prefix: None,
            package_group: package_group.map(str::to_owned),
        }
    }

    #[test]
    fn a_scope_runs_only_where_a_pattern_could_cover_it() {
        let allow = AllowList::parse("codeartifact:acme/releases/npm/*,iot:fw-*").unwrap();
        assert!(allow.may_cover(&ca_scope("releases", None)));
        assert!(!allow.may_cover(&ca_scope("staging", None)));
        assert!(allow.may_cover(&Scope::Iot { prefix: None }));
        assert!(allow.may_cover(&Scope::Iot {
            prefix: Some("fw-c".into())
        }));
        assert!(!allow.may_cover(&Scope::Iot {
            prefix: Some("cam".into())
        }));
    }

    #[test]
    fn group_entries_name_a_repository_and_a_pattern() {
        let allow = AllowList::parse("group:acme/releases:/npm/acme/*, iot:fw-*").unwrap();
        assert_eq!(allow.groups_in("acme", "releases"), vec!["/npm/acme/*"]);
        assert!(allow.groups_in("acme", "staging").is_empty());
        assert!(allow.groups_in("other", "releases").is_empty());
        // Alone, a group entry admits no package by name: it takes a read.
        let npm = target(
            json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
                      "format": "npm", "namespace": "acme", "package": "core", "versions": ["1"]}),
        );
        assert!(!allow.permits(&npm));
        let group = Some("/npm/acme/*");
        assert!(allow.may_cover(&ca_scope("releases", group)));
        assert!(!allow.may_cover(&ca_scope("staging", group)));
        assert_eq!(
            allow.to_string(),
            "iot:fw-*,group:acme/releases:/npm/acme/*"
        );
        for bad in [
            "group:acme:/npm/*",
            "group:acme/releases",
            "group:acme/releases:npm/acme",
            "group:/releases:/npm/*",
        ] {
            let e = AllowList::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        assert!(AllowList::parse("s3:bucket/*")
            .unwrap_err()
            .contains("s3:bucket"));
        assert!(AllowList::parse("iot:")
            .unwrap_err()
            .contains("no package pattern"));
        assert!(AllowList::parse(" , ").is_err());
    }
}
