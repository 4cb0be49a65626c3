//! Retrying: Retry-After read from a real 429, IoT throttles without a
//! hint and transient errors, permanent errors, and attempts exhausted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_iot::operation::delete_package_version::DeletePackageVersionOutput;
use aws_smithy_mocks::{mock, MockResponse};
use serde_json::json;
use tokio::time::Instant;

use crate::mocks::*;
use crate::support::{invoke, sqs_event};
use crate::{deleted, MINUTE};

#[tokio::test(start_paused = true)]
async fn throttling_waits_for_retry_after_read_from_the_header() {
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let ca = mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_compute_response(
        move |req| {
            let mut t = t.lock().unwrap();
            t.push(Instant::now());
            if t.len() == 1 {
                MockResponse::Http(http_error(
                    429,
                    "ThrottlingException",
                    json!({"message": "Rate exceeded"}),
                    &[("Retry-After", "7")],
                ))
            } else {
                MockResponse::Output(deleted(req.versions()))
            }
        },
    );
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(true));
    let (resp, s) = invoke(
        &h,
        sqs_event(&[("m1", ca_request(&["1.0.0"]))], false),
        MINUTE,
    )
    .await
    .parts();
    assert!(failures(&resp).is_empty());
    assert_eq!(s.deleted, 1);
    let times = times.lock().unwrap();
    assert_eq!(
        times.len(),
        2,
        "the SDK's own retries are off: one retry, ours"
    );
    let gap = times[1] - times[0];
    assert!(gap >= Duration::from_secs(7), "waited only {gap:?}");
    assert!(
        gap <= Duration::from_millis(7700),
        "jitter stays small: {gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn iot_throttles_without_a_hint_back_off_and_transient_errors_retry() {
    let world = IotWorld::with(&[("fw", None, &["1", "2"])]);
    let mut rules = world.rules();
    let n = Arc::new(Mutex::new(0));
    let count = n.clone();
    let w = world.clone();
    // The first two deletes are refused: a throttle, then a 500.
    rules[3] =
        mock!(aws_sdk_iot::Client::delete_package_version).then_compute_response(move |req| {
            let mut n = count.lock().unwrap();
            *n += 1;
            match *n {
                1 => MockResponse::Http(http_error(
                    400,
                    "ThrottlingException",
                    json!({"message": "slow"}),
                    &[],
                )),
                2 => MockResponse::Http(http_error(
                    500,
                    "InternalServerException",
                    json!({"message": "oops"}),
                    &[],
                )),
                _ => {
                    w.packages
                        .lock()
                        .unwrap()
                        .get_mut("fw")
                        .unwrap()
                        .1
                        .remove(req.version_name().unwrap());
                    MockResponse::Output(DeletePackageVersionOutput::builder().build())
                }
            }
        });
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));
    let (_, s) = invoke(
        &h,
        json!({"service":"iot","package":"fw","versions":["1","2"]}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!(s.deleted, 2);
    assert_eq!(*n.lock().unwrap(), 4);
    assert_eq!(world.versions("fw"), Some(vec![]));
}

#[tokio::test(start_paused = true)]
async fn access_denied_is_permanent_for_the_whole_call() {
    let ca =
        mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_http_response(|| {
            http_error(
                403,
                "AccessDeniedException",
                json!({"message": "not authorized to perform codeartifact:DeletePackageVersions"}),
                &[],
            )
        });
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(true));
    let (resp, s) = invoke(
        &h,
        sqs_event(&[("m1", ca_request(&["1", "2", "3"]))], false),
        MINUTE,
    )
    .await
    .parts();
    assert!(
        failures(&resp).is_empty(),
        "a permanent failure is dead-lettered, not retried"
    );
    assert_eq!(s.dead_lettered, 3);
    assert_eq!(ca.num_calls(), 1);
    let dlq = sqs.dead_letters();
    assert_eq!(dlq.len(), 1);
    assert!(
        dlq[0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("not authorized"),
        "{}",
        dlq[0]
    );
    assert_eq!(dlq[0]["failure"]["attempts"], 1);
}

#[tokio::test(start_paused = true)]
async fn retries_exhausted_after_max_attempts_are_dead_lettered() {
    let ca =
        mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_http_response(|| {
            http_error(
                500,
                "InternalServerException",
                json!({"message": "down"}),
                &[],
            )
        });
    // Read again before it is dead-lettered, the version is still there.
    let describe = ca_version_still_there();
    let sqs = Sqs::default();
    let h = handler(&[&ca, &describe], &[], &sqs, config(true));
    let mut req = ca_request(&["1"]);
    req["attempt"] = json!(8);
    let (resp, s) = invoke(&h, sqs_event(&[("m1", req)], false), MINUTE)
        .await
        .parts();
    assert!(failures(&resp).is_empty());
    assert_eq!(s.dead_lettered, 1);
    let dlq = sqs.dead_letters();
    assert_eq!(dlq[0]["failure"]["code"], "RETRIES_EXHAUSTED");
    assert!(
        dlq[0].get("attempt").is_none(),
        "a redriven dead letter starts over"
    );
}
