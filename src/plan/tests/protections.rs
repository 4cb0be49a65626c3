//! The planner's protections (issue 10): release lines (`keepLatestPer`),
//! `latest`, the default display version, what an action can still
//! change, and versions in use.

use super::*;
use crate::policy::RawPolicy;
use crate::request::{Service, Status};
use crate::service::Verb;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn retention_of(raw: RawPolicy, verb: Verb) -> Retention {
    let mut problems = Vec::new();
    let policy = raw
        .validate(Service::CodeArtifact, verb, &mut problems)
        .unwrap_or_else(|| panic!("{problems:?}"));
    Retention {
        policy,
        raw,
        max_deletions: None,
        max_fraction_milli: None,
        only: None,
        planned: None,
        plan_valid_for_days: None,
        measure_storage: false,
    }
}

/// Versions newest first, all old, none the display version.
fn listing(names: &[String]) -> Vec<Listed> {
    names
        .iter()
        .enumerate()
        .map(|(rank, n)| Listed::new(n.clone(), rank).old(true))
        .collect()
}

#[test]
fn keep_latest_per_minor_keeps_the_newest_of_every_line() {
    let names: Vec<String> = [
        "2.1.1", "2.1.0", "2.0.3", "1.4.2", "1.4.1", "1.4.0", "1.3.0", "latest",
    ]
    .map(String::from)
    .into();
    let raw = RawPolicy {
        keep_latest: Some(2),
        keep_latest_per: Some("minor".into()),
        ..RawPolicy::default()
    };
    let r = retention_of(raw, Verb::Delete);
    let (delete, keep) = retention(
        Package {
            listing: &listing(&names),
            default_version: None,
            format: Some(Format::Npm),
        },
        &r,
        Guards::default(),
    );
    assert_eq!(delete, vec!["1.4.0"], "only the third of line 1.4 goes");
    // "latest" has no line: a line of its own, kept.
    assert!(keep
        .iter()
        .any(|k| k.version == "latest" && k.rule == KeepRule::KeepLatest));
}

#[test]
fn the_display_version_is_kept_unless_the_policy_allows_it() {
    let names: Vec<String> = ["3", "2", "1"].map(String::from).into();
    let mut l = listing(&names);
    l[2].display = true;
    let keep_one = |protect: Option<bool>| {
        let raw = RawPolicy {
            keep_latest: Some(1),
            protect_default_display_version: protect,
            ..RawPolicy::default()
        };
        retention(
            Package {
                listing: &l,
                default_version: None,
                format: None,
            },
            &retention_of(raw, Verb::Delete),
            Guards::default(),
        )
    };
    let (delete, keep) = keep_one(None);
    assert_eq!(delete, vec!["2"]);
    assert!(keep.contains(&KeptVersion::new(
        "1".into(),
        KeepRule::DefaultDisplayVersion
    )));
    assert_eq!(keep_one(Some(false)).0, vec!["1", "2"]);
}

#[test]
fn an_action_selects_only_what_it_can_still_change() {
    let mut l = listing(&["3".into(), "2".into(), "1".into()]);
    l[2].status = Status::ARCHIVED;
    let raw = RawPolicy {
        keep_latest: Some(1),
        ..RawPolicy::default()
    };
    let (archive, keep) = retention(
        Package {
            listing: &l,
            default_version: None,
            format: None,
        },
        &retention_of(raw, Verb::Archive),
        Guards::default(),
    );
    assert_eq!(archive, vec!["2"]);
    assert!(keep.contains(&KeptVersion::new("1".into(), KeepRule::Status)));
}

#[test]
fn versions_in_use_move_to_kept_with_where() {
    let usage = BTreeMap::from([
        ("1".to_owned(), Usage::InUse("installed on 2 things".into())),
        (
            "2".to_owned(),
            Usage::Unknown("fleet indexing is off".into()),
        ),
        ("3".to_owned(), Usage::Unused),
    ]);
    let mut keep = Vec::new();
    let left = protect(
        vec!["1".into(), "2".into(), "3".into(), "4".into()],
        &mut keep,
        &usage,
    );
    assert_eq!(left, vec!["3", "4"]);
    assert_eq!(keep[0].rule, KeepRule::InUse);
    assert_eq!(keep[0].detail.as_deref(), Some("installed on 2 things"));
    assert_eq!(keep[1].rule, KeepRule::InUseUnknown);
}

fn arb_versions() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set((0u32..4, 0u32..4, 0u32..6), 1..40).prop_map(|set| {
        // Newest first: the highest version first.
        let mut v: Vec<String> = set
            .into_iter()
            .map(|(a, b, c)| format!("{a}.{b}.{c}"))
            .collect();
        v.reverse();
        v
    })
}

proptest! {
    /// No release line is emptied by `keepLatestPer`, and it never
    /// deletes more than `keepLatest` alone would (nor anything that
    /// `keepLatest` alone would keep).
    #[test]
    fn keep_latest_per_never_empties_a_line_nor_deletes_more(
        names in arb_versions(),
        keep in 1u32..4,
        per in prop::sample::select(vec!["major", "minor", r"^(\d+)\."]),
        old_from in 0usize..10,
    ) {
        let mut l = listing(&names);
        for v in &mut l { v.old = Some(v.rank >= old_from); }
        let alone = retention_of(RawPolicy { keep_latest: Some(keep), ..RawPolicy::default() }, Verb::Delete);
        let lined = retention_of(RawPolicy { keep_latest: Some(keep), keep_latest_per: Some(per.into()), ..RawPolicy::default() }, Verb::Delete);
        let (d_alone, _) = retention(Package { listing: &l, default_version: None, format: Some(Format::Npm) }, &alone, Guards::default());
        let (d_lined, _) = retention(Package { listing: &l, default_version: None, format: Some(Format::Npm) }, &lined, Guards::default());
        prop_assert!(d_lined.len() <= d_alone.len());
        let alone_set: BTreeSet<&String> = d_alone.iter().collect();
        prop_assert!(d_lined.iter().all(|v| alone_set.contains(v)));
        let line_of = |v: &str| crate::policy::release_line(lined.policy.per.as_ref().unwrap(), Some(Format::Npm), v);
        let deleted: BTreeSet<&String> = d_lined.iter().collect();
        let lines: BTreeSet<Option<String>> = names.iter().map(|v| line_of(v)).collect();
        for line in lines {
            let members: Vec<&String> = names.iter().filter(|v| line_of(v) == line).collect();
            let kept = members.iter().filter(|v| !deleted.contains(*v)).count();
            prop_assert!(kept >= (keep as usize).min(members.len()), "line {:?} keeps {} of {}", line, kept, members.len());
        }
    }
}

mod held {
    use std::collections::BTreeMap;

    use crate::plan::{hold_to, KeptVersion, Listed};
    use crate::policy::{Expected, KeepRule, Planned};
    use crate::request::Status;

    fn listed(name: &str, status: &str, revision: &str) -> Listed {
        Listed::new(name, 0)
            .status(Status::named(status).expect("a status"))
            .revision(revision)
    }

    fn planned(versions: &[(&str, &str, &str)]) -> Planned {
        Planned {
            report: None,
            plan_id: "p-1".into(),
            sha256: "0".repeat(64),
            expires_at_ms: i64::MAX,
            expect: versions
                .iter()
                .map(|(v, s, r)| {
                    let e = Expected {
                        status: (*s).into(),
                        revision: Some((*r).into()),
                        published: None,
                    };
                    ((*v).into(), e)
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn only_unchanged_planned_versions_go_and_protections_keep_their_names() {
        let listing = [
            listed("1.0", "Published", "a"),
            listed("1.1", "Published", "b2"),
            listed("1.2", "Archived", "c"),
            listed("1.3", "Published", "d"),
            listed("1.4", "Published", "e"),
        ];
        let plan = planned(&[
            ("1.0", "Published", "a"),
            ("1.1", "Published", "b"),
            ("1.2", "Published", "c"),
            ("1.3", "Published", "d"),
            ("1.4", "Published", "e"),
        ]);
        let selected = vec!["1.0".into(), "1.1".into(), "1.2".into(), "9.9".into()];
        let keep = vec![
            KeptVersion::new("1.3".into(), KeepRule::DefaultDisplayVersion),
            KeptVersion::new("1.4".into(), KeepRule::KeepLatest),
        ];
        let (go, kept) = hold_to(&listing, &plan, selected, keep);
        assert_eq!(go, vec!["1.0".to_owned()]);
        let rule = |v: &str| kept.iter().find(|k| k.version == v).map(|k| k.rule);
        assert_eq!(rule("1.3"), Some(KeepRule::DefaultDisplayVersion));
        for v in ["1.1", "1.2", "1.4", "9.9"] {
            assert_eq!(rule(v), Some(KeepRule::PlanStale), "{v}");
        }
        let detail = |v: &str| {
            kept.iter()
                .find(|k| k.version == v)
                .and_then(|k| k.detail.clone())
                .unwrap()
        };
        assert!(
            detail("1.1").contains("revision was b"),
            "{}",
            detail("1.1")
        );
        assert!(detail("1.2").contains("status was Published"));
        assert!(detail("1.4").contains("keepLatest"));
        assert!(detail("9.9").contains("does not list it"));
    }

    #[test]
    fn an_iot_version_created_again_under_its_name_is_stale() {
        // IoT versions have no revision: the creation time tells.
        let mut plan = planned(&[("1.0", "PUBLISHED", "x")]);
        let e = plan.expect.get_mut("1.0").unwrap();
        e.revision = None;
        e.published = Some(crate::downloads::rfc3339(1_000_000));
        let mut again = listed("1.0", "PUBLISHED", "x");
        again.revision = None;
        again.published_ms = Some(2_000_000);
        let (go, kept) = hold_to(&[again.clone()], &plan, vec!["1.0".into()], vec![]);
        assert!(go.is_empty());
        assert_eq!(kept[0].rule, KeepRule::PlanStale);
        assert!(kept[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("published again"));
        again.published_ms = Some(1_000_000);
        let (go, _) = hold_to(&[again], &plan, vec!["1.0".into()], vec![]);
        assert_eq!(go, vec!["1.0".to_owned()]);
    }
}

mod archived {
    use std::collections::HashMap;

    use crate::downloads::{ArchiveTimes, DAY_MS};
    use crate::plan::{ArchiveGuard, Listed};
    use crate::policy::KeepRule;
    use crate::request::Status;

    const NOW: i64 = 1_790_000_000_000;

    fn v(name: &str, status: &str) -> Listed {
        Listed::new(name, 0).status(Status::named(status).expect("a status"))
    }

    #[test]
    fn only_what_was_archived_long_enough_goes_and_unknown_times_fail_closed() {
        let times = ArchiveTimes::Known(HashMap::from([
            ("old".to_owned(), NOW - 61 * DAY_MS),
            ("new".to_owned(), NOW - DAY_MS),
        ]));
        let guard = ArchiveGuard {
            times: &times,
            now_ms: NOW,
            window_ms: 60 * DAY_MS,
        };
        assert_eq!(guard.keeps(&v("old", "Archived")), None);
        let rule = |name, status| guard.keeps(&v(name, status)).map(|k| k.rule);
        assert_eq!(rule("new", "Archived"), Some(KeepRule::ArchivedFor));
        assert_eq!(
            rule("never", "Archived"),
            Some(KeepRule::ArchiveTimeUnknown)
        );
        assert_eq!(rule("old", "Published"), Some(KeepRule::ArchivedFor));
        let unreadable = ArchiveTimes::Unknown("the table cannot be read".into());
        let guard = ArchiveGuard {
            times: &unreadable,
            ..guard
        };
        assert_eq!(
            guard
                .keeps(&v("old", "Archived"))
                .map(|k| (k.rule, k.detail)),
            Some((
                KeepRule::ArchiveTimeUnknown,
                Some("the table cannot be read".into())
            ))
        );
    }
}
