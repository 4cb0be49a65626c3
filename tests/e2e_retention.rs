//! Retention policies end to end: the real SDK against the emulator and
//! moto, on repositories seeded with hundreds of versions across many
//! packages. Needs the virtualenv `make test` creates (see tests/e2e.rs).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use packprune_emulator::state::now;
use packprune_emulator::State;
use serde_json::{json, Value};
use support::*;

const DAY: f64 = 86_400.0;
const PACKAGES: usize = 8;
const VERSIONS: usize = 60;

/// `PACKAGES` maven packages `svc-NN` with `VERSIONS` versions each, one a
/// day (the newest 1.5 days old); every third is a release, the rest
/// snapshots. Plus `lib-core`, outside the prefix.
fn snapshots_repo() -> State {
    let t = now();
    let package = |name: &str, n: usize| {
        let versions: Vec<Value> = (0..n)
            .map(|i| {
                let v = if i % 3 == 0 {
                    format!("1.{i}.0")
                } else {
                    format!("1.{i}.0-SNAPSHOT")
                };
                json!({"version": v, "publishedTime": t - ((n - i) as f64 + 0.5) * DAY})
            })
            .collect();
        json!({"format": "maven", "namespace": "com.acme", "package": name, "versions": versions})
    };
    let mut packages: Vec<Value> = (0..PACKAGES)
        .map(|p| package(&format!("svc-{p:02}"), VERSIONS))
        .collect();
    packages.push(package("lib-core", 20));
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {"snapshots": {"packages": packages}}}}}}),
    )
}

/// The policy of the issue: keep the newest 10 snapshots and anything
/// younger than 30 days.
fn policy_request(extra: Value) -> Value {
    let mut r = json!({"service":"codeartifact","domain":"acme","repository":"snapshots","format":"maven","namespace":"com.acme",
        "packagePrefix":"svc-","policy":{"keepLatest":10,"olderThanDays":30,"match":"-SNAPSHOT$"}});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// What should remain of one `svc-` package, worked out independently of
/// the planner: releases stay; of the snapshots, newest first, the first 10
/// stay, and so does any published 30 days ago or less.
fn expected_remaining() -> BTreeSet<String> {
    let mut keep = BTreeSet::new();
    let mut snapshots_seen = 0;
    for i in (0..VERSIONS).rev() {
        let age_days = (VERSIONS - i) as f64 + 0.5;
        if i % 3 == 0 {
            keep.insert(format!("1.{i}.0"));
            continue;
        }
        snapshots_seen += 1;
        if snapshots_seen <= 10 || age_days <= 30.0 {
            keep.insert(format!("1.{i}.0-SNAPSHOT"));
        }
    }
    keep
}

/// The function in-process with no work queue: scopes run inline, no fan-out.
async fn inline_handler(stack: &Stack, tag: &str) -> packprune::Handler {
    let queues = Queues::create(&stack.sqs().await, tag).await.unwrap();
    let mut config = queues.config(&[]);
    config.work_queue_url = None;
    in_process_handler(config).await
}

fn remaining(stack: &Stack) -> BTreeMap<String, BTreeSet<String>> {
    stack.emulator.shared.state().codeartifact.domains["acme"].repositories["snapshots"]
        .packages
        .iter()
        .map(|p| {
            (
                p.package.clone(),
                p.versions.iter().map(|v| v.version.clone()).collect(),
            )
        })
        .collect()
}

fn assert_policy_applied(stack: &Stack, before: &BTreeMap<String, BTreeSet<String>>) {
    let after = remaining(stack);
    let expected = expected_remaining();
    assert!(
        expected.len() < VERSIONS && expected.len() > 20,
        "the example deletes something and keeps something"
    );
    for p in 0..PACKAGES {
        assert_eq!(after[&format!("svc-{p:02}")], expected, "svc-{p:02}");
    }
    assert_eq!(
        after["lib-core"], before["lib-core"],
        "outside the prefix, untouched"
    );
}

#[tokio::test]
async fn a_policy_leaves_exactly_the_expected_set_with_logarithmic_describes() {
    let Some((_g, stack, _)) = stack(
        "a_policy_leaves_exactly_the_expected_set_with_logarithmic_describes",
        snapshots_repo(),
    )
    .await
    else {
        return;
    };
    let before = remaining(stack);
    let handler = inline_handler(stack, "policy").await;
    let out = invoke(
        &handler,
        policy_request(json!({})),
        Duration::from_secs(120),
    )
    .await;
    assert_policy_applied(stack, &before);
    let s = &out.summary;
    let deleted_per_package = (VERSIONS - expected_remaining().len()) as u64;
    assert_eq!(s.deleted, deleted_per_package * PACKAGES as u64, "{s:?}");
    assert_eq!(
        s.requested,
        (VERSIONS * PACKAGES) as u64,
        "every listed version is accounted for"
    );
    assert_eq!(s.kept, s.requested - s.deleted);

    // Age without a call per version: O(log n) DescribePackageVersion per package.
    let bound = 2.0 * (VERSIONS as f64).log2() + 2.0;
    let calls = stack.emulator.shared.calls();
    for p in 0..PACKAGES {
        let name = format!("svc-{p:02}");
        let describes = calls
            .iter()
            .filter(|c| {
                c.operation == "DescribePackageVersion" && c.package.as_deref() == Some(&name)
            })
            .count();
        assert!(
            describes >= 1 && describes as f64 <= bound,
            "{name}: {describes} DescribePackageVersion calls, bound {bound:.1}"
        );
    }
    assert!(!calls
        .iter()
        .any(|c| c.package.as_deref() == Some("lib-core")));
}

#[tokio::test]
async fn a_dry_run_plans_exactly_what_the_real_run_deletes() {
    let Some((_g, stack, _)) = stack(
        "a_dry_run_plans_exactly_what_the_real_run_deletes",
        snapshots_repo(),
    )
    .await
    else {
        return;
    };
    let before = remaining(stack);
    let handler = inline_handler(stack, "dryrun").await;

    let dry = invoke(
        &handler,
        policy_request(json!({"dryRun": true, "maxDeletions": 100})),
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(remaining(stack), before, "a dry run deletes nothing");
    assert!(!stack
        .emulator
        .shared
        .calls()
        .iter()
        .any(|c| c.operation.starts_with("Delete")));
    let plans = dry.response["plans"]
        .as_array()
        .expect("a dry run returns its plan");
    assert_eq!(plans.len(), PACKAGES);
    let planned: BTreeSet<(String, String)> = plans
        .iter()
        .flat_map(|p| {
            let pkg = p["package"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            p["delete"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |v| (pkg.clone(), v.as_str().unwrap().to_owned()))
        })
        .collect();
    assert_eq!(
        planned.len(),
        100,
        "maxDeletions caps the run across packages"
    );
    // Every kept version says which rule kept it.
    for p in plans {
        for k in p["keep"].as_array().unwrap() {
            assert!(
                ["match", "keepLatest", "olderThanDays", "maxDeletions"]
                    .contains(&k["rule"].as_str().unwrap()),
                "{k}"
            );
        }
    }

    let real = invoke(
        &handler,
        policy_request(json!({"maxDeletions": 100})),
        Duration::from_secs(120),
    )
    .await;
    let after = remaining(stack);
    let deleted: BTreeSet<(String, String)> = before
        .iter()
        .flat_map(|(pkg, vs)| {
            vs.iter()
                .filter(|v| !after[pkg].contains(*v))
                .map(move |v| (pkg.clone(), v.clone()))
        })
        .collect();
    assert_eq!(
        deleted, planned,
        "the dry run's plan is exactly what the real run deleted"
    );
    assert_eq!(real.summary.deleted, 100);
}

#[tokio::test]
async fn fan_out_puts_one_message_per_package_and_draining_finishes_the_job() {
    let Some((_g, stack, _)) = stack(
        "fan_out_puts_one_message_per_package_and_draining_finishes_the_job",
        snapshots_repo(),
    )
    .await
    else {
        return;
    };
    let before = remaining(stack);
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "fanout").await.unwrap();
    let handler = in_process_handler(queues.config(&[])).await;
    let out = invoke(&handler, policy_request(json!({})), Duration::from_secs(60)).await;
    assert_eq!(out.summary.packages_fanned_out, PACKAGES as u64);
    assert_eq!(
        out.summary.requested, 0,
        "the scheduled invocation only lists packages"
    );
    assert!(!stack
        .emulator
        .shared
        .calls()
        .iter()
        .any(|c| c.operation != "ListPackages"));

    let messages = receive(&sqs, &queues.work, 100).await.unwrap();
    let packages: BTreeSet<String> = messages
        .iter()
        .map(|m| {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert!(body.get("packagePrefix").is_none());
            assert_eq!(body["policy"]["keepLatest"], 10);
            body["package"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        packages,
        (0..PACKAGES).map(|p| format!("svc-{p:02}")).collect()
    );
    for m in &messages {
        sqs.change_message_visibility()
            .queue_url(&queues.work)
            .receipt_handle(m.receipt_handle().unwrap())
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    let summaries = drain(&sqs, &queues.work, &handler, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(
        summaries.iter().map(|s| s.requested).sum::<u64>(),
        (VERSIONS * PACKAGES) as u64
    );
    assert_policy_applied(stack, &before);
    assert_eq!(depth(&sqs, &queues.dead_letter).await.unwrap(), 0);
}

#[tokio::test]
async fn an_iot_policy_keeps_the_default_version_and_never_empties_a_package() {
    let t = now();
    let versions = |n: usize| -> Value {
        (0..n)
            .map(|i| {
                (
                    format!("1.{i}.0"),
                    json!({"creationDate": t - ((n - i) as f64) * 10.0 * DAY}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let state = seed(json!({"iot": {"packages": {
        "fw-a": {"defaultVersion": "1.2.0", "versions": versions(8)},
        "fw-b": {"defaultVersion": "1.0.0", "versions": versions(3)},
        "other": {"versions": versions(4)}
    }}}));
    let Some((_g, stack, _)) = stack(
        "an_iot_policy_keeps_the_default_version_and_never_empties_a_package",
        state,
    )
    .await
    else {
        return;
    };
    let handler = inline_handler(stack, "iotpolicy").await;
    let out = invoke(
        &handler,
        json!({"service":"iot","packagePrefix":"fw-","policy":{"olderThanDays":15}}),
        Duration::from_secs(60),
    )
    .await;
    let left = |p: &str| iot_versions(stack, p).unwrap().1;
    // fw-a: everything is older than 15 days but the newest (10 days); the default stays.
    assert_eq!(left("fw-a"), vec!["1.2.0", "1.7.0"]);
    // fw-b: all old; the default (1.0.0) stays, so does nothing else need to.
    assert_eq!(left("fw-b"), vec!["1.0.0", "1.2.0"]);
    assert_eq!(left("other").len(), 4);
    assert_eq!(out.summary.deleted, 6 + 1);

    // With unsetDefaultVersion the default goes too.
    invoke(&handler, json!({"service":"iot","package":"fw-b","policy":{"keepLatest":1,"unsetDefaultVersion":true}}), Duration::from_secs(60)).await;
    assert_eq!(
        iot_versions(stack, "fw-b").unwrap(),
        (None, vec!["1.2.0".to_owned()])
    );
}

#[tokio::test]
async fn a_codeartifact_publish_event_applies_the_event_policy() {
    let Some((_g, stack, _)) = stack(
        "a_codeartifact_publish_event_applies_the_event_policy",
        snapshots_repo(),
    )
    .await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "native").await.unwrap();
    let handler = in_process_handler(queues.config(&[(
        "EVENT_POLICY",
        r#"{"policy":{"keepLatest":5,"match":"-SNAPSHOT$"}}"#,
    )]))
    .await;
    let mut event = read_event("codeartifact-publish-event.json");
    event["detail"]["repositoryName"] = json!("snapshots");
    event["detail"]["packageFormat"] = json!("maven");
    event["detail"]["packageNamespace"] = json!("com.acme");
    event["detail"]["packageName"] = json!("svc-03");
    let out = invoke(&handler, event, Duration::from_secs(60)).await;
    let left = remaining(stack);
    let snapshots: Vec<&String> = left["svc-03"]
        .iter()
        .filter(|v| v.ends_with("-SNAPSHOT"))
        .collect();
    assert_eq!(snapshots.len(), 5);
    assert_eq!(
        left["svc-02"].len(),
        VERSIONS,
        "only the published package is touched"
    );
    assert_eq!(out.summary.deleted, 40 - 5);

    // A deletion event (CodeArtifact sends one per deleted version, ours too) asks for nothing.
    let mut deletion = read_event("codeartifact-publish-event.json");
    deletion["detail"]["operationType"] = json!("Deleted");
    let out = invoke(&handler, deletion, Duration::from_secs(60)).await;
    assert_eq!((out.summary.ignored_events, out.summary.requested), (1, 0));
}
