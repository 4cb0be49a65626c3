//! Dependency protection end to end: the emulator's
//! ListPackageVersionDependencies and ListRepositoriesInDomain through the
//! real SDK, the index in moto's DynamoDB (the table from `template.yaml`),
//! the backfill fanned out over moto's SQS, CodeArtifact's state-change
//! events on the usage queue, and `protectDependencies` in policies. Needs
//! the virtualenv `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::{Disposition, Reason};
use packprune::testkit::policy::KeepRule;
use packprune::Handler;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::downloads::*;
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(120);
const USAGE_ARN: &str = "arn:aws:sqs:us-east-1:111122223333:packprune-usage";

fn versions(names: &[&str], deps: impl Fn(&str) -> Value) -> Vec<Value> {
    let t = now();
    let n = names.len();
    names
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"version": v, "publishedTime": t - (n - i) as f64 * DAY, "dependencies": deps(v)}))
        .collect()
}

fn none(_: &str) -> Value {
    json!([])
}

const CORE: [&str; 13] = [
    "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0", "1.8.0", "1.9.0",
    "2.2.0", "2.3.0", "2.4.0",
];

/// `apps` holds the dependents (npm `@acme/ui`, Maven, PyPI, NuGet);
/// `releases` the packages they depend on.
fn world() -> packprune_emulator::State {
    let ui = versions(&["3.0.0", "3.1.0"], |v| match v {
        "3.0.0" => {
            json!([{"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "1.2.0"}])
        }
        _ => json!([
            {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"},
            {"namespace": "acme", "package": "core", "dependencyType": "dev", "versionRequirement": "1.1.0"},
            {"namespace": "acme", "package": "flaky", "dependencyType": "regular", "versionRequirement": "next"}
        ]),
    });
    let app = versions(&["1.0"], |_| {
        json!([
            {"namespace": "com.acme", "package": "ledger", "dependencyType": "compile", "versionRequirement": "[1.0,2.0)"},
            {"namespace": "com.acme", "package": "parent", "dependencyType": "parent", "versionRequirement": "7"},
            {"namespace": "com.acme", "package": "ledger", "dependencyType": "test", "versionRequirement": "2.1"}
        ])
    });
    let reports = versions(
        &["1.0.0"],
        |_| json!([{"package": "acme-models", "dependencyType": "Requires-Dist", "versionRequirement": ">=1.2,<2"}]),
    );
    let dash = versions(
        &["1.0.0"],
        |_| json!([{"package": "Acme.Primitives", "versionRequirement": "[1.1.0, 2.0.0)"}]),
    );
    let npm = |ns: &str, p: &str, v: &[Value]| json!({"format": "npm", "namespace": ns, "package": p, "versions": v});
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "apps": {"packages": [
                npm("acme", "ui", &ui),
                {"format": "maven", "namespace": "com.acme", "package": "app", "versions": app},
                {"format": "pypi", "package": "acme-reports", "versions": reports},
                {"format": "nuget", "package": "acme.dashboard", "versions": dash}
            ]},
            "releases": {"packages": [
                npm("acme", "core", &versions(&CORE, none)),
                npm("acme", "flaky", &versions(&["0.1.0", "0.2.0", "0.3.0", "0.4.0"], none)),
                {"format": "maven", "namespace": "com.acme", "package": "ledger", "versions": versions(&["0.9", "1.0", "1.1", "1.2", "2.0", "2.1"], none)},
                {"format": "maven", "namespace": "com.acme", "package": "parent", "versions": versions(&["5", "6", "7", "8", "9"], none)},
                {"format": "pypi", "package": "acme-models", "versions": versions(&["1.0", "1.2", "1.3", "1.4rc1", "2.0", "2.1"], none)},
                {"format": "nuget", "package": "acme.primitives", "versions": versions(&["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"], none)}
            ]}
        }}}}}),
    )
}

fn policy(format: &str, namespace: Option<&str>, package: &str, dry_run: bool) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
        "format": format, "package": package, "dryRun": dry_run,
        "policy": {"keepLatest": 1, "protectDependencies": true}});
    if let Some(ns) = namespace {
        r["namespace"] = json!(ns);
    }
    r
}

fn with_rule(out: &packprune::testkit::handler::Processed, rule: KeepRule) -> Vec<String> {
    let mut v: Vec<String> = (out.lines.iter())
        .filter(|l| l.disposition == Disposition::Kept && l.code == Some(Reason::Rule(rule)))
        .map(|l| l.item.to_string())
        .collect();
    v.sort();
    v
}

fn detail(out: &packprune::testkit::handler::Processed, version: &str) -> String {
    (out.lines.iter())
        .find(|l| l.item.to_string() == version)
        .and_then(|l| l.detail.clone())
        .unwrap_or_default()
}

fn planned(out: &packprune::testkit::handler::Processed) -> Vec<String> {
    let mut v = with_rule(out, KeepRule::DryRun);
    v.sort();
    v
}

fn deleted(out: &packprune::testkit::handler::Processed) -> Vec<String> {
    let mut v: Vec<String> = (out.lines.iter())
        .filter(|l| l.disposition == Disposition::Deleted)
        .map(|l| l.item.to_string())
        .collect();
    v.sort();
    v
}

/// The function in-process, with its queues (`tag`), a table of its own
/// and the usage queue's ARN.
async fn function(stack: &Stack, tag: &str) -> (aws_sdk_sqs::Client, Queues, Handler) {
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, tag).await.unwrap();
    let table = create_downloads_table(&format!("downloads-{tag}"))
        .await
        .unwrap();
    let config = queues.config(&[("DOWNLOADS_TABLE", &table), ("USAGE_QUEUE_ARN", USAGE_ARN)]);
    let h = in_process_handler(config).await;
    (sqs, queues, h)
}

/// A state-change event for `@acme/ui@<version>` in `apps`, as the usage
/// queue delivers it.
fn ui_event(op: &str, state: &str, version: &str) -> Value {
    let body = json!({"version": "0", "id": format!("ui-{op}-{version}"), "detail-type": "CodeArtifact Package Version State Change",
        "source": "aws.codeartifact", "account": "111122223333", "time": "2026-12-07T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"domainName": "acme", "domainOwner": "111122223333", "repositoryName": "apps",
        "packageFormat": "npm", "packageNamespace": "acme", "packageName": "ui", "packageVersion": version,
        "packageVersionState": state, "operationType": op, "sequenceNumber": 1,
        "changes": {"assetsAdded": 1, "assetsRemoved": 0, "assetsUpdated": 0, "metadataUpdated": true, "statusChanged": false}}});
    let mut event = fresh_sqs_event(&[body]);
    event["Records"][0]["eventSourceARN"] = json!(USAGE_ARN);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_versions_keep_what_they_depend_on() {
    let Some((_guard, stack, _)) = stack("dependencies", world()).await else {
        return;
    };
    let (sqs, queues, h) = function(stack, "deps").await;
    let core = || policy("npm", Some("acme"), "core", false);

    // A domain never indexed deletes nothing, and says why and what to run.
    let out = invoke(&h, core(), LEFT).await;
    assert_eq!(out.summary.deleted, 0, "{:?}", out.summary);
    assert_eq!(with_rule(&out, KeepRule::DependenciesUnknown).len(), 12);
    assert!(
        detail(&out, "1.0.0").contains("indexDependencies"),
        "{}",
        detail(&out, "1.0.0")
    );

    // The backfill fans out over the work queue, one part a package, and
    // the last part marks the domain's index complete.
    let out = invoke(
        &h,
        json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true}),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.packages_fanned_out, 10, "{:?}", out.summary);
    let parts = drain(&sqs, &queues.work, &h, LEFT).await.unwrap();
    let indexed: u64 = parts.iter().map(|s| s.indexed).sum();
    assert_eq!(indexed, 2 + 1 + 1 + 1 + 13 + 4 + 6 + 5 + 6 + 5);
    let edges: u64 = parts.iter().map(|s| s.dependency_edges_written).sum();
    assert_eq!(edges, 7, "{parts:?}");

    // ui@3.1.0 (^1.4.0) keeps 1.9.0 and ui@3.0.0 (1.2.0) keeps 1.2.0; the
    // dev dependency on 1.1.0 keeps nothing. A dry run's plan is the real
    // run's deletions.
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&dry, KeepRule::DependedOn), ["1.2.0", "1.9.0"]);
    assert!(
        detail(&dry, "1.9.0").contains("@acme/ui@3.1.0 in apps requires \"^1.4.0\""),
        "{}",
        detail(&dry, "1.9.0")
    );
    assert!(planned(&dry).contains(&"1.1.0".to_owned()));

    // A new dependent (a Created event) and an old one gone (Deleted)
    // change the next plan: ui@3.2.0 needs ~1.5.0; ui@3.0.0 is deleted.
    stack.emulator.shared.edit(|s| {
        let apps = s.codeartifact.domains.get_mut("acme").unwrap().repositories.get_mut("apps").unwrap();
        let ui = apps.packages.iter_mut().find(|p| p.package == "ui").unwrap();
        ui.versions.retain(|v| v.version != "3.0.0");
        let mut v = ui.versions[0].clone();
        v.version = "3.2.0".into();
        v.dependencies = serde_json::from_value(json!([{"namespace": "acme", "package": "core", "dependencyType": "peer", "versionRequirement": "~1.5.0"}])).unwrap();
        ui.versions.push(v);
    });
    for event in [
        ui_event("Created", "Published", "3.2.0"),
        ui_event("Deleted", "Deleted", "3.0.0"),
    ] {
        let out = invoke(&h, event, LEFT).await;
        assert_eq!(out.response, json!({"batchItemFailures": []}));
        assert_eq!(out.summary.dependents_indexed, 1, "{:?}", out.summary);
    }
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&dry, KeepRule::DependedOn), ["1.5.0", "1.9.0"]);
    // A late Created event for the deleted 3.0.0 (out of order) and the
    // Deleted event again (a duplicate) change nothing: each event reads
    // what CodeArtifact holds now.
    for event in [
        ui_event("Created", "Published", "3.0.0"),
        ui_event("Deleted", "Deleted", "3.0.0"),
    ] {
        let out = invoke(&h, event, LEFT).await;
        assert_eq!(out.response, json!({"batchItemFailures": []}));
    }
    let again = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&again, KeepRule::DependedOn), ["1.5.0", "1.9.0"]);

    // ui@3.2.0's metadata changes (an Updated event): it now needs flaky,
    // not core, and its edge on core goes.
    stack.emulator.shared.edit(|s| {
        let apps = s.codeartifact.domains.get_mut("acme").unwrap().repositories.get_mut("apps").unwrap();
        let ui = apps.packages.iter_mut().find(|p| p.package == "ui").unwrap();
        let v = ui.versions.iter_mut().find(|v| v.version == "3.2.0").unwrap();
        v.dependencies = serde_json::from_value(json!([{"namespace": "acme", "package": "flaky", "dependencyType": "regular", "versionRequirement": "0.2.0"}])).unwrap();
    });
    let out = invoke(&h, ui_event("Updated", "Published", "3.2.0"), LEFT).await;
    assert_eq!(out.summary.dependents_indexed, 1, "{:?}", out.summary);
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&dry, KeepRule::DependedOn), ["1.9.0"]);
    let out = invoke(&h, core(), LEFT).await;
    assert_eq!(
        deleted(&out),
        planned(&dry),
        "the real run deletes the plan"
    );

    // An unreadable requirement (the npm tag `next`) keeps every candidate
    // of the package it names, and is quoted.
    let out = invoke(&h, policy("npm", Some("acme"), "flaky", false), LEFT).await;
    assert_eq!(out.summary.deleted, 0);
    assert_eq!(with_rule(&out, KeepRule::DependedOn).len(), 3);
    assert!(
        detail(&out, "0.1.0").contains("\"next\""),
        "{}",
        detail(&out, "0.1.0")
    );
    assert_eq!(out.summary.unreadable_requirements, 1);

    // Maven: a range keeps its newest (1.2), a parent its version (7), a
    // test dependency nothing (2.1 goes... but is the newest, kept by
    // keepLatest). PyPI: the newest of the specifier set, no pre-release
    // (1.3). NuGet: the lowest applicable (1.1.0).
    for (format, ns, package, kept) in [
        ("maven", Some("com.acme"), "ledger", "1.2"),
        ("maven", Some("com.acme"), "parent", "7"),
        ("pypi", None, "acme-models", "1.3"),
        ("nuget", None, "acme.primitives", "1.1.0"),
    ] {
        let out = invoke(&h, policy(format, ns, package, true), LEFT).await;
        assert_eq!(
            with_rule(&out, KeepRule::DependedOn),
            [kept],
            "{format} {package}: {:?}",
            out.lines
        );
    }

    // The function removes the edges of what it deletes itself (no event
    // is delivered here): with ui@3.1.0 and 3.2.0 gone, nothing needs core
    // or flaky any more.
    let ui = json!({"service": "codeartifact", "domain": "acme", "repository": "apps", "format": "npm",
        "namespace": "acme", "package": "ui", "versions": ["3.1.0", "3.2.0"]});
    assert_eq!(invoke(&h, ui, LEFT).await.summary.deleted, 2);
    let dry = invoke(&h, policy("npm", Some("acme"), "flaky", true), LEFT).await;
    assert!(
        with_rule(&dry, KeepRule::DependedOn).is_empty(),
        "{:?}",
        dry.lines
    );
    assert_eq!(planned(&dry), ["0.1.0", "0.2.0", "0.3.0"]);
}

/// The backfill under throttling and lost answers (CodeArtifact's reads
/// throttled three times in five, a tenth of the answers dropped): every
/// part ends indexed, nothing is dead-lettered, and the index is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_under_throttling_completes() {
    let Some((_guard, stack, _)) = stack("dependencies_throttled", world()).await else {
        return;
    };
    let (sqs, queues, h) = function(stack, "deps-throttled").await;
    let fault: packprune_emulator::state::Fault =
        serde_json::from_value(json!({"throttleRate": 0.6, "dropRate": 0.1})).unwrap();
    stack.emulator.shared.set_faults(
        [(
            "codeartifact:ListPackageVersionDependencies".to_owned(),
            fault,
        )]
        .into_iter()
        .collect(),
    );
    let out = invoke(
        &h,
        json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true}),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.packages_fanned_out, 10, "{:?}", out.summary);
    let started = std::time::Instant::now();
    let parts = drain(&sqs, &queues.work, &h, Duration::from_secs(300))
        .await
        .unwrap();
    stack.emulator.shared.set_faults(Default::default());
    // The figures RELIABILITY.md quotes (`--nocapture` prints them).
    let calls = stack.emulator.shared.calls();
    let reads = calls
        .iter()
        .filter(|c| c.operation == "ListPackageVersionDependencies");
    let (mut answered, mut throttled, mut dropped) = (0, 0, 0);
    for c in reads {
        match (c.status, c.error.as_deref()) {
            (200, _) => answered += 1,
            (0, _) => dropped += 1,
            (_, Some("ThrottlingException")) => throttled += 1,
            _ => {}
        }
    }
    let handed_on: u64 = parts.iter().map(|s| s.handed_on).sum();
    eprintln!(
        "backfill under faults: {:.1} s, {} invocations, ListPackageVersionDependencies answered {answered}, throttled {throttled}, dropped {dropped}; handed on {handed_on}",
        started.elapsed().as_secs_f64(),
        parts.len()
    );
    let dead: u64 = parts.iter().map(|s| s.dead_lettered).sum();
    assert_eq!(dead, 0, "{parts:?}");
    assert_eq!(parts.iter().map(|s| s.indexed).sum::<u64>(), 44);
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&dry, KeepRule::DependedOn), ["1.2.0", "1.9.0"]);
    assert!(with_rule(&dry, KeepRule::DependenciesUnknown).is_empty());
}

/// A part handed on in pieces (as a hand-on splits a part's versions over
/// messages) completes the index only once every piece is in: the first
/// piece alone leaves the domain's index incomplete, so a policy still
/// keeps everything as `DEPENDENCIES_UNKNOWN`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_in_pieces_completes_the_index_only_when_all_are_in() {
    let Some((_guard, stack, _)) = stack("dependencies_pieces", world()).await else {
        return;
    };
    let (sqs, queues, h) = function(stack, "deps-pieces").await;
    let backfill = json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true});
    assert_eq!(
        invoke(&h, backfill, LEFT).await.summary.packages_fanned_out,
        10
    );
    let parts = take_all(&sqs, &queues.work).await.unwrap();
    let (ui, others): (Vec<Value>, Vec<Value>) =
        parts.into_iter().partition(|p| p["package"] == "ui");
    let piece = |versions: &[&str]| {
        let mut p = ui[0].clone();
        p["versions"] = json!(versions);
        p
    };
    let mut first = others.clone();
    first.push(piece(&["3.0.0"]));
    let out = invoke(&h, fresh_sqs_event(&first), LEFT).await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(
        with_rule(&dry, KeepRule::DependenciesUnknown).len(),
        12,
        "incomplete"
    );
    let out = invoke(&h, fresh_sqs_event(&[piece(&["3.1.0"])]), LEFT).await;
    assert_eq!(out.summary.indexed, 1, "{:?}", out.summary);
    let dry = invoke(&h, policy("npm", Some("acme"), "core", true), LEFT).await;
    assert_eq!(with_rule(&dry, KeepRule::DependedOn), ["1.2.0", "1.9.0"]);
}
