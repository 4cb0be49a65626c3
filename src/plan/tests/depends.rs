//! `protectDependencies` in the planner: what a dependent needs stays,
//! after the policy's own rules and before the caps, so that they count
//! only what can go; what cannot be known keeps all.

use super::super::*;
use crate::policy::RawPolicy;
use crate::request::{Service, Verb};

fn spec(max_deletions: Option<u32>, max_fraction_milli: Option<u32>) -> Retention {
    let raw = RawPolicy {
        keep_latest: Some(1),
        protect_dependencies: Some(true),
        ..Default::default()
    };
    let mut problems = Vec::new();
    let policy = raw
        .validate(Service::CodeArtifact, Verb::Delete, &mut problems)
        .unwrap_or_else(|| panic!("{problems:?}"));
    assert!(policy.protect_dependencies);
    Retention {
        policy,
        raw,
        max_deletions,
        max_fraction_milli,
        only: None,
        planned: None,
        plan_valid_for_days: None,
        measure_storage: false,
    }
}

/// `2.0.0` newest to `1.0.0` oldest.
fn listing() -> Vec<Listed> {
    ["2.0.0", "1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]
        .iter()
        .enumerate()
        .map(|(rank, n)| Listed::new(*n, rank))
        .collect()
}

fn needing(requirement: &str) -> Dependents {
    Dependents::Known(vec![Edge {
        dependent: "@acme/ui@3.1.0 in apps".into(),
        dependent_version: "3.1.0".into(),
        dependency_type: Some("regular".into()),
        requirement: Some(requirement.into()),
    }])
}

fn plan(
    dependents: &Dependents,
    max_deletions: Option<u32>,
    max_fraction_milli: Option<u32>,
) -> (Vec<String>, Vec<KeptVersion>) {
    let l = listing();
    let guard = DependencyGuard::of(dependents, &l, Format::Npm);
    let guards = Guards {
        dependencies: Some(&guard),
        ..Guards::default().max_deletions(max_deletions)
    };
    retention(
        Package::codeartifact(&l, Format::Npm),
        &spec(max_deletions, max_fraction_milli),
        guards,
    )
}

fn rule_of(keep: &[KeptVersion], version: &str) -> Option<KeepRule> {
    keep.iter().find(|k| k.version == version).map(|k| k.rule)
}

/// `~1.3.0` keeps 1.3.0, the newest it allows; `maxDeletions` then counts
/// only what can go, oldest first.
#[test]
fn a_needed_version_stays_and_the_cap_counts_the_rest() {
    let (go, keep) = plan(&needing("~1.3.0"), Some(2), None);
    assert_eq!(go, ["1.0.0", "1.1.0"]);
    assert_eq!(rule_of(&keep, "1.3.0"), Some(KeepRule::DependedOn));
    assert_eq!(rule_of(&keep, "2.0.0"), Some(KeepRule::KeepLatest));
    assert_eq!(rule_of(&keep, "1.2.0"), Some(KeepRule::MaxDeletions));
    assert_eq!(rule_of(&keep, "1.4.0"), Some(KeepRule::MaxDeletions));
}

/// A version kept by `keepLatest` reports `keepLatest`, the first rule in
/// the documented order, even when a dependent needs it too.
#[test]
fn the_first_rule_in_order_is_reported() {
    let (_, keep) = plan(&needing("^2.0.0"), None, None);
    assert_eq!(rule_of(&keep, "2.0.0"), Some(KeepRule::KeepLatest));
    assert!(keep.iter().all(|k| k.rule != KeepRule::DependedOn));
}

/// `maxFraction` weighs only what can go: with 1.3.0 needed, 4 of 6 go,
/// under a cap of 0.7; without the guard, 5 of 6 would be over it.
#[test]
fn max_fraction_counts_only_what_can_go() {
    let (go, _) = plan(&needing("~1.3.0"), None, Some(700));
    assert_eq!(go.len(), 4);
    let (go, keep) = plan(&Dependents::Known(Vec::new()), None, Some(700));
    assert!(go.is_empty());
    assert_eq!(rule_of(&keep, "1.0.0"), Some(KeepRule::MaxFraction));
}

/// An index that cannot be used keeps every candidate, as
/// `DEPENDENCIES_UNKNOWN`; `lastVersion` never applies since nothing goes.
#[test]
fn unknown_dependents_keep_every_candidate() {
    let unknown = Dependents::Unknown("the index is not complete".into());
    let (go, keep) = plan(&unknown, None, None);
    assert!(go.is_empty());
    let unknown_kept = keep
        .iter()
        .filter(|k| k.rule == KeepRule::DependenciesUnknown)
        .count();
    assert_eq!(unknown_kept, 5);
}

/// An apply keeps, as it is (not `PLAN_STALE`), a version that a
/// dependent came to need after the plan was reviewed: the reviewed plan
/// selected 1.3.0, today's plan keeps it as `DEPENDED_ON`.
#[test]
fn an_apply_keeps_what_became_depended_on() {
    let l = listing();
    let planned = crate::policy::Planned {
        report: None,
        plan_id: "p-1".into(),
        sha256: "0".repeat(64),
        expires_at_ms: i64::MAX,
        expect: ["1.3.0", "1.0.0"]
            .iter()
            .map(|v| {
                let e = crate::policy::Expected {
                    status: "Published".into(),
                    revision: None,
                    published: None,
                };
                ((*v).to_owned(), e)
            })
            .collect(),
    };
    let (go, keep) = plan(&needing("~1.3.0"), None, None);
    let only = ["1.3.0".to_owned(), "1.0.0".to_owned()];
    let (go, keep, _) = narrow(&l, go, keep, &only);
    let (go, keep) = hold_to(&l, &planned, go, keep);
    assert_eq!(go, ["1.0.0"]);
    assert_eq!(rule_of(&keep, "1.3.0"), Some(KeepRule::DependedOn));
}
