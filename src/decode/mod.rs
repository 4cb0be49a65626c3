//! Events → requests, in one place, record by record.
//!
//! - An SQS event: each record's body is a request, an array of requests, or
//!   an EventBridge envelope whose `detail` is one (a rule targeting the
//!   queue).
//! - An EventBridge event: `detail` is the request.
//! - A bare request or array: EventBridge Scheduler's `Input`, a rule's
//!   constant input, or a direct invoke.
//!
//! A record (or array element) that does not decode becomes
//! [`Decoded::Invalid`], keeping its raw text and the reason, so that it can
//! be dead-lettered without touching its neighbours.

mod strict;

use aws_lambda_events::sqs::SqsMessage;
use serde::Deserialize;
use serde_json::Value;

use crate::request::{Job, RawRequest, ValidationError};

/// Where a unit of work came from; it decides how unfinished work is handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An SQS record. `receive_count` is SQS's ApproximateReceiveCount.
    Sqs { fifo: bool, receive_count: u32 },
    /// An EventBridge event (rule).
    EventBridge,
    /// A direct invocation, or EventBridge Scheduler's `Input`.
    Direct,
}

/// One delivery: an SQS record, or the whole event of an invocation.
#[derive(Debug)]
pub struct Unit {
    /// The SQS message id, EventBridge event id or Lambda request id.
    pub source: String,
    /// Who sent it, where the event says: an SQS message's `SenderId` (the
    /// sending principal), or an EventBridge event's `source` and account.
    /// A direct invoke's caller is in CloudTrail, not in the event.
    pub sender: Option<String>,
    pub origin: Origin,
    pub requests: Vec<Decoded>,
}

#[derive(Debug)]
pub enum Decoded {
    Valid(Job),
    Invalid(Invalid),
    /// An event that asks for nothing, and why.
    Ignored(String),
}

/// A request that cannot be executed, with its raw text.
#[derive(Debug)]
pub struct Invalid {
    pub raw: String,
    pub error: DecodeError,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is not JSON")]
    NotJson(#[source] serde_json::Error),
    #[error("the request does not match the schema")]
    Schema(#[source] serde_path_to_error::Error<serde_json::Error>),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(
        "expected a deletion request (an object with \"service\") or an array of them, got {0}"
    )]
    NotARequest(String),
    #[error("a CodeArtifact event whose detail.{0} is missing or not a non-empty string")]
    NativeEvent(&'static str),
    #[error("a CodeArtifact event without a `detail` object")]
    NoDetail,
    #[error("an SNS notification, not a request: turn on raw message delivery for the queue's SNS subscription, so that the body is the request itself")]
    SnsNotification,
    #[error("the SQS record does not match SQS's record shape")]
    Record(#[source] serde_json::Error),
    #[error("the body names a key twice in one object")]
    DuplicateKey(#[source] serde_json::Error),
    #[error(
        "an EventBridge event with {field} {value:?} is not accepted (set {var} to accept it)"
    )]
    NotAccepted {
        field: &'static str,
        value: String,
        var: &'static str,
    },
}

impl DecodeError {
    /// The reason with its cause, for a dead-letter message.
    pub fn reason(&self) -> String {
        match self {
            DecodeError::NotJson(e) | DecodeError::Record(e) | DecodeError::DuplicateKey(e) => {
                format!("{self}: {e}")
            }
            DecodeError::Schema(e) => {
                let path = e.path().to_string();
                if path == "." {
                    format!("{self}: {}", e.inner())
                } else {
                    format!("{self}: at `{path}`: {}", e.inner())
                }
            }
            _ => self.to_string(),
        }
    }
}

/// What the invocation received.
#[derive(Debug)]
pub enum Event {
    /// An SQS batch: one unit per record, in batch order.
    Sqs(Vec<Unit>),
    /// Anything else: one unit.
    Invocation(Unit),
}

#[derive(Debug, thiserror::Error)]
#[error("unrecognised event: expected an SQS event (\"Records\" from aws:sqs), an EventBridge event (\"detail-type\", \"source\", \"detail\") or a deletion request (an object with \"service\", or an array of them); received {received}")]
pub struct UnrecognisedEvent {
    pub received: String,
}

/// Describes a JSON value in a few words, for error messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(a) => format!("an array of {} elements", a.len()),
        Value::Object(o) if o.is_empty() => "an empty object".into(),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().map(String::as_str).take(12).collect();
            format!("an object with keys [{}]", keys.join(", "))
        }
    }
}

/// The detail-type of CodeArtifact's own package events.
pub const CODEARTIFACT_DETAIL_TYPE: &str = "CodeArtifact Package Version State Change";
/// The detail-type custom envelopes carry unless `EVENT_DETAIL_TYPES` says
/// otherwise.
pub const DEFAULT_DETAIL_TYPE: &str = "Package Cleanup Requested";

/// Which values of an EventBridge field are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accept {
    Any,
    OneOf(Vec<String>),
}

impl Accept {
    /// `*` for any; else a comma-separated list.
    pub fn parse(list: &str) -> Accept {
        if list.trim() == "*" {
            return Accept::Any;
        }
        Accept::OneOf(
            list.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    fn admits(&self, value: Option<&str>) -> bool {
        match self {
            Accept::Any => true,
            Accept::OneOf(list) => value.is_some_and(|v| list.iter().any(|x| x == v)),
        }
    }
}

/// What EventBridge events may ask for: `EVENT_POLICY` for CodeArtifact's
/// own publish events, and the sources and detail-types a custom envelope
/// must carry (`EVENT_SOURCES`, `EVENT_DETAIL_TYPES`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRules {
    pub policy: Option<RawRequest>,
    pub sources: Accept,
    pub detail_types: Accept,
}

impl Default for EventRules {
    /// Any source, the one documented detail-type, no event policy.
    fn default() -> Self {
        EventRules {
            policy: None,
            sources: Accept::Any,
            detail_types: Accept::OneOf(vec![DEFAULT_DETAIL_TYPE.to_owned()]),
        }
    }
}

impl EventRules {
    pub fn with_policy(policy: RawRequest) -> Self {
        EventRules {
            policy: Some(policy),
            ..EventRules::default()
        }
    }
}

/// An EventBridge event: `detail-type` and `source`. A missing `detail` is
/// refused as the event's defect, not taken for a request.
fn is_envelope(v: &Value) -> bool {
    v.get("detail-type").is_some() && v.get("source").is_some()
}

fn is_sqs_event(v: &Value) -> bool {
    v.get("Records")
        .and_then(Value::as_array)
        .is_some_and(|rs| {
            rs.first()
                .is_some_and(|r| r.get("eventSource") == Some(&Value::from("aws:sqs")))
        })
}

/// Decodes one invocation's payload. `events` says what EventBridge events
/// may ask for.
pub fn decode(
    event: Value,
    request_id: &str,
    events: &EventRules,
) -> Result<Event, UnrecognisedEvent> {
    if is_sqs_event(&event) {
        let Some(Value::Array(records)) = event.get("Records") else {
            unreachable!("is_sqs_event checked for an array of records");
        };
        // Record by record: one malformed record (an `eventSourceARN` that
        // is a number, say) fails itself, never its whole batch.
        return Ok(Event::Sqs(
            records
                .iter()
                .enumerate()
                .map(|(i, r)| match SqsMessage::deserialize(r) {
                    Ok(m) => sqs_unit(m, events),
                    Err(e) => malformed_record(i, r, e),
                })
                .collect(),
        ));
    }
    if is_envelope(&event) {
        let source = event
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(request_id)
            .to_owned();
        let text = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or("?");
        return Ok(Event::Invocation(Unit {
            source,
            sender: Some(format!("{} ({})", text("source"), text("account"))),
            origin: Origin::EventBridge,
            requests: from_envelope(&event, events),
        }));
    }
    match &event {
        Value::Array(_) => {}
        Value::Object(o) if o.contains_key("service") => {}
        other => {
            return Err(UnrecognisedEvent {
                received: describe(other),
            })
        }
    }
    Ok(Event::Invocation(Unit {
        source: request_id.to_owned(),
        sender: None,
        origin: Origin::Direct,
        requests: from_value(&event),
    }))
}

/// A record that is not an SQS record: dead-lettered whole, with the
/// reason. Its `messageId`, when that is a string, names it in the batch
/// response.
fn malformed_record(index: usize, record: &Value, error: serde_json::Error) -> Unit {
    let source = record
        .get("messageId")
        .and_then(Value::as_str)
        .map_or_else(|| format!("record {index}"), str::to_owned);
    Unit {
        source,
        sender: None,
        origin: Origin::Sqs {
            fifo: false,
            receive_count: 1,
        },
        requests: vec![Decoded::Invalid(Invalid {
            raw: record.to_string(),
            error: DecodeError::Record(error),
        })],
    }
}

fn sqs_unit(record: SqsMessage, events: &EventRules) -> Unit {
    let fifo = record
        .event_source_arn
        .as_deref()
        .is_some_and(|arn| arn.ends_with(".fifo"));
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let body = record.body.unwrap_or_default();
    Unit {
        source: record.message_id.unwrap_or_default(),
        sender: record.attributes.get("SenderId").cloned(),
        origin: Origin::Sqs {
            fifo,
            receive_count,
        },
        requests: from_body(&body, events),
    }
}

/// A record Lambda writes to an asynchronous invocation's on-failure
/// destination: the event it could not process is its `requestPayload`.
fn is_destination_record(v: &Value) -> bool {
    v.get("requestContext")
        .is_some_and(|c| c.get("functionArn").is_some())
        && v.get("responseContext").is_some()
        && v.get("requestPayload").is_some()
}

/// A message body: a request, an array of requests, an EventBridge envelope
/// around one, or Lambda's on-failure destination record around either (a
/// failed scheduled or EventBridge invocation, redriven from the dead-letter
/// queue).
pub fn from_body(body: &str, events: &EventRules) -> Vec<Decoded> {
    if let Err(e) = strict::no_duplicate_keys(body) {
        return vec![Decoded::Invalid(Invalid {
            raw: body.to_owned(),
            error: DecodeError::DuplicateKey(e),
        })];
    }
    match serde_json::from_str::<Value>(body) {
        Ok(v) if is_destination_record(&v) => {
            let payload = &v["requestPayload"];
            if is_envelope(payload) {
                from_envelope(payload, events)
            } else {
                from_value(payload)
            }
        }
        Ok(v) if is_envelope(&v) => from_envelope(&v, events),
        Ok(v) => from_value(&v),
        Err(e) => vec![Decoded::Invalid(Invalid {
            raw: body.to_owned(),
            error: DecodeError::NotJson(e),
        })],
    }
}

fn from_envelope(envelope: &Value, events: &EventRules) -> Vec<Decoded> {
    let text = |k: &str| envelope.get(k).and_then(Value::as_str);
    if text("source") == Some("aws.codeartifact") {
        if text("detail-type") != Some(CODEARTIFACT_DETAIL_TYPE) {
            return vec![Decoded::Ignored(format!(
                "a CodeArtifact {:?} event: only {CODEARTIFACT_DETAIL_TYPE:?} triggers retention",
                text("detail-type").unwrap_or("?")
            ))];
        }
        return vec![from_native(envelope, events.policy.as_ref())];
    }
    let refused = |field, value: Option<&str>, var| {
        vec![Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NotAccepted {
                field,
                value: value.unwrap_or("(none)").to_owned(),
                var,
            },
        })]
    };
    if !events.sources.admits(text("source")) {
        return refused("source", text("source"), "EVENT_SOURCES");
    }
    if !events.detail_types.admits(text("detail-type")) {
        return refused("detail-type", text("detail-type"), "EVENT_DETAIL_TYPES");
    }
    from_value(&envelope["detail"])
}

/// CodeArtifact's "Package Version State Change": on a publish, the
/// configured policy for that one package. Anything else (deletions, our
/// own included, status changes, asset updates) asks for nothing.
fn from_native(envelope: &Value, event_policy: Option<&RawRequest>) -> Decoded {
    let d = &envelope["detail"];
    if !d.is_object() {
        return Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NoDetail,
        });
    }
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let (op, state) = (text("operationType"), text("packageVersionState"));
    let what = format!(
        "CodeArtifact {} {} event for {}@{}",
        op.as_deref().unwrap_or("?"),
        state.as_deref().unwrap_or("?"),
        text("packageName").as_deref().unwrap_or("?"),
        text("packageVersion").as_deref().unwrap_or("?"),
    );
    let publish = matches!(op.as_deref(), Some("Created" | "Updated"))
        && state.as_deref() == Some("Published");
    if !publish {
        return Decoded::Ignored(format!("{what}: only a publish triggers retention"));
    }
    let Some(template) = event_policy else {
        return Decoded::Ignored(format!("{what}: no EVENT_POLICY is configured"));
    };
    let named = match NativeTarget::read(d) {
        Ok(t) => t,
        Err(field) => {
            return Decoded::Invalid(Invalid {
                raw: envelope.to_string(),
                error: DecodeError::NativeEvent(field),
            })
        }
    };
    let mut raw = template.clone();
    raw.service = Some("codeartifact".into());
    raw.domain = Some(named.domain);
    raw.domain_owner = named.domain_owner;
    raw.repository = Some(named.repository);
    raw.format = Some(named.format);
    raw.namespace = named.namespace;
    raw.package = Some(named.package);
    match raw.validate_job() {
        Ok(job) => Decoded::Valid(job),
        Err(e) => Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::Invalid(e),
        }),
    }
}

/// The package a native CodeArtifact event names. Every field that names
/// it must be a string: a missing or mistyped `packageName` (a number,
/// `null`, an array) must never leave the request without a package, which
/// would widen it into a scope over the whole repository.
struct NativeTarget {
    domain: String,
    domain_owner: Option<String>,
    repository: String,
    format: String,
    namespace: Option<String>,
    package: String,
}

impl NativeTarget {
    fn read(d: &Value) -> Result<NativeTarget, &'static str> {
        let required = |k: &'static str| match d.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(k),
        };
        // Optional, but when present a string: `null` (no namespace) is how
        // CodeArtifact sends a package without one.
        let optional = |k: &'static str| match d.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
            Some(_) => Err(k),
        };
        Ok(NativeTarget {
            domain: required("domainName")?,
            domain_owner: optional("domainOwner")?,
            repository: required("repositoryName")?,
            format: required("packageFormat")?,
            namespace: optional("packageNamespace")?,
            package: required("packageName")?,
        })
    }
}

fn from_value(v: &Value) -> Vec<Decoded> {
    match v {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Object(_) => vec![one(v)],
        other => vec![Decoded::Invalid(Invalid {
            raw: other.to_string(),
            error: DecodeError::NotARequest(describe(other)),
        })],
    }
}

fn one(v: &Value) -> Decoded {
    let invalid = |error| {
        Decoded::Invalid(Invalid {
            raw: v.to_string(),
            error,
        })
    };
    if !v.is_object() {
        return invalid(DecodeError::NotARequest(describe(v)));
    }
    if v.get("Type").and_then(Value::as_str) == Some("Notification") && v.get("TopicArn").is_some()
    {
        return invalid(DecodeError::SnsNotification);
    }
    match serde_path_to_error::deserialize::<_, RawRequest>(v) {
        Err(e) => invalid(DecodeError::Schema(e)),
        Ok(raw) => match raw.validate_job() {
            Ok(job) => Decoded::Valid(job),
            Err(e) => invalid(DecodeError::Invalid(e)),
        },
    }
}

#[cfg(test)]
mod tests {
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
        let Decoded::Invalid(inv) = first(envelope("acme.platform", "Order Placed"), &defaults)
        else {
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
        let policy: RawRequest =
            serde_json::from_value(json!({"policy": {"keepLatest": 3}})).unwrap();
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
        assert!(
            inv.error.reason().contains("SQS record"),
            "{}",
            inv.error.reason()
        );
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
        let policy: RawRequest =
            serde_json::from_value(json!({"policy":{"keepLatest":5}})).unwrap();
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
            ("Updated", "Archived", true),
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
        }
    }
}
