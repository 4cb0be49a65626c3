//! The planner's unit tests and properties.

use super::*;

mod batching {
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

mod policy {
    use super::*;
    use crate::policy::RawPolicy;
    use crate::request::Service;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn spec(raw: RawPolicy, max_fraction_milli: Option<u32>) -> Retention {
        let mut problems = Vec::new();
        let policy = raw
            .validate(
                Service::CodeArtifact,
                crate::service::Verb::Delete,
                &mut problems,
            )
            .unwrap_or_else(|| panic!("{problems:?}"));
        Retention {
            policy,
            raw,
            max_deletions: None,
            max_fraction_milli,
            only: None,
            planned: None,
            plan_valid_for_days: None,
            measure_storage: false,
        }
    }

    fn listed(names: &[&str], old_from: usize) -> Vec<Listed> {
        names
            .iter()
            .enumerate()
            .map(|(rank, n)| {
                Listed::new(*n, rank)
                    .origin("INTERNAL")
                    .old(rank >= old_from)
            })
            .collect()
    }

    /// docs/policies.md's worked example: keep the newest 2 snapshots and anything
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
        retention(
            Package {
                listing: versions,
                default_version: None,
                format: Some(Format::Maven),
            },
            r,
            Guards::default().max_deletions(cap),
        )
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
        let (delete, keep) = retention(
            Package {
                listing: &versions,
                default_version: Some("2"),
                format: None,
            },
            &r,
            Guards::default(),
        );
        assert_eq!(delete, vec!["1", "3"]);
        assert_eq!(keep[0].rule, KeepRule::DefaultVersion);
        let (delete, keep) = retention(
            Package {
                listing: &versions,
                default_version: None,
                format: None,
            },
            &r,
            Guards::default(),
        );
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
        let (delete, keep) = retention(
            Package {
                listing: &versions,
                default_version: None,
                format: None,
            },
            &r,
            Guards::default(),
        );
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
        let (delete, keep) = retention(
            Package {
                listing: &versions,
                default_version: None,
                format: None,
            },
            &r,
            Guards::default().max_deletions(Some(2)),
        );
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
                    .map(|rank| {
                        let snapshot = if snap[rank] { "-SNAPSHOT" } else { "" };
                        let origin = if rank % 3 == 0 {
                            "EXTERNAL"
                        } else {
                            "INTERNAL"
                        };
                        Listed::new(format!("1.{}.0{snapshot}", n - rank), rank)
                            .status(Status::named(st[rank]).expect("a status"))
                            .origin(origin)
                            .old(rank >= old_from)
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
            let (delete, keep) = retention(Package { listing: &versions, default_version: default.as_deref().filter(|_| !unset), format: Some(Format::Maven) }, &r, Guards::default().max_deletions(cap));

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
            let again = retention(Package { listing: &shuffled, default_version: default.as_deref().filter(|_| !unset), format: Some(Format::Maven) }, &r, Guards::default().max_deletions(cap));
            prop_assert_eq!(again, (delete, keep));
        }
    }
}

mod depends;
mod downloads;
mod protections;
