//! Storage accounting and package-group scopes end to end: the emulator's
//! ListPackageVersionAssets, ListRepositoriesInDomain and
//! ListAssociatedPackages through the real SDK, run reports in moto's S3,
//! the work queue in moto's SQS. Needs the virtualenv `make test` creates
//! (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::Disposition;
use packprune::testkit::handler::Processed;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::reports::*;
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(120);

/// Versions published a day apart, oldest first, each with the assets
/// `assets(version)` gives.
fn versions(names: &[&str], assets: impl Fn(usize, &str) -> Value) -> Vec<Value> {
    let t = now();
    let n = names.len();
    names
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"version": v, "publishedTime": t - (n - i) as f64 * DAY, "assets": assets(i, v)}))
        .collect()
}

fn tgz(size: u64) -> Value {
    json!([{"name": "package.tgz", "size": size}])
}

const WEB: [&str; 6] = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"];

/// `releases` holds `web` 1.0.0 to 1.5.0 (1,000 to 6,000 bytes; 1.0.0 in
/// two assets). `mirror`, neither upstream nor downstream of it, holds
/// 1.0.0 and 1.1.0, and 1.2.0 Disposed (no assets left). `staging` has
/// `releases` as its upstream and holds only 1.5.0. `tool` has an asset
/// whose size is not given.
fn storage_world() -> packprune_emulator::State {
    let web = versions(&WEB, |i, _| match i {
        0 => json!([{"name": "package.tgz", "size": 900}, {"name": "README.md", "size": 100}]),
        i => tgz(1000 * (i as u64 + 1)),
    });
    let mirror: Vec<Value> = web[..3].to_vec();
    let mut mirror = mirror;
    mirror[2]["status"] = json!("Disposed");
    let tool = versions(&["0.1", "0.2", "0.3"], |i, _| match i {
        0 => json!([{"name": "tool-0.1.tar.gz"}]),
        _ => json!([{"name": "tool.whl", "size": 10}]),
    });
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "releases": {"packages": [
                {"format": "npm", "package": "web", "versions": web},
                {"format": "pypi", "package": "tool", "versions": tool}
            ]},
            "mirror": {"packages": [{"format": "npm", "package": "web", "versions": mirror}]},
            "staging": {"upstreams": ["releases"], "packages": [
                {"format": "npm", "package": "web", "versions": [web[5].clone()]}
            ]}
        }}}}}),
    )
}

fn web_policy(dry_run: bool) -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm",
        "package": "web", "policy": {"keepLatest": 2}, "measureStorage": true, "dryRun": dry_run})
}

fn of(out: &Processed, disposition: Disposition) -> Vec<String> {
    let mut v: Vec<String> = (out.lines.iter())
        .filter(|l| l.disposition == disposition)
        .map(|l| l.item.to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_what_it_would_free_and_the_run_frees_it() {
    let Some((_guard, stack, _)) = stack("storage", storage_world()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "storage").await.unwrap();
    let bucket = create_bucket("reports-storage").await.unwrap();
    let h = in_process_handler(queues.config(&[("REPORTS_BUCKET", &bucket)])).await;

    let dry = invoke(&h, web_policy(true), LEFT).await;
    let storage = dry.summary.storage.expect("measured");
    assert_eq!(
        (storage.bytes, storage.shared_bytes),
        (10_000, 3_000),
        "{:?}",
        dry.summary
    );
    assert_eq!(dry.summary.unknown_size_versions, 0);
    assert_eq!(
        dry.response["storage"],
        json!({"bytes": 10_000, "sharedBytes": 3_000})
    );
    // Each version of the plan carries its bytes and whether they are
    // shared (1.2.0 is Disposed in `mirror`: not held there).
    let plan = &dry.response["plans"][0]["storage"];
    assert_eq!(
        plan["1.0.0"],
        json!({"bytes": 1000, "shared": true}),
        "{plan}"
    );
    assert_eq!(plan["1.1.0"], json!({"bytes": 2000, "shared": true}));
    assert_eq!(plan["1.2.0"], json!({"bytes": 3000, "shared": false}));
    assert_eq!(plan["1.3.0"], json!({"bytes": 4000, "shared": false}));
    assert!(
        plan.get("1.4.0").is_none(),
        "kept versions are not measured: {plan}"
    );
    // The report says the same, and its Markdown leads with it.
    let (json_uri, csv_uri, md_uri, _) = links(&dry.response).unwrap();
    let plan_report = report(&json_uri).await.unwrap();
    let freed = plan_report.storage.expect("the report storage");
    assert_eq!((freed.bytes, freed.shared_bytes), (10_000, 3_000));
    let row = |v: &str| {
        plan_report.packages[0]
            .versions
            .iter()
            .find(|r| r.version == v)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (row("1.1.0").bytes, row("1.1.0").shared),
        (Some(2000), Some(true))
    );
    let csv = String::from_utf8(get(&csv_uri).await.unwrap()).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("acme/releases/npm/web,1.3.0,delete,")
                && l.ends_with(",4000,false")),
        "{csv}"
    );
    let md = String::from_utf8(get(&md_uri).await.unwrap()).unwrap();
    let lead = md
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap();
    assert!(lead.starts_with("**Would free 7,000 bytes"), "{md}");

    // The real run deletes what the plan named and reports the same.
    let run = invoke(&h, web_policy(false), LEFT).await;
    assert_eq!(
        of(&run, Disposition::Deleted),
        ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
    );
    let storage = run.summary.storage.expect("measured");
    assert_eq!((storage.bytes, storage.shared_bytes), (10_000, 3_000));
    let (json_uri, ..) = links(&run.response).unwrap();
    let freed = report(&json_uri).await.unwrap().storage.unwrap();
    assert_eq!((freed.bytes, freed.shared_bytes), (10_000, 3_000));
    assert_eq!(
        ca_versions(stack, "mirror", "web").unwrap(),
        ["1.0.0", "1.1.0", "1.2.0"]
    );

    // A size not given is counted apart, never as 0 bytes.
    let tool = json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "pypi",
        "package": "tool", "policy": {"keepLatest": 2}, "measureStorage": true, "dryRun": true});
    let out = invoke(&h, tool, LEFT).await;
    assert_eq!(out.summary.unknown_size_versions, 1, "{:?}", out.summary);
    assert_eq!(
        out.response["storage"],
        json!({"bytes": 0, "sharedBytes": 0})
    );
    assert_eq!(
        out.response["plans"][0]["storage"]["0.1"],
        json!({"bytes": null, "shared": false})
    );

    // IoT has no assets to count: refused, saying so.
    let iot = json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 1}, "measureStorage": true});
    let out = invoke(&h, iot, LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1);
    assert!(
        out.summary.invalid[0].contains("no assets"),
        "{:?}",
        out.summary.invalid
    );
}

/// `releases` holds npm `acme/core`, `acme/cli`, `acme/ui-kit` (in the
/// more specific group `/npm/acme/ui~`), `other/x` and PyPI `acme-tools`;
/// `apps` holds `acme/lonely`, of the group but not in `releases`.
fn group_world() -> packprune_emulator::State {
    let four = || versions(&["1.0.0", "1.1.0", "1.2.0", "1.3.0"], |_, _| tgz(100));
    let npm = |ns: &str, p: &str| json!({"format": "npm", "namespace": ns, "package": p, "versions": four()});
    seed(json!({"codeartifact": {"domains": {"acme": {
        "packageGroups": [{"pattern": "/npm/acme/*"}, {"pattern": "/npm/acme/ui~"}],
        "repositories": {
            "releases": {"packages": [
                npm("acme", "core"), npm("acme", "cli"), npm("acme", "ui-kit"), npm("other", "x"),
                {"format": "pypi", "package": "acme-tools", "versions": four()}
            ]},
            "apps": {"packages": [npm("acme", "lonely")]}
        }
    }}}}))
}

fn group_policy(pattern: &str) -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
        "packageGroup": pattern, "policy": {"keepLatest": 2}})
}

const ALL_FOUR: [&str; 4] = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_over_a_group_trims_only_the_groups_packages() {
    let Some((_guard, stack, _)) = stack("groups", group_world()).await else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "groups").await.unwrap();
    let h = in_process_handler(queues.config(&[])).await;

    // A group that does not exist deletes nothing, and says so.
    let out = invoke(&h, group_policy("/npm/acme-typo/*"), LEFT).await;
    assert_eq!(out.summary.deleted, 0);
    assert_eq!(out.summary.packages_not_found, 1, "{:?}", out.summary);
    assert_eq!(
        out.summary.missing_packages,
        ["acme/releases/group:/npm/acme-typo/*"]
    );
    assert_eq!(
        out.lines[0].detail.as_deref(),
        Some("package group not found")
    );
    assert!(write_calls(stack).is_empty(), "{:?}", write_calls(stack));

    // `/npm/acme/*` fans out over the work queue: core and cli, not ui-kit
    // (its group is `/npm/acme/ui~`), nor other/x, nor the PyPI package;
    // `lonely`, not in `releases`, is skipped quietly.
    let out = invoke(&h, group_policy("/npm/acme/*"), LEFT).await;
    assert_eq!(out.summary.packages_fanned_out, 2, "{:?}", out.summary);
    let parts = drain(&sqs, &queues.work, &h, LEFT).await.unwrap();
    assert_eq!(parts.iter().map(|s| s.deleted).sum::<u64>(), 4, "{parts:?}");
    assert_eq!(parts.iter().map(|s| s.packages_not_found).sum::<u64>(), 0);
    for p in ["core", "cli"] {
        assert_eq!(
            ca_versions(stack, "releases", p).unwrap(),
            ["1.2.0", "1.3.0"],
            "{p}"
        );
    }
    for p in ["ui-kit", "x", "acme-tools"] {
        assert_eq!(ca_versions(stack, "releases", p).unwrap(), ALL_FOUR, "{p}");
    }
    assert_eq!(ca_versions(stack, "apps", "lonely").unwrap(), ALL_FOUR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_group_admits_its_packages_and_no_other() {
    let Some((_guard, stack, _)) = stack("groups_allowed", group_world()).await else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "allowed").await.unwrap();
    let bucket = create_bucket("reports-groups").await.unwrap();
    let h = in_process_handler(queues.config(&[
        ("ALLOWED_TARGETS", "group:acme/releases:/npm/acme/*"),
        ("REPORTS_BUCKET", &bucket),
    ]))
    .await;
    let one = |p: &str| {
        json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm",
            "namespace": "acme", "package": p, "policy": {"keepLatest": 3}})
    };
    // A group read that fails is retried, never skipped: nothing is
    // deleted or refused, and the request is handed on.
    let fault: packprune_emulator::state::Fault =
        serde_json::from_value(json!({"errorRate": 1.0})).unwrap();
    let faults = [("codeartifact:GetAssociatedPackageGroup".to_owned(), fault)];
    stack
        .emulator
        .shared
        .set_faults(faults.into_iter().collect());
    let out = invoke(&h, one("core"), LEFT).await;
    assert_eq!(
        (out.summary.deleted, out.summary.dead_lettered),
        (0, 0),
        "{:?}",
        out.summary
    );
    assert_eq!(out.summary.handed_on, 1, "{:?}", out.summary);
    stack.emulator.shared.set_faults(Default::default());
    // Once it reads, the package of the group, named alone, is admitted.
    let parts = drain(&sqs, &queues.work, &h, LEFT).await.unwrap();
    assert_eq!(parts.iter().map(|s| s.deleted).sum::<u64>(), 1, "{parts:?}");
    assert_eq!(
        ca_versions(stack, "releases", "core").unwrap(),
        ["1.1.0", "1.2.0", "1.3.0"]
    );
    // One of a child group is not.
    let out = invoke(&h, one("ui-kit"), LEFT).await;
    assert_eq!(out.summary.deleted, 0);
    assert_eq!(out.summary.dead_lettered, 1, "{:?}", out.summary);
    assert!(out.lines[0]
        .detail
        .as_deref()
        .unwrap_or("")
        .contains("outside ALLOWED_TARGETS"));
    // A scope over the namespace runs only on the packages the group
    // admits: core and cli, not ui-kit.
    let namespace = json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm",
        "namespace": "acme", "policy": {"keepLatest": 2}});
    let out = invoke(&h, namespace, LEFT).await;
    assert_eq!(out.summary.packages_fanned_out, 2, "{:?}", out.summary);
    let parts = drain(&sqs, &queues.work, &h, LEFT).await.unwrap();
    assert_eq!(parts.iter().map(|s| s.deleted).sum::<u64>(), 3, "{parts:?}");
    // The group itself: its plan names its two packages, and the apply of
    // that plan, one request per package, is admitted package by package.
    let mut plan = group_policy("/npm/acme/*");
    plan["dryRun"] = json!(true);
    plan["policy"] = json!({"keepLatest": 1});
    let dry = invoke(&h, plan, LEFT).await;
    let (json_uri, _, _, sha) = links(&dry.response).unwrap();
    assert_eq!(
        with_fate(&report(&json_uri).await.unwrap(), "delete"),
        ["1.2.0", "1.2.0"]
    );
    let apply = json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    drain(&sqs, &queues.work, &h, LEFT).await.unwrap();
    assert_eq!(out.summary.dead_lettered, 0, "{:?}", out.summary);
    assert_eq!(ca_versions(stack, "releases", "ui-kit").unwrap(), ALL_FOUR);
    assert_eq!(ca_versions(stack, "releases", "core").unwrap(), ["1.3.0"]);
    assert_eq!(ca_versions(stack, "releases", "cli").unwrap(), ["1.3.0"]);
}
