//! Handing on: FIFO batches stop at the first record to retry; work that
//! runs out of time is handed on and draining finishes it; without a work
//! queue, SQS records are redelivered and other invocations dead-letter
//! what they cannot finish.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_mocks::{mock, MockResponse};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::mocks::*;
use crate::support::{invoke, read_event, sqs_event};
use crate::{ca_deletes_all, deleted, MINUTE};

#[tokio::test(start_paused = true)]
async fn fifo_batches_stop_at_the_first_record_to_retry() {
    let world = IotWorld::with(&[("fw", None, &["1", "2", "3"])]);
    let mut rules = world.rules();
    rules[3] = mock!(aws_sdk_iot::Client::delete_package_version).then_http_response(|| {
        http_error(
            500,
            "InternalServerException",
            json!({"message": "down"}),
            &[],
        )
    });
    let sqs = Sqs::default();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let ca = ca_deletes_all(calls.clone());
    let h = handler(&[&ca], &refs(&rules), &sqs, config(true)).with_retry_policy(
        packprune::testkit::retry::RetryPolicy {
            max_attempts: 2,
            ..Default::default()
        },
    );
    let iot = |v: &str| json!({"service":"iot","package":"fw","versions":[v]});
    let event = sqs_event(
        &[
            ("f1", ca_request(&["1"])),
            ("f2", iot("1")),
            ("f3", ca_request(&["2"])),
            ("f4", iot("2")),
        ],
        true,
    );
    let (resp, s) = invoke(&h, event, MINUTE).await.parts();
    assert_eq!(failures(&resp), vec!["f2", "f3", "f4"]);
    assert_eq!(
        calls.lock().unwrap().concat(),
        vec!["1"],
        "nothing after f2 ran"
    );
    assert_eq!((s.deleted, s.handed_on), (1, 3));
    assert!(
        sqs.sent.lock().unwrap().is_empty(),
        "FIFO work is never re-enqueued out of order"
    );
}

#[tokio::test(start_paused = true)]
async fn work_that_runs_out_of_time_is_handed_on_and_draining_finishes_it() {
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    // Throttled with a Retry-After longer than the time left.
    let ca = mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_compute_response(
        move |req| {
            t.lock().unwrap().push(Instant::now());
            if req.versions().contains(&"1".to_string()) {
                MockResponse::Output(deleted(&["1".into()]))
            } else {
                MockResponse::Http(http_error(
                    429,
                    "ThrottlingException",
                    json!({"message": "Rate exceeded"}),
                    &[("Retry-After", "30")],
                ))
            }
        },
    );
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(true));
    let versions: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    let vrefs: Vec<&str> = versions.iter().map(String::as_str).collect();
    let start = Instant::now();
    let (resp, s) = invoke(
        &h,
        sqs_event(&[("m1", ca_request(&vrefs))], false),
        Duration::from_secs(12),
    )
    .await
    .parts();
    assert!(
        Instant::now() - start < Duration::from_secs(12),
        "never sleeps past the deadline"
    );
    assert!(
        failures(&resp).is_empty(),
        "the remainder is handed on, the record acknowledged"
    );
    assert_eq!(s.requested, 150);
    let hand_ons = sqs.hand_ons();
    let handed: usize = hand_ons
        .iter()
        .map(|m| m.body["versions"].as_array().unwrap().len())
        .sum();
    assert_eq!(s.handed_on as usize, handed);
    assert_eq!(s.deleted + s.handed_on, 150);
    assert!(s.deleted >= 1);
    for m in &hand_ons {
        assert_eq!(
            m.body["attempt"], 1,
            "waiting for the quota spends no attempt"
        );
        assert!(
            m.delay_seconds.unwrap() >= 30,
            "the delay honours Retry-After"
        );
        assert!(m.body.get("failure").is_none());
    }

    // Draining the work queue with a healthy service finishes the job.
    let calls = Arc::new(Mutex::new(Vec::new()));
    let ok = ca_deletes_all(calls.clone());
    let sqs2 = Sqs::default();
    let h2 = handler(&[&ok], &[], &sqs2, config(true));
    let records: Vec<(String, Value)> = hand_ons
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("h{i}"), m.body.clone()))
        .collect();
    let records: Vec<(&str, Value)> = records
        .iter()
        .map(|(i, b)| (i.as_str(), b.clone()))
        .collect();
    let (resp, s2) = invoke(&h2, sqs_event(&records, false), MINUTE)
        .await
        .parts();
    assert!(failures(&resp).is_empty());
    assert_eq!(s.deleted + s2.deleted, 150);
}

#[tokio::test(start_paused = true)]
async fn without_a_work_queue_unfinished_sqs_records_are_redelivered() {
    let ca =
        mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_compute_response(|req| {
            if req.versions() == ["1"] {
                MockResponse::Output(deleted(req.versions()))
            } else {
                MockResponse::Http(http_error(
                    500,
                    "InternalServerException",
                    json!({"message": "down"}),
                    &[],
                ))
            }
        });
    let describe = ca_version_still_there();
    let sqs = Sqs::default();
    let h = handler(&[&ca, &describe], &[], &sqs, config(false));
    let mut second = ca_request(&["2"]);
    second["package"] = json!("api");
    let (resp, s) = invoke(
        &h,
        sqs_event(&[("m1", ca_request(&["1"])), ("m2", second)], false),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!(failures(&resp), vec!["m2"]);
    assert_eq!((s.deleted, s.handed_on), (1, 1));
    assert!(sqs.sent.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn eventbridge_invocations_dead_letter_what_they_cannot_finish_without_a_work_queue() {
    let ca =
        mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_http_response(|| {
            http_error(
                429,
                "ThrottlingException",
                json!({"message": "Rate exceeded"}),
                &[("Retry-After", "600")],
            )
        });
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(false));
    let (resp, s) = invoke(&h, read_event("eventbridge-custom.json"), MINUTE)
        .await
        .parts();
    assert_eq!(resp["deadLettered"], 2);
    assert_eq!(s.dead_lettered, 2);
    let dlq = sqs.dead_letters();
    assert_eq!(dlq[0]["failure"]["code"], "ThrottlingException");
    assert_eq!(
        dlq[0]["failure"]["source"],
        "7bf73129-1428-4cd3-a780-95db273d1602"
    );
}
