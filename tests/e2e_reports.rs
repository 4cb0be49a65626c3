//! Run reports and `apply` end to end: the function (in process, its
//! clients built as `main` builds them) against the emulator and moto's S3,
//! through the standard `AWS_ENDPOINT_URL_*` variables. A dry run writes a
//! plan to the reports bucket; an apply carries out exactly that plan.
//! Needs the virtualenv `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::{Disposition, Reason};
use packprune::testkit::policy::KeepRule;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::reports::*;
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(600);

/// `@acme/web` in `npm-store`: 1.0.0 to 1.8.0 published 100 to 92 days
/// ago, 1.9.0 40 days ago, 2.0.0 yesterday (npm's `latest`).
fn web() -> packprune_emulator::State {
    let t = now();
    let mut versions: Vec<Value> = (0..9)
        .map(
            |i| json!({"version": format!("1.{i}.0"), "publishedTime": t - (100 - i) as f64 * DAY}),
        )
        .collect();
    versions.push(json!({"version": "1.9.0", "publishedTime": t - 40.0 * DAY}));
    versions.push(json!({"version": "2.0.0", "publishedTime": t - DAY}));
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "npm-store": {"packages": [{"format": "npm", "namespace": "acme", "package": "web", "versions": versions}]}
        }}}}}),
    )
}

fn policy(extra: Value) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store",
        "format": "npm", "namespace": "acme", "package": "web",
        "policy": {"keepLatest": 2, "olderThanDays": 30}});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// A handler with its own queues and reports bucket.
async fn setup(stack: &Stack, tag: &str) -> packprune::Handler {
    let queues = Queues::create(&stack.sqs().await, tag).await.unwrap();
    let bucket = create_bucket(&format!("reports-{tag}")).await.unwrap();
    in_process_handler(queues.config(&[
        ("REPORTS_BUCKET", &bucket),
        (
            "RATE_LIMITS",
            "codeartifact.list=1000,codeartifact.write=1000",
        ),
    ]))
    .await
}

/// Changes the emulator's `web` package.
fn edit_web(stack: &Stack, f: impl FnOnce(&mut packprune_emulator::state::CaPackage)) {
    let mut state = stack.emulator.shared.state();
    let pkg = state
        .codeartifact
        .domains
        .get_mut("acme")
        .unwrap()
        .repositories
        .get_mut("npm-store")
        .unwrap()
        .packages
        .iter_mut()
        .find(|p| p.package == "web")
        .unwrap();
    f(pkg);
    stack.emulator.shared.set_state(state);
}

fn planned(versions: std::ops::Range<u32>) -> Vec<String> {
    versions.map(|i| format!("1.{i}.0")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_runs_report_lists_exactly_what_the_apply_then_deletes() {
    let Some((_guard, stack, _)) = stack("reports_exact", web()).await else {
        return;
    };
    let h = setup(stack, "exact").await;
    let dry = invoke(&h, policy(json!({"dryRun": true})), LEFT).await;
    let (json_uri, csv_uri, md_uri, sha) = links(&dry.response).unwrap();
    let bytes = get(&json_uri).await.unwrap();
    assert_eq!(
        packprune::report::sha256_hex(&bytes),
        sha,
        "the digest is report.json's"
    );
    let plan = report(&json_uri).await.unwrap();
    assert_eq!(plan.plan_id.as_deref(), Some(plan.id.as_str()));
    assert!(plan.expires_at.is_some());
    assert_eq!(with_fate(&plan, "delete"), planned(0..9));
    assert_eq!(dry.summary.deleted, 0);
    // A reviewer can check it from the response: what would change, by
    // action, and the publish times the function read to decide ages.
    assert_eq!(dry.response["planned"], json!({"delete": 9}));
    let published = dry.response["plans"][0]["published"].as_object().unwrap();
    assert!(!published.is_empty(), "{}", dry.response);
    // So the CSV's columns are compared where they hold something.
    let rows = plan.packages.iter().flat_map(|p| &p.versions);
    assert!(rows
        .clone()
        .all(|r| r.status.is_some() && r.revision.is_some()));
    assert!(rows.clone().any(|r| r.published.is_some()));
    for (v, at) in published {
        let row = plan.packages[0]
            .versions
            .iter()
            .find(|r| &r.version == v)
            .unwrap();
        assert_eq!(row.published.as_deref(), at.as_str(), "{v}");
    }
    assert_eq!(ca_versions(stack, "npm-store", "web").unwrap().len(), 11);
    assert_agrees(
        &plan,
        &get(&csv_uri).await.unwrap(),
        &get(&md_uri).await.unwrap(),
        &sha,
    );

    // Since the plan: an older version appears, which the policy would
    // select now. The apply does not touch it.
    edit_web(stack, |p| {
        p.versions.push(
            serde_json::from_value(
                json!({"version": "0.9.0", "publishedTime": now() - 200.0 * DAY}),
            )
            .unwrap(),
        )
    });
    let apply = json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    assert_eq!(out.summary.requested, 9, "{:?}", out.summary);
    assert_eq!(out.summary.deleted, 9, "{:?}", out.summary);
    let mut deleted: Vec<String> = out
        .lines
        .iter()
        .filter(|l| l.disposition == Disposition::Deleted)
        .map(|l| l.item.to_string())
        .collect();
    deleted.sort();
    assert_eq!(deleted, planned(0..9));
    let mut left = ca_versions(stack, "npm-store", "web").unwrap();
    left.sort();
    assert_eq!(left, vec!["0.9.0", "1.9.0", "2.0.0"]);
    // The apply's own report names the plan.
    let (applied_uri, ..) = links(&out.response).unwrap();
    let applied = report(&applied_uri).await.unwrap();
    assert_eq!(applied.kind, packprune::report::Kind::Apply);
    assert_eq!(applied.applies.as_ref().unwrap().plan_id, plan.id);
    assert_eq!(with_fate(&applied, "deleted").len(), 9);
}

/// report.csv has report.json's rows; report.md its counts, its versions
/// to go and its digest.
fn assert_agrees(plan: &packprune::report::Report, csv: &[u8], md: &[u8], sha: &str) {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "package",
            "version",
            "fate",
            "rule",
            "detail",
            "status",
            "revision",
            "published",
            "bytes",
            "shared"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    let json_rows: Vec<Vec<String>> = plan
        .packages
        .iter()
        .flat_map(|p| p.versions.iter().map(move |v| (p, v)))
        .map(|(p, v)| {
            vec![
                p.package.clone(),
                v.version.clone(),
                v.fate.clone(),
                o(&v.rule),
                o(&v.detail),
                o(&v.status),
                o(&v.revision),
                o(&v.published),
                v.bytes.map(|b| b.to_string()).unwrap_or_default(),
                v.shared.map(|s| s.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    assert_eq!(
        rows, json_rows,
        "report.csv has report.json's rows, every column"
    );
    let md = String::from_utf8(md.to_vec()).unwrap();
    assert!(md.contains(sha));
    let going = with_fate(plan, "delete");
    assert!(
        md.contains(&format!("To delete ({}):", going.len())),
        "{md}"
    );
    let listed: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("- `")?.split('`').next())
        .collect();
    assert_eq!(
        listed, going,
        "the Markdown lists the versions to go, in order"
    );
    let kept = json_rows.iter().filter(|r| r[3] == "keepLatest").count();
    assert!(
        md.contains(&format!("| kept | keepLatest | {kept} |")),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_changed_or_protected_since_the_plan_is_kept() {
    let Some((_guard, stack, _)) = stack("reports_stale", web()).await else {
        return;
    };
    let h = setup(stack, "stale").await;
    let dry = invoke(&h, policy(json!({"dryRun": true})), LEFT).await;
    let (json_uri, _, _, sha) = links(&dry.response).unwrap();
    edit_web(stack, |p| {
        // 1.0.0 republished (a new revision), 1.1.0 archived, 1.2.0 made
        // npm's `latest`.
        p.versions[0].revision = Some("REV-REPUBLISHED".into());
        p.versions[1].status = "Archived".into();
        p.default_display_version = Some("1.2.0".into());
    });
    // Applied inline this time, as a reviewer would paste it.
    let inline: Value = serde_json::from_slice(&get(&json_uri).await.unwrap()).unwrap();
    let apply = json!({"service": "codeartifact", "apply": {"plan": inline, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    let rule = |v: &str| {
        let l = out.lines.iter().find(|l| l.item.to_string() == v).unwrap();
        (
            l.disposition,
            l.code.clone(),
            l.detail.clone().unwrap_or_default(),
        )
    };
    let (d, code, detail) = rule("1.0.0");
    assert_eq!(
        (d, code),
        (Disposition::Kept, Some(Reason::Rule(KeepRule::PlanStale)))
    );
    assert!(detail.contains("revision"), "{detail}");
    let (d, code, detail) = rule("1.1.0");
    assert_eq!(
        (d, code),
        (Disposition::Kept, Some(Reason::Rule(KeepRule::PlanStale)))
    );
    assert!(detail.contains("status was Published"), "{detail}");
    let (d, code, _) = rule("1.2.0");
    assert_eq!(
        (d, code),
        (
            Disposition::Kept,
            Some(Reason::Rule(KeepRule::DefaultDisplayVersion))
        )
    );
    assert_eq!(out.summary.deleted, 6, "{:?}", out.summary);
    let mut left = ca_versions(stack, "npm-store", "web").unwrap();
    left.sort();
    assert_eq!(left, vec!["1.0.0", "1.1.0", "1.2.0", "1.9.0", "2.0.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_expired_plan_is_refused_before_any_call() {
    let Some((_guard, stack, _)) = stack("reports_refused", web()).await else {
        return;
    };
    let h = setup(stack, "refused").await;
    // Valid for about 2 seconds.
    let dry = invoke(
        &h,
        policy(json!({"dryRun": true, "planValidForDays": 0.00002})),
        LEFT,
    )
    .await;
    let (json_uri, _, _, sha) = links(&dry.response).unwrap();
    let mut tampered: Value = serde_json::from_slice(&get(&json_uri).await.unwrap()).unwrap();
    let versions = tampered["packages"][0]["versions"].as_array_mut().unwrap();
    let latest = versions
        .iter_mut()
        .find(|v| v["version"] == "2.0.0")
        .unwrap();
    latest["fate"] = json!("delete");
    latest.as_object_mut().unwrap().remove("rule");
    let copy = json_uri.replace("report.json", "tampered.json");
    put(&copy, serde_json::to_vec(&tampered).unwrap())
        .await
        .unwrap();
    stack.emulator.shared.clear_calls();
    for apply in [
        json!({"report": json_uri.replace("report.json", "tampered.json"), "sha256": sha}),
        json!({"plan": tampered, "sha256": sha}),
    ] {
        let out = invoke(&h, json!({"service": "codeartifact", "apply": apply}), LEFT).await;
        assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
        assert!(
            out.summary.invalid[0].contains("changed since it was reviewed"),
            "{:?}",
            out.summary.invalid
        );
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let out = invoke(
        &h,
        json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}}),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.invalid_requests, 1);
    assert!(
        out.summary.invalid[0].contains("expired"),
        "{:?}",
        out.summary.invalid
    );
    // A hand-on (or redrive) of one of its packages, later: refused too.
    let plan = report(&json_uri).await.unwrap();
    let hand_on =
        packprune::report::requests(&plan, &sha, false, None).unwrap()[0].to_raw(None, Some(2));
    let out = invoke(&h, serde_json::to_value(&hand_on).unwrap(), LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
    assert!(
        out.summary.invalid[0].contains("expired"),
        "{:?}",
        out.summary.invalid
    );
    assert_eq!(
        stack.emulator.shared.calls().len(),
        0,
        "no package call was made"
    );
    assert_eq!(ca_versions(stack, "npm-store", "web").unwrap().len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_50000_versions_returns_a_capped_response_and_a_complete_report() {
    let versions: Vec<Value> = (0..50_000)
        .map(|i| json!({"version": format!("1.{}.{}", i / 1000, i % 1000), "publishedDaysAgo": 100.0 + f64::from(i) / 1000.0}))
        .collect();
    let state = seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "npm-store": {"packages": [{"format": "npm", "package": "big", "versions": versions}]}
        }}}}}),
    );
    let Some((_guard, stack, _)) = stack("reports_big", state).await else {
        return;
    };
    let h = setup(stack, "big").await;
    let request = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store",
        "format": "npm", "package": "big", "policy": {"keepLatest": 10}, "dryRun": true});
    let out = invoke(&h, request, LEFT).await;
    let response = serde_json::to_vec(&out.response).unwrap();
    assert!(
        response.len() < 256 * 1024,
        "a response of {} bytes",
        response.len()
    );
    assert_eq!(out.response["plansTruncated"], json!(true));
    let plan = &out.response["plans"][0];
    assert_eq!(plan["truncated"], json!({"delete": 49_990, "keep": 10}));
    assert!(plan["delete"].as_array().unwrap().len() <= 1_000);
    let (json_uri, csv_uri, md_uri, sha) = links(&out.response).unwrap();
    let full = report(&json_uri).await.unwrap();
    assert_eq!(full.packages[0].versions.len(), 50_000);
    assert_eq!(with_fate(&full, "delete").len(), 49_990);
    assert_agrees(
        &full,
        &get(&csv_uri).await.unwrap(),
        &get(&md_uri).await.unwrap(),
        &sha,
    );
}
