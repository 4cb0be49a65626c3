//! The function's table on a stand-in that answers like DynamoDB: in the
//! bench process, over HTTP in DynamoDB's awsJson1_0 protocol (`POST /`,
//! `X-Amz-Target: DynamoDB_20120810.<Operation>`), items in memory, a few
//! milliseconds a call ([`DEFAULT_LATENCY`]) and no Python in the path. The
//! function reaches it through `AWS_ENDPOINT_URL_DYNAMODB`, as it reaches
//! the bench's SQS (`sqs.rs`).
//!
//! It answers only what the function sends (`ops.rs`: the operations and
//! request members; `expr.rs`: the expressions). Anything else is answered
//! HTTP 400 `ValidationException` saying [`NOT_IMPLEMENTED`], and kept in
//! [`StandIn::refused`]: a run that saw one is void (the bench stops). It
//! does not throttle, expire items (TTL) or check signatures.

pub mod expr;
mod ops;
mod reads;
#[cfg(test)]
mod tests;
mod update;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub use expr::Item;
use ops::{Failure, Store};
pub use ops::{PARTITION, SORT};

/// What an answer for something not implemented says.
pub const NOT_IMPLEMENTED: &str =
    "not implemented by the bench's DynamoDB stand-in (bench/src/dynamodb)";
/// Each call's latency unless told otherwise: DynamoDB answers a small
/// item's read or write in single-digit milliseconds.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(3);
const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// The stand-in: one table, its items, and what it was asked.
pub struct StandIn {
    table: String,
    latency: Duration,
    store: Mutex<Store>,
    calls: Mutex<BTreeMap<String, u64>>,
    /// Every call since the last reset: arrival (seconds since the epoch),
    /// operation, HTTP status.
    log: Mutex<Vec<(f64, String, u16)>>,
    refused: Mutex<Vec<String>>,
    /// The function's `AWS_ENDPOINT_URL_DYNAMODB`.
    pub url: String,
}

impl StandIn {
    /// Serves `table` on a free loopback port until the process ends.
    pub async fn start(table: &str, latency: Duration) -> anyhow::Result<Arc<StandIn>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stand_in = Arc::new(StandIn {
            table: table.to_owned(),
            latency,
            store: Mutex::default(),
            calls: Mutex::default(),
            log: Mutex::default(),
            refused: Mutex::default(),
            url: format!("http://{}", listener.local_addr()?),
        });
        let s = stand_in.clone();
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
        Ok(stand_in)
    }

    async fn serve(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default();
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        let arrived = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        tokio::time::sleep(self.latency).await;
        let op = target
            .strip_prefix(TARGET_PREFIX)
            .unwrap_or(&target)
            .to_owned();
        *self
            .calls
            .lock()
            .expect("calls")
            .entry(op.clone())
            .or_default() += 1;
        let answer = match body
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            Some(body) => self.call(&op, &body),
            None => Err(Failure::from(expr::Error::Validation(
                "the body is not JSON".into(),
            ))),
        };
        let status = if answer.is_ok() { 200 } else { 400 };
        self.log
            .lock()
            .expect("log")
            .push((arrived, op.clone(), status));
        match answer {
            Ok(v) => respond(200, &v),
            Err(f) => {
                if f.message.contains(NOT_IMPLEMENTED) {
                    let what = format!("{op}: {}", f.message);
                    eprintln!("DynamoDB stand-in: {what}");
                    self.refused.lock().expect("refused").push(what);
                }
                let mut body = json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{}", f.code), "message": f.message});
                body.as_object_mut().expect("an object").extend(f.extra);
                respond(400, &body)
            }
        }
    }

    fn call(&self, op: &str, body: &Value) -> Result<Value, Failure> {
        let mut store = self.store.lock().expect("store");
        let t = self.table.as_str();
        match op {
            "GetItem" => store.get_item(body, t),
            "PutItem" => store.put_item(body, t),
            "UpdateItem" => store.update_item(body, t),
            "DeleteItem" => store.delete_item(body, t),
            "Query" => store.query(body, t),
            "BatchGetItem" => store.batch_get_item(body, t),
            "BatchWriteItem" => store.batch_write_item(body, t),
            "TransactWriteItems" => store.transact_write_items(body, t),
            other => Err(expr::Error::Unsupported(format!("the operation {other:?}")).into()),
        }
    }

    /// Calls by operation since the last [`StandIn::reset_calls`].
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().expect("calls").clone()
    }

    pub fn reset_calls(&self) {
        self.calls.lock().expect("calls").clear();
        self.log.lock().expect("log").clear();
    }

    /// Every call since the last reset: (arrival, operation, status).
    pub fn log(&self) -> Vec<(f64, String, u16)> {
        self.log.lock().expect("log").clone()
    }

    /// The requests answered [`NOT_IMPLEMENTED`].
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().expect("refused").clone()
    }

    /// Writes items directly (no call is counted).
    pub fn load(&self, items: impl IntoIterator<Item = Item>) {
        let mut store = self.store.lock().expect("store");
        for item in items {
            let s = |n: &str| item.get(n).and_then(|a| a["S"].as_str()).map(str::to_owned);
            if let (Some(pk), Some(sk)) = (s(PARTITION), s(SORT)) {
                store.items.insert((pk, sk), item);
            }
        }
    }

    /// Every item.
    pub fn items(&self) -> Vec<Item> {
        self.store
            .lock()
            .expect("store")
            .items
            .values()
            .cloned()
            .collect()
    }

    /// The item under a key, if any.
    pub fn get(&self, pk: &str, sk: &str) -> Option<Item> {
        let store = self.store.lock().expect("store");
        store.items.get(&(pk.to_owned(), sk.to_owned())).cloned()
    }
}

fn respond(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "bench-stand-in")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}
