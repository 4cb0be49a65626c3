//! A Lambda Runtime API and SQS event source in one, on loopback: function
//! processes poll `/next` and get batches of up to 10 records, as Lambda's
//! SQS event source delivers them; records named in `batchItemFailures` (or
//! the whole batch, on an error) go back on the queue with a higher receive
//! count. It is also the function's SQS endpoint (`sqs.rs`): what
//! SendMessageBatch sends to the work queue goes on the same queue (after
//! its `DelaySeconds`), what goes to the dead-letter queue is counted.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::sqs;

/// Records per invocation, as the SQS event source's default `BatchSize`.
const BATCH: usize = 10;
/// The queues' names in the URLs the function is given.
const WORK_QUEUE: &str = "packprune-work";
const DEAD_LETTER_QUEUE: &str = "packprune-dlq";

#[derive(Debug, Clone)]
struct Message {
    id: String,
    body: String,
    receives: u32,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Message>,
    in_flight: HashMap<String, Vec<Message>>,
    /// Messages sent with a delay, not yet on the queue.
    delayed: u64,
    /// The number of the next message.
    next_id: u64,
    invocations: u64,
    redelivered: u64,
    errors: u64,
    /// Messages the function sent to the work queue, and to the
    /// dead-letter queue (with their bodies).
    sent_to_work_queue: u64,
    dead_letters: Vec<String>,
    first_poll: Option<Instant>,
}

impl Queue {
    fn push(&mut self, body: String) -> String {
        let id = format!("msg-{:06}", self.next_id);
        self.next_id += 1;
        self.pending.push_back(Message {
            id: id.clone(),
            body,
            receives: 0,
        });
        id
    }
}

/// The event source's state, shared by the server and the benchmark.
pub struct EventSource {
    queue: Mutex<Queue>,
    changed: Notify,
    /// The function's timeout: each invocation's deadline.
    timeout: Duration,
    /// Records per invocation.
    batch: usize,
    pub addr: SocketAddr,
}

/// What a run of the event source saw.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub invocations: u64,
    pub redelivered: u64,
    pub errors: u64,
    pub sent_to_work_queue: u64,
    pub dead_letters: Vec<String>,
}

impl EventSource {
    /// Serves on a free loopback port until the process ends.
    pub async fn start(timeout: Duration) -> anyhow::Result<Arc<EventSource>> {
        Self::start_with_batch(timeout, BATCH).await
    }

    /// With `batch` records per invocation (a mapping's `BatchSize`, up to
    /// 10,000 with a batching window).
    pub async fn start_with_batch(
        timeout: Duration,
        batch: usize,
    ) -> anyhow::Result<Arc<EventSource>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let source = Arc::new(EventSource {
            queue: Mutex::new(Queue::default()),
            changed: Notify::new(),
            timeout,
            batch,
            addr: listener.local_addr()?,
        });
        let s = source.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let s = s.clone();
                        async move { Ok::<_, Infallible>(s.serve(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(source)
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().expect("queue lock")
    }

    /// Puts request bodies on the queue; returns their message ids.
    pub fn send(&self, bodies: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut q = self.queue();
        let ids = bodies.into_iter().map(|b| q.push(b)).collect();
        drop(q);
        self.changed.notify_waiters();
        ids
    }

    /// The function's `AWS_ENDPOINT_URL_SQS`.
    pub fn sqs_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The function's `WORK_QUEUE_URL`: messages sent there are delivered.
    pub fn work_queue_url(&self) -> String {
        format!("{}/111122223333/{WORK_QUEUE}", self.sqs_endpoint())
    }

    /// The function's `DEAD_LETTER_QUEUE_URL`: messages sent there are
    /// counted.
    pub fn dead_letter_queue_url(&self) -> String {
        format!("{}/111122223333/{DEAD_LETTER_QUEUE}", self.sqs_endpoint())
    }

    /// Waits until every message (the delayed ones too) was delivered and
    /// acknowledged.
    pub async fn drained(&self) -> Delivered {
        loop {
            let notified = self.changed.notified();
            {
                let q = self.queue();
                if q.pending.is_empty() && q.in_flight.is_empty() && q.delayed == 0 {
                    return Delivered {
                        invocations: q.invocations,
                        redelivered: q.redelivered,
                        errors: q.errors,
                        sent_to_work_queue: q.sent_to_work_queue,
                        dead_letters: q.dead_letters.clone(),
                    };
                }
            }
            notified.await;
        }
    }

    /// When a function process first polled for work.
    pub fn first_poll(&self) -> Option<Instant> {
        self.queue().first_poll
    }

    async fn serve(self: Arc<Self>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .map(str::to_owned);
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if let Some(target) = target {
            return self.sqs(&target, &body);
        }
        match parts.as_slice() {
            ["2018-06-01", "runtime", "invocation", "next"] => self.next().await,
            ["2018-06-01", "runtime", "invocation", id, "response"] => {
                let failed: Vec<String> = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("batchItemFailures").cloned())
                    .and_then(|f| f.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                    .collect();
                self.finish(id, Some(&failed));
                accepted()
            }
            ["2018-06-01", "runtime", "invocation", id, "error"] => {
                self.finish(id, None);
                accepted()
            }
            ["2018-06-01", "runtime", "init", "error"] => accepted(),
            _ => Response::builder()
                .status(404)
                .body(Full::new(Bytes::new()))
                .expect("response"),
        }
    }

    /// SQS's SendMessageBatch: each entry on the queue (after its delay),
    /// or counted as dead-lettered.
    fn sqs(self: Arc<Self>, target: &str, body: &[u8]) -> Response<Full<Bytes>> {
        if target != "AmazonSQS.SendMessageBatch" {
            let e = sqs::error(
                "UnsupportedOperation",
                &format!("{target} is not served here"),
            );
            return sqs_response(400, &e);
        }
        let (queue, entries) = match sqs::parse_batch(body) {
            Ok(b) => b,
            Err(why) => return sqs_response(400, &sqs::error("InvalidParameterValue", &why)),
        };
        let mut q = self.queue();
        let ids: Vec<String> = if queue.ends_with(&format!("/{WORK_QUEUE}")) {
            q.sent_to_work_queue += entries.len() as u64;
            entries
                .iter()
                .map(|e| {
                    if e.delay_seconds == 0 {
                        return q.push(e.body.clone());
                    }
                    q.delayed += 1;
                    let (s, body) = (self.clone(), e.body.clone());
                    let delay = Duration::from_secs(e.delay_seconds);
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let mut q = s.queue();
                        q.delayed -= 1;
                        q.push(body);
                        drop(q);
                        s.changed.notify_waiters();
                    });
                    format!("delayed-{}", e.id)
                })
                .collect()
        } else if queue.ends_with(&format!("/{DEAD_LETTER_QUEUE}")) {
            q.dead_letters
                .extend(entries.iter().map(|e| e.body.clone()));
            entries.iter().map(|e| format!("dead-{}", e.id)).collect()
        } else {
            let e = sqs::error("QueueDoesNotExist", &format!("no queue {queue}"));
            return sqs_response(400, &e);
        };
        drop(q);
        self.changed.notify_waiters();
        sqs_response(200, &sqs::batch_answer(&entries, &ids))
    }

    /// Long-polls for the next batch.
    async fn next(&self) -> Response<Full<Bytes>> {
        loop {
            let notified = self.changed.notified();
            {
                let mut q = self.queue();
                q.first_poll.get_or_insert_with(Instant::now);
                if !q.pending.is_empty() {
                    q.invocations += 1;
                    let id = format!("inv-{}", q.invocations);
                    let n = q.pending.len().min(self.batch);
                    let batch: Vec<Message> = q
                        .pending
                        .drain(..n)
                        .map(|mut m| {
                            m.receives += 1;
                            m
                        })
                        .collect();
                    let event = sqs_event(&batch);
                    q.in_flight.insert(id.clone(), batch);
                    return self.invocation(&id, &event);
                }
            }
            notified.await;
        }
    }

    fn invocation(&self, id: &str, event: &Value) -> Response<Full<Bytes>> {
        let deadline = SystemTime::now() + self.timeout;
        let ms = deadline
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Response::builder()
            .status(200)
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", ms.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:111122223333:function:packprune",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .expect("response")
    }

    /// Acknowledges an invocation: `failed` names the records to redeliver;
    /// `None` (an error) redelivers them all.
    fn finish(&self, id: &str, failed: Option<&[String]>) {
        let mut q = self.queue();
        let Some(batch) = q.in_flight.remove(id) else {
            return;
        };
        if failed.is_none() {
            q.errors += 1;
        }
        for m in batch {
            if failed.is_none_or(|f| f.contains(&m.id)) {
                q.redelivered += 1;
                q.pending.push_back(m);
            }
        }
        drop(q);
        self.changed.notify_waiters();
    }
}

fn sqs_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn accepted() -> Response<Full<Bytes>> {
    Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .expect("response")
}

fn sqs_event(batch: &[Message]) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string();
    let records: Vec<Value> = batch
        .iter()
        .map(|m| {
            json!({
                "messageId": m.id,
                "receiptHandle": format!("rh-{}", m.id),
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receives.to_string(),
                    "SentTimestamp": now,
                    "SenderId": "AROAEXAMPLE:bench",
                    "ApproximateFirstReceiveTimestamp": now
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:packprune-work",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}
