//! The accounting's unit tests and properties.

use super::*;
use crate::error::{DeleteError, ErrorClass};
use crate::execute::Done;
use crate::request::{RawRequest, Request};
use std::sync::Arc;

fn request(versions: &[&str], attempt: u32) -> Request {
    let mut r: RawRequest = serde_json::from_value(json!({
        "service": "codeartifact", "domain": "acme", "repository": "releases",
        "format": "npm", "package": "web", "versions": versions}))
    .unwrap();
    r.attempt = Some(attempt);
    r.validate().unwrap()
}

fn api(class: ErrorClass, code: &str) -> Arc<DeleteError> {
    Arc::new(DeleteError::Api {
        service: Service::CodeArtifact,
        operation: "DeletePackageVersions",
        code: code.into(),
        class,
        source: "cause".into(),
    })
}

fn unit(
    origin: Origin,
    request: Request,
    results: Vec<Result<Done, Arc<DeleteError>>>,
) -> UnitResult {
    let outcomes = crate::plan::items(&request)
        .into_iter()
        .zip(results)
        .map(|(item, result)| ItemOutcome {
            item,
            result,
            attempts: 1,
            detail: None,
        })
        .collect();
    UnitResult {
        source: "m-1".into(),
        sender: None,
        origin,
        entries: vec![Entry::Executed(Box::new(RequestResult {
            request: Job::One(request),
            outcomes,
            plan: None,
            package_not_found: false,
            learned: false,
            edges_written: 0,
        }))],
    }
}

const SQS: Origin = Origin::Sqs {
    fifo: false,
    receive_count: 1,
};
const WQ: Settings = Settings {
    has_work_queue: true,
    max_attempts: 8,
    no_progress_limit: 5,
    spent: String::new(),
};

fn summary(acc: &UnitAccount) -> Summary {
    let mut s = Summary::default();
    s.add(acc);
    assert!(s.balanced(), "{s:?}");
    s
}

#[test]
fn permanent_failures_group_by_code_into_replayable_requests() {
    let u = unit(
        SQS,
        request(&["1", "2", "3", "4"], 1),
        vec![
            Ok(Done::Deleted),
            Err(Arc::new(DeleteError::VersionRefused {
                code: "MISMATCHED_STATUS".into(),
                message: "m".into(),
            })),
            Err(Arc::new(DeleteError::VersionRefused {
                code: "MISMATCHED_STATUS".into(),
                message: "m".into(),
            })),
            Err(Arc::new(DeleteError::VersionRefused {
                code: "NOT_ALLOWED".into(),
                message: "n".into(),
            })),
        ],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert_eq!(acc.dead_letters.len(), 2);
    assert!(acc.hand_ons.is_empty() && !acc.redeliver);
    let first: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
    assert_eq!(first["versions"], json!(["2", "3"]));
    assert_eq!(first["failure"]["code"], "MISMATCHED_STATUS");
    assert_eq!(first["failure"]["source"], "m-1");
    assert_eq!(first["failure"]["time"], "1970-01-01T00:00:00Z");
    assert!(first.get("attempt").is_none());
    let s = summary(&acc);
    assert_eq!((s.deleted, s.dead_lettered), (1, 3));
}

fn partial(error: Arc<DeleteError>) -> UnitAccount {
    let u = unit(
        Origin::Sqs {
            fifo: false,
            receive_count: 2,
        },
        request(&["1", "2"], 3),
        vec![Ok(Done::AlreadyAbsent), Err(error)],
    );
    account(&u, &WQ, SystemTime::UNIX_EPOCH)
}

#[test]
fn partial_progress_is_handed_on_with_a_raised_attempt() {
    let acc = partial(api(ErrorClass::Transient, "InternalServerException"));
    assert_eq!(acc.hand_ons.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
    assert_eq!(body["versions"], json!(["2"]));
    assert_eq!(
        body["attempt"], 5,
        "attempt 3, second receive → 4 done, next is 5"
    );
    assert_eq!(summary(&acc).handed_on, 1);
}

/// Issue 9, item 3: waiting for the quota or running out of time is not
/// a failed attempt.
#[test]
fn a_throttle_or_a_lack_of_time_keeps_the_attempt_number() {
    let throttled = api(
        ErrorClass::ThrottledWithHint(std::time::Duration::from_secs(120)),
        "ThrottlingException",
    );
    let out_of_time = Arc::new(DeleteError::OutOfTime {
        last: Some(api(ErrorClass::Throttled, "ThrottlingException")),
    });
    for error in [throttled, out_of_time] {
        let acc = partial(error);
        let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
        assert_eq!(body["attempt"], 4, "attempt 3, second receive: still 4");
    }
    // Out of time with a 5xx as the last answer did spend one.
    let unknown = Arc::new(DeleteError::OutOfTime {
        last: Some(api(ErrorClass::Transient, "InternalServerException")),
    });
    let body: serde_json::Value = serde_json::from_str(&partial(unknown).hand_ons[0].body).unwrap();
    assert_eq!(body["attempt"], 5);
}

#[test]
fn no_progress_on_sqs_means_redelivery_not_a_new_message() {
    let u = unit(
        SQS,
        request(&["1"], 1),
        vec![Err(api(ErrorClass::Transient, "InternalServerException"))],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(acc.redeliver && acc.hand_ons.is_empty() && acc.dead_letters.is_empty());
    assert_eq!(summary(&acc).handed_on, 1);
}

#[test]
fn exhausted_attempts_are_dead_lettered() {
    let u = unit(
        Origin::Sqs {
            fifo: false,
            receive_count: 8,
        },
        request(&["1"], 1),
        vec![Err(api(ErrorClass::Transient, "InternalServerException"))],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(!acc.redeliver);
    let body: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
    assert_eq!(body["failure"]["code"], "RETRIES_EXHAUSTED");
    assert!(body["failure"]["message"]
        .as_str()
        .unwrap()
        .contains("InternalServerException"));
    assert_eq!(summary(&acc).dead_lettered, 1);
}

#[test]
fn a_fifo_receive_count_is_not_an_attempt_count() {
    // Issue 9, item 4: this record may have waited unstarted behind a
    // failing one for all eight receives.
    let u = unit(
        Origin::Sqs {
            fifo: true,
            receive_count: 8,
        },
        request(&["1"], 1),
        vec![Err(api(ErrorClass::Throttled, "ThrottlingException"))],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(acc.redeliver && acc.dead_letters.is_empty());
    assert_eq!(summary(&acc).handed_on, 1);
}

#[test]
fn direct_invocations_without_a_work_queue_dead_letter_with_the_last_code() {
    let u = unit(
        Origin::Direct,
        request(&["1", "2"], 1),
        vec![
            Ok(Done::Deleted),
            Err(api(ErrorClass::Throttled, "ThrottlingException")),
        ],
    );
    let acc = account(
        &u,
        &Settings {
            has_work_queue: false,
            ..WQ
        },
        SystemTime::UNIX_EPOCH,
    );
    let body: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
    assert_eq!(body["failure"]["code"], "ThrottlingException");
    assert_eq!(body["versions"], json!(["2"]));
    let s = summary(&acc);
    assert_eq!((s.deleted, s.dead_lettered), (1, 1));
}

#[test]
fn fifo_records_are_redelivered_whole() {
    let u = unit(
        Origin::Sqs {
            fifo: true,
            receive_count: 1,
        },
        request(&["1", "2", "3"], 1),
        vec![
            Ok(Done::Deleted),
            Err(Arc::new(DeleteError::VersionRefused {
                code: "NOT_ALLOWED".into(),
                message: "n".into(),
            })),
            Err(Arc::new(DeleteError::OutOfTime { last: None })),
        ],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(acc.redeliver && acc.dead_letters.is_empty() && acc.hand_ons.is_empty());
    let s = summary(&acc);
    assert_eq!((s.deleted, s.handed_on), (1, 2));
}

#[test]
fn delays_grow_and_respect_retry_after_and_the_sqs_limit() {
    assert_eq!(hand_on_delay(1, 0), 5);
    assert_eq!(hand_on_delay(3, 0), 20);
    assert_eq!(hand_on_delay(2, 60), 60);
    assert_eq!(hand_on_delay(30, 0), 900);
    assert_eq!(hand_on_delay(1, 5000), 900);
}

mod properties;

/// Issue 15, item 4: an item whose reads came back, cut short before its
/// next call, is progress: the record is handed on narrowed, with its
/// attempt, never returned whole.
#[test]
fn reads_that_came_back_are_progress_not_a_whole_redelivery() {
    let cut_short = Arc::new(DeleteError::OutOfTime { last: None });
    let u = unit(
        SQS,
        request(&["1", "2"], 2),
        vec![Err(cut_short.clone()), Err(cut_short)],
    );
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(!acc.redeliver, "not back whole");
    assert_eq!(acc.hand_ons.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
    assert_eq!(body["attempt"], 2, "the deadline spends no attempt");
    assert_eq!(body["versions"], json!(["1", "2"]));
    assert!(
        acc.hand_ons[0].delay_seconds > Some(0),
        "nothing settled: a backoff, not a spin"
    );
    // Not started at all (the batch's other records took the time): handed
    // on whole as a new message with its attempt, after a backoff; a
    // redelivery would count a receive as an attempt.
    let mut u = unit(
        SQS,
        request(&["1"], 2),
        vec![Err(Arc::new(DeleteError::OutOfTime { last: None }))],
    );
    if let Entry::Executed(rr) = &mut u.entries[0] {
        rr.outcomes[0].attempts = 0;
    }
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    assert!(!acc.redeliver);
    let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
    assert_eq!(body["attempt"], 2);
    assert!(acc.hand_ons[0].delay_seconds > Some(0));
    // Only throttled: the same.
    let throttled = api(ErrorClass::Throttled, "ThrottlingException");
    let acc = account(
        &unit(SQS, request(&["1"], 2), vec![Err(throttled)]),
        &WQ,
        SystemTime::UNIX_EPOCH,
    );
    assert!(!acc.redeliver && acc.hand_ons.len() == 1);
}

#[test]
fn the_summary_names_missing_packages_once_each_and_counts_continuations() {
    let mut r = unit(
        Origin::Direct,
        request(&["1.0"], 1),
        vec![Ok(Done::AlreadyAbsent)],
    );
    if let Entry::Executed(rr) = &mut r.entries[0] {
        rr.package_not_found = true;
    }
    let label = match &r.entries[0] {
        Entry::Executed(rr) => rr.request.label(),
        _ => unreachable!(),
    };
    let mut acc = account(&r, &WQ, std::time::SystemTime::UNIX_EPOCH);
    acc.continuations.push(Outgoing {
        body: "{}".into(),
        delay_seconds: Some(7),
    });
    let mut s = Summary::default();
    s.add(&acc);
    s.add(&acc);
    assert_eq!(s.packages_not_found, 2, "each request counts");
    assert_eq!(s.missing_packages, [label], "each package is named once");
    assert_eq!(s.hand_on_messages, 0, "a continuation is not a hand-on");
    assert_eq!(s.plan_continuations, 2);
    assert!(s.balanced());
}

/// Issue 26: a hand-on carries the invocations in a row that made no
/// progress on it; at `NO_PROGRESS_LIMIT` its items are dead-lettered
/// `NO_PROGRESS`, saying what the time went on.
#[test]
fn no_progress_counts_up_to_the_limit_then_dead_letters_saying_why() {
    let throttled = api(ErrorClass::Throttled, "ThrottlingException");
    let settings = Settings {
        spent: "iot.read 14 calls, 11 throttled; 4.5 s to work in".into(),
        ..WQ
    };
    let run = |no_progress: u32, results: Vec<Result<Done, Arc<DeleteError>>>| {
        let mut r = request(&["1", "2"], 1);
        r.no_progress = no_progress;
        account(&unit(SQS, r, results), &settings, SystemTime::UNIX_EPOCH)
    };
    let body =
        |acc: &UnitAccount| -> Value { serde_json::from_str(&acc.hand_ons[0].body).unwrap() };
    // Calls made, nothing settled: one more.
    let acc = run(0, vec![Err(throttled.clone()), Err(throttled.clone())]);
    assert_eq!(body(&acc)["noProgress"], 1);
    assert_eq!(acc.handed_on_without_progress, [(Service::CodeArtifact, 2)]);
    let acc = run(3, vec![Err(throttled.clone()), Err(throttled.clone())]);
    assert_eq!(body(&acc)["noProgress"], 4);
    // Something settled: the count starts over (and is not written).
    let acc = run(4, vec![Ok(Done::Deleted), Err(throttled.clone())]);
    assert!(body(&acc).get("noProgress").is_none());
    assert!(acc.handed_on_without_progress.is_empty());
    // The fifth: dead-lettered, with what the invocation spent its time on.
    let acc = run(4, vec![Err(throttled.clone()), Err(throttled.clone())]);
    assert!(acc.hand_ons.is_empty());
    assert_eq!(acc.dead_letters.len(), 1);
    let dead: Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
    assert_eq!(dead["failure"]["code"], "NO_PROGRESS");
    let message = dead["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("no progress in 5 invocations in a row"),
        "{message}"
    );
    assert!(
        message.contains("iot.read 14 calls, 11 throttled"),
        "{message}"
    );
    assert!(dead.get("noProgress").is_none(), "a redrive starts over");
    assert_eq!(summary(&acc).dead_lettered, 2);
}

/// Not started (the invocation's time went to the requests before it):
/// handed on as it was, its count neither raised nor reset; a fact
/// learned for it is progress.
#[test]
fn work_not_started_keeps_its_count_and_learning_resets_it() {
    let late = Arc::new(DeleteError::OutOfTime { last: None });
    let mut r = request(&["1"], 1);
    r.no_progress = 4;
    let mut u = unit(SQS, r.clone(), vec![Err(late.clone())]);
    if let Entry::Executed(rr) = &mut u.entries[0] {
        rr.outcomes[0].attempts = 0;
    }
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    let body: Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
    assert_eq!(body["noProgress"], 4);
    assert!(acc.handed_on_without_progress.is_empty());
    let mut u = unit(SQS, r, vec![Err(late)]);
    if let Entry::Executed(rr) = &mut u.entries[0] {
        rr.learned = true;
    }
    let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
    let body: Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
    assert!(body.get("noProgress").is_none());
}

/// Issue 26: work starved of its quota backs off further with each
/// invocation in a row that made no progress on it, leaving the quota to
/// the work that can use it.
#[test]
fn a_hand_on_without_progress_waits_longer_each_time() {
    let throttled = api(ErrorClass::Throttled, "ThrottlingException");
    let delay = |no_progress: u32| {
        let mut r = request(&["1"], 1);
        r.no_progress = no_progress;
        let acc = account(
            &unit(SQS, r, vec![Err(throttled.clone())]),
            &WQ,
            SystemTime::UNIX_EPOCH,
        );
        acc.hand_ons[0].delay_seconds
    };
    // Now 1, 2, 3, 4 invocations in a row without progress.
    assert_eq!(
        [0, 1, 2, 3].map(delay),
        [Some(10), Some(20), Some(40), Some(80)]
    );
    // Progress starts the backoff over.
    let mut r = request(&["1", "2"], 1);
    r.no_progress = 3;
    let acc = account(
        &unit(SQS, r, vec![Ok(Done::Deleted), Err(throttled)]),
        &WQ,
        SystemTime::UNIX_EPOCH,
    );
    assert_eq!(acc.hand_ons[0].delay_seconds, Some(5));
}
