//! `notDownloadedForDays` in the planner: what was read within the window
//! stays, the caps count only what goes, and unknown downloads keep all.

use std::collections::HashMap;

use super::super::*;
use crate::downloads::{Downloads, DAY_MS};
use crate::policy::RawPolicy;
use crate::request::{Service, Verb};

const NOW: i64 = 1_000 * DAY_MS;

fn spec(max_deletions: Option<u32>) -> Retention {
    let raw = RawPolicy {
        older_than_days: Some(30.0),
        not_downloaded_for_days: Some(30.0),
        ..Default::default()
    };
    let mut problems = Vec::new();
    let policy = raw
        .validate(Service::CodeArtifact, Verb::Delete, &mut problems)
        .unwrap_or_else(|| panic!("{problems:?}"));
    Retention {
        policy,
        raw,
        max_deletions,
        max_fraction_milli: None,
        only: None,
        planned: None,
        plan_valid_for_days: None,
        measure_storage: false,
    }
}

/// `1.5` newest to `1.0` oldest, all old enough.
fn listing() -> Vec<Listed> {
    ["1.5", "1.4", "1.3", "1.2", "1.1", "1.0"]
        .iter()
        .enumerate()
        .map(|(rank, n)| Listed::new(*n, rank).origin("INTERNAL").old(true))
        .collect()
}

fn plan(downloads: &Downloads, cap: Option<u32>) -> (Vec<String>, Vec<KeptVersion>) {
    let guard = DownloadGuard {
        downloads,
        now_ms: NOW,
        window_ms: 30 * DAY_MS,
    };
    let guards = Guards {
        downloads: Some(guard),
        ..Guards::default()
    };
    retention(
        Package::codeartifact(&listing(), Format::Npm),
        &spec(cap),
        guards.max_deletions(cap),
    )
}

#[test]
fn recent_reads_keep_their_versions_and_say_when() {
    let reads = HashMap::from([
        ("1.0".to_owned(), NOW - 3 * DAY_MS),
        ("1.1".to_owned(), NOW - 45 * DAY_MS),
    ]);
    let (delete, keep) = plan(&Downloads::Known(reads), None);
    assert_eq!(
        delete,
        vec!["1.1", "1.2", "1.3", "1.4", "1.5"],
        "read 45 days ago and never read go"
    );
    let recent: Vec<&KeptVersion> = keep
        .iter()
        .filter(|k| k.rule == KeepRule::RecentlyDownloaded)
        .collect();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].version, "1.0");
    assert!(
        recent[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("(3.0 days ago)"),
        "{:?}",
        recent[0].detail
    );
}

#[test]
fn max_deletions_counts_only_what_goes_so_a_downloaded_oldest_never_stalls_it() {
    // The two oldest are read every day: a cap of 2 must still delete two.
    let reads = HashMap::from([
        ("1.0".to_owned(), NOW - DAY_MS),
        ("1.1".to_owned(), NOW - DAY_MS),
    ]);
    let (delete, keep) = plan(&Downloads::Known(reads), Some(2));
    assert_eq!(delete, vec!["1.2", "1.3"]);
    assert_eq!(
        keep.iter()
            .filter(|k| k.rule == KeepRule::MaxDeletions)
            .map(|k| k.version.as_str())
            .collect::<Vec<_>>(),
        vec!["1.5", "1.4"]
    );
}

#[test]
fn unknown_downloads_keep_every_candidate_with_the_reason() {
    let why = Downloads::Unknown("the table cannot be read".into());
    let (delete, keep) = plan(&why, None);
    assert!(delete.is_empty(), "fail closed: nothing goes");
    let unknown: Vec<&KeptVersion> = keep
        .iter()
        .filter(|k| k.rule == KeepRule::DownloadsUnknown)
        .collect();
    assert_eq!(unknown.len(), 6);
    assert!(unknown
        .iter()
        .all(|k| k.detail.as_deref() == Some("the table cannot be read")));
}
