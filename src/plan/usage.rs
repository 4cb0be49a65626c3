//! The rules that keep a version for how it is used: in use on things or
//! in jobs (IoT), or downloaded within `notDownloadedForDays`
//! (CodeArtifact). Pure.

use std::collections::{BTreeMap, HashMap};

use super::KeptVersion;
use crate::clock::{rfc3339, DAY_MS};
use crate::policy::KeepRule;

/// What the table tells a policy run of one package's reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Downloads {
    /// Recording covers the window: the latest read of each version read
    /// at all (ms since the epoch), the package's own key and the
    /// unknown-namespace key merged.
    Known(HashMap<String, i64>),
    /// Fail closed: why the reads cannot be trusted (recording began inside
    /// the window, or has not seen the domain, or the table cannot be read).
    Unknown(String),
}

/// Whether a version is in use (IoT), as the reads found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Usage {
    Unused,
    /// Installed on things, or named by unfinished jobs: the detail says
    /// where.
    InUse(String),
    /// Cannot be known; the detail says why.
    Unknown(String),
}

/// Moves the selected versions that are in use (or may be) to the kept
/// ones, with the rule and where they are used. Pure.
pub(crate) fn protect(
    selected: Vec<String>,
    keep: &mut Vec<KeptVersion>,
    usage: &BTreeMap<String, Usage>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(selected.len());
    for v in selected {
        let (rule, detail) = match usage.get(&v) {
            None | Some(Usage::Unused) => {
                out.push(v);
                continue;
            }
            Some(Usage::InUse(d)) => (KeepRule::InUse, d.clone()),
            Some(Usage::Unknown(d)) => (KeepRule::InUseUnknown, d.clone()),
        };
        keep.push(KeptVersion {
            version: v,
            rule,
            detail: Some(detail),
        });
    }
    out
}

/// `notDownloadedForDays` as a planning rule: the package's downloads, and
/// the window ending now (milliseconds since the epoch).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DownloadGuard<'a> {
    pub(crate) downloads: &'a Downloads,
    pub(crate) now_ms: i64,
    pub(crate) window_ms: i64,
}

impl DownloadGuard<'_> {
    /// Why `version` must stay, if it must: read within the window
    /// (`RECENTLY_DOWNLOADED`, saying when), or the reads cannot be trusted
    /// (`DOWNLOADS_UNKNOWN`, saying why). Pure.
    pub(crate) fn keeps(&self, version: &str) -> Option<KeptVersion> {
        let (rule, detail) = match self.downloads {
            Downloads::Unknown(why) => (KeepRule::DownloadsUnknown, why.clone()),
            Downloads::Known(reads) => {
                let at = *reads.get(version)?;
                if at <= self.now_ms - self.window_ms {
                    return None;
                }
                let detail = format!(
                    "last downloaded {} ({:.1} days ago)",
                    rfc3339(at),
                    (self.now_ms - at).max(0) as f64 / DAY_MS as f64
                );
                (KeepRule::RecentlyDownloaded, detail)
            }
        };
        Some(KeptVersion {
            version: version.to_owned(),
            rule,
            detail: Some(detail),
        })
    }
}
