//! Who downloads what, for `notDownloadedForDays`.
//!
//! CodeArtifact has no "last downloaded" field in any API. CloudTrail
//! records every package manager's request to a repository as a
//! `ReadFromRepository` management event (read-only), and an EventBridge
//! rule in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` delivers
//! them to the usage queue (see `../shared/aws-api-facts.md`, section I, and
//! the CodeArtifact user guide's "Logging CodeArtifact API calls with AWS
//! CloudTrail"). Per batch, the latest read of each version is written to a
//! DynamoDB table with an update that only moves it forward; a policy reads
//! a package's reads back with one paged `Query`.
//!
//! The table (`DownloadsTable` in `template.yaml`, the one definition of its
//! key schema): partition key `packageKey` (S), sort key `version` (S).
//! - A version's latest read: `packageKey` is
//!   `package#<domainOwner>/<domain>/<format>/<namespace>/<package>` (stored
//!   forms, [`crate::names`]; namespace empty when the package has none,
//!   `*` when the record does not say), `version` the version;
//!   `lastReadAt` (N, ms since the epoch, CloudTrail's `eventTime`),
//!   `lastReadTime` (S, the same in RFC 3339), `repository` (S, the last
//!   repository read through) and `expiresAt` (N, seconds: the table's TTL).
//! - A domain's marker: `packageKey` `domain#<domainOwner>/<domain>`,
//!   `version` `recordingSince`, `since` (N, ms): the earliest read time of
//!   the first batch recorded for the domain, clamped by
//!   [`recording_since`]. It never expires.
//!
//! - A version's archive time (`archivedForDays`): `packageKey`
//!   `archive#<domainOwner>/<domain>/<repository>/<format>/<namespace>/<package>`,
//!   `version` the version; `archivedAt` (N, ms), `archivedTime` (S) and
//!   `expiresAt`. Written when the function archives a version, and from
//!   CodeArtifact's own state-change events (`packageVersionState:
//!   Archived`), moved forward only. Per repository: a status is.
//!
//! Reads' keys are per domain, not per repository: a read through a downstream
//! repository names that repository, while the version may be stored (and
//! cleaned) upstream. Keeping more is the safe side.

mod archive;
mod backfill;
mod deliveries;
mod dependencies;
mod event;
mod jobs;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use crate::clock::now_ms;
pub(crate) use crate::clock::{rfc3339, DAY_MS};
pub(crate) use crate::plan::{ArchiveTimes, Dependents, Downloads};
pub(crate) use archive::{archive_partition, Archived};
pub(crate) use backfill::Backfill;
pub use deliveries::{Claim, DeliveryTable, Finish};
pub(crate) use dependencies::{Declared, DependencyTable, Dependent, Write};
pub(crate) use event::{read, ReadEventError, READ_EVENT_NAME};
pub(crate) use jobs::{JobTable, StoredJob};
pub(crate) use store::DownloadStore;

use crate::service::Format;

/// A package's namespace as a read names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Namespace {
    /// The package has none (or, for npm, the request shows none).
    None,
    Named(String),
    /// The record does not say (see [`event`]); kept under `*`, which every
    /// package of that name reads beside its own key.
    Unknown,
}

/// Whose reads: a package of a domain (any repository of it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey {
    pub(crate) domain_owner: String,
    pub domain: String,
    pub(crate) format: Format,
    pub(crate) namespace: Namespace,
    pub package: String,
}

impl PackageKey {
    /// The table's `packageKey` of this package's reads.
    pub(crate) fn partition(&self) -> String {
        let ns = match &self.namespace {
            Namespace::None => "",
            Namespace::Named(n) => n,
            Namespace::Unknown => "*",
        };
        format!(
            "package#{}/{}/{}/{ns}/{}",
            self.domain_owner,
            self.domain,
            self.format.as_str(),
            self.package
        )
    }

    /// The key reads go under when the record does not name the namespace.
    pub(crate) fn unknown_namespace(&self) -> PackageKey {
        PackageKey {
            namespace: Namespace::Unknown,
            ..self.clone()
        }
    }

    /// The `packageKey` of the domain's "recording since" marker.
    pub(crate) fn domain_partition(&self) -> String {
        format!("domain#{}/{}", self.domain_owner, self.domain)
    }
}

/// One package manager's read, from one CloudTrail record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub key: PackageKey,
    /// The repository the request named (maybe downstream of the one that
    /// stores the version).
    pub repository: String,
    /// `None`: a metadata read (an npm packument, a PyPI simple page).
    pub(crate) version: Option<String>,
    /// CloudTrail's `eventTime`, in milliseconds since the epoch.
    pub(crate) at_ms: i64,
}

/// The latest read of one version in a batch, and the records (by index in
/// the batch) that told of a read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Latest {
    pub(crate) at_ms: i64,
    pub(crate) repository: String,
    pub(crate) records: BTreeSet<usize>,
}

/// A batch's reads, aggregated: per version the latest read, per domain the
/// earliest (for the "recording since" marker). Pure.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) versions: BTreeMap<(PackageKey, String), Latest>,
    pub(crate) domains: BTreeMap<String, Latest>,
    /// Reads that named no version: counted, not recorded.
    pub(crate) metadata_reads: u64,
}

impl Batch {
    /// Aggregates `(record index, read)` pairs.
    pub(crate) fn of<'a>(reads: impl IntoIterator<Item = (usize, &'a Read)>) -> Batch {
        let mut b = Batch::default();
        for (i, r) in reads {
            let d = b
                .domains
                .entry(r.key.domain_partition())
                .or_insert_with(|| Latest {
                    at_ms: r.at_ms,
                    repository: r.repository.clone(),
                    records: BTreeSet::new(),
                });
            d.at_ms = d.at_ms.min(r.at_ms);
            d.records.insert(i);
            let Some(v) = &r.version else {
                b.metadata_reads += 1;
                continue;
            };
            let e = b
                .versions
                .entry((r.key.clone(), v.clone()))
                .or_insert_with(|| Latest {
                    at_ms: r.at_ms,
                    repository: r.repository.clone(),
                    records: BTreeSet::new(),
                });
            if r.at_ms > e.at_ms {
                e.at_ms = r.at_ms;
                e.repository = r.repository.clone();
            }
            e.records.insert(i);
        }
        b
    }
}

/// How far before its writing a domain's marker may lie: CloudTrail
/// delivers management events to EventBridge within minutes ("best
/// effort"), so a first batch's reads are that recent.
pub(crate) const MARKER_LAG_MS: i64 = 15 * 60 * 1000;

/// A domain's "recording since" from its first batch: the earliest read,
/// but never earlier than [`MARKER_LAG_MS`] before `now_ms`, so that old
/// events replayed or redriven into a new table cannot backdate it. Pure.
pub(crate) fn recording_since(earliest_ms: i64, now_ms: i64) -> i64 {
    earliest_ms.max(now_ms - MARKER_LAG_MS)
}

/// Whether recording covers a window of `window_ms` ending `now_ms`: the
/// domain's marker must be at least that old. Pure.
pub(crate) fn assess(
    since_ms: Option<i64>,
    reads: HashMap<String, i64>,
    now_ms: i64,
    window_ms: i64,
) -> Downloads {
    let days = window_ms as f64 / DAY_MS as f64;
    match since_ms {
        None => Downloads::Unknown(
            "no download of this domain has been recorded yet, so recording cannot cover the window".into(),
        ),
        Some(since) if since > now_ms - window_ms => Downloads::Unknown(format!(
            "downloads are recorded since {} ({:.1} days), less than notDownloadedForDays ({days})",
            rfc3339(since),
            (now_ms - since) as f64 / DAY_MS as f64
        )),
        Some(_) => Downloads::Known(reads),
    }
}

#[cfg(test)]
mod tests;
