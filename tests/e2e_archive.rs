//! Staged cleanup that keeps its promise: the function records when it
//! archives a version (and when CodeArtifact's own events say one was
//! archived) in the downloads table on moto's DynamoDB, and
//! `archivedForDays` deletes only what has been archived that long. Needs
//! the virtualenv `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::{Disposition, Reason};
use packprune::testkit::policy::KeepRule;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::downloads::*;
use support::*;

const DAY: f64 = 86_400.0;
const LEFT: Duration = Duration::from_secs(120);
const PARTITION: &str = "archive#111122223333/acme/npm-store/npm/acme/web";

/// `@acme/web` in `npm-store`: 1.0.0 to 1.8.0 published 100 to 92 days
/// ago, 1.9.0 40 days ago, 2.0.0 yesterday; 0.9.0 Archived long ago, by
/// means nobody recorded.
fn web() -> packprune_emulator::State {
    let t = now();
    let mut versions: Vec<Value> =
        vec![json!({"version": "0.9.0", "status": "Archived", "publishedTime": t - 200.0 * DAY})];
    versions.extend((0..9).map(
        |i| json!({"version": format!("1.{i}.0"), "publishedTime": t - (100 - i) as f64 * DAY}),
    ));
    versions.push(json!({"version": "1.9.0", "publishedTime": t - 40.0 * DAY}));
    versions.push(json!({"version": "2.0.0", "publishedTime": t - DAY}));
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "npm-store": {"packages": [{"format": "npm", "namespace": "acme", "package": "web", "versions": versions}]}
        }}}}}),
    )
}

fn request(policy: Value, action: Option<&str>) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store",
        "format": "npm", "namespace": "acme", "package": "web", "policy": policy});
    if let Some(a) = action {
        r["action"] = json!(a);
    }
    r
}

fn stage2() -> Value {
    request(
        json!({"statuses": ["Archived"], "archivedForDays": 60}),
        None,
    )
}

fn kept_by(out: &packprune::testkit::handler::Processed, rule: KeepRule) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines
        .iter()
        .filter(|l| l.disposition == Disposition::Kept && l.code == Some(Reason::Rule(rule)))
        .map(|l| l.item.to_string())
        .collect();
    v.sort();
    v
}

fn archived_event(version: &str, days_ago_: f64) -> Value {
    json!({"version": "0", "id": format!("archived-{version}"), "detail-type": "CodeArtifact Package Version State Change",
        "source": "aws.codeartifact", "account": "111122223333", "time": days_ago(days_ago_), "region": "us-east-1",
        "resources": [], "detail": {"domainName": "acme", "domainOwner": "111122223333", "repositoryName": "npm-store",
        "packageFormat": "npm", "packageNamespace": "acme", "packageName": "web", "packageVersion": version,
        "packageVersionState": "Archived", "operationType": "Updated", "sequenceNumber": 7,
        "changes": {"assetsAdded": 0, "assetsRemoved": 0, "assetsUpdated": 0, "metadataUpdated": false, "statusChanged": true}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_two_deletes_only_what_has_been_archived_for_the_window() {
    let Some((_guard, stack, _)) = stack("archive_window", web()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "archive").await.unwrap();
    let table = create_downloads_table("downloads-archive").await.unwrap();
    let h = in_process_handler(queues.config(&[("DOWNLOADS_TABLE", &table)])).await;
    let planned: Vec<String> = (0..9).map(|i| format!("1.{i}.0")).collect();

    // Stage 1 archives what is older than 30 days, keeping the newest 2.
    let out = invoke(
        &h,
        request(
            json!({"keepLatest": 2, "olderThanDays": 30}),
            Some("archive"),
        ),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.archived, 9, "{:?}", out.summary);

    // Stage 2 right away deletes nothing: nothing has been archived 60 days.
    let out = invoke(&h, stage2(), LEFT).await;
    assert_eq!(out.summary.deleted, 0, "{:?}", out.summary);
    assert_eq!(
        kept_by(&out, KeepRule::ArchivedFor).len(),
        12 - 1 - 2,
        "{:?}",
        out.lines
    );
    assert_eq!(kept_by(&out, KeepRule::ArchiveTimeUnknown), vec!["0.9.0"]);
    let detail = out
        .lines
        .iter()
        .find(|l| l.item.to_string() == "1.0.0")
        .and_then(|l| l.detail.clone())
        .unwrap();
    assert!(detail.contains("days ago"), "{detail}");

    // 61 days later (the recorded times moved back), it deletes what was
    // archived, and still not the version archived at an unknown time.
    assert_eq!(age_archive_times(&table, PARTITION, 61.0).await.unwrap(), 9);
    let out = invoke(&h, stage2(), LEFT).await;
    let mut deleted: Vec<String> = out
        .lines
        .iter()
        .filter(|l| l.disposition == Disposition::Deleted)
        .map(|l| l.item.to_string())
        .collect();
    deleted.sort();
    assert_eq!(deleted, planned);
    assert_eq!(kept_by(&out, KeepRule::ArchiveTimeUnknown), vec!["0.9.0"]);

    // CodeArtifact's own event records when 0.9.0 was archived: 70 days
    // ago. It comes as the template's ArchiveEventsRule delivers it: in an
    // SQS record of the usage queue.
    let out = invoke(&h, fresh_sqs_event(&[archived_event("0.9.0", 70.0)]), LEFT).await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert_eq!(out.summary.archives_recorded, 1, "{:?}", out.summary);
    let out = invoke(&h, stage2(), LEFT).await;
    assert_eq!(out.summary.deleted, 1, "{:?}", out.summary);
    let mut left = ca_versions(stack, "npm-store", "web").unwrap();
    left.sort();
    assert_eq!(left, vec!["1.9.0", "2.0.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_table_archived_for_days_is_refused_and_nothing_is_deleted() {
    let Some((_guard, stack, _)) = stack("archive_refused", web()).await else {
        return;
    };
    let queues = Queues::create(&stack.sqs().await, "archive-off")
        .await
        .unwrap();
    let h = in_process_handler(queues.config(&[])).await;
    stack.emulator.shared.clear_calls();
    let out = invoke(&h, stage2(), LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
    assert!(
        out.summary.invalid[0].contains("DOWNLOADS_TABLE is not set"),
        "{:?}",
        out.summary.invalid
    );
    assert!(stack.emulator.shared.calls().is_empty());
    assert_eq!(ca_versions(stack, "npm-store", "web").unwrap().len(), 12);

    // Archive times expire with the table's TTL: a longer window could
    // never be met, and would keep every version ARCHIVE_TIME_UNKNOWN.
    let table = create_downloads_table("downloads-archive-ttl")
        .await
        .unwrap();
    let h = in_process_handler(
        queues.config(&[("DOWNLOADS_TABLE", &table), ("DOWNLOADS_TTL_DAYS", "30")]),
    )
    .await;
    let out = invoke(&h, stage2(), LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
    assert!(
        out.summary.invalid[0].contains("archivedForDays` is longer than DOWNLOADS_TTL_DAYS (30)"),
        "{:?}",
        out.summary.invalid
    );
    assert!(stack.emulator.shared.calls().is_empty());
    assert_eq!(ca_versions(stack, "npm-store", "web").unwrap().len(), 12);
}
