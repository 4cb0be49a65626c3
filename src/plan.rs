//! From a validated request to the items it names and the calls that will
//! delete them. Pure: no I/O.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::policy::{is_prerelease, KeepRule, Policy, Retention};
use crate::request::{Action, Format, Request};

/// DeletePackageVersions takes at most 100 versions per call (the model's
/// PackageVersionList limit).
pub const MAX_VERSIONS_PER_CALL: usize = 100;

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
    pub name: String,
    pub status: String,
    /// CodeArtifact's origin type (INTERNAL, EXTERNAL, UNKNOWN).
    pub origin_type: Option<String>,
    /// 0 for the most recently published; ties broken by name.
    pub rank: usize,
    /// Published more than `olderThanDays` ago; `None` when the policy has
    /// no age rule or the time is unknown (then it is not old).
    pub old: Option<bool>,
}

/// What a policy does to one package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackagePlan {
    pub package: String,
    /// The versions to delete, oldest first.
    pub delete: Vec<String>,
    /// Every other version, with the rule that kept it, newest first.
    pub keep: Vec<KeptVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptVersion {
    pub version: String,
    pub rule: KeepRule,
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

/// Applies a policy to one package's listing. Pure, and independent of the
/// listing's order (versions are ranked by `rank`, then name).
///
/// 1. Candidates are the versions that pass every filter (`statuses`,
///    `originTypes`, `match`, `exclude`, `prerelease`).
/// 2. The `keepLatest` most recently published candidates are kept.
/// 3. Of the rest, those not older than `olderThanDays` (when set) are kept.
/// 4. The IoT default version is kept unless `unset_default_version`.
/// 5. A package is never emptied: if every version would go, the newest stays.
/// 6. If more than `maxFraction` of the package would go, nothing goes.
/// 7. At most `max_deletions` go, oldest first; the rest are deferred.
pub fn retention(
    listing: &[Listed],
    default_version: Option<&str>,
    retention: &Retention,
    format: Option<Format>,
    unset_default_version: bool,
    max_deletions: Option<u32>,
) -> (Vec<String>, Vec<KeptVersion>) {
    let policy = &retention.policy;
    let mut versions: Vec<&Listed> = listing.iter().collect();
    versions.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
    versions.dedup_by(|a, b| a.name == b.name);
    let total = versions.len();
    let mut keep: Vec<(usize, KeptVersion)> = Vec::new();
    let mut delete: Vec<(usize, &Listed)> = Vec::new();
    let mut candidates = 0u32;
    for (i, v) in versions.iter().enumerate() {
        let kept = |rule| {
            (
                i,
                KeptVersion {
                    version: v.name.clone(),
                    rule,
                },
            )
        };
        if let Some(rule) = filtered_out(v, policy, format) {
            keep.push(kept(rule));
            continue;
        }
        candidates += 1;
        if candidates <= policy.keep_latest {
            keep.push(kept(KeepRule::KeepLatest));
        } else if policy.older_than_secs.is_some() && v.old != Some(true) {
            keep.push(kept(KeepRule::NewerThan));
        } else if default_version == Some(v.name.as_str()) && !unset_default_version {
            keep.push(kept(KeepRule::DefaultVersion));
        } else {
            delete.push((i, v));
        }
    }
    let keep_instead =
        |taken: Vec<(usize, &Listed)>, rule: KeepRule, keep: &mut Vec<(usize, KeptVersion)>| {
            keep.extend(taken.into_iter().map(|(i, v)| {
                (
                    i,
                    KeptVersion {
                        version: v.name.clone(),
                        rule,
                    },
                )
            }));
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
    if let Some(cap) = max_deletions {
        let deferred = delete.split_off((cap as usize).min(delete.len()));
        keep_instead(deferred, KeepRule::MaxDeletions, &mut keep);
    }
    keep.sort_by_key(|(i, _)| *i);
    (
        delete.into_iter().map(|(_, v)| v.name.clone()).collect(),
        keep.into_iter().map(|(_, k)| k).collect(),
    )
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

/// Versions split into DeletePackageVersions calls.
pub fn batches(versions: &[String]) -> std::slice::Chunks<'_, String> {
    versions.chunks(MAX_VERSIONS_PER_CALL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_one_hundred_and_keep_every_version() {
        for n in [1usize, 99, 100, 101, 250] {
            let vs: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let chunks: Vec<_> = batches(&vs).collect();
            assert_eq!(chunks.len(), n.div_ceil(100));
            assert!(chunks.iter().all(|c| c.len() <= 100 && !c.is_empty()));
            assert_eq!(chunks.concat(), vs);
        }
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;
    use crate::policy::RawPolicy;
    use crate::request::Service;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn spec(raw: RawPolicy, max_fraction_milli: Option<u32>) -> Retention {
        let mut problems = Vec::new();
        let policy = raw
            .validate(Service::CodeArtifact, &mut problems)
            .unwrap_or_else(|| panic!("{problems:?}"));
        Retention {
            policy,
            raw,
            max_deletions: None,
            max_fraction_milli,
            only: None,
        }
    }

    fn listed(names: &[&str], old_from: usize) -> Vec<Listed> {
        names
            .iter()
            .enumerate()
            .map(|(rank, n)| Listed {
                name: n.to_string(),
                status: "Published".into(),
                origin_type: Some("INTERNAL".into()),
                rank,
                old: Some(rank >= old_from),
            })
            .collect()
    }

    /// The README's worked example: keep the newest 2 snapshots and anything
    /// younger than 30 days; releases are not candidates.
    #[test]
    fn the_worked_example() {
        // Newest first; the last three were published more than 30 days ago.
        let versions = listed(
            &[
                "1.4-SNAPSHOT",
                "1.3-SNAPSHOT",
                "1.2",
                "1.2-SNAPSHOT",
                "1.1-SNAPSHOT",
                "1.0-SNAPSHOT",
                "1.0",
            ],
            4,
        );
        let r = spec(
            RawPolicy {
                keep_latest: Some(2),
                older_than_days: Some(30.0),
                matches: Some("-SNAPSHOT$".into()),
                ..Default::default()
            },
            None,
        );
        let (delete, keep) = retention_plan(&versions, &r, None);
        assert_eq!(delete, vec!["1.0-SNAPSHOT", "1.1-SNAPSHOT"]);
        let rules: Vec<(String, KeepRule)> =
            keep.into_iter().map(|k| (k.version, k.rule)).collect();
        assert_eq!(
            rules,
            vec![
                ("1.4-SNAPSHOT".into(), KeepRule::KeepLatest),
                ("1.3-SNAPSHOT".into(), KeepRule::KeepLatest),
                ("1.2".into(), KeepRule::Match),
                ("1.2-SNAPSHOT".into(), KeepRule::NewerThan),
                ("1.0".into(), KeepRule::Match),
            ]
        );
    }

    fn retention_plan(
        versions: &[Listed],
        r: &Retention,
        cap: Option<u32>,
    ) -> (Vec<String>, Vec<KeptVersion>) {
        retention(versions, None, r, Some(Format::Maven), false, cap)
    }

    #[test]
    fn the_default_version_and_the_last_version_stay() {
        let versions = listed(&["3", "2", "1"], 0);
        let r = spec(
            RawPolicy {
                older_than_days: Some(1.0),
                ..Default::default()
            },
            None,
        );
        let (delete, keep) = retention(&versions, Some("2"), &r, None, false, None);
        assert_eq!(delete, vec!["1", "3"]);
        assert_eq!(keep[0].rule, KeepRule::DefaultVersion);
        let (delete, keep) = retention(&versions, Some("2"), &r, None, true, None);
        assert_eq!(
            delete,
            vec!["1", "2"],
            "the newest stays: a policy never empties a package"
        );
        assert_eq!(
            (keep[0].version.as_str(), keep[0].rule),
            ("3", KeepRule::LastVersion)
        );
    }

    #[test]
    fn max_fraction_skips_the_package_and_max_deletions_defers_the_newest() {
        let versions = listed(&["5", "4", "3", "2", "1"], 0);
        let r = spec(
            RawPolicy {
                keep_latest: Some(1),
                ..Default::default()
            },
            Some(500),
        );
        let (delete, keep) = retention(&versions, None, &r, None, false, None);
        assert!(delete.is_empty());
        assert_eq!(
            keep.iter()
                .filter(|k| k.rule == KeepRule::MaxFraction)
                .count(),
            4
        );
        let r = spec(
            RawPolicy {
                keep_latest: Some(1),
                ..Default::default()
            },
            None,
        );
        let (delete, keep) = retention(&versions, None, &r, None, false, Some(2));
        assert_eq!(delete, vec!["1", "2"], "the oldest go first");
        assert_eq!(
            keep.iter()
                .filter(|k| k.rule == KeepRule::MaxDeletions)
                .map(|k| k.version.as_str())
                .collect::<Vec<_>>(),
            vec!["4", "3"]
        );
    }

    fn arb_listing() -> impl Strategy<Value = (Vec<Listed>, usize)> {
        (0usize..40, 0usize..45).prop_flat_map(|(n, old_from)| {
            let statuses = prop::collection::vec(
                prop::sample::select(vec!["Published", "Unlisted", "Archived"]),
                n,
            );
            let snapshot = prop::collection::vec(any::<bool>(), n);
            (statuses, snapshot).prop_map(move |(st, snap)| {
                let v = (0..n)
                    .map(|rank| Listed {
                        name: format!(
                            "1.{}.0{}",
                            n - rank,
                            if snap[rank] { "-SNAPSHOT" } else { "" }
                        ),
                        status: st[rank].to_string(),
                        origin_type: Some(
                            if rank % 3 == 0 {
                                "EXTERNAL"
                            } else {
                                "INTERNAL"
                            }
                            .into(),
                        ),
                        rank,
                        old: Some(rank >= old_from),
                    })
                    .collect();
                (v, old_from)
            })
        })
    }

    fn arb_policy() -> impl Strategy<Value = RawPolicy> {
        (
            prop::option::of(0u32..8),
            prop::option::of(Just(30.0)),
            prop::option::of(Just("SNAPSHOT".to_string())),
            prop::option::of(Just("^1\\.1".to_string())),
            prop::option::of(Just(vec!["Published".to_string(), "Unlisted".to_string()])),
            prop::option::of(any::<bool>()),
        )
            .prop_filter("a policy keeps something", |(k, o, ..)| {
                k.is_some_and(|n| n > 0) || o.is_some()
            })
            .prop_map(
                |(keep_latest, older_than_days, matches, exclude, statuses, prerelease)| {
                    RawPolicy {
                        keep_latest,
                        older_than_days,
                        matches,
                        exclude,
                        statuses,
                        prerelease,
                        ..Default::default()
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn planner_properties(
            (versions, _old_from) in arb_listing(),
            raw in arb_policy(),
            cap in prop::option::of(0u32..10),
            fraction in prop::option::of(1u32..=1000),
            default_idx in prop::option::of(0usize..40),
            unset in any::<bool>(),
            shuffle_seed in any::<u64>(),
        ) {
            let r = spec(raw.clone(), fraction);
            let default = default_idx.and_then(|i| versions.get(i)).map(|v| v.name.clone());
            let (delete, keep) = retention(&versions, default.as_deref(), &r, Some(Format::Maven), unset, cap);

            // Every version has exactly one fate.
            let deleted: BTreeSet<&String> = delete.iter().collect();
            let kept: BTreeSet<&String> = keep.iter().map(|k| &k.version).collect();
            prop_assert_eq!(deleted.len(), delete.len());
            prop_assert!(deleted.is_disjoint(&kept), "never deletes a kept version");
            prop_assert_eq!(deleted.len() + kept.len(), versions.len());

            // Caps and the last version.
            if let Some(cap) = cap { prop_assert!(delete.len() <= cap as usize); }
            if !versions.is_empty() { prop_assert!(delete.len() < versions.len(), "never empties a package"); }
            if let (Some(d), false) = (&default, unset) { prop_assert!(!deleted.contains(d)); }
            if let Some(m) = fraction { prop_assert!(delete.len() as u64 * 1000 <= u64::from(m) * versions.len() as u64); }

            // keepLatest and olderThanDays combine: a deleted version is a
            // candidate, not among the keepLatest newest candidates, and old.
            let candidates: Vec<&Listed> = versions.iter().filter(|v| filtered_out(v, &r.policy, Some(Format::Maven)).is_none()).collect();
            for name in &delete {
                let pos = candidates.iter().position(|c| &c.name == name);
                prop_assert!(pos.is_some(), "{} is not a candidate", name);
                prop_assert!(pos.unwrap() >= r.policy.keep_latest as usize, "{} is among the newest", name);
                if r.policy.older_than_secs.is_some() {
                    prop_assert_eq!(candidates[pos.unwrap()].old, Some(true));
                }
            }
            // Oldest first.
            let ranks: Vec<usize> = delete.iter().map(|n| versions.iter().find(|v| &v.name == n).unwrap().rank).collect();
            prop_assert!(ranks.windows(2).all(|w| w[0] > w[1]));

            // The order the listing arrives in (pages, shuffles) changes nothing.
            let mut shuffled = versions.clone();
            let mut seed = shuffle_seed;
            for i in (1..shuffled.len()).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let again = retention(&shuffled, default.as_deref(), &r, Some(Format::Maven), unset, cap);
            prop_assert_eq!(again, (delete, keep));
        }
    }
}
