//! A pass-through HTTP proxy in front of moto's DynamoDB that can be told to
//! fail some writes: the end-to-end tests' way to make a real DynamoDB
//! error (a 500 `InternalServerError`, as DynamoDB's API reference lists it)
//! reach the real SDK for chosen items only. It counts the calls by
//! operation (`make bench` reads the counts). It runs on a thread of its
//! own, so that it outlives each test's runtime.
//!
//! It forwards writes one at a time. DynamoDB applies a conditional write
//! atomically (the function's claims rely on it: at most one of several
//! invocations wins a job's claim); moto's threaded server checks a
//! condition and then writes without a lock, so two writes arriving at once
//! could both pass the same condition.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Upstream = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// What the proxy is told, and what it saw.
#[derive(Default)]
struct Shared {
    /// The text whose UpdateItem calls fail.
    fail: Option<String>,
    /// Calls by operation (`X-Amz-Target` without its prefix).
    calls: BTreeMap<String, u64>,
}

/// The operations that write, forwarded one at a time.
const WRITES: [&str; 5] = [
    "UpdateItem",
    "PutItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// The proxy: its URL and its state.
pub struct FaultProxy {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl FaultProxy {
    /// Starts forwarding to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> FaultProxy {
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let (upstream, rule) = (upstream.to_owned(), shared.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(serve(upstream, rule, tx));
        });
        let port: u16 = rx.recv().expect("the proxy starts");
        FaultProxy {
            url: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    /// From now on, every UpdateItem whose body holds `needle` answers 500
    /// (`None`: none fails).
    pub fn fail_updates_holding(&self, needle: Option<&str>) {
        self.shared.lock().unwrap().fail = needle.map(str::to_owned);
    }

    /// The calls so far, by operation (`Query`, `UpdateItem`, …).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.shared.lock().unwrap().calls.clone()
    }
}

async fn serve(upstream: String, shared: Arc<Mutex<Shared>>, tx: std::sync::mpsc::Sender<u16>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tx.send(listener.local_addr().unwrap().port()).unwrap();
    let client: Upstream = Client::builder(TokioExecutor::new()).build_http();
    let writing = Arc::new(tokio::sync::Mutex::new(()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (client, upstream, shared) = (client.clone(), upstream.clone(), shared.clone());
        let writing = writing.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let to = (client.clone(), upstream.clone());
                forward(req, to, shared.clone(), writing.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    req: Request<Incoming>,
    (client, upstream): (Upstream, String),
    shared: Arc<Mutex<Shared>>,
    writing: Arc<tokio::sync::Mutex<()>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let needle = {
        let mut s = shared.lock().unwrap();
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        *s.calls.entry(op).or_default() += 1;
        s.fail.clone()
    };
    if target.ends_with(".UpdateItem")
        && needle.is_some_and(|n| String::from_utf8_lossy(&body).contains(&n))
    {
        let error = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by the test proxy"}"#;
        return Ok(Response::builder()
            .status(500)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from(error)))
            .unwrap());
    }
    let uri = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        out = out.header(k, v);
    }
    let op = target.rsplit('.').next().unwrap_or_default();
    let _one_at_a_time = match WRITES.contains(&op) {
        true => Some(writing.lock().await),
        false => None,
    };
    let answer = match client.request(out.body(Full::new(body)).unwrap()).await {
        Ok(r) => r,
        Err(e) => {
            return Ok(Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(e.to_string())))
                .unwrap())
        }
    };
    let (parts, body) = answer.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Response::from_parts(parts, Full::new(body)))
}
