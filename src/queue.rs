//! The SQS edge: SendMessageBatch to the dead-letter and work queues, with
//! every `Failed` entry read. SQS keeps the SDK's standard retries (it is not
//! a package API); a message that still fails is reported to the caller.

use std::sync::Arc;

use aws_sdk_sqs::operation::send_message_batch::{SendMessageBatchError, SendMessageBatchOutput};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use futures::stream::{self, StreamExt};

use crate::account::Outgoing;

/// SendMessageBatch calls one [`Outbox::send`] keeps in flight at once. A
/// fanned-out scope of 1,000 packages is 100 batches: all at once meant 100
/// connections (each its own TLS session in Lambda) and their buffers held
/// together; 10 at a time send them in about ten round trips.
pub(crate) const SENDS_IN_FLIGHT: usize = 10;

/// SendMessageBatch takes at most 10 entries.
pub(crate) const MAX_BATCH_ENTRIES: usize = 10;
/// One message, and all messages of one batch together, stay within 1 MiB.
pub(crate) const MAX_BATCH_BYTES: usize = 1_048_576;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("SendMessageBatch to {queue} failed")]
    Call {
        queue: String,
        #[source]
        source: Box<SdkError<SendMessageBatchError, HttpResponse>>,
    },
    #[error("SQS refused the message with {code} (sender fault: {sender_fault}): {message}")]
    Refused {
        code: String,
        message: String,
        sender_fault: bool,
    },
    #[error("the message is {size} bytes, over SQS's limit of {MAX_BATCH_BYTES}")]
    TooLarge { size: usize },
    #[error("SQS answered without naming the entry")]
    Unanswered,
    #[error("no queue is configured for these messages")]
    NoQueue,
    #[error("the building of the SendMessageBatch entry failed")]
    Build(#[source] aws_sdk_sqs::error::BuildError),
}

/// What became of one message: sent, or why not (one error may be shared by a
/// whole batch).
pub(crate) type Sent = Result<(), Arc<SendError>>;

#[derive(Clone, Debug)]
pub(crate) struct Outbox {
    client: Client,
}

impl Outbox {
    pub(crate) fn new(client: Client) -> Self {
        Outbox { client }
    }

    /// Sends every message in batches of at most 10 entries and 1 MiB, at
    /// most [`SENDS_IN_FLIGHT`] batches at once (a FIFO queue's one after
    /// another); the result holds one entry per message, in order.
    pub(crate) async fn send(&self, queue_url: &str, messages: &[Outgoing]) -> Vec<Sent> {
        let fifo = queue_url.ends_with(".fifo");
        let (batches, mut results) = batches(messages);
        // A FIFO queue keeps the order of one group only when its batches go
        // one after another.
        let sent: Vec<Vec<(usize, Sent)>> = if fifo {
            let mut out = Vec::with_capacity(batches.len());
            for b in &batches {
                out.push(self.send_batch(queue_url, fifo, messages, b).await);
            }
            out
        } else {
            // Built first, then polled at most SENDS_IN_FLIGHT at a time (a
            // future does nothing until polled). Mapping inside the stream
            // instead leaves a closure over borrowed batches that is not
            // `Send` for every lifetime, so the handler could not be spawned.
            let calls: Vec<_> = batches
                .iter()
                .map(|b| self.send_batch(queue_url, fifo, messages, b))
                .collect();
            stream::iter(calls)
                .buffer_unordered(SENDS_IN_FLIGHT)
                .collect()
                .await
        };
        for (i, r) in sent.into_iter().flatten() {
            results[i] = r;
        }
        results
    }

    /// One SendMessageBatch call; a result for each message of `batch`.
    async fn send_batch(
        &self,
        queue_url: &str,
        fifo: bool,
        messages: &[Outgoing],
        batch: &[usize],
    ) -> Vec<(usize, Sent)> {
        let mut results: Vec<(usize, Sent)> = batch.iter().map(|&i| (i, Ok(()))).collect();
        let mut entries = Vec::with_capacity(batch.len());
        for (k, &i) in batch.iter().enumerate() {
            match batch_entry(i, &messages[i], fifo) {
                Ok(e) => entries.push(e),
                Err(e) => results[k].1 = Err(Arc::new(SendError::Build(e))),
            }
        }
        if entries.is_empty() {
            return results;
        }
        let answered = self
            .client
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        read_answer(&mut results, answered, queue_url);
        results
    }
}

/// The entry of message `i`: a FIFO queue's in group `packprune`,
/// deduplicated by its body; a standard queue's with its delay.
fn batch_entry(
    i: usize,
    m: &Outgoing,
    fifo: bool,
) -> Result<SendMessageBatchRequestEntry, aws_sdk_sqs::error::BuildError> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(i.to_string())
        .message_body(&m.body);
    if fifo {
        let dedup = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, m.body.as_bytes());
        entry = entry
            .message_group_id("packprune")
            .message_deduplication_id(dedup.to_string());
    } else {
        entry = entry.set_delay_seconds(m.delay_seconds);
    }
    entry.build()
}

/// Reads SQS's answer into the results not already failed: the call's
/// error for all of them, or each entry's `Failed` answer, or
/// [`SendError::Unanswered`] for an entry SQS named nowhere.
fn read_answer(
    results: &mut [(usize, Sent)],
    answered: Result<SendMessageBatchOutput, SdkError<SendMessageBatchError, HttpResponse>>,
    queue_url: &str,
) {
    match answered {
        Err(source) => {
            let e = Arc::new(SendError::Call {
                queue: queue_url.to_owned(),
                source: Box::new(source),
            });
            for (_, r) in results.iter_mut().filter(|(_, r)| r.is_ok()) {
                *r = Err(e.clone());
            }
        }
        Ok(out) => {
            for (i, r) in results.iter_mut().filter(|(_, r)| r.is_ok()) {
                let id = i.to_string();
                if let Some(f) = out.failed().iter().find(|f| f.id() == id) {
                    *r = Err(Arc::new(SendError::Refused {
                        code: f.code().to_owned(),
                        message: f.message().unwrap_or_default().to_owned(),
                        sender_fault: f.sender_fault(),
                    }));
                } else if !out.successful().iter().any(|s| s.id() == id) {
                    *r = Err(Arc::new(SendError::Unanswered));
                }
            }
        }
    }
}

/// Groups messages into batches of at most [`MAX_BATCH_ENTRIES`] entries and
/// [`MAX_BATCH_BYTES`] bytes, in order; a message over the limit alone gets
/// its error and no batch.
fn batches(messages: &[Outgoing]) -> (Vec<Vec<usize>>, Vec<Sent>) {
    let mut results: Vec<Sent> = vec![Ok(()); messages.len()];
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut batch: Vec<usize> = Vec::new();
    let mut bytes = 0usize;
    for (i, m) in messages.iter().enumerate() {
        let size = m.body.len();
        if size > MAX_BATCH_BYTES {
            results[i] = Err(Arc::new(SendError::TooLarge { size }));
            continue;
        }
        if batch.len() == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES {
            out.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        batch.push(i);
        bytes += size;
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    (out, results)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_runtime_api::client::http::{
        http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;
    use serde_json::{json, Value};

    use super::*;

    /// SQS answering every entry as sent after 20 ms, counting the calls in
    /// flight and the most at once.
    #[derive(Debug, Default)]
    struct Slow {
        now: AtomicUsize,
        most: AtomicUsize,
        calls: AtomicUsize,
    }

    impl HttpConnector for &'static Slow {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let me: &'static Slow = self;
            let body: Value = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
            let ok: Vec<Value> = body["Entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| json!({"Id": e["Id"], "MessageId": "m", "MD5OfMessageBody": "x"}))
                .collect();
            HttpConnectorFuture::new(async move {
                let now = me.now.fetch_add(1, Ordering::SeqCst) + 1;
                me.most.fetch_max(now, Ordering::SeqCst);
                me.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                me.now.fetch_sub(1, Ordering::SeqCst);
                let text = json!({"Successful": ok, "Failed": []}).to_string();
                Ok(HttpResponse::new(
                    200.try_into().unwrap(),
                    SdkBody::from(text),
                ))
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_fan_out_keeps_at_most_sends_in_flight_batches_at_once() {
        let sqs: &'static Slow = Box::leak(Box::default());
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .endpoint_url("http://sqs.test")
            .http_client(http_client_fn(move |_, _| SharedHttpConnector::new(sqs)))
            .build();
        let outbox = Outbox::new(Client::from_conf(config));
        // A 1,000-package scope's fan-out: 100 batches of 10.
        let messages: Vec<Outgoing> = (0..1000)
            .map(|i| Outgoing {
                body: format!("{{\"package\":\"p{i}\"}}"),
                delay_seconds: None,
            })
            .collect();
        let sent = outbox.send("http://sqs.test/1/work", &messages).await;
        assert_eq!(sent.len(), 1000);
        assert!(sent.iter().all(Result::is_ok), "every message sent");
        assert_eq!(sqs.calls.load(Ordering::SeqCst), 100);
        assert_eq!(sqs.most.load(Ordering::SeqCst), SENDS_IN_FLIGHT);
    }
}
