//! SQS as Lambda's event source plays it: records of real messages,
//! receiving, queue depths, and draining a queue through a handler.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use packprune::Handler;
use serde_json::{json, Value};

use super::context;

/// A message as SQS's Lambda event source delivers it.
pub fn sqs_record(queue_url: &str, m: &aws_sdk_sqs::types::Message) -> Value {
    let name = queue_url.rsplit('/').next().unwrap();
    let attributes: serde_json::Map<String, Value> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect()
        })
        .unwrap_or_default();
    json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
           "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
           "eventSource": "aws:sqs", "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{name}"),
           "awsRegion": "us-east-1"})
}

/// Receives what is visible now (up to `max`), leaving it in flight.
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    max: usize,
) -> Result<Vec<aws_sdk_sqs::types::Message>> {
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10.min((max - out.len()) as i32))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .visibility_timeout(60)
            .send()
            .await?;
        let msgs = got.messages.unwrap_or_default();
        if msgs.is_empty() {
            return Ok(out);
        }
        out.extend(msgs);
        if out.len() >= max {
            return Ok(out);
        }
    }
}

/// Visible, in-flight and delayed message counts.
pub async fn depth(sqs: &aws_sdk_sqs::Client, queue: &str) -> Result<u64> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await?;
    Ok(attrs
        .attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0))
}

/// Every message on a queue, deleted as read: the dead-letter queue's
/// contents, as bodies.
pub async fn take_all(sqs: &aws_sdk_sqs::Client, queue: &str) -> Result<Vec<Value>> {
    let mut bodies = Vec::new();
    for m in receive(sqs, queue, 1000).await? {
        bodies.push(serde_json::from_str(m.body().unwrap())?);
        sqs.delete_message()
            .queue_url(queue)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await?;
    }
    Ok(bodies)
}

/// Plays the SQS event source: delivers the queue's messages to the handler
/// in batches of 10, deletes what it acknowledged, and waits out delays,
/// until the queue is empty or `within` has passed. Returns the summaries.
pub async fn drain(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    handler: &Handler,
    within: Duration,
) -> Result<Vec<packprune::testkit::account::Summary>> {
    let until = Instant::now() + within;
    let mut summaries = Vec::new();
    while depth(sqs, queue).await? > 0 {
        if Instant::now() > until {
            bail!("the queue still holds messages after {within:?}");
        }
        let batch = receive(sqs, queue, 10).await?;
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let records: Vec<Value> = batch.iter().map(|m| sqs_record(queue, m)).collect();
        let event = json!({ "Records": records });
        let out = handler
            .process(lambda_runtime::LambdaEvent::new(
                event,
                context(Duration::from_secs(60)),
            ))
            .await?;
        assert!(
            out.summary.balanced(),
            "accounting invariant broken: {:?}",
            out.summary
        );
        let failed: Vec<String> = out.response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
            .collect();
        for m in &batch {
            if failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                // Back to the queue now rather than after the visibility timeout.
                sqs.change_message_visibility()
                    .queue_url(queue)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .visibility_timeout(0)
                    .send()
                    .await?;
            } else {
                sqs.delete_message()
                    .queue_url(queue)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await?;
            }
        }
        summaries.push(out.summary);
    }
    Ok(summaries)
}
