//! `archivedForDays` as a planning rule: only Archived versions archived
//! at least N days ago may go, by the archive times recorded in the
//! downloads table. CodeArtifact records no archive time of its own, so a
//! version with none recorded is kept (`ARCHIVE_TIME_UNKNOWN`). Pure.

use super::{KeptVersion, Listed};
use std::collections::HashMap;

use crate::clock::{rfc3339, DAY_MS};
use crate::policy::KeepRule;
use crate::request::Status;

/// A package's archive times in one repository, or why they cannot be
/// known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchiveTimes {
    /// Version → when it was last archived (ms since the epoch).
    Known(HashMap<String, i64>),
    Unknown(String),
}

/// A package's archive times, and the window ending now (milliseconds
/// since the epoch).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArchiveGuard<'a> {
    pub(crate) times: &'a ArchiveTimes,
    pub(crate) now_ms: i64,
    pub(crate) window_ms: i64,
}

impl ArchiveGuard<'_> {
    /// Why `v` must stay, if it must: not Archived, or archived within the
    /// window (`archivedForDays`, saying when); Archived with no time known
    /// (`ARCHIVE_TIME_UNKNOWN`, saying why).
    pub(crate) fn keeps(&self, v: &Listed) -> Option<KeptVersion> {
        let (rule, detail) = if v.status != Status::ARCHIVED {
            (
                KeepRule::ArchivedFor,
                format!(
                    "{}: archivedForDays selects only Archived versions",
                    v.status
                ),
            )
        } else {
            match self.times {
                ArchiveTimes::Unknown(why) => (KeepRule::ArchiveTimeUnknown, why.clone()),
                ArchiveTimes::Known(times) => match times.get(&v.name) {
                    None => (
                        KeepRule::ArchiveTimeUnknown,
                        "no archive time is recorded for it (archived before recording began, or by a change not recorded)".to_owned(),
                    ),
                    Some(&at) if at <= self.now_ms - self.window_ms => return None,
                    Some(&at) => (
                        KeepRule::ArchivedFor,
                        format!(
                            "archived {} ({:.1} days ago)",
                            rfc3339(at),
                            (self.now_ms - at).max(0) as f64 / DAY_MS as f64
                        ),
                    ),
                },
            }
        };
        Some(KeptVersion {
            version: v.name.clone(),
            rule,
            detail: Some(detail),
        })
    }
}

/// The protections of a run beyond the policy's own fields: downloads and
/// archive times and dependents, each when the policy asks for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Guards<'a> {
    pub(crate) downloads: Option<super::DownloadGuard<'a>>,
    pub(crate) archives: Option<ArchiveGuard<'a>>,
    /// `protectDependencies`: what present versions of the domain need.
    pub(crate) dependencies: Option<&'a super::DependencyGuard>,
    /// `maxDeletions`: at most this many versions go.
    pub(crate) max_deletions: Option<u32>,
}

impl Guards<'_> {
    /// At most `cap` versions go (none: no cap).
    pub fn max_deletions(self, cap: Option<u32>) -> Self {
        Guards {
            max_deletions: cap,
            ..self
        }
    }
}
