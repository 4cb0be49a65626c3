//! End to end: the real SDK over HTTP to the emulator (CodeArtifact, IoT)
//! and moto (SQS), the function in-process and under `cargo lambda watch`.
//!
//! These tests need moto and cargo-lambda from the virtualenv `make test`
//! creates. Without them they say they were skipped and why; under
//! a missing tool fails them unless PACKPRUNE_SKIP_E2E=1 (`make unit`) asks to skip, visibly. They share one
//! stack and run one at a time.

mod support;

use std::collections::BTreeSet;

use std::time::Duration;

use packprune_emulator::{Fault, Throttle};
use serde_json::{json, Value};
use support::*;

/// What the mixed batch leaves of the demo seed.
fn assert_mixed_batch_applied(stack: &Stack) {
    let web = ca_versions(stack, "releases", "web").unwrap();
    assert!(!web.contains(&"1.0.0".into()) && web.contains(&"1.0.2".into()));
    assert!(
        web.contains(&"1.0.1".into()),
        "the seed forbids deleting 1.0.1"
    );
    assert_eq!(
        ca_versions(stack, "releases", "legacy-tool"),
        None,
        "the whole package is gone"
    );
    let billing = ca_versions(stack, "snapshots", "billing-svc").unwrap();
    assert!(!billing
        .iter()
        .any(|v| v == "2.3.0-SNAPSHOT" || v == "2.4.0-SNAPSHOT"));
    assert_eq!(
        billing.len(),
        18 + 24,
        "18 releases and the 24 old snapshots"
    );
    let (default, versions) = iot_versions(stack, "thermostat-fw").unwrap();
    assert_eq!(default, None, "unsetDefaultVersion cleared the default");
    assert_eq!(versions, vec!["0.8.0", "0.9.0", "1.2.0", "1.3.0-rc1"]);
    assert_eq!(
        iot_versions(stack, "sensor-fw"),
        None,
        "the IoT package and its versions are gone"
    );
}

#[tokio::test]
async fn a_mixed_sqs_batch_in_process() {
    let Some((_g, stack, _)) = stack("a_mixed_sqs_batch_in_process", demo_seed()).await else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "mixed").await.unwrap();
    let handler = in_process_handler(queues.config(&[])).await;
    let out = invoke(
        &handler,
        read_event("sqs-mixed-batch.json"),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert_mixed_batch_applied(stack);
    let s = &out.summary;
    assert_eq!(
        (s.deleted, s.invalid_requests, s.dead_lettered, s.handed_on),
        (7, 1, 1, 0),
        "{s:?}"
    );
    let mut dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    dead.sort_by_key(|d| d["failure"]["code"].as_str().unwrap().to_owned());
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0]["failure"]["code"], "INVALID_REQUEST");
    assert_eq!(
        dead[0]["failure"]["source"],
        "9d3f1c2a-0006-4b7e-8c1d-000000000006"
    );
    assert_eq!(dead[1]["failure"]["code"], "NOT_ALLOWED");
    assert_eq!(dead[1]["versions"], json!(["1.0.1"]));
    assert_eq!(
        dead[1]["failure"]["source"],
        "9d3f1c2a-0001-4b7e-8c1d-000000000001"
    );
    assert_eq!(depth(&sqs, &queues.work).await.unwrap(), 0);
}

#[tokio::test]
async fn a_mixed_sqs_batch_through_cargo_lambda_watch() {
    let Some((_g, stack, tools)) =
        stack("a_mixed_sqs_batch_through_cargo_lambda_watch", demo_seed()).await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "watch").await.unwrap();
    let mut env = stack.aws_env();
    env.extend(queues.env());
    let watch = LambdaWatch::start(&tools, &env).expect("cargo lambda watch starts");
    let response = watch
        .invoke(&read_event("sqs-mixed-batch.json"))
        .expect("invoke");
    assert_eq!(
        response,
        json!({"batchItemFailures": []}),
        "log:\n{}",
        watch.log_text()
    );
    assert_mixed_batch_applied(stack);
    // An EventBridge event gets the summary back.
    let summary = watch
        .invoke(&read_event("direct-iot.json"))
        .expect("invoke");
    assert_eq!(
        (summary["requested"].as_u64(), summary["deleted"].as_u64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    let dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    assert_eq!(
        dead.len(),
        2,
        "the poison record and the protected version: {dead:?}"
    );
    // The audit log: one JSON line per version outcome.
    let log = watch.log_text();
    let outcomes = log
        .lines()
        .filter(|l| l.contains("\"version outcome\""))
        .count();
    assert_eq!(
        outcomes, 9,
        "one audit line per item (8 in the batch, 1 direct):\n{log}"
    );
    assert!(
        log.lines().any(|l| l.contains("\"version outcome\"")
            && l.contains("\"sender\":\"AROAIWPX5BD2BHG722MW4:scheduler\"")),
        "the audit line names the SQS sender:\n{log}"
    );
    // Issue 19, item 3: a refused request's audit line carries its reason,
    // not only the dead-letter message.
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let invalid = lines
        .iter()
        .find(|l| l["message"] == "invalid request")
        .unwrap_or_else(|| panic!("an invalid request line:\n{log}"));
    assert_eq!(invalid["code"], "INVALID_REQUEST", "{invalid}");
    let refused = dead
        .iter()
        .find(|d| d["failure"]["code"] == "INVALID_REQUEST")
        .expect("the poison record's dead letter");
    assert!(
        invalid["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "the reason is in detail: {invalid}"
    );
    assert_eq!(
        invalid["detail"], refused["failure"]["message"],
        "the audit line and the dead letter give the same reason"
    );
    let not_allowed = lines
        .iter()
        .find(|l| l["code"] == "NOT_ALLOWED" && l["message"] == "version outcome")
        .unwrap_or_else(|| panic!("a NOT_ALLOWED line:\n{log}"));
    assert!(
        not_allowed["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "the reason is in detail: {not_allowed}"
    );
}

#[tokio::test]
async fn throttled_calls_wait_for_retry_after() {
    let versions: Vec<Value> = (0..250)
        .map(|i| json!({"version": format!("1.0.{i}")}))
        .collect();
    let mut state = seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": [
        {"format": "npm", "namespace": "acme", "package": "busy", "versions": versions}]}}}}}}),
    );
    state.faults.insert(
        "codeartifact:*".into(),
        Fault {
            throttle: Some(Throttle {
                rate_per_second: 0.5,
                burst: 1.0,
                retry_after_seconds: Some(2),
                bucket: None,
            }),
            ..Fault::default()
        },
    );
    let Some((_g, stack, _)) = stack("throttled_calls_wait_for_retry_after", state).await else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "throttle").await.unwrap();
    let handler = in_process_handler(queues.config(&[("MAX_CONCURRENCY", "1")])).await;
    let names: Vec<String> = (0..250).map(|i| format!("1.0.{i}")).collect();
    let request = json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"npm","namespace":"acme","package":"busy","versions": names});
    let out = invoke(
        &handler,
        fresh_sqs_event(&[request]),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.summary.deleted, 250, "{:?}", out.summary);
    assert_eq!(ca_versions(stack, "releases", "busy"), Some(vec![]));

    let calls = stack.emulator.shared.calls();
    let throttles: Vec<_> = calls.iter().filter(|c| c.status == 429).collect();
    assert!(!throttles.is_empty(), "the fault throttled some calls");
    for t in &throttles {
        assert_eq!(t.retry_after, Some(2));
        for later in calls
            .iter()
            .filter(|c| c.seq > t.seq && c.service == "codeartifact")
        {
            assert!(
                later.time >= t.time + 2.0,
                "call {} came {:.3}s after the 429 of call {}, sooner than its Retry-After of 2s",
                later.seq,
                later.time - t.time,
                t.seq
            );
        }
    }
    assert!(calls.iter().all(|c| c.versions.len() <= 100));
}

#[tokio::test]
async fn permanent_failures_are_dead_lettered_then_redriven_once_fixed() {
    let state = seed(json!({
        "codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": [
            {"format": "pypi", "package": "lib", "versions": [{"version": "1.0"}, {"version": "1.1"}, {"version": "1.2", "deleteAllowed": false}, {"version": "1.3"}]}]}}}}},
        "iot": {"packages": {"fw": {"defaultVersion": "2.0", "versions": {"1.0": {}, "2.0": {}, "3.0": {}}}}}
    }));
    let Some((_g, stack, _)) = stack(
        "permanent_failures_are_dead_lettered_then_redriven_once_fixed",
        state,
    )
    .await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "redrive").await.unwrap();
    let handler = in_process_handler(queues.config(&[])).await;
    let ca = json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"pypi","package":"lib","versions":["1.0","1.1","1.2"]});
    let iot = json!({"service":"iot","package":"fw","versions":["1.0","2.0"]});
    let out = invoke(
        &handler,
        fresh_sqs_event(&[ca, iot]),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert_eq!((out.summary.deleted, out.summary.dead_lettered), (3, 2));

    // The dead letters are replayable requests narrowed to what failed.
    let dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    let mut codes: Vec<(String, Value)> = dead
        .iter()
        .map(|m| {
            (
                m["failure"]["code"].as_str().unwrap().to_owned(),
                m["versions"].clone(),
            )
        })
        .collect();
    codes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        codes,
        vec![
            ("DEFAULT_VERSION".to_owned(), json!(["2.0"])),
            ("NOT_ALLOWED".to_owned(), json!(["1.2"]))
        ]
    );

    // Fix the causes: allow the deletion, and make another version the default.
    stack.emulator.shared.edit(|s| {
        let pkg = &mut s
            .codeartifact
            .domains
            .get_mut("acme")
            .unwrap()
            .repositories
            .get_mut("releases")
            .unwrap()
            .packages[0];
        pkg.versions
            .iter_mut()
            .for_each(|v| v.delete_allowed = true);
    });
    let iot_client = aws_sdk_iot::Client::new(&packprune::sdk::sdk_config().await);
    iot_client
        .update_package()
        .package_name("fw")
        .default_version_name("3.0")
        .send()
        .await
        .unwrap();

    // Redrive: move the dead letters back to the work queue, then drain it.
    for body in &dead {
        sqs.send_message()
            .queue_url(&queues.work)
            .message_body(body.to_string())
            .send()
            .await
            .unwrap();
    }
    let summaries = drain(&sqs, &queues.work, &handler, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(summaries.iter().map(|s| s.deleted).sum::<u64>(), 2);
    assert_eq!(
        ca_versions(stack, "releases", "lib"),
        Some(vec!["1.3".to_owned()])
    );
    assert_eq!(
        iot_versions(stack, "fw"),
        Some((Some("3.0".to_owned()), vec!["3.0".to_owned()]))
    );
    assert_eq!(depth(&sqs, &queues.dead_letter).await.unwrap(), 0);
}

#[tokio::test]
async fn a_poison_record_is_dead_lettered_and_acknowledged() {
    let state = seed(json!({"iot": {"packages": {"fw": {"versions": {"1.0": {}, "2.0": {}}}}}}));
    let Some((_g, stack, _)) =
        stack("a_poison_record_is_dead_lettered_and_acknowledged", state).await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "poison").await.unwrap();
    let handler = in_process_handler(queues.config(&[])).await;
    let event = fresh_sqs_event(&[
        json!({"service":"iot","package":"fw","versions":["1.0"]}),
        json!("{\"service\": \"iot\", \"package\": "),
        json!({"service":"iot","package":"fw","versions":"2.0"}),
        json!({"service":"iot","package":"fw/../x","versions":["2.0"]}),
    ]);
    let out = invoke(&handler, event, Duration::from_secs(60)).await;
    assert_eq!(
        out.response,
        json!({"batchItemFailures": []}),
        "poison never loops"
    );
    assert_eq!(iot_versions(stack, "fw").unwrap().1, vec!["2.0"]);
    let dead = take_all(&sqs, &queues.dead_letter).await.unwrap();
    assert_eq!(dead.len(), 3);
    for d in &dead {
        assert_eq!(d["failure"]["code"], "INVALID_REQUEST");
        assert!(d["rawBody"].is_string());
    }
    let raw: BTreeSet<&str> = dead
        .iter()
        .map(|d| d["rawBody"].as_str().unwrap())
        .collect();
    assert!(raw.contains("{\"service\": \"iot\", \"package\": "));
    let calls = stack.emulator.shared.calls();
    assert!(
        calls.iter().all(|c| c.versions.iter().all(|v| v == "1.0")),
        "invalid requests never reach AWS: {calls:?}"
    );
}

#[tokio::test]
async fn a_deadline_hands_on_the_remainder_and_draining_finishes_it() {
    let versions: serde_json::Map<String, Value> =
        (0..40).map(|i| (format!("0.{i}"), json!({}))).collect();
    let mut state = seed(json!({"iot": {"packages": {"fw": {"versions": versions}}}}));
    state.faults.insert(
        "iot:DeletePackageVersion".into(),
        Fault {
            latency_ms: 200,
            ..Fault::default()
        },
    );
    let Some((_g, stack, _)) = stack(
        "a_deadline_hands_on_the_remainder_and_draining_finishes_it",
        state,
    )
    .await
    else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "deadline").await.unwrap();
    let handler = in_process_handler(
        // Reads at a rate that leaves the deadline to the slow deletes: each
        // version's in-use search comes before its delete.
        queues.config(&[
            ("MAX_CONCURRENCY", "2"),
            ("DEADLINE_MARGIN_MS", "500"),
            ("RATE_LIMITS", "iot.read=400,iot.search=400"),
        ]),
    )
    .await;
    let names: Vec<String> = (0..40).map(|i| format!("0.{i}")).collect();
    let started = std::time::Instant::now();
    let out = invoke(
        &handler,
        fresh_sqs_event(&[json!({"service":"iot","package":"fw","versions": names})]),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "returned before the deadline"
    );
    assert_eq!(
        out.response,
        json!({"batchItemFailures": []}),
        "the record is acknowledged: its remainder is handed on"
    );
    let s = &out.summary;
    assert!(s.deleted > 0 && s.handed_on > 0, "{s:?}");
    assert_eq!(s.deleted + s.handed_on, 40);
    // A call still in flight at the cut-off is abandoned: the service may
    // have deleted its version after all, so it is handed on (its replay
    // finds it already absent). At most MAX_CONCURRENCY calls are in flight.
    let remaining = iot_versions(stack, "fw").unwrap().1.len() as u64;
    assert!(
        remaining <= s.handed_on && s.handed_on - remaining <= 2,
        "{remaining} remain, {} handed on",
        s.handed_on
    );

    let handed = receive(&sqs, &queues.work, 10).await.unwrap();
    assert_eq!(handed.len(), 1);
    let body: Value = serde_json::from_str(handed[0].body().unwrap()).unwrap();
    assert_eq!(body["attempt"], 1, "a lack of time spends no attempt");
    assert_eq!(
        body["versions"].as_array().unwrap().len() as u64,
        s.handed_on
    );
    sqs.change_message_visibility()
        .queue_url(&queues.work)
        .receipt_handle(handed[0].receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();

    let summaries = drain(&sqs, &queues.work, &handler, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(summaries.iter().map(|s| s.deleted).sum::<u64>(), remaining);
    assert_eq!(
        summaries
            .iter()
            .map(|s| s.deleted + s.already_absent)
            .sum::<u64>(),
        s.handed_on
    );
    assert_eq!(iot_versions(stack, "fw"), Some((None, vec![])));
    assert_eq!(depth(&sqs, &queues.dead_letter).await.unwrap(), 0);
}

#[test]
fn missing_tools_fail_unless_skipping_is_asked_for() {
    let missing = || Err::<support::Tools, _>("/nowhere/bin/moto_server not found".to_owned());
    let failed = support::Tools::decide(missing(), false).unwrap_err();
    assert!(
        failed.contains("moto_server not found") && failed.contains("PACKPRUNE_SKIP_E2E=1"),
        "{failed}"
    );
    assert!(matches!(support::Tools::decide(missing(), true), Ok(None)));
    let found = support::Tools {
        bin: "/venv/bin".into(),
    };
    assert!(matches!(
        support::Tools::decide(Ok(found), false),
        Ok(Some(_))
    ));
}
