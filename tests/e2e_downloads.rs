//! Download-aware retention end to end: CloudTrail `ReadFromRepository`
//! events through a usage queue on moto's SQS, recorded in a downloads table
//! on moto's DynamoDB (created from `template.yaml`), read back by a
//! CodeArtifact policy with `notDownloadedForDays`. Needs the virtualenv
//! `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::Disposition;
use packprune::testkit::policy::KeepRule;
use packprune_emulator::state::now;
use serde_json::{json, Value};
use support::downloads::*;
use support::*;

const DAY: f64 = 86_400.0;
const WEB_KEY: &str = "package#111122223333/acme/npm/acme/web";

/// `@acme/web` in `npm-store`: 1.0.0 to 1.4.0 published 60 to 56 days
/// ago, 2.0.0 a day ago (npm's `latest`). `npm-app` is a downstream
/// repository of the same domain.
fn web() -> packprune_emulator::State {
    let t = now();
    let mut versions: Vec<Value> = (0..5)
        .map(|i| json!({"version": format!("1.{i}.0"), "publishedTime": t - (60 - i) as f64 * DAY}))
        .collect();
    versions.push(json!({"version": "2.0.0", "publishedTime": t - DAY}));
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "npm-store": {"packages": [{"format": "npm", "namespace": "acme", "package": "web", "versions": versions}]},
            "npm-app": {"packages": []}
        }}}}}),
    )
}

fn policy(extra: Value) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "npm-store",
        "format": "npm", "namespace": "acme", "package": "web",
        "policy": {"olderThanDays": 30, "notDownloadedForDays": 30}});
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// A handler with its own queues and downloads table, and the usage queue.
async fn setup(stack: &Stack, tag: &str) -> (packprune::Handler, String, String) {
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, tag).await.unwrap();
    let table = create_downloads_table(&format!("downloads-{tag}"))
        .await
        .unwrap();
    let usage = sqs
        .create_queue()
        .queue_name(format!("usage-{tag}"))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let h = in_process_handler(queues.config(&[("DOWNLOADS_TABLE", &table)])).await;
    (h, table, usage)
}

/// Sends the events to the usage queue (as the EventBridge rule would),
/// receives them and runs them through the function; returns the output
/// and the records' message ids, in the order sent.
async fn record(
    stack: &Stack,
    h: &packprune::Handler,
    usage: &str,
    events: &[Value],
) -> (packprune::testkit::handler::Processed, Vec<String>) {
    let sqs = stack.sqs().await;
    let mut ids = Vec::new();
    for e in events {
        let sent = sqs
            .send_message()
            .queue_url(usage)
            .message_body(e.to_string())
            .send()
            .await
            .unwrap();
        ids.push(sent.message_id().unwrap().to_owned());
    }
    let got = receive(&sqs, usage, events.len()).await.unwrap();
    assert_eq!(got.len(), events.len());
    let mut records: Vec<Value> = got.iter().map(|m| sqs_record(usage, m)).collect();
    records.sort_by_key(|r| ids.iter().position(|i| r["messageId"] == *i));
    for m in &got {
        sqs.delete_message()
            .queue_url(usage)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    let out = invoke(h, json!({ "Records": records }), Duration::from_secs(20)).await;
    (out, ids)
}

fn kept(out: &packprune::testkit::handler::Processed, rule: KeepRule) -> Vec<(String, String)> {
    out.lines
        .iter()
        .filter(|l| {
            l.disposition == Disposition::Kept
                && l.code
                    .as_ref()
                    .is_some_and(|c| c.to_string() == rule.as_str())
        })
        .map(|l| (l.item.to_string(), l.detail.clone().unwrap_or_default()))
        .collect()
}

fn deleted(out: &packprune::testkit::handler::Processed) -> Vec<String> {
    out.lines
        .iter()
        .filter(|l| l.disposition == Disposition::Deleted)
        .map(|l| l.item.to_string())
        .collect()
}

#[tokio::test]
async fn a_version_read_3_days_ago_survives_while_unread_siblings_go() {
    let Some((_g, stack, _)) = stack("downloads_survive", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "survive").await;
    recording_since(&table, "acme", 40.0).await.unwrap();
    let events = [
        npm_read(
            "npm-store",
            Some("@acme"),
            "web",
            "1.1.0",
            &days_ago(3.0),
            1,
        ),
        npm_read(
            "npm-store",
            Some("@acme"),
            "web",
            "1.1.0",
            &days_ago(9.0),
            2,
        ),
        // Read, but before the window: no protection.
        npm_read(
            "npm-store",
            Some("@acme"),
            "web",
            "1.3.0",
            &days_ago(45.0),
            3,
        ),
    ];
    let (out, _) = record(stack, &h, &usage, &events).await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert_eq!(
        (out.summary.read_events, out.summary.versions_recorded),
        (3, 2)
    );
    let dry = invoke(&h, policy(json!({"dryRun": true})), Duration::from_secs(20)).await;
    let real = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    let recent = kept(&real, KeepRule::RecentlyDownloaded);
    assert_eq!(recent.len(), 1, "{:?}", real.lines);
    assert_eq!(recent[0].0, "1.1.0");
    assert!(recent[0].1.contains("(3.0 days ago)"), "{}", recent[0].1);
    let mut gone = deleted(&real);
    gone.sort();
    assert_eq!(
        gone,
        vec!["1.0.0", "1.2.0", "1.3.0", "1.4.0"],
        "its unread siblings of the same age go"
    );
    assert_eq!(
        dry.summary.plans[0].selected, gone,
        "the dry run planned exactly that"
    );
    assert_eq!(kept(&dry, KeepRule::RecentlyDownloaded), recent);
    assert_eq!(
        ca_versions(stack, "npm-store", "web").unwrap(),
        vec!["1.1.0", "2.0.0"]
    );
}

#[tokio::test]
async fn a_read_through_a_downstream_repository_protects_the_upstream_version() {
    let Some((_g, stack, _)) = stack("downloads_downstream", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "downstream").await;
    recording_since(&table, "acme", 40.0).await.unwrap();
    let read = npm_read("npm-app", Some("@acme"), "web", "1.2.0", &days_ago(2.0), 1);
    assert_eq!(
        read["detail"]["requestParameters"]["repositoryName"],
        "npm-app"
    );
    let (out, _) = record(stack, &h, &usage, &[read]).await;
    assert_eq!(out.summary.versions_recorded, 1);
    let real = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    let recent = kept(&real, KeepRule::RecentlyDownloaded);
    assert_eq!(
        recent.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        vec!["1.2.0"]
    );
    assert!(ca_versions(stack, "npm-store", "web")
        .unwrap()
        .contains(&"1.2.0".to_owned()));
}

#[tokio::test]
async fn duplicate_and_out_of_order_batches_never_move_a_read_time_backwards() {
    let Some((_g, stack, _)) = stack("downloads_order", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "order").await;
    let (newest, older, oldest) = (days_ago(1.0), days_ago(4.0), days_ago(8.0));
    let read = |t: &str, seq| npm_read("npm-store", Some("@acme"), "web", "1.0.0", t, seq);
    let ms = |t: &str| {
        (time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp_nanos()
            / 1_000_000) as i64
    };
    // Out of order within one batch.
    record(
        stack,
        &h,
        &usage,
        &[read(&older, 1), read(&newest, 2), read(&oldest, 3)],
    )
    .await;
    assert_eq!(
        last_read(&table, WEB_KEY, "1.0.0").await.unwrap(),
        Some(ms(&newest))
    );
    // An older batch, delivered later, and the same batch twice.
    for batch in [
        vec![read(&oldest, 4), read(&older, 5)],
        vec![read(&newest, 2), read(&older, 1)],
    ] {
        let (out, _) = record(stack, &h, &usage, &batch).await;
        assert_eq!(out.response, json!({"batchItemFailures": []}));
        assert_eq!(
            last_read(&table, WEB_KEY, "1.0.0").await.unwrap(),
            Some(ms(&newest))
        );
    }
}

#[tokio::test]
async fn recording_younger_than_the_window_deletes_nothing_and_says_why() {
    let Some((_g, stack, _)) = stack("downloads_young", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "young").await;
    // Recording begins with this batch, whose event is 5 days old: the
    // marker is when it was written (less 15 minutes at most), not the
    // event's time, so that replayed old events cannot backdate it.
    let read = npm_read(
        "npm-store",
        Some("@acme"),
        "web",
        "1.1.0",
        &days_ago(5.0),
        1,
    );
    record(stack, &h, &usage, &[read]).await;
    let real = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    assert!(deleted(&real).is_empty(), "nothing is deleted");
    let unknown = kept(&real, KeepRule::DownloadsUnknown);
    assert_eq!(unknown.len(), 5, "every candidate: {:?}", real.lines);
    assert!(
        unknown[0].1.contains("(0.0 days)")
            && unknown[0].1.contains("less than notDownloadedForDays (30)"),
        "{}",
        unknown[0].1
    );
    // Recording that began 10 days ago: still too young, and it says so.
    recording_since(&table, "acme", 10.0).await.unwrap();
    let sqs = stack.sqs().await;
    let fresh = Queues::create(&sqs, "young-10").await.unwrap();
    let h = in_process_handler(fresh.config(&[("DOWNLOADS_TABLE", &table)])).await;
    let real = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    let unknown = kept(&real, KeepRule::DownloadsUnknown);
    assert!(unknown[0].1.contains("(10.0 days)"), "{}", unknown[0].1);
    assert!(deleted(&real).is_empty());
    // A window longer than the reads the table keeps is refused.
    let h = in_process_handler(
        fresh.config(&[("DOWNLOADS_TABLE", &table), ("DOWNLOADS_TTL_DAYS", "20")]),
    )
    .await;
    let out = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    assert_eq!(out.summary.invalid_requests, 1);
    assert!(
        out.summary.invalid[0].contains("DOWNLOADS_TTL_DAYS (20)"),
        "{:?}",
        out.summary.invalid
    );
    // A table that cannot be read keeps everything too.
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "young-missing").await.unwrap();
    let h = in_process_handler(queues.config(&[("DOWNLOADS_TABLE", "no-such-table")])).await;
    let real = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    let unknown = kept(&real, KeepRule::DownloadsUnknown);
    assert_eq!((unknown.len(), deleted(&real).len()), (5, 0));
    assert!(unknown[0].1.contains("cannot be read"), "{}", unknown[0].1);
    // Without a table, the policy is refused, saying why.
    let h = in_process_handler(queues.config(&[])).await;
    let out = invoke(&h, policy(json!({})), Duration::from_secs(20)).await;
    assert_eq!(out.summary.invalid_requests, 1);
    assert!(
        out.summary.invalid[0].contains("DOWNLOADS_TABLE"),
        "{:?}",
        out.summary.invalid
    );
    assert_eq!(ca_versions(stack, "npm-store", "web").unwrap().len(), 6);
}

#[tokio::test]
async fn a_write_failure_retries_only_the_records_it_covers() {
    let Some((_g, stack, _)) = stack("downloads_failure", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "failure").await;
    let t = days_ago(1.0);
    let events = [
        npm_read("npm-store", Some("@acme"), "web", "1.0.0", &t, 1),
        npm_read("npm-store", Some("@acme"), "web", "1.1.0", &t, 2),
        npm_read("npm-app", Some("@acme"), "web", "1.0.0", &t, 3),
        npm_read("npm-store", Some("@acme"), "web", "1.2.0", &t, 4),
        npm_read("npm-store", Some("@acme"), "web", "1.1.0", &t, 5),
    ];
    stack.dynamodb_proxy.fail_updates_holding(Some("\"1.1.0\""));
    let (out, ids) = record(stack, &h, &usage, &events).await;
    stack.dynamodb_proxy.fail_updates_holding(None);
    assert_eq!(
        out.response,
        json!({"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[4]}]}),
        "exactly the records that told of 1.1.0"
    );
    assert_eq!(out.summary.versions_recorded, 2);
    assert!(last_read(&table, WEB_KEY, "1.0.0").await.unwrap().is_some());
    assert!(last_read(&table, WEB_KEY, "1.2.0").await.unwrap().is_some());
    assert_eq!(last_read(&table, WEB_KEY, "1.1.0").await.unwrap(), None);
    // SQS redelivers them; now the write goes through.
    let (out, _) = record(stack, &h, &usage, &[events[1].clone(), events[4].clone()]).await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert!(last_read(&table, WEB_KEY, "1.1.0").await.unwrap().is_some());
    // The domain's marker covers every record of the domain.
    stack
        .dynamodb_proxy
        .fail_updates_holding(Some("recordingSince"));
    let (out, ids) = record(stack, &h, &usage, &events[..3]).await;
    stack.dynamodb_proxy.fail_updates_holding(None);
    let failures: Vec<Value> = ids.iter().map(|i| json!({"itemIdentifier": i})).collect();
    assert_eq!(out.response, json!({ "batchItemFailures": failures }));
}

#[tokio::test]
async fn downloads_hold_for_archive_max_deletions_replays_and_scopes() {
    let Some((_g, stack, _)) = stack("downloads_actions", web()).await else {
        return;
    };
    let (h, table, usage) = setup(stack, "actions").await;
    recording_since(&table, "acme", 40.0).await.unwrap();
    // Builds still read the two oldest versions.
    let events = [
        npm_read(
            "npm-store",
            Some("@acme"),
            "web",
            "1.0.0",
            &days_ago(1.0),
            1,
        ),
        npm_read(
            "npm-store",
            Some("@acme"),
            "web",
            "1.1.0",
            &days_ago(1.0),
            2,
        ),
    ];
    record(stack, &h, &usage, &events).await;
    // Archive first, two at most: the cap counts only what can go, so the
    // downloaded oldest do not hold it.
    let archive = invoke(
        &h,
        policy(json!({"action": "archive", "maxDeletions": 2})),
        Duration::from_secs(20),
    )
    .await;
    let archived: Vec<String> = archive
        .lines
        .iter()
        .filter(|l| l.disposition == Disposition::Archived)
        .map(|l| l.item.to_string())
        .collect();
    assert_eq!(archived, vec!["1.2.0", "1.3.0"], "{:?}", archive.lines);
    let recent: Vec<String> = kept(&archive, KeepRule::RecentlyDownloaded)
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert_eq!(recent, vec!["1.1.0", "1.0.0"]);
    // A replay names versions; each is checked again.
    let replay = invoke(
        &h,
        policy(json!({"versions": ["1.0.0", "1.4.0"]})),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(deleted(&replay), vec!["1.4.0"]);
    assert_eq!(kept(&replay, KeepRule::RecentlyDownloaded).len(), 1);
    // A scope (every npm package of the repository) reads them too.
    let mut scope = policy(json!({"dryRun": true}));
    scope.as_object_mut().unwrap().remove("package");
    scope.as_object_mut().unwrap().remove("namespace");
    let dry = invoke(&h, scope, Duration::from_secs(20)).await;
    assert_eq!(
        kept(&dry, KeepRule::RecentlyDownloaded).len(),
        2,
        "{:?}",
        dry.lines
    );
    assert_eq!(
        ca_versions(stack, "npm-store", "web").unwrap(),
        vec!["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"]
    );
}
