//! Decoding's unit tests.

use super::events::DEFAULT_DETAIL_TYPE;
use super::*;
use serde_json::json;

fn valid_count(ds: &[Decoded]) -> usize {
    ds.iter().filter(|d| matches!(d, Decoded::Valid(_))).count()
}

/// Issue 9, item 5: what the template's on-failure destination writes
/// to the dead-letter queue can be redriven.
#[test]
fn a_lambda_destination_record_is_unwrapped_to_its_request_payload() {
    let request = json!({"service": "iot", "package": "fw", "versions": ["1"]});
    let envelope = json!({"id": "e-1", "detail-type": DEFAULT_DETAIL_TYPE, "source": "acme.release",
                          "account": "111122223333", "detail": request});
    for payload in [request.clone(), envelope] {
        let record = json!({
            "version": "1.0", "timestamp": "2026-11-21T08:00:00.000Z",
            "requestContext": {"requestId": "r-1", "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:packprune:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorType": "QueueUnwritable", "errorMessage": "…"}
        });
        let decoded = from_body(&record.to_string(), &EventRules::default());
        assert_eq!(decoded.len(), 1);
        let Decoded::Valid(Job::One(r)) = &decoded[0] else {
            panic!("{decoded:?}")
        };
        assert_eq!(r.target.package_label(), "fw");
    }
}

/// Issue 9, item 7: EventBridge events are checked against the expected
/// sources and detail-types.
#[test]
fn envelopes_must_carry_an_accepted_source_and_detail_type() {
    let request = json!({"service": "iot", "package": "fw", "versions": ["1"]});
    let envelope = |source: &str, detail_type: &str| json!({"id": "e", "source": source, "detail-type": detail_type, "detail": request});
    let first = |ev: Value, rules: &EventRules| {
        let Event::Invocation(u) = decode(ev, "r", rules).unwrap() else {
            panic!("not an invocation")
        };
        u.requests.into_iter().next().unwrap()
    };
    let defaults = EventRules::default();
    assert!(matches!(
        first(envelope("acme.platform", DEFAULT_DETAIL_TYPE), &defaults),
        Decoded::Valid(_)
    ));
    let Decoded::Invalid(inv) = first(envelope("acme.platform", "Order Placed"), &defaults) else {
        panic!("an unexpected detail-type is refused")
    };
    let reason = inv.error.reason();
    assert!(
        reason.contains("detail-type") && reason.contains("EVENT_DETAIL_TYPES"),
        "{reason}"
    );
    let strict = EventRules {
        sources: Accept::parse("acme.platform, acme.ci"),
        detail_types: Accept::parse("*"),
        ..EventRules::default()
    };
    assert!(matches!(
        first(envelope("acme.ci", "Anything"), &strict),
        Decoded::Valid(_)
    ));
    let Decoded::Invalid(inv) = first(envelope("evil.corp", "Anything"), &strict) else {
        panic!("an unexpected source is refused")
    };
    assert!(inv.error.reason().contains("EVENT_SOURCES"));
    // CodeArtifact's own events count only with their own detail-type.
    let policy: RawRequest = serde_json::from_value(json!({"policy": {"keepLatest": 3}})).unwrap();
    let mut native = envelope("aws.codeartifact", "Something Else");
    native["detail"] = json!({"domainName": "acme", "repositoryName": "r", "packageFormat": "npm",
        "packageName": "web", "operationType": "Created", "packageVersionState": "Published"});
    assert!(matches!(
        first(native, &EventRules::with_policy(policy)),
        Decoded::Ignored(_)
    ));
}

/// Issue 9, item 7: a mistyped record fails itself, not the batch.
#[test]
fn a_record_with_a_mistyped_event_source_arn_fails_alone() {
    let ev = json!({"Records": [
        {"messageId": "a", "eventSource": "aws:sqs", "eventSourceARN": 5,
         "body": "{\"service\":\"iot\",\"package\":\"fw\",\"versions\":[\"1\"]}"},
        {"messageId": "b", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work",
         "body": "{\"service\":\"iot\",\"package\":\"fw\",\"versions\":[\"2\"]}"}
    ]});
    let Event::Sqs(units) = decode(ev, "req", &EventRules::default()).unwrap() else {
        panic!("not sqs")
    };
    assert_eq!(units.len(), 2);
    assert_eq!(units[0].source, "a");
    let Decoded::Invalid(inv) = &units[0].requests[0] else {
        panic!("{:?}", units[0].requests)
    };
    // The reason names the field (issue 15, item 5).
    let reason = inv.error.reason();
    assert!(reason.contains("SQS record"), "{reason}");
    assert!(reason.contains("at `eventSourceARN`"), "{reason}");
    assert!(inv.raw.contains("eventSourceARN"));
    assert_eq!(valid_count(&units[1].requests), 1);
}

#[test]
fn bad_records_do_not_spoil_their_neighbours() {
    let ev = json!({"Records": [
        {"messageId": "a", "eventSource": "aws:sqs", "body": "{\"service\":\"iot\",\"package\":\"fw\",\"versions\":[\"1\"]}",
         "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work", "attributes": {"ApproximateReceiveCount": "3"}},
        {"messageId": "b", "eventSource": "aws:sqs", "body": "not json"},
        {"messageId": "c", "eventSource": "aws:sqs", "body": "[{\"service\":\"iot\",\"package\":\"fw\",\"versions\":[\"2\"]}, {\"service\":\"nope\"}]"}
    ]});
    let Event::Sqs(units) = decode(ev, "req", &EventRules::default()).unwrap() else {
        panic!("not sqs")
    };
    assert_eq!(units[1].sender, None);
    assert_eq!(units.len(), 3);
    assert_eq!(
        units[0].origin,
        Origin::Sqs {
            fifo: false,
            receive_count: 3
        }
    );
    assert_eq!(valid_count(&units[0].requests), 1);
    assert!(
        matches!(&units[1].requests[..], [Decoded::Invalid(Invalid { error: DecodeError::NotJson(_), raw })] if raw == "not json")
    );
    assert_eq!(units[2].requests.len(), 2);
    assert_eq!(valid_count(&units[2].requests), 1);
}

#[test]
fn an_envelope_inside_a_record_is_unwrapped_and_fifo_is_seen() {
    let body = json!({"version":"0","id":"e1","detail-type":"Package Cleanup Requested","source":"acme.cleanup","detail":{"service":"iot","package":"fw","deletePackage":true}}).to_string();
    let ev = json!({"Records": [{"messageId": "m", "eventSource": "aws:sqs", "body": body, "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work.fifo"}]});
    let Event::Sqs(units) = decode(ev, "req", &EventRules::default()).unwrap() else {
        panic!()
    };
    assert_eq!(
        units[0].origin,
        Origin::Sqs {
            fifo: true,
            receive_count: 1
        }
    );
    assert_eq!(valid_count(&units[0].requests), 1);
}

#[test]
fn eventbridge_and_bare_requests_become_one_unit() {
    let ev = json!({"version":"0","id":"evt-9","detail-type":"Package Cleanup Requested","source":"acme","account":"111122223333","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"service":"iot","package":"fw","versions":["1"]}});
    let Event::Invocation(u) = decode(ev, "req", &EventRules::default()).unwrap() else {
        panic!()
    };
    assert_eq!(
        (u.source.as_str(), u.origin),
        ("evt-9", Origin::EventBridge)
    );
    let Event::Invocation(u) = decode(
        json!([{"service":"iot","package":"fw","versions":["1"]}]),
        "req-1",
        &EventRules::default(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!((u.source.as_str(), u.origin), ("req-1", Origin::Direct));
    assert_eq!(valid_count(&u.requests), 1);
}

#[test]
fn anything_else_is_a_clear_error() {
    let err = decode(json!({"hello": "world"}), "r", &EventRules::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("received an object with keys [hello]"),
        "{err}"
    );
    let err = decode(json!("text"), "r", &EventRules::default()).unwrap_err();
    assert!(err.to_string().ends_with("received a string"));
}

#[test]
fn schema_errors_name_the_path() {
    let ds = from_body(
        r#"{"service":"iot","package":"fw","versions":"1.0"}"#,
        &EventRules::default(),
    );
    let Decoded::Invalid(i) = &ds[0] else {
        panic!()
    };
    assert!(
        i.error.reason().contains("at `versions`"),
        "{}",
        i.error.reason()
    );
}

fn native(op: &str, state: &str) -> Value {
    json!({"version":"0","id":"e-1","detail-type":"CodeArtifact Package Version State Change","source":"aws.codeartifact",
           "account":"111122223333","time":"2026-11-21T08:00:00Z","region":"us-east-1",
           "resources":["arn:aws:codeartifact:us-east-1:111122223333:package/acme/releases/npm/acme/web"],
           "detail":{"domainName":"acme","domainOwner":"111122223333","repositoryName":"releases","repositoryAdministrator":"111122223333",
                     "packageFormat":"npm","packageNamespace":"acme","packageName":"web","packageVersion":"1.0.9",
                     "packageVersionState":state,"packageVersionRevision":"rev","operationType":op,"sequenceNumber":7,
                     "eventDeduplicationId":"d-1","changes":{"assetsAdded":1,"assetsRemoved":0,"assetsUpdated":0,"metadataUpdated":true,"statusChanged":false}}})
}

#[test]
fn a_mistyped_package_in_a_codeartifact_event_is_refused_never_widened() {
    let policy: RawRequest = serde_json::from_value(json!({"policy":{"keepLatest":5}})).unwrap();
    for (field, bad) in [
        ("packageName", json!(42)),
        ("packageName", Value::Null),
        ("packageName", json!(["web"])),
        ("packageName", json!("")),
        ("repositoryName", json!({"name": "releases"})),
        ("domainName", Value::Null),
        ("packageFormat", json!(1)),
        ("packageNamespace", json!(["acme"])),
        ("domainOwner", json!(111122223333u64)),
    ] {
        let mut event = native("Created", "Published");
        event["detail"][field] = bad.clone();
        let Event::Invocation(u) =
            decode(event, "r", &EventRules::with_policy(policy.clone())).unwrap()
        else {
            panic!()
        };
        match &u.requests[..] {
            [Decoded::Invalid(i)] => assert!(
                i.error.reason().contains(field),
                "{field}={bad}: {}",
                i.error.reason()
            ),
            other => panic!("{field}={bad} was not refused: {other:?}"),
        }
    }
    // A package without a namespace comes as `null`, and that is fine.
    let mut event = native("Created", "Published");
    event["detail"]["packageNamespace"] = Value::Null;
    let Event::Invocation(u) =
        decode(event, "r", &EventRules::with_policy(policy.clone())).unwrap()
    else {
        panic!()
    };
    let [Decoded::Valid(Job::One(r))] = &u.requests[..] else {
        panic!("{:?}", u.requests)
    };
    assert_eq!(r.target.package_label(), "acme/releases/npm/web");
}

#[test]
fn codeartifact_publishes_apply_the_event_policy_and_other_events_are_ignored() {
    let policy: RawRequest =
        serde_json::from_value(json!({"policy":{"keepLatest":5},"maxDeletions":20})).unwrap();
    let Event::Invocation(u) = decode(
        native("Created", "Published"),
        "r",
        &EventRules::with_policy(policy.clone()),
    )
    .unwrap() else {
        panic!()
    };
    let [Decoded::Valid(Job::One(r))] = &u.requests[..] else {
        panic!("{:?}", u.requests)
    };
    assert_eq!(r.target.package_label(), "acme/releases/npm/acme/web");
    assert!(
        matches!(&r.action, crate::request::Action::Retain(ret) if ret.max_deletions == Some(20))
    );
    for (op, state, with) in [
        ("Deleted", "Published", true),
        ("Created", "Published", false),
    ] {
        let Event::Invocation(u) = decode(
            native(op, state),
            "r",
            &if with {
                EventRules::with_policy(policy.clone())
            } else {
                EventRules::default()
            },
        )
        .unwrap() else {
            panic!()
        };
        assert!(
            matches!(&u.requests[..], [Decoded::Ignored(_)]),
            "{op} {state} {with}: {:?}",
            u.requests
        );
    } // A version archived, by anyone: its time is recorded (archivedForDays).
    let Event::Invocation(u) =
        decode(native("Updated", "Archived"), "r", &EventRules::default()).unwrap()
    else {
        panic!()
    };
    let [Decoded::Archived(a)] = &u.requests[..] else {
        panic!("{:?}", u.requests)
    };
    assert_eq!(
        (a.key.partition().as_str(), a.repository.as_str()),
        ("package#111122223333/acme/npm/acme/web", "releases")
    );
    assert!(a.at_ms > 0 && !a.version.is_empty());
}

/// Issue 15, item 3: an SNS notification in an SQS body (SNS → SQS without
/// raw message delivery) is unwrapped once and its `Message` run; a raw
/// body beside it runs too, and a junk record fails alone.
#[test]
fn an_sns_notification_in_a_body_is_unwrapped_once() {
    let request = r#"{"service":"iot","package":"fw","versions":["1"]}"#;
    let sns = json!({"Type": "Notification", "MessageId": "n-1",
        "TopicArn": "arn:aws:sns:us-east-1:111122223333:cleanup",
        "Message": request, "Timestamp": "2026-11-30T08:00:00.000Z",
        "SignatureVersion": "1", "Signature": "x", "SigningCertURL": "https://x", "UnsubscribeURL": "https://x"});
    let ev = json!({"Records": [
        {"messageId": "sns", "eventSource": "aws:sqs", "body": sns.to_string(),
         "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work"},
        {"messageId": "raw", "eventSource": "aws:sqs", "body": request,
         "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work"},
        {"messageId": "junk", "eventSource": "aws:sqs", "body": "{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"Message\": \"not json\"}",
         "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work"}
    ]});
    let Event::Sqs(units) = decode(ev, "req", &EventRules::default()).unwrap() else {
        panic!("not sqs")
    };
    assert_eq!(
        valid_count(&units[0].requests),
        1,
        "{:?}",
        units[0].requests
    );
    assert_eq!(valid_count(&units[1].requests), 1);
    let Decoded::Invalid(inv) = &units[2].requests[0] else {
        panic!("{:?}", units[2].requests)
    };
    assert!(
        inv.error.reason().contains("not JSON"),
        "{}",
        inv.error.reason()
    );
    // Wrapped twice: only one layer is taken off.
    let twice = json!({"Type": "Notification", "TopicArn": "t", "Message": sns.to_string()});
    let decoded = from_body(&twice.to_string(), &EventRules::default());
    let Decoded::Invalid(inv) = &decoded[0] else {
        panic!("{decoded:?}")
    };
    assert!(
        inv.error.reason().contains("SNS notification"),
        "{}",
        inv.error.reason()
    );
}
