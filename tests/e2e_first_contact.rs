//! Issue 25 end to end, in process against the emulator and moto: dry runs
//! read what the real run would find; archive and unlist keep what a delete
//! keeps; a deprecated version in use says so; and `DRY_RUN` plans
//! everything but the apply of a reviewed plan. Needs the virtualenv `make
//! test` creates (see tests/e2e.rs).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use packprune::testkit::account::Disposition;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::downloads::*;
use support::reports::*;
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(120);

/// `@acme/web` in `npm-store`: 1.0.0 to 1.4.0 published 60 to 56 days
/// ago, 2.0.0 a day ago; npm's `latest` is 1.3.0. And the IoT package `fw`
/// (1.0 to 1.3).
fn registry() -> packprune_emulator::State {
    let t = now();
    let mut versions: Vec<Value> = (0..5)
        .map(|i| json!({"version": format!("1.{i}.0"), "publishedTime": t - (60 - i) as f64 * DAY}))
        .collect();
    versions.push(json!({"version": "2.0.0", "publishedTime": t - DAY}));
    let fw: serde_json::Map<String, Value> = (0..4)
        .map(|i| (format!("1.{i}"), json!({"createdDaysAgo": 10 - i})))
        .collect();
    seed(json!({
        "codeartifact": {"domains": {"acme": {"repositories": {
            "npm-store": {"packages": [{"format": "npm", "namespace": "acme", "package": "web",
                                        "defaultDisplayVersion": "1.3.0", "versions": versions}]}
        }}}},
        "iot": {"packages": {"fw": {"versions": fw}}}
    }))
}

fn web(extra: Value) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "domainOwner": "111122223333",
        "repository": "npm-store", "format": "npm", "namespace": "acme", "package": "web"});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// What a summary counts, for comparing a dry run with its real run.
fn counts(s: &packprune::testkit::account::Summary) -> (u64, u64, u64, u64) {
    let acted = s.deleted + s.planned.get("delete").copied().unwrap_or(0);
    (
        acted,
        s.already_absent,
        s.packages_not_found,
        s.dead_lettered,
    )
}

#[tokio::test]
async fn a_dry_run_of_explicit_versions_plans_only_what_exists_and_names_what_is_missing() {
    let Some((_g, stack, _)) = stack("dry_explicit", registry()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "dryexplicit")
        .await
        .unwrap();
    let h = in_process_handler(queues.config(&[])).await;
    let requests = [
        // One version there, one never published.
        web(json!({"versions": ["1.1.0", "9.9.9"]})),
        // A typo: npm's `@acme/web` without its namespace is another package.
        json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store",
               "format": "npm", "package": "web", "versions": ["2.0.0"]}),
        json!({"service": "iot", "package": "fw", "versions": ["1.1", "7.7"], "protectInUse": false}),
        json!({"service": "iot", "package": "fw-typo", "versions": ["1.0"]}),
    ];
    let mut dry = Vec::new();
    for r in &requests {
        let mut d = r.clone();
        d["dryRun"] = json!(true);
        dry.push(invoke(&h, d, LEFT).await.summary);
    }
    assert!(
        write_calls(stack).is_empty(),
        "a dry run only reads: {:?}",
        write_calls(stack)
    );
    // What each dry run says.
    assert_eq!(dry[0].planned, [("delete".to_owned(), 1)].into());
    assert_eq!((dry[0].already_absent, dry[0].packages_not_found), (1, 0));
    assert_eq!(dry[1].planned.get("delete").copied().unwrap_or(0), 0);
    assert_eq!((dry[1].already_absent, dry[1].packages_not_found), (1, 1));
    assert_eq!(dry[1].missing_packages, ["acme/npm-store/npm/web"]);
    assert_eq!(dry[2].planned, [("delete".to_owned(), 1)].into());
    assert_eq!(dry[2].already_absent, 1);
    assert_eq!(dry[3].missing_packages, ["fw-typo"]);
    // The real runs give the same counts.
    for (r, d) in requests.iter().zip(&dry) {
        let real = invoke(&h, r.clone(), LEFT).await.summary;
        assert_eq!(counts(&real), counts(d), "{r}: dry {d:?}, real {real:?}");
        assert_eq!(real.missing_packages, d.missing_packages, "{r}");
    }
    assert_eq!(
        ca_versions(stack, "npm-store", "web").unwrap(),
        ["1.0.0", "1.2.0", "1.3.0", "1.4.0", "2.0.0"]
    );
}

/// The versions a run kept by a protection, with the rule.
fn protected(out: &packprune::testkit::handler::Processed) -> BTreeSet<(String, String)> {
    out.lines
        .iter()
        .filter(|l| l.disposition == Disposition::Kept)
        .filter_map(|l| Some((l.item.to_string(), l.code.as_ref()?.to_string())))
        .filter(|(_, rule)| rule.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect()
}

#[tokio::test]
async fn archive_and_unlist_policies_keep_what_a_delete_policy_protects() {
    let Some((_g, stack, _)) = stack("protect_all_actions", registry()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "protectall")
        .await
        .unwrap();
    let table = create_downloads_table("downloads-protectall")
        .await
        .unwrap();
    let h = in_process_handler(queues.config(&[("DOWNLOADS_TABLE", &table)])).await;
    recording_since(&table, "acme", 40.0).await.unwrap();
    let read = npm_read(
        "npm-store",
        Some("@acme"),
        "web",
        "1.1.0",
        &days_ago(3.0),
        1,
    );
    let usage = json!({"Records": [{"messageId": "read-1", "receiptHandle": "rh", "body": read.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "0",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:usage", "awsRegion": "us-east-1"}]});
    assert_eq!(invoke(&h, usage, LEFT).await.summary.versions_recorded, 1);
    let policy = json!({"olderThanDays": 30, "notDownloadedForDays": 30});
    let expected: BTreeSet<(String, String)> = [
        ("1.1.0", "RECENTLY_DOWNLOADED"),
        ("1.3.0", "DEFAULT_DISPLAY_VERSION"),
    ]
    .map(|(v, r)| (v.to_owned(), r.to_owned()))
    .into();
    for action in ["delete", "archive", "unlist"] {
        stack.emulator.shared.set_state(registry());
        let out = invoke(&h, web(json!({"action": action, "policy": policy})), LEFT).await;
        assert_eq!(protected(&out), expected, "{action}: {:?}", out.lines);
        let changed = out
            .lines
            .iter()
            .filter(|l| !matches!(l.disposition, Disposition::Kept))
            .count();
        assert_eq!(changed, 3, "{action}: 1.0.0, 1.2.0 and 1.4.0 change");
        let state = stack.emulator.shared.state();
        let web = &state.codeartifact.domains["acme"].repositories["npm-store"].packages[0];
        for kept in ["1.1.0", "1.3.0"] {
            let v = web.versions.iter().find(|v| v.version == kept).unwrap();
            assert_eq!(v.status, "Published", "{action} left {kept} as it was");
        }
    }
}

#[tokio::test]
async fn a_deprecated_version_in_use_says_where_it_is_used() {
    let arn = |v: &str| format!("arn:aws:iot:us-east-1:111122223333:package/fw/version/{v}");
    let versions: serde_json::Map<String, Value> = (0..5)
        .map(|i| (format!("1.{i}"), json!({"createdDaysAgo": 40 - i})))
        .collect();
    let fleet = seed(json!({"iot": {
        "packages": {"fw": {"versions": versions}},
        "things": {"boiler-7": {"fw": "1.0"}, "boiler-8": {"fw": "1.0"}},
        "jobs": {"rollout-12": {"status": "IN_PROGRESS", "destinationPackageVersions": [arn("1.1")]}},
    }}));
    let Some((_g, stack, _)) = stack("deprecate_in_use", fleet).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "deprecate")
        .await
        .unwrap();
    let bucket = create_bucket("reports-deprecate").await.unwrap();
    let h = in_process_handler(queues.config(&[("REPORTS_BUCKET", &bucket)])).await;
    let request = json!({"service": "iot", "package": "fw", "action": "deprecate", "policy": {"keepLatest": 2}});
    let mut dry = request.clone();
    dry["dryRun"] = json!(true);
    let plan = invoke(&h, dry, LEFT).await;
    let (json_uri, _, _, _) = links(&plan.response).unwrap();
    let rows = report(&json_uri).await.unwrap().packages[0]
        .versions
        .clone();
    let detail = |v: &str| {
        rows.iter()
            .find(|r| r.version == v)
            .and_then(|r| r.detail.clone())
    };
    assert_eq!(
        detail("1.0").as_deref(),
        Some("in use: installed on 2 things")
    );
    assert_eq!(
        detail("1.1").as_deref(),
        Some("in use: named by unfinished job rollout-12")
    );
    assert_eq!(detail("1.2"), None, "a version not in use says nothing");
    let out = invoke(&h, request, LEFT).await;
    assert_eq!(
        out.summary.deprecated, 3,
        "deprecation is not held back by use"
    );
    let line = |v: &str| out.lines.iter().find(|l| l.item.to_string() == v).unwrap();
    assert_eq!(line("1.0").disposition, Disposition::Deprecated);
    assert_eq!(
        line("1.0").detail.as_deref(),
        Some("in use: installed on 2 things")
    );
    assert_eq!(
        line("1.1").detail.as_deref(),
        Some("in use: named by unfinished job rollout-12")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dry_run_on_a_reviewed_plans_apply_runs_and_everything_else_only_plans() {
    let Some((_g, stack, _)) = stack("dry_run_rollout", registry()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "rollout").await.unwrap();
    let bucket = create_bucket("reports-rollout").await.unwrap();
    let h = in_process_handler(queues.config(&[("REPORTS_BUCKET", &bucket), ("DRY_RUN", "true")]))
        .await;
    let all = || ca_versions(stack, "npm-store", "web").unwrap();
    let before = all();
    // A policy, explicit versions and a whole package: planned, not done.
    let policy = web(json!({"policy": {"keepLatest": 2}}));
    let plan = invoke(&h, policy, LEFT).await;
    assert_eq!(plan.summary.planned, [("delete".to_owned(), 3)].into());
    for r in [
        web(json!({"versions": ["1.0.0"]})),
        web(json!({"deletePackage": true})),
        json!({"service": "iot", "package": "fw", "versions": ["1.0"], "protectInUse": false}),
    ] {
        let out = invoke(&h, r.clone(), LEFT).await;
        assert_eq!(out.summary.deleted, 0, "{r}");
        assert!(!out.summary.planned.is_empty(), "{r}: {:?}", out.summary);
    }
    assert_eq!(all(), before);
    assert!(write_calls(stack).is_empty(), "{:?}", write_calls(stack));
    let (json_uri, _, _, sha) = links(&plan.response).unwrap();
    let reviewed = report(&json_uri).await.unwrap();
    let bound = |report: Option<&str>| {
        let r = &packprune::report::requests(&reviewed, &sha, false, report).unwrap()[0];
        serde_json::to_value(r.to_raw(None, Some(2))).unwrap()
    };
    // One package bound to the plan (a hand-on, a redrive) that names no
    // report to check it against: only planned.
    let out = invoke(&h, bound(None), LEFT).await;
    assert_eq!(
        (out.summary.deleted, out.summary.kept),
        (0, 3),
        "{:?}",
        out.summary
    );
    assert_eq!(all(), before);
    // One the plan, read again, does not hold (an expectation changed):
    // refused.
    let mut forged = bound(Some(&json_uri));
    let expect = forged["apply"]["expect"].as_object_mut().unwrap();
    let first = expect.keys().next().unwrap().clone();
    expect[&first]["revision"] = json!("REV-FORGED");
    let out = invoke(&h, forged, LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
    assert!(
        out.summary.invalid[0].contains("does not list version"),
        "{:?}",
        out.summary.invalid
    );
    assert_eq!(all(), before);
    // One the plan holds: it runs.
    let out = invoke(&h, bound(Some(&json_uri)), LEFT).await;
    assert_eq!(out.summary.deleted, 3, "{:?}", out.summary);
    assert_eq!(all(), ["1.3.0", "1.4.0", "2.0.0"]);
    // A reviewed plan's apply, its digest checked where it enters, runs;
    // given inline, the plan could be anyone's, so it is only planned.
    let plan = invoke(&h, web(json!({"policy": {"keepLatest": 1}})), LEFT).await;
    let (json_uri, _, _, sha) = links(&plan.response).unwrap();
    let inline: Value = serde_json::from_slice(&get(&json_uri).await.unwrap()).unwrap();
    let inline_apply = json!({"service": "codeartifact", "apply": {"plan": inline, "sha256": sha}});
    let out = invoke(&h, inline_apply, LEFT).await;
    assert_eq!(out.summary.deleted, 0, "{:?}", out.summary);
    assert_eq!(all(), ["1.3.0", "1.4.0", "2.0.0"]);
    let apply = json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    assert_eq!(out.summary.deleted, 1, "{:?}", out.summary);
    assert_eq!(all(), ["1.3.0", "2.0.0"]);
}
