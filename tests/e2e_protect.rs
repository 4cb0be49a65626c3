//! Issue 10 end to end: the real SDK against the emulator and moto. What
//! devices run, what `latest` points at and the IoT default version (unless
//! unset is asked for) survive; archive-first cleanup archives, then
//! deletes what was archived; `keepLatestPer` keeps each release line; the
//! metrics are valid EMF. Needs the virtualenv `make test` creates (see
//! tests/e2e.rs).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use packprune_emulator::state::now;
use packprune_emulator::State;
use serde_json::{json, Value};
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(120);

/// The function in-process with no work queue.
async fn handler(stack: &Stack, tag: &str) -> packprune::Handler {
    let queues = Queues::create(&stack.sqs().await, tag).await.unwrap();
    let mut config = queues.config(&[]);
    config.work_queue_url = None;
    in_process_handler(config).await
}

/// `fw` with versions 1.0 … 1.7, one a day (1.0 the oldest, 30+ days old);
/// a thing runs 1.1, an unfinished job deploys 1.2, a finished one 1.3.
fn fleet(indexing: Value) -> State {
    let versions: serde_json::Map<String, Value> = (0..8)
        .map(|i| (format!("1.{i}"), json!({"createdDaysAgo": 40 - i})))
        .collect();
    let arn = |v: &str| format!("arn:aws:iot:us-east-1:111122223333:package/fw/version/{v}");
    seed(json!({"iot": {
        "packages": {"fw": {"versions": versions}},
        "indexing": indexing,
        "things": {"boiler-7": {"fw": "1.1"}, "boiler-8": {"other": "1.0"}},
        "jobs": {"rollout-12": {"status": "IN_PROGRESS", "destinationPackageVersions": [arn("1.2")]},
                 "rollout-9": {"status": "COMPLETED", "destinationPackageVersions": [arn("1.3")]}},
    }}))
}

fn iot_left(stack: &Stack) -> BTreeSet<String> {
    iot_versions(stack, "fw").unwrap().1.into_iter().collect()
}

fn lines<'a>(out: &'a packprune::testkit::handler::Processed, rule: &str) -> Vec<&'a Value> {
    out.response["plans"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["keep"].as_array().unwrap())
        .filter(|k| k["rule"] == rule)
        .collect()
}

#[tokio::test]
async fn versions_on_things_and_in_unfinished_jobs_survive_a_policy() {
    let Some((_g, stack, _)) = stack("in_use_survives", fleet(json!({}))).await else {
        return;
    };
    let h = handler(stack, "inuse").await;
    let request = json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}});
    stack.emulator.shared.clear_calls();
    let dry = invoke(
        &h,
        json!({"dryRun": true, "service": "iot", "package": "fw", "policy": {"keepLatest": 2}}),
        LEFT,
    )
    .await;
    let in_use = lines(&dry, "IN_USE");
    let details: Vec<&str> = in_use
        .iter()
        .map(|k| k["detail"].as_str().unwrap())
        .collect();
    assert_eq!(in_use.len(), 2, "{}", dry.response);
    assert!(details.contains(&"installed on 1 thing"), "{details:?}");
    assert!(
        details.contains(&"named by unfinished job rollout-12"),
        "{details:?}"
    );

    let searched = |calls: &[packprune_emulator::Call]| {
        calls
            .iter()
            .filter(|c| c.operation == "SearchIndex")
            .count()
    };
    // One search for the six versions the plan would delete, their terms
    // joined by OR; it found a thing, so one more per version says which.
    assert_eq!(searched(&stack.emulator.shared.calls()), 1 + 6);
    stack.emulator.shared.clear_calls();
    let out = invoke(&h, request, LEFT).await;
    // 1.6 and 1.7 by keepLatest, 1.1 (a thing) and 1.2 (a running job);
    // 1.3's job is finished, so it goes with the rest.
    let expected: BTreeSet<String> = ["1.1", "1.2", "1.6", "1.7"].map(String::from).into();
    assert_eq!(iot_left(stack), expected);
    assert_eq!(out.summary.deleted, 4);
    let calls = stack.emulator.shared.calls();
    let searches = searched(&calls);
    // The real run searches again, as the dry run did: a thing may have
    // installed one of them since.
    assert_eq!(searches, 1 + 6, "searches: {calls:?}");
    // Issue 26: the dry run read the configuration and described the jobs;
    // the same warm execution environment reads neither again.
    for op in ["GetIndexingConfiguration", "DescribeJob"] {
        assert!(!calls.iter().any(|c| c.operation == op), "{op} read again");
    }
}

#[tokio::test]
async fn without_package_indexing_a_policy_keeps_everything_and_says_why() {
    let unindexed = fleet(json!({"namedShadowIndexingMode": "OFF"}));
    let Some((_g, stack, _)) = stack("fail_closed", unindexed).await else {
        return;
    };
    let h = handler(stack, "closed").await;
    let before = iot_left(stack);
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}, "dryRun": true}),
        LEFT,
    )
    .await;
    let unknown = lines(&out, "IN_USE_UNKNOWN");
    // The running job still proves 1.2 in use; the other five cannot be known.
    assert_eq!(unknown.len(), 5, "{}", out.response);
    assert!(unknown[0]["detail"]
        .as_str()
        .unwrap()
        .contains("namedShadowIndexingMode"));
    let real = invoke(
        &h,
        json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}}),
        LEFT,
    )
    .await;
    assert_eq!(iot_left(stack), before, "failing closed deletes nothing");
    assert_eq!(real.summary.deleted, 0);
    assert!(!stack
        .emulator
        .shared
        .calls()
        .iter()
        .any(|c| c.operation == "SearchIndex"));

    let off = invoke(&h, json!({"service": "iot", "package": "fw", "protectInUse": false, "policy": {"keepLatest": 2}}), LEFT).await;
    assert_eq!(off.summary.deleted, 6, "told otherwise, it deletes");
}

#[tokio::test]
async fn an_explicit_delete_of_a_version_in_use_is_dead_lettered() {
    let Some((_g, stack, _)) = stack("explicit_in_use", fleet(json!({}))).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "explicit")
        .await
        .unwrap();
    let mut config = queues.config(&[]);
    config.work_queue_url = None;
    let h = in_process_handler(config).await;
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw", "versions": ["1.0", "1.1", "1.2"]}),
        LEFT,
    )
    .await;
    assert_eq!((out.summary.deleted, out.summary.dead_lettered), (1, 2));
    assert_eq!(iot_left(stack).len(), 7);
    let dead = take_all(&stack.sqs().await, &queues.dead_letter)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "one message for the code");
    assert_eq!(dead[0]["failure"]["code"], "IN_USE");
    assert_eq!(dead[0]["versions"], json!(["1.1", "1.2"]));
    // Redriven with protection off, as docs/policies.md says, it deletes them.
    let mut redrive = dead[0].clone();
    redrive["protectInUse"] = json!(false);
    let again = invoke(&h, redrive, LEFT).await;
    assert_eq!(again.summary.deleted, 2);
}

/// npm, where `latest` points at an older version than the newest.
fn npm_repo() -> State {
    let t = now();
    let versions: Vec<Value> = (0..6)
        .map(|i| json!({"version": format!("2.{i}.0"), "publishedTime": t - (40 - i) as f64 * DAY}))
        .collect();
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {"npm-store": {"packages": [
            {"format": "npm", "package": "web", "defaultDisplayVersion": "2.1.0", "versions": versions}
        ]}}}}}}),
    )
}

fn npm_request(extra: Value) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store", "format": "npm",
        "package": "web", "policy": {"keepLatest": 1}});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

#[tokio::test]
async fn latest_survives_a_policy_unless_the_policy_allows_it() {
    let Some((_g, stack, _)) = stack("latest_survives", npm_repo()).await else {
        return;
    };
    let h = handler(stack, "latest").await;
    let out = invoke(&h, npm_request(json!({})), LEFT).await;
    let left = ca_versions(stack, "npm-store", "web").unwrap();
    assert_eq!(left, vec!["2.1.0", "2.5.0"]);
    assert_eq!(out.summary.deleted, 4);
    // Explicit deletes may still name it.
    let explicit = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store", "format": "npm",
        "package": "web", "versions": ["2.1.0"], "dryRun": true});
    let dry = invoke(&h, explicit, LEFT).await;
    assert_eq!(dry.response["plans"][0]["delete"], json!(["2.1.0"]));
}

#[tokio::test]
async fn the_iot_default_version_with_and_without_unset() {
    let state = seed(
        json!({"iot": {"packages": {"fw": {"defaultVersion": "2.0", "versions": {"1.0": {}, "2.0": {}}}}}}),
    );
    let Some((_g, stack, _)) = stack("the_iot_default_version_with_and_without_unset", state).await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "default").await.unwrap();
    let handler = in_process_handler(queues.config(&[])).await;

    let out = invoke(
        &handler,
        json!({"service":"iot","package":"fw","versions":["2.0"]}),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.response["deadLettered"], 1);
    assert_eq!(
        iot_versions(stack, "fw"),
        Some((Some("2.0".into()), vec!["1.0".into(), "2.0".into()])),
        "nothing changed"
    );
    assert!(!stack
        .emulator
        .shared
        .calls()
        .iter()
        .any(|c| c.operation == "UpdatePackage" || c.operation == "DeletePackageVersion"));
    let dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    assert_eq!(dead[0]["failure"]["code"], "DEFAULT_VERSION");

    let out = invoke(
        &handler,
        json!({"service":"iot","package":"fw","versions":["2.0"],"unsetDefaultVersion":true}),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.response["deleted"], 1);
    assert_eq!(iot_versions(stack, "fw"), Some((None, vec!["1.0".into()])));
    let ops: Vec<String> = stack
        .emulator
        .shared
        .calls()
        .iter()
        .map(|c| c.operation.clone())
        .collect();
    let update = ops.iter().position(|o| o == "UpdatePackage").unwrap();
    let delete = ops
        .iter()
        .position(|o| o == "DeletePackageVersion")
        .unwrap();
    assert!(update < delete, "{ops:?}");
}

#[tokio::test]
async fn archive_then_delete_what_was_archived() {
    let Some((_g, stack, _)) = stack("archive_then_delete", npm_repo()).await else {
        return;
    };
    let h = handler(stack, "archive").await;
    let status = |v: &str| {
        let s = stack.emulator.shared.state();
        s.codeartifact.domains["acme"].repositories["npm-store"].packages[0]
            .versions
            .iter()
            .find(|x| x.version == v)
            .map(|x| x.status.clone())
    };
    // Stage 1: archive what is older than 37.5 days, keeping the newest.
    let stage1 = npm_request(
        json!({"action": "archive", "policy": {"keepLatest": 1, "olderThanDays": 37.5}}),
    );
    let mut dry_run = stage1.clone();
    dry_run["dryRun"] = json!(true);
    let dry = invoke(&h, dry_run, LEFT).await;
    assert_eq!(dry.response["plans"][0]["action"], "archive");
    let planned = dry.response["plans"][0]["archive"].clone();
    stack.emulator.shared.clear_calls();
    let out = invoke(&h, stage1.clone(), LEFT).await;
    // 2.0.0 (40 days) and 2.2.0 (38) are archived; 2.1.0 (39) is `latest`.
    assert_eq!(out.summary.archived, 2, "{:?}", out.summary);
    assert_eq!(
        planned,
        json!(["2.0.0", "2.2.0"]),
        "the dry run planned what the run archived"
    );
    assert_eq!(status("2.0.0").as_deref(), Some("Archived"));
    assert_eq!(status("2.2.0").as_deref(), Some("Archived"));
    assert_eq!(status("2.1.0").as_deref(), Some("Published"));
    let calls = stack.emulator.shared.calls();
    let update: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "UpdatePackageVersionsStatus")
        .collect();
    assert_eq!(update.len(), 1);
    assert_eq!(update[0].versions, vec!["2.0.0", "2.2.0"]);
    assert!(!calls.iter().any(|c| c.operation.starts_with("Delete")));
    // A second run finds nothing left to archive.
    let again = invoke(&h, stage1, LEFT).await;
    assert_eq!(again.summary.archived, 0);
    // Stage 2: delete what has been archived.
    let stage2 = npm_request(json!({"policy": {"olderThanDays": 30, "statuses": ["Archived"]}}));
    let out = invoke(&h, stage2, LEFT).await;
    assert_eq!(out.summary.deleted, 2, "{:?}", out.summary);
    assert_eq!(status("2.0.0"), None);
    assert_eq!(status("2.2.0"), None);
    assert_eq!(status("2.1.0").as_deref(), Some("Published"));
    assert!(out
        .metrics
        .iter()
        .all(|m| packprune::testkit::metrics::check(m).is_ok()));
}

#[tokio::test]
async fn keep_latest_per_minor_keeps_each_release_line() {
    let t = now();
    let names = [
        "1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.1.1", "2.0.0", "2.0.1", "2.0.2", "2.0.3",
    ];
    let versions: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"version": v, "publishedTime": t - (50 - i) as f64 * DAY}))
        .collect();
    let state = seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {"lines": {"packages": [
        {"format": "npm", "package": "lib", "versions": versions}]}}}}}}),
    );
    let Some((_g, stack, _)) = stack("keep_latest_per", state).await else {
        return;
    };
    let h = handler(stack, "lines").await;
    let request = json!({"service": "codeartifact", "domain": "acme", "repository": "lines", "format": "npm",
        "package": "lib", "policy": {"keepLatest": 2, "keepLatestPer": "minor"}});
    let out = invoke(&h, request, LEFT).await;
    let left: BTreeSet<String> = ca_versions(stack, "lines", "lib")
        .unwrap()
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = ["1.0.1", "1.0.2", "1.1.0", "1.1.1", "2.0.2", "2.0.3"]
        .map(String::from)
        .into();
    assert_eq!(left, expected);
    assert_eq!(out.summary.deleted, 3);
}

#[tokio::test]
async fn every_invocation_writes_valid_emf_per_service() {
    let Some((_g, stack, _)) = stack("emf", fleet(json!({}))).await else {
        return;
    };
    let h = handler(stack, "emf").await;
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}}),
        LEFT,
    )
    .await;
    assert_eq!(out.metrics.len(), 1);
    let doc = &out.metrics[0];
    packprune::testkit::metrics::check(doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
    // Through its text, as CloudWatch Logs reads it.
    let parsed: Value = serde_json::from_str(&doc.to_string()).unwrap();
    packprune::testkit::metrics::check(&parsed).unwrap();
    assert_eq!(parsed["Service"], "iot");
    assert_eq!(parsed["Deleted"], 4.0);
    assert_eq!(parsed["Kept.IN_USE"], 2.0);
    assert_eq!(parsed["Kept.keepLatest"], 2.0);
    assert!(
        parsed["Calls"].as_f64().unwrap() >= 4.0 + 4.0,
        "deletes and reads: {parsed}"
    );
    assert!(parsed["WriteRate"].as_f64().unwrap() > 0.0);
}
