//! Archive times, for `archivedForDays`. CodeArtifact records no time at
//! which a version was archived (ListPackageVersions and
//! DescribePackageVersion give a status and a publish time only), so the
//! function records one: when it archives a version itself, and when
//! CodeArtifact's "Package Version State Change" event says a version is
//! `Archived`, whoever archived it.

use super::{Namespace, PackageKey};

/// One version seen archived (an event, or the function's own archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    pub key: PackageKey,
    pub repository: String,
    pub version: String,
    /// When it was archived (ms since the epoch): the event's `time`.
    pub(crate) at_ms: i64,
}

/// The table's `packageKey` of a package's archive times in `repository`.
pub(crate) fn archive_partition(key: &PackageKey, repository: &str) -> String {
    let ns = match &key.namespace {
        Namespace::None => "",
        Namespace::Named(n) => n,
        Namespace::Unknown => "*",
    };
    format!(
        "archive#{}/{}/{repository}/{}/{ns}/{}",
        key.domain_owner,
        key.domain,
        key.format.as_str(),
        key.package
    )
}
