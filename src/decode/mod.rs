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

mod changed;
mod events;
mod strict;

pub use changed::Changed;
use events::from_envelope;
pub use events::{Accept, EventRules};

use aws_lambda_events::sqs::SqsMessage;
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
    pub(crate) source: String,
    /// Who sent it, where the event says: an SQS message's `SenderId` (the
    /// sending principal), or an EventBridge event's `source` and account.
    /// A direct invoke's caller is in CloudTrail, not in the event.
    pub(crate) sender: Option<String>,
    pub(crate) origin: Origin,
    pub requests: Vec<Decoded>,
}

#[derive(Debug)]
pub enum Decoded {
    Valid(Job),
    Invalid(Invalid),
    /// An event that asks for nothing, and why.
    Ignored(String),
    /// A package manager's download (CloudTrail `ReadFromRepository`), to
    /// record; `None` when it names no package (counted only).
    Read(Option<crate::downloads::Read>),
    /// A CodeArtifact version archived (a "Package Version State Change"
    /// to `Archived`), whose time to record for `archivedForDays`.
    Archived(crate::downloads::Archived),
    /// A CodeArtifact version whose entry in the index of dependencies may
    /// have changed (a state-change event on the usage queue).
    Changed(Changed),
}

/// A request that cannot be executed, with its raw text.
#[derive(Debug)]
pub struct Invalid {
    pub(crate) raw: String,
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
    #[error(transparent)]
    ReadEvent(#[from] crate::downloads::ReadEventError),
    /// A reviewed plan that cannot be applied (tampered, expired, not a plan).
    #[error(transparent)]
    PlanRefused(#[from] crate::request::PlanRefused),
    /// A request the configuration cannot serve (a setting it needs is off).
    #[error("{0}")]
    Unsupported(String),
    #[error("an SNS notification whose `Message` is not a request's JSON text (an SQS body's notification is unwrapped once; its `Message` must be the request itself)")]
    SnsNotification,
    #[error("the SQS record does not match SQS's record shape")]
    Record(#[source] serde_path_to_error::Error<serde_json::Error>),
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
            DecodeError::NotJson(e) | DecodeError::DuplicateKey(e) => {
                format!("{self}: {e}")
            }
            DecodeError::Record(e)
            | DecodeError::ReadEvent(crate::downloads::ReadEventError::Shape(e)) => {
                format!("{self}: at `{}`: {}", e.path(), e.inner())
            }
            DecodeError::Schema(e) => {
                let path = e.path().to_string();
                let inner = e.inner().to_string();
                let inner = strict::unknown_field(&inner).unwrap_or(inner);
                if path == "." {
                    format!("{self}: {inner}")
                } else {
                    format!("{self}: at `{path}`: {inner}")
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
    pub(crate) received: String,
}

/// Describes a JSON value in a few words, for error messages.
pub(crate) fn describe(v: &Value) -> String {
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
                .map(
                    |(i, r)| match serde_path_to_error::deserialize::<_, SqsMessage>(r) {
                        Ok(m) => sqs_unit(m, events),
                        Err(e) => malformed_record(i, r, e),
                    },
                )
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
fn malformed_record(
    index: usize,
    record: &Value,
    error: serde_path_to_error::Error<serde_json::Error>,
) -> Unit {
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
    let usage = events.usage_queue.is_some() && record.event_source_arn == events.usage_queue;
    Unit {
        source: record.message_id.unwrap_or_default(),
        sender: record.attributes.get("SenderId").cloned(),
        origin: Origin::Sqs {
            fifo,
            receive_count,
        },
        requests: match usage {
            true => changed::from_usage_body(&body, events),
            false => from_body(&body, events),
        },
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

/// An SNS notification as SNS delivers it to an SQS queue without raw
/// message delivery: `Type: Notification`, a `TopicArn`, and the published
/// message in `Message`, a string (SNS developer guide, "Amazon SNS message
/// and JSON formats").
fn sns_message(v: &Value) -> Option<&str> {
    if v.get("Type").and_then(Value::as_str) != Some("Notification") || v.get("TopicArn").is_none()
    {
        return None;
    }
    v.get("Message").and_then(Value::as_str)
}

/// A message body: a request, an array of requests, an EventBridge envelope
/// around one, Lambda's on-failure destination record around either (a
/// failed scheduled or EventBridge invocation, redriven from the dead-letter
/// queue), or an SNS notification around any of these (SNS → SQS without
/// raw message delivery), unwrapped once. What a notification carries gets
/// every check a body gets.
pub fn from_body(body: &str, events: &EventRules) -> Vec<Decoded> {
    body_of(body, events, true)
}

fn body_of(body: &str, events: &EventRules, unwrap_sns: bool) -> Vec<Decoded> {
    if let Err(e) = strict::no_duplicate_keys(body) {
        return vec![Decoded::Invalid(Invalid {
            raw: body.to_owned(),
            error: DecodeError::DuplicateKey(e),
        })];
    }
    match serde_json::from_str::<Value>(body) {
        Ok(v) if unwrap_sns && sns_message(&v).is_some() => {
            body_of(sns_message(&v).unwrap_or_default(), events, false)
        }
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
mod tests;
