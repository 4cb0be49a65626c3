//! Issue 26 end to end, the real SDK against the emulator and moto: an
//! invocation that can never progress ends in `NO_PROGRESS` dead letters
//! after `NO_PROGRESS_LIMIT`, never an endless chain of hand-ons; and
//! execution environments that share the table describe each unfinished
//! job once between them. (The shared-quota chaos run is tests/spin.rs.)

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use packprune_emulator::{Fault, State};
use serde_json::{json, Value};
use support::downloads::create_downloads_table;
use support::*;

/// `fw` with versions 1.0 … 1.9, and `jobs` unfinished jobs; job `i`
/// deploys `other` version `i` (no version of `fw`).
fn fleet(jobs: usize) -> State {
    let versions: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("1.{i}"), json!({"createdDaysAgo": 40 - i})))
        .collect();
    let arn =
        |p: &str, v: usize| format!("arn:aws:iot:us-east-1:111122223333:package/{p}/version/{v}");
    let jobs: serde_json::Map<String, Value> = (0..jobs)
        .map(|i| {
            let status = if i % 3 == 0 {
                "SCHEDULED"
            } else {
                "IN_PROGRESS"
            };
            (
                format!("rollout-{i}"),
                json!({"status": status, "destinationPackageVersions": [arn("other", i)]}),
            )
        })
        .collect();
    seed(json!({"iot": {"packages": {"fw": {"versions": versions}}, "jobs": jobs}}))
}

/// What the queue holds once its delays have passed (nothing, if empty).
async fn waited_for(sqs: &aws_sdk_sqs::Client, queue: &str) -> Vec<Value> {
    loop {
        let got = take_all(sqs, queue).await.unwrap();
        if !got.is_empty() || depth(sqs, queue).await.unwrap() == 0 {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Faults under which nothing of `fw` can ever settle: every IoT call
/// throttled; or the package's reads answered but every search and delete
/// throttled (reads whose answers end with the invocation are not
/// progress).
fn never(everything: bool) -> BTreeMap<String, Fault> {
    let throttled = Fault {
        throttle_rate: 1.0,
        ..Fault::default()
    };
    let ops: &[&str] = match everything {
        true => &["iot:*"],
        false => &["iot:SearchIndex", "iot:DeletePackageVersion"],
    };
    ops.iter()
        .map(|op| ((*op).to_owned(), throttled.clone()))
        .collect()
}

/// Nothing can ever settle. Each invocation hands the request on with
/// `noProgress` one higher, until the limit dead-letters it `NO_PROGRESS`,
/// saying what ate the time: with every IoT call throttled, and with only
/// the package's reads answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_that_can_never_progress_ends_in_no_progress_after_the_limit() {
    let Some((_g, stack, _)) = stack("never_progress", fleet(0)).await else {
        return;
    };
    for everything in [true, false] {
        let mut state = fleet(0);
        state.faults = never(everything);
        stack.emulator.shared.set_state(state);
        never_progresses(stack, everything).await;
    }
}

async fn never_progresses(stack: &Stack, everything: bool) {
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "never-progress").await.unwrap();
    let handler = in_process_handler(
        queues.config(&[("NO_PROGRESS_LIMIT", "3"), ("DEADLINE_MARGIN_MS", "500")]),
    )
    .await;
    let mut body = json!({"service": "iot", "package": "fw", "versions": ["1.1", "1.2"]});
    let mut chain = Vec::new();
    let mut metrics = Vec::new();
    for _ in 0..10 {
        // One invocation, 2 s long, on the request as it was handed on.
        let out = handler
            .process(lambda_runtime::LambdaEvent::new(
                body.clone(),
                context(Duration::from_secs(2)),
            ))
            .await
            .unwrap();
        assert!(out.summary.balanced(), "{:?}", out.summary);
        metrics.extend(out.metrics);
        let handed_on = waited_for(&sqs, &queues.work).await;
        let Some(next) = handed_on.first() else {
            break;
        };
        assert_eq!(handed_on.len(), 1);
        let stalled = next.get("noProgress").is_some();
        assert_eq!(
            out.summary.handed_on_without_progress,
            if stalled { 2 } else { 0 }
        );
        chain.push(next["noProgress"].clone());
        body = next.clone();
    }
    // With the reads answered, the first invocation learns the fleet
    // index's configuration and keeps it: progress, once.
    let expected = match everything {
        true => json!([1, 2]),
        false => json!([null, 1, 2]),
    };
    assert_eq!(
        json!(chain),
        expected,
        "handed on, counting (all throttled: {everything})"
    );
    let dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["failure"]["code"], "NO_PROGRESS");
    assert_eq!(dead[0]["versions"], json!(["1.1", "1.2"]));
    let message = dead[0]["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("no progress in 3 invocations in a row") && message.contains("throttled"),
        "{message}"
    );
    let without_progress: f64 = metrics
        .iter()
        .filter_map(|d| d["HandedOnWithoutProgress"].as_f64())
        .sum();
    assert_eq!(without_progress, 4.0, "EMF counts both hand-ons' versions");
    // Nothing was deleted: every call was refused.
    assert_eq!(iot_versions(stack, "fw").unwrap().1.len(), 10);
}

/// Three execution environments (each a handler of its own) sharing the
/// table, invoked at once, each deleting versions of `fw` with 40
/// unfinished jobs in the account: every job is described once between
/// them, and a fourth environment, later, describes none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environments_sharing_the_table_describe_each_job_once() {
    let Some((_g, stack, _)) = stack("describe_once", fleet(40)).await else {
        return;
    };
    let table = create_downloads_table("learned-once").await.unwrap();
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "learned-once").await.unwrap();
    let config = || queues.config(&[("DOWNLOADS_TABLE", table.as_str())]);
    let mut handlers = Vec::new();
    for _ in 0..4 {
        handlers.push(in_process_handler(config()).await);
    }
    let event = |versions: Value| {
        lambda_runtime::LambdaEvent::new(
            json!({"service": "iot", "package": "fw", "versions": versions}),
            context(Duration::from_secs(60)),
        )
    };
    let handlers: Vec<std::sync::Arc<packprune::Handler>> =
        handlers.into_iter().map(std::sync::Arc::new).collect();
    let at_once = (0..3).map(|i| {
        let (h, versions) = (
            handlers[i].clone(),
            json!([format!("1.{}", 2 * i), format!("1.{}", 2 * i + 1)]),
        );
        let e = event(versions);
        tokio::spawn(async move { Box::pin(h.process(e)).await.map(|o| o.summary.deleted) })
    });
    for deleted in futures::future::join_all(at_once).await {
        assert_eq!(deleted.unwrap().unwrap(), 2);
    }
    let describes = |stack: &Stack| {
        let calls = stack.emulator.shared.calls();
        calls
            .iter()
            .filter(|c| c.operation == "DescribeJob")
            .count()
    };
    // On failure, each DescribeJob's arrival and answer: a retried call
    // (status not 200) tells a lost answer from a claim taken twice.
    let log = || {
        (stack.emulator.shared.calls().iter())
            .filter(|c| c.operation == "DescribeJob")
            .map(|c| format!("{:.3} {} {:?}", c.time, c.status, c.error))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        describes(stack),
        40,
        "each of the 40 jobs described once: {:?}",
        log()
    );
    let out = Box::pin(handlers[3].process(event(json!(["1.6"]))))
        .await
        .unwrap();
    assert_eq!(out.summary.deleted, 1);
    assert_eq!(
        describes(stack),
        40,
        "a new environment reads them from the table"
    );
}

/// A message SQS delivers twice (the same `MessageId`) is worked on once:
/// a second delivery after the first handled it is acknowledged without a
/// call; one while another invocation holds the message goes back to SQS
/// untouched, and is worked on once that claim is given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_delivered_twice_is_worked_on_once() {
    let Some((_g, stack, _)) = stack("delivered_twice", fleet(0)).await else {
        return;
    };
    let table = create_downloads_table("delivered-twice").await.unwrap();
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "delivered-twice").await.unwrap();
    let config = || queues.config(&[("DOWNLOADS_TABLE", table.as_str())]);
    let (first, second) = (
        in_process_handler(config()).await,
        in_process_handler(config()).await,
    );
    for versions in [
        json!(["1.0", "1.1"]),
        json!(["1.2"]),
        json!(["1.3"]),
        json!(["1.4"]),
    ] {
        sqs.send_message()
            .queue_url(&queues.work)
            .message_body(
                json!({"service": "iot", "package": "fw", "versions": versions}).to_string(),
            )
            .send()
            .await
            .unwrap();
    }
    let mut messages = receive(&sqs, &queues.work, 4).await.unwrap();
    assert_eq!(messages.len(), 4);
    messages.sort_by_key(|m| m.body().unwrap().to_owned());
    let record = |i: usize| json!({"Records": [sqs_record(&queues.work, &messages[i])]});
    let calls = |stack: &Stack| stack.emulator.shared.calls().len();
    let failures = |out: &packprune::testkit::handler::Processed| {
        out.response["batchItemFailures"].as_array().unwrap().len()
    };

    let out = invoke(&first, record(0), Duration::from_secs(30)).await;
    assert_eq!((out.summary.deleted, failures(&out)), (2, 0));
    let before = calls(stack);
    let out = invoke(&second, record(0), Duration::from_secs(30)).await;
    assert_eq!(out.summary.handled_earlier, 1, "{:?}", out.summary);
    assert_eq!(
        (out.summary.requested, failures(&out)),
        (0, 0),
        "acknowledged"
    );
    assert_eq!(
        calls(stack),
        before,
        "no call for a message handled already"
    );

    // Another invocation holds the second message now.
    let deliveries = packprune::testkit::downloads::DeliveryTable::new(
        support::downloads::dynamodb().await,
        table.clone(),
    );
    let retrier = packprune::testkit::retry::Retrier::new(
        packprune::testkit::retry::RetryPolicy::default(),
        tokio::time::Instant::now() + Duration::from_secs(30),
        1,
        std::sync::Arc::new(packprune::testkit::retry::Pacers::new(
            &Default::default(),
            1,
        )),
    );
    let until = packprune::testkit::downloads::now_ms() + 60_000;
    let id = messages[1].message_id().unwrap();
    let claim = deliveries
        .claim(id, ("elsewhere", until), &retrier)
        .await
        .result;
    assert_eq!(claim.unwrap(), packprune::testkit::downloads::Claim::Taken);
    let out = invoke(&first, record(1), Duration::from_secs(30)).await;
    assert_eq!(
        (out.summary.deleted, failures(&out)),
        (0, 1),
        "back to SQS untouched"
    );
    assert_eq!(calls(stack), before);
    deliveries
        .finish(
            id,
            "elsewhere",
            packprune::testkit::downloads::Finish::Released,
        )
        .await
        .unwrap();
    let out = invoke(&second, record(1), Duration::from_secs(30)).await;
    assert_eq!(
        (out.summary.deleted, failures(&out)),
        (1, 0),
        "worked on once given up"
    );

    // A claim whose holder ran out of time lapses: the message is taken.
    let id = messages[2].message_id().unwrap();
    let lapsed = packprune::testkit::downloads::now_ms() - 1_000;
    let claim = deliveries
        .claim(id, ("elsewhere", lapsed), &retrier)
        .await
        .result;
    assert_eq!(claim.unwrap(), packprune::testkit::downloads::Claim::Taken);
    let out = invoke(&first, record(2), Duration::from_secs(30)).await;
    assert_eq!(
        (out.summary.deleted, failures(&out)),
        (1, 0),
        "a lapsed claim is taken"
    );

    // The same message twice in one batch is worked on once.
    let twice = json!({"Records": [sqs_record(&queues.work, &messages[3]), sqs_record(&queues.work, &messages[3])]});
    let out = invoke(&second, twice, Duration::from_secs(30)).await;
    assert_eq!(
        (
            out.summary.deleted,
            out.summary.handled_earlier,
            failures(&out)
        ),
        (1, 1, 0),
        "{:?}",
        out.summary
    );
    assert_eq!(iot_versions(stack, "fw").unwrap().1.len(), 5);
}
