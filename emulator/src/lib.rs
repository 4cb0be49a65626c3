//! A local emulator of the AWS CodeArtifact and AWS IoT software package
//! catalog operations packprune uses, speaking rest-json as the service
//! models define it (botocore's codeartifact 2018-09-22 and iot 2015-05-28).
//!
//! One HTTP server serves both services: CodeArtifact's paths start with
//! `/v1/`, IoT's with `/packages`, `/indexing`, `/indices` or `/jobs`. Point `AWS_ENDPOINT_URL_CODEARTIFACT` and
//! `AWS_ENDPOINT_URL_IOT` at it. Admin endpoints live under `/_emulator/`:
//! `GET|PUT state`, `GET|DELETE calls`, `GET|PUT faults`, `GET health`.

pub mod assets;
pub mod cloudtrail;
pub mod codeartifact;
pub mod dependencies;
pub mod fleet;
pub mod groups;
pub mod iot;
pub mod names;
pub mod pattern;
pub mod repositories;
pub mod scope;
pub mod state;
pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub use state::{Fault, State, Throttle};
use wire::{ApiError, Req, Resp, Service};

/// One call as the emulator saw it: the call log that tests and the demo read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub seq: u64,
    /// Arrival, in seconds since the epoch.
    pub time: f64,
    pub service: String,
    pub operation: String,
    /// The HTTP status answered; 0 when the connection was dropped.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// State, call log and throttle buckets, shared by every connection.
#[derive(Default)]
pub struct Shared {
    state: Mutex<State>,
    calls: Mutex<Vec<Call>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Shared {
    pub fn new(state: State) -> Self {
        Shared {
            state: Mutex::new(state),
            ..Shared::default()
        }
    }

    pub fn state(&self) -> State {
        self.state.lock().expect("state lock").clone()
    }

    /// Replaces the state (faults included) and resets the throttle buckets.
    pub fn set_state(&self, mut state: State) {
        state.normalize(state::now());
        *self.state.lock().expect("state lock") = state;
        self.buckets.lock().expect("bucket lock").clear();
    }

    /// Edits the state in place.
    pub fn edit<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state lock"))
    }

    pub fn set_faults(&self, faults: BTreeMap<String, Fault>) {
        self.state.lock().expect("state lock").faults = faults;
        self.buckets.lock().expect("bucket lock").clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls lock").clone()
    }

    pub fn clear_calls(&self) {
        self.calls.lock().expect("calls lock").clear();
    }

    /// The most specific fault for an operation: `service:Operation`, then
    /// `service:*`, then `*`.
    fn fault_for(&self, service: Service, op: &str) -> Option<(String, Fault)> {
        let state = self.state.lock().expect("state lock");
        [
            format!("{}:{op}", service.as_str()),
            format!("{}:*", service.as_str()),
            "*".to_owned(),
        ]
        .into_iter()
        .find_map(|k| state.faults.get(&k).cloned().map(|f| (k, f)))
    }

    /// Takes a token; when none is left, the seconds until one is back.
    fn take_token(&self, key: &str, t: &Throttle) -> Result<(), f64> {
        let mut buckets = self.buckets.lock().expect("bucket lock");
        let now = Instant::now();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: t.burst,
            last: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * t.rate_per_second).min(t.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - b.tokens) / t.rate_per_second.max(1e-9))
        }
    }

    fn log(&self, mut call: Call) {
        let mut calls = self.calls.lock().expect("calls lock");
        call.seq = calls.len() as u64 + 1;
        calls.push(call);
    }
}

/// The connection is dropped without a response (an injected fault):
/// `DROPPED` before the work, `DROPPED_AFTER_WORK` once it is done.
#[derive(Debug)]
struct Dropped(&'static str);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn respond(resp: Resp) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header(
            "x-amzn-RequestId",
            format!("{:032x}", rand::rng().random::<u128>()),
        );
    for (k, v) in resp.headers {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from(resp.body.to_string())))
        .expect("valid response")
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped("DROPPED")),
    };
    let req = Req {
        method,
        segments,
        query,
        body,
    };
    if path.starts_with("/_emulator") {
        return Ok(respond(admin(&shared, &req)));
    }
    let routed = codeartifact::route(&req.method, &path)
        .map(|op| (Service::CodeArtifact, op))
        .or_else(|| iot::route(&req.method, &req.segments).map(|op| (Service::Iot, op)));
    let Some((service, op)) = routed else {
        let e = ApiError::new(
            404,
            "UnknownOperationException",
            format!("No operation at {} {path}", req.method),
        );
        return Ok(respond(e.into_resp()));
    };
    let mut call = describe(service, op, &req);
    let result = serve_call(&shared, service, op, &req).await;
    match result {
        Err(dropped) => {
            call.status = 0;
            call.error = Some(dropped.0.into());
            shared.log(call);
            Err(dropped)
        }
        Ok(Err(e)) => {
            call.status = e.status;
            call.error = Some(e.code.to_owned());
            call.retry_after = e.retry_after;
            shared.log(call);
            Ok(respond(e.into_resp()))
        }
        Ok(Ok(body)) => {
            call.status = 200;
            shared.log(call);
            Ok(respond(Resp::ok(body)))
        }
    }
}

/// Faults first, then the operation.
async fn serve_call(
    shared: &Shared,
    service: Service,
    op: &str,
    req: &Req,
) -> Result<Result<Value, ApiError>, Dropped> {
    let mut drop_after = false;
    if let Some((key, fault)) = shared.fault_for(service, op) {
        let (jitter, drop, throttled, error) = {
            let mut rng = rand::rng();
            drop_after = rng.random::<f64>() < fault.drop_after_rate;
            (
                rng.random_range(0..=fault.latency_jitter_ms),
                rng.random::<f64>() < fault.drop_rate,
                rng.random::<f64>() < fault.throttle_rate,
                rng.random::<f64>() < fault.error_rate,
            )
        };
        if fault.latency_ms + jitter > 0 {
            tokio::time::sleep(Duration::from_millis(fault.latency_ms + jitter)).await;
        }
        if drop {
            return Err(Dropped("DROPPED"));
        }
        if throttled {
            return Ok(Err(ApiError::throttling(service, 1)));
        }
        if let Some(t) = &fault.throttle {
            if let Err(wait) = shared.take_token(t.bucket.as_deref().unwrap_or(&key), t) {
                let after = t
                    .retry_after_seconds
                    .unwrap_or_else(|| wait.ceil().max(1.0) as u32);
                return Ok(Err(ApiError::throttling(service, after)));
            }
        }
        if error {
            return Ok(Err(ApiError::internal()));
        }
    }
    let result = shared.edit(|state| match service {
        Service::CodeArtifact => codeartifact::handle(op, state, req),
        Service::Iot => iot::handle(op, state, req),
    });
    if drop_after {
        return Err(Dropped("DROPPED_AFTER_WORK"));
    }
    Ok(result)
}

/// What the call log records of a request.
fn describe(service: Service, op: &str, req: &Req) -> Call {
    let mut call = Call {
        seq: 0,
        time: state::now(),
        service: service.as_str().into(),
        operation: op.into(),
        status: 0,
        error: None,
        retry_after: None,
        domain: None,
        repository: None,
        package: None,
        versions: Vec::new(),
        client_token: req.q("clientToken").map(str::to_owned),
    };
    match service {
        Service::CodeArtifact => {
            call.domain = req.q("domain").map(str::to_owned);
            call.repository = req.q("repository").map(str::to_owned);
            call.package = req.q("package").map(str::to_owned);
            if let Some(v) = req.q("version") {
                call.versions.push(v.to_owned());
            }
            if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) {
                if let Some(list) = body.get("versions").and_then(Value::as_array) {
                    call.versions
                        .extend(list.iter().filter_map(|v| v.as_str().map(str::to_owned)));
                }
            }
        }
        Service::Iot if req.segments.first().map(String::as_str) == Some("packages") => {
            call.package = req.segments.get(1).cloned();
            call.versions.extend(req.segments.get(3).cloned());
        }
        Service::Iot => {}
    }
    call
}

fn admin(shared: &Shared, req: &Req) -> Resp {
    let bad = |m: String| Resp {
        status: 400,
        headers: Vec::new(),
        body: json!({"message": m}),
    };
    let what = req.segments.get(1).map(String::as_str).unwrap_or_default();
    match (req.method.as_str(), what) {
        ("GET", "health") => Resp::ok(json!({"ok": true})),
        ("GET", "state") => {
            Resp::ok(serde_json::to_value(shared.state()).expect("state serializes"))
        }
        ("PUT", "state") => match serde_json::from_slice::<State>(&req.body)
            .map_err(|e| e.to_string())
            .and_then(|s| s.check().map(|()| s))
        {
            Ok(s) => {
                shared.set_state(s);
                Resp::ok(json!({"ok": true}))
            }
            Err(e) => bad(format!("invalid state: {e}")),
        },
        ("GET", "calls") => {
            Resp::ok(serde_json::to_value(shared.calls()).expect("calls serialize"))
        }
        ("DELETE", "calls") => {
            shared.clear_calls();
            Resp::ok(json!({"ok": true}))
        }
        ("GET", "faults") => {
            Resp::ok(serde_json::to_value(shared.state().faults).expect("faults serialize"))
        }
        ("PUT", "faults") => match serde_json::from_slice::<BTreeMap<String, Fault>>(&req.body) {
            Ok(f) => {
                shared.set_faults(f);
                Resp::ok(json!({"ok": true}))
            }
            Err(e) => bad(format!("invalid faults: {e}")),
        },
        _ => Resp {
            status: 404,
            headers: Vec::new(),
            body: json!({"message": format!("no admin endpoint {} {}", req.method, what)}),
        },
    }
}

/// Serves connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(shared.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// An emulator running on its own thread and runtime, so that it outlives
/// any one test's runtime. Stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Binds `addr` (port 0 picks a free port) and starts serving `state`.
    pub fn start(state: State, addr: &str) -> std::io::Result<Running> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let shared = Arc::new(Shared::new(state));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("emulator".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("emulator runtime");
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("listener");
                    serve(listener, s, async {
                        let _ = stopped.await;
                    })
                    .await;
                });
            })?;
        Ok(Running {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
