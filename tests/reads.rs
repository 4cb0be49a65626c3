//! Issue 26: reads that do not need repeating are not made. Through the
//! handler over SDK-level mocks, counting the IoT calls.

#[path = "support/mocks/mod.rs"]
mod mocks;
mod support;

use std::time::Duration;

use mocks::*;
use serde_json::json;
use support::{invoke, sqs_event};

const MINUTE: Duration = Duration::from_secs(60);

/// Thirty versions, `v10` (oldest) to `v39` (newest).
fn thirty() -> Vec<String> {
    (10..40).map(|i| format!("v{i}")).collect()
}

fn world_of(versions: &[String]) -> IotWorld {
    let names: Vec<&str> = versions.iter().map(String::as_str).collect();
    IotWorld::with(&[("fw", None, &names)])
}

fn count(world: &IotWorld, prefix: &str) -> usize {
    let calls = world.calls.lock().unwrap();
    calls.iter().filter(|c| c.starts_with(prefix)).count()
}

#[tokio::test(start_paused = true)]
async fn a_version_whose_delete_was_answered_is_absent_without_another_read() {
    let world = world_of(&thirty());
    let mut rules = world.rules();
    rules.extend(world.in_use_rules());
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));
    // Two records naming v10, in one invocation: the second finds it gone
    // by the first's answered delete. v99 was never listed: it is read.
    let first = json!({"service": "iot", "package": "fw", "versions": ["v10"]});
    let second = json!({"service": "iot", "package": "fw", "versions": ["v10", "v99"]});
    let event = sqs_event(&[("m1", first), ("m2", second)], false);
    let (_, s) = invoke(&h, event, MINUTE).await.parts();
    assert_eq!((s.deleted, s.already_absent, s.handed_on), (1, 2, 0));
    let calls = world.calls.lock().unwrap().clone();
    let reads: Vec<&String> = calls
        .iter()
        .filter(|c| c.starts_with("GetPackageVersion"))
        .collect();
    assert_eq!(reads, ["GetPackageVersion v99"], "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn one_search_asks_about_twelve_versions_and_only_a_hit_is_asked_again() {
    let world = world_of(&thirty());
    // v15 runs on two things: its twelve are asked again, one by one.
    world
        .installed
        .lock()
        .unwrap()
        .insert(("fw".into(), "v15".into()), 2);
    let mut rules = world.rules();
    rules.extend(world.in_use_rules());
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));
    let policy = json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 3}});
    let (_, s) = invoke(&h, sqs_event(&[("m1", policy)], false), MINUTE)
        .await
        .parts();
    // 27 selected: v15 kept in use, 26 deleted, the newest 3 kept.
    assert_eq!((s.deleted, s.kept, s.handed_on), (26, 4, 0));
    assert!(world.versions("fw").unwrap().contains(&"v15".to_owned()));
    // 27 versions in three searches of 12, 12 and 3 terms; the first
    // found a thing, so its 12 versions are searched one by one.
    assert_eq!(count(&world, "SearchIndex"), 3 + 12);
    let calls = world.calls.lock().unwrap();
    let joined = calls
        .iter()
        .filter(|c| c.starts_with("SearchIndex") && c.contains(" OR "))
        .map(|c| c.matches(" OR ").count() + 1)
        .collect::<Vec<_>>();
    assert_eq!(joined, vec![12, 12, 3], "{calls:?}");
}
