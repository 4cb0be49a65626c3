//! From a validated request to the items it names and the calls that will
//! delete them. Pure: no I/O.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

mod archived;
mod depends;
mod held;
mod package;
mod storage;
mod usage;

pub use archived::Guards;
pub(crate) use archived::{ArchiveGuard, ArchiveTimes};
pub(crate) use depends::{DependencyGuard, Dependents, Edge};
pub(crate) use held::hold_to;
pub(crate) use package::{KeptVersion, PackagePlan};
pub use storage::{StorageTotals, VersionBytes};
pub(crate) use usage::{protect, DownloadGuard, Downloads, Usage};

use crate::policy::{is_prerelease, release_line, KeepRule, Policy, Retention};
use crate::request::{Action, Format, Request, Status};

/// DeletePackageVersions takes at most 100 versions per call (the model's
/// PackageVersionList limit).
pub(crate) const MAX_VERSIONS_PER_CALL: usize = 100;

/// The unit the accounting counts: one requested version, or the package
/// itself for `deletePackage`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    Version(String),
    Package,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Version(v) => f.write_str(v),
            Item::Package => f.write_str("*"),
        }
    }
}

/// Every item a request names, each exactly once. A policy request names
/// its items only once its package is listed; until then it is one item,
/// the package's run.
pub fn items(request: &Request) -> Vec<Item> {
    match &request.action {
        Action::Versions(vs) => vs.iter().cloned().map(Item::Version).collect(),
        Action::Retain(r) => match &r.only {
            Some(vs) => vs.iter().cloned().map(Item::Version).collect(),
            None => vec![Item::Package],
        },
        Action::DeletePackage => vec![Item::Package],
    }
}

/// One version as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub(crate) name: String,
    pub(crate) status: Status,
    /// CodeArtifact's origin type (INTERNAL, EXTERNAL, UNKNOWN).
    pub(crate) origin_type: Option<String>,
    /// 0 for the most recently published; ties broken by name.
    pub(crate) rank: usize,
    /// Published more than `olderThanDays` ago; `None` when the policy has
    /// no age rule or the time is unknown (then it is not old).
    pub(crate) old: Option<bool>,
    /// CodeArtifact's revision, which guards a status change.
    pub(crate) revision: Option<String>,
    /// CodeArtifact's `defaultDisplayVersion` (npm's `latest`).
    pub(crate) display: bool,
    /// When it was published (IoT: created), in milliseconds since the
    /// epoch, where a read told: IoT's listing gives every creation date;
    /// CodeArtifact's listing gives none, so only the versions
    /// DescribePackageVersion was asked about have one.
    pub(crate) published_ms: Option<i64>,
}

/// Listings for tests and benches: a version starts Published
/// (CodeArtifact's), of unknown age, origin, revision and publish time, and
/// each method sets one fact.
impl Listed {
    /// Version `name`, `rank` places from the newest (0).
    pub fn new(name: impl Into<String>, rank: usize) -> Listed {
        Listed {
            name: name.into(),
            status: Status::PUBLISHED,
            origin_type: None,
            rank,
            old: None,
            revision: None,
            display: false,
            published_ms: None,
        }
    }

    /// Its status.
    pub fn status(self, status: Status) -> Listed {
        Listed { status, ..self }
    }

    /// Its origin type (INTERNAL, EXTERNAL, UNKNOWN).
    pub fn origin(self, origin_type: &str) -> Listed {
        Listed {
            origin_type: Some(origin_type.to_owned()),
            ..self
        }
    }

    /// Whether it is older than the policy's `olderThanDays`.
    pub fn old(self, old: bool) -> Listed {
        Listed {
            old: Some(old),
            ..self
        }
    }

    /// Its CodeArtifact revision.
    pub fn revision(self, revision: impl Into<String>) -> Listed {
        Listed {
            revision: Some(revision.into()),
            ..self
        }
    }

    /// Whether it is CodeArtifact's `defaultDisplayVersion`.
    pub fn display(self, display: bool) -> Listed {
        Listed { display, ..self }
    }
}

/// The first filter a version fails, if any.
fn filtered_out(v: &Listed, policy: &Policy, format: Option<Format>) -> Option<KeepRule> {
    if policy
        .statuses
        .as_ref()
        .is_some_and(|s| !s.contains(&v.status))
    {
        return Some(KeepRule::Status);
    }
    if let Some(types) = &policy.origin_types {
        if !v.origin_type.as_ref().is_some_and(|o| types.contains(o)) {
            return Some(KeepRule::OriginType);
        }
    }
    if policy
        .matches
        .as_ref()
        .is_some_and(|m| !m.0.is_match(&v.name))
    {
        return Some(KeepRule::Match);
    }
    if policy
        .exclude
        .as_ref()
        .is_some_and(|x| x.0.is_match(&v.name))
    {
        return Some(KeepRule::Exclude);
    }
    if policy
        .prerelease
        .is_some_and(|want| is_prerelease(format, &v.name) != want)
    {
        return Some(KeepRule::Prerelease);
    }
    None
}

/// A package's facts, as its reads told them: what a plan is made from,
/// beside the policy and the guards.
#[derive(Debug, Clone, Copy)]
pub struct Package<'a> {
    pub(crate) listing: &'a [Listed],
    /// IoT's default version, unless the request unsets it: the policy
    /// keeps it (`DEFAULT_VERSION`).
    pub(crate) default_version: Option<&'a str>,
    /// CodeArtifact's format, which reads versions' pre-release and release
    /// lines; IoT versions have none.
    pub(crate) format: Option<Format>,
}

impl<'a> Package<'a> {
    /// A CodeArtifact package of `format`.
    pub fn codeartifact(listing: &'a [Listed], format: Format) -> Package<'a> {
        Package {
            listing,
            default_version: None,
            format: Some(format),
        }
    }

    /// An IoT package, whose `default_version` the policy keeps.
    pub fn iot(listing: &'a [Listed], default_version: Option<&'a str>) -> Package<'a> {
        Package {
            listing,
            default_version,
            format: None,
        }
    }
}

/// Applies a policy to one package's listing: the planner's one entry
/// point. Pure, and independent of the listing's order (versions are
/// ranked by `rank`, then name). Returns the versions selected (oldest
/// first) and those kept, each with its rule.
///
/// 1. Candidates are the versions that pass every filter (`statuses`,
///    `originTypes`, `match`, `exclude`, `prerelease`).
/// 2. The `keepLatest` most recently published candidates are kept (of
///    each release line, with `keepLatestPer`).
/// 3. Of the rest, those not older than `olderThanDays` (when set) are
///    kept; with `archivedForDays`, a version not Archived, or archived
///    within the window, is kept too (`archivedForDays`), and one archived
///    at an unknown time (`ARCHIVE_TIME_UNKNOWN`).
/// 4. The IoT default version is kept (the [`Package`] names it unless the
///    request unsets it); CodeArtifact's `defaultDisplayVersion` unless the
///    policy allows it. With `notDownloadedForDays`, what was downloaded
///    within the window (or everything, when the downloads cannot be known)
///    is kept. With `protectDependencies`, what a present version of the
///    domain needs (or everything, when that cannot be known) is kept.
/// 5. A package is never emptied: if every version would go, the newest stays.
/// 6. If more than `maxFraction` of the package would go, nothing goes.
/// 7. At most `maxDeletions` go (the [`Guards`]' cap), oldest first; the
///    rest are deferred.
pub fn retention(
    package: Package<'_>,
    retention: &Retention,
    guards: Guards<'_>,
) -> (Vec<String>, Vec<KeptVersion>) {
    let policy = &retention.policy;
    let mut versions: Vec<&Listed> = package.listing.iter().collect();
    versions.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
    versions.dedup_by(|a, b| a.name == b.name);
    let total = versions.len();
    let mut keep: Vec<(usize, KeptVersion)> = Vec::new();
    let mut delete: Vec<(usize, &Listed)> = Vec::new();
    // Candidates seen so far, per release line (one line without
    // `keepLatestPer`; a version with no readable line is a line of its own).
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (i, v) in versions.iter().enumerate() {
        match kept_by(v, policy, package, &guards, &mut seen) {
            Some(k) => keep.push((i, k)),
            None => delete.push((i, v)),
        }
    }
    let keep_instead =
        |taken: Vec<(usize, &Listed)>, rule: KeepRule, keep: &mut Vec<(usize, KeptVersion)>| {
            keep.extend(
                taken
                    .into_iter()
                    .map(|(i, v)| (i, KeptVersion::new(v.name.clone(), rule))),
            );
        };
    if total > 0 && delete.len() == total {
        let newest = delete.remove(0);
        keep_instead(vec![newest], KeepRule::LastVersion, &mut keep);
    }
    if let Some(milli) = retention.max_fraction_milli {
        if delete.len() as u64 * 1000 > u64::from(milli) * total as u64 {
            keep_instead(
                std::mem::take(&mut delete),
                KeepRule::MaxFraction,
                &mut keep,
            );
        }
    }
    // Oldest first; over the cap, the newest of them wait for a later run.
    delete.reverse();
    if let Some(cap) = guards.max_deletions {
        let deferred = delete.split_off((cap as usize).min(delete.len()));
        keep_instead(deferred, KeepRule::MaxDeletions, &mut keep);
    }
    keep.sort_by_key(|(i, _)| *i);
    (
        delete.into_iter().map(|(_, v)| v.name.clone()).collect(),
        keep.into_iter().map(|(_, k)| k).collect(),
    )
}

/// Steps 1 to 4 for one version, newest first: the rule that keeps it, if
/// one does. `seen` counts the candidates met so far, per release line.
fn kept_by(
    v: &Listed,
    policy: &Policy,
    package: Package<'_>,
    guards: &Guards<'_>,
    seen: &mut HashMap<String, u32>,
) -> Option<KeptVersion> {
    let kept = |rule| Some(KeptVersion::new(v.name.clone(), rule));
    if let Some(rule) = filtered_out(v, policy, package.format) {
        return kept(rule);
    }
    let line = match &policy.per {
        None => Some(String::new()),
        Some(per) => release_line(per, package.format, &v.name),
    };
    let rank = match line {
        Some(line) => {
            let n = seen.entry(line).or_default();
            *n += 1;
            *n
        }
        None => 1,
    };
    if rank <= policy.keep_latest {
        kept(KeepRule::KeepLatest)
    } else if policy.older_than_secs.is_some() && v.old != Some(true) {
        kept(KeepRule::NewerThan)
    } else if let Some(k) = guards.archives.and_then(|g| g.keeps(v)) {
        Some(k)
    } else if package.default_version == Some(v.name.as_str()) {
        kept(KeepRule::DefaultVersion)
    } else if v.display && policy.protect_display_version {
        kept(KeepRule::DefaultDisplayVersion)
    } else {
        (guards.downloads.and_then(|g| g.keeps(&v.name)))
            .or_else(|| guards.dependencies.and_then(|g| g.keeps(&v.name)))
    }
}

/// A replay's plan: the whole package's plan cut down to the versions the
/// replay names. Returns what to delete, what is kept (and by which rule),
/// and the named versions the listing no longer shows.
pub fn narrow(
    listing: &[Listed],
    delete: Vec<String>,
    keep: Vec<KeptVersion>,
    only: &[String],
) -> (Vec<String>, Vec<KeptVersion>, Vec<String>) {
    let named: BTreeSet<&str> = only.iter().map(String::as_str).collect();
    let listed: BTreeSet<&str> = listing.iter().map(|l| l.name.as_str()).collect();
    (
        delete
            .into_iter()
            .filter(|v| named.contains(v.as_str()))
            .collect(),
        keep.into_iter()
            .filter(|k| named.contains(k.version.as_str()))
            .collect(),
        only.iter()
            .filter(|v| !listed.contains(v.as_str()))
            .cloned()
            .collect(),
    )
}

/// Versions split into DeletePackageVersions (or UpdatePackageVersionsStatus) calls.
pub(crate) fn batches(versions: &[String]) -> std::slice::Chunks<'_, String> {
    versions.chunks(MAX_VERSIONS_PER_CALL)
}

#[cfg(test)]
mod tests;
