//! Events as the function receives them: the samples in `events/`, and
//! SQS events built from bodies.

use serde_json::{json, Value};

use super::ROOT;

/// A sample event from `events/`.
pub fn read_event(name: &str) -> Value {
    let path = format!("{ROOT}/events/{name}");
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("events are JSON")
}

/// An SQS event with one record per (messageId, body), from a standard or
/// a FIFO queue.
pub fn sqs_event(records: &[(&str, Value)], fifo: bool) -> Value {
    let arn = if fifo {
        "arn:aws:sqs:us-east-1:111122223333:packprune-work.fifo"
    } else {
        "arn:aws:sqs:us-east-1:111122223333:packprune-work"
    };
    let records: Vec<Value> = records
        .iter()
        .map(|(id, body)| {
            let body = match body {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            json!({"messageId": id, "receiptHandle": "rh", "body": body, "md5OfBody": "0",
                   "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1",
                   "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}})
        })
        .collect();
    json!({ "Records": records })
}

/// An SQS event of `records`, each a new message (its own `messageId`:
/// the function works on a message id once, with `DOWNLOADS_TABLE`).
pub fn fresh_sqs_event(records: &[Value]) -> Value {
    static EVENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let event = EVENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let body = body.as_str().map(str::to_owned).unwrap_or_else(|| body.to_string());
            json!({"messageId": format!("rec-{}-{event}-{i}", std::process::id()), "receiptHandle": "rh", "body": body, "attributes": {"ApproximateReceiveCount": "1"},
                   "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}
