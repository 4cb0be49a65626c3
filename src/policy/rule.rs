//! The rules that keep a version, as plans, audit lines and metrics name
//! them.

use std::fmt;

use serde::Serialize;

/// Why a version was kept. A rule that comes from a request or policy
/// field carries that field's name (`statuses`, `originTypes`,
/// `keepLatest`, ...); a protection, its code (`IN_USE`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeepRule {
    /// Its status is not in `statuses`.
    #[serde(rename = "statuses")]
    Status,
    /// It does not match `match`.
    Match,
    /// It matches `exclude`.
    Exclude,
    /// It is (or is not) a pre-release, against `prerelease`.
    Prerelease,
    /// Its origin type is not in `originTypes`.
    #[serde(rename = "originTypes")]
    OriginType,
    /// Among the `keepLatest` most recently published candidates.
    KeepLatest,
    /// Published `olderThanDays` ago or less.
    #[serde(rename = "olderThanDays")]
    NewerThan,
    /// An explicit dry run: its status is not the request's
    /// `expectedStatus`, so the real call would refuse it.
    ExpectedStatus,
    /// The IoT package's default version (and `unsetDefaultVersion` is not true).
    DefaultVersion,
    /// The last version of the package: a policy never empties a package.
    LastVersion,
    /// IoT: installed on things (fleet indexing's `$package` shadow) or
    /// named by a job that is not finished.
    #[serde(rename = "IN_USE")]
    InUse,
    /// IoT: whether it is in use cannot be known (fleet indexing does not
    /// index `$package`), and `protectInUse` is on: kept, failing closed.
    #[serde(rename = "IN_USE_UNKNOWN")]
    InUseUnknown,
    /// CodeArtifact: the package's `defaultDisplayVersion` (npm's `latest`).
    #[serde(rename = "DEFAULT_DISPLAY_VERSION")]
    DefaultDisplayVersion,
    /// Over `maxDeletions`: deferred to a later run.
    MaxDeletions,
    /// The package's plan would delete more than `maxFraction` of it.
    MaxFraction,
    /// A dry run: it would have been deleted.
    DryRun,
    /// CodeArtifact: read by a package manager within
    /// `notDownloadedForDays` (the downloads table).
    #[serde(rename = "RECENTLY_DOWNLOADED")]
    RecentlyDownloaded,
    /// CodeArtifact, `notDownloadedForDays`: whether it was read cannot be
    /// known (recording began inside the window, or the table cannot be
    /// read): kept, failing closed.
    #[serde(rename = "DOWNLOADS_UNKNOWN")]
    DownloadsUnknown,
    /// An `apply`: the version changed since the reviewed plan listed it
    /// (another status or revision), or the policy would no longer select
    /// it; the detail says which.
    #[serde(rename = "PLAN_STALE")]
    PlanStale,
    /// `archivedForDays`: not Archived, or archived more recently.
    #[serde(rename = "archivedForDays")]
    ArchivedFor,
    /// `archivedForDays`: Archived, but no archive time is recorded (or the
    /// table cannot be read): kept, failing closed.
    #[serde(rename = "ARCHIVE_TIME_UNKNOWN")]
    ArchiveTimeUnknown,
    /// CodeArtifact, `protectDependencies`: a present version of the
    /// domain requires it (the detail names the dependent and quotes the
    /// requirement), or a requirement on the package cannot be read.
    #[serde(rename = "DEPENDED_ON")]
    DependedOn,
    /// CodeArtifact, `protectDependencies`: who depends on the package
    /// cannot be known (the domain's index is not complete, or the table
    /// cannot be read): kept, failing closed.
    #[serde(rename = "DEPENDENCIES_UNKNOWN")]
    DependenciesUnknown,
}

impl KeepRule {
    pub fn as_str(self) -> &'static str {
        match self {
            KeepRule::Status => "statuses",
            KeepRule::Match => "match",
            KeepRule::Exclude => "exclude",
            KeepRule::Prerelease => "prerelease",
            KeepRule::OriginType => "originTypes",
            KeepRule::ExpectedStatus => "expectedStatus",
            KeepRule::KeepLatest => "keepLatest",
            KeepRule::NewerThan => "olderThanDays",
            KeepRule::DefaultVersion => "defaultVersion",
            KeepRule::LastVersion => "lastVersion",
            KeepRule::InUse => "IN_USE",
            KeepRule::InUseUnknown => "IN_USE_UNKNOWN",
            KeepRule::DefaultDisplayVersion => "DEFAULT_DISPLAY_VERSION",
            KeepRule::MaxDeletions => "maxDeletions",
            KeepRule::MaxFraction => "maxFraction",
            KeepRule::DryRun => "dryRun",
            KeepRule::RecentlyDownloaded => "RECENTLY_DOWNLOADED",
            KeepRule::DownloadsUnknown => "DOWNLOADS_UNKNOWN",
            KeepRule::PlanStale => "PLAN_STALE",
            KeepRule::ArchivedFor => "archivedForDays",
            KeepRule::ArchiveTimeUnknown => "ARCHIVE_TIME_UNKNOWN",
            KeepRule::DependedOn => "DEPENDED_ON",
            KeepRule::DependenciesUnknown => "DEPENDENCIES_UNKNOWN",
        }
    }

    /// A rule that protects what is still used or the package itself
    /// (default and `latest`, in use, last version, downloads, the
    /// `maxFraction` cap): an `apply` keeps a planned version under it as
    /// it is, where any other rule makes the version `PLAN_STALE`.
    pub(crate) fn protects(self) -> bool {
        matches!(
            self,
            KeepRule::DefaultVersion
                | KeepRule::DefaultDisplayVersion
                | KeepRule::LastVersion
                | KeepRule::InUse
                | KeepRule::InUseUnknown
                | KeepRule::RecentlyDownloaded
                | KeepRule::DownloadsUnknown
                | KeepRule::ArchiveTimeUnknown
                | KeepRule::DependedOn
                | KeepRule::DependenciesUnknown
                | KeepRule::MaxFraction
        )
    }
}

#[cfg(test)]
#[test]
fn rule_names_are_the_same_in_json_and_logs() {
    for r in [
        KeepRule::Status,
        KeepRule::ExpectedStatus,
        KeepRule::NewerThan,
        KeepRule::KeepLatest,
        KeepRule::OriginType,
        KeepRule::DryRun,
        KeepRule::InUse,
        KeepRule::InUseUnknown,
        KeepRule::DefaultDisplayVersion,
        KeepRule::RecentlyDownloaded,
        KeepRule::DownloadsUnknown,
        KeepRule::PlanStale,
        KeepRule::ArchivedFor,
        KeepRule::ArchiveTimeUnknown,
        KeepRule::DependedOn,
        KeepRule::DependenciesUnknown,
    ] {
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::Value::from(r.as_str())
        );
    }
    // A rule that comes from a field carries the field's name.
    assert_eq!(KeepRule::Status.as_str(), "statuses");
    assert_eq!(KeepRule::OriginType.as_str(), "originTypes");
    assert_eq!(KeepRule::ExpectedStatus.as_str(), "expectedStatus");
}

impl fmt::Display for KeepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
