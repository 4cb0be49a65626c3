//! The local AWS stack for end-to-end runs, shared by `tests/e2e.rs` and
//! `examples/demo.rs`: the emulator (CodeArtifact and IoT), moto's SQS
//! server, and `cargo lambda watch`. Endpoints are redirected only through
//! the standard `AWS_ENDPOINT_URL_*` variables.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use std::sync::OnceLock;

pub mod downloads;
pub mod proxy;
pub mod reports;
pub mod template;

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use lambda_runtime::LambdaEvent;
use packprune::{Clients, Config, Handler};
use packprune_emulator::{Running, State};
use serde_json::{json, Value};
use tokio::sync::{Mutex, MutexGuard};

/// The workspace's root (`.cargo/config.toml` sets it for every package,
/// so packprune-cli's tests, which include this module, find it too).
pub const ROOT: &str = match option_env!("PACKPRUNE_ROOT") {
    Some(root) => root,
    None => env!("CARGO_MANIFEST_DIR"),
};

/// The virtualenv's tools: moto's server and cargo-lambda.
#[derive(Clone, Debug)]
pub struct Tools {
    pub bin: PathBuf,
}

impl Tools {
    /// Finds the tools in `PACKPRUNE_VENV` (default `.venv`), or says what
    /// is missing.
    pub fn find() -> Result<Tools, String> {
        // Relative to the workspace's root, whatever package's tests run
        // (cargo runs each in its own package's directory).
        let venv = Path::new(ROOT)
            .join(std::env::var("PACKPRUNE_VENV").unwrap_or_else(|_| ".venv".to_owned()));
        let bin = venv.join("bin");
        for tool in ["moto_server", "cargo-lambda"] {
            if !bin.join(tool).exists() {
                return Err(format!(
                    "{} not found (run `make test`, which creates the virtualenv)",
                    bin.join(tool).display()
                ));
            }
        }
        Ok(Tools { bin })
    }

    /// The tools, or `None` after saying why the test is skipped. A missing
    /// tool fails the test unless `PACKPRUNE_SKIP_E2E=1` asks for skipping
    /// (`make unit` does); the skip is then written straight to the
    /// terminal, where the test harness cannot capture it away.
    pub fn or_skip(test: &str) -> Option<Tools> {
        let skip = std::env::var_os("PACKPRUNE_SKIP_E2E").is_some_and(|v| v == "1");
        match Tools::decide(Tools::find(), skip) {
            Ok(tools) => tools,
            Err(why) => panic!("{test}: {why}"),
        }
    }

    /// What a test does without its tools: fail, or (when asked) skip, saying
    /// so where it is seen.
    pub fn decide(found: Result<Tools, String>, skip: bool) -> Result<Option<Tools>, String> {
        match found {
            Ok(t) => Ok(Some(t)),
            Err(why) if skip => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
                Ok(None)
            }
            Err(why) => Err(format!(
                "{why}; set PACKPRUNE_SKIP_E2E=1 to skip the end-to-end tests instead"
            )),
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, within: Duration) -> Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on port {port} within {within:?}")
}

/// A child process in its own process group, stopped (group and all) when
/// this is dropped — or when this process dies, since its watchdog shell
/// reads our end of a pipe.
pub struct Supervised {
    child: Child,
    pub log: PathBuf,
}

impl Supervised {
    pub fn spawn(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Supervised> {
        let mut cmd = Command::new("sh");
        // A shell's environment, not the test harness's: cargo runs under
        // some of these tools (`cargo lambda watch` in `make demo` and
        // `make local`), and the CARGO_* variables `cargo test` sets would
        // make it rebuild what `make bins` already built.
        cmd.env_clear();
        for k in [
            "PATH",
            "HOME",
            "USER",
            "TMPDIR",
            "LANG",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
        ] {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        // The wrapper ignores Ctrl-C (the terminal sends it to the whole
        // foreground group): it stops the child only when its owner says so
        // or goes away (stdin closes), so nothing outlives an interrupt.
        cmd.arg("-c")
            .arg(r#"trap '' INT; log="$1"; shift; setsid "$@" >"$log" 2>&1 & pid=$!; read _ignored; kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0"#)
            .arg("supervise")
            .arg(&log)
            .arg(program)
            .args(args)
            .current_dir(ROOT)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Supervised { child, log })
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.child.wait();
    }
}

pub fn scratch_dir() -> PathBuf {
    let dir = Path::new(ROOT).join("target").join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// moto's server, on a free port.
pub struct Moto {
    pub url: String,
    _process: Supervised,
}

impl Moto {
    /// On a free port. Test processes run side by side (`make test`), so
    /// two may be handed the same port; the one whose moto lost the bind
    /// tries another.
    pub fn start(tools: &Tools) -> Result<Moto> {
        let mut tried = Vec::new();
        for _ in 0..3 {
            match Moto::start_on(tools, free_port()) {
                Ok(m) => return Ok(m),
                Err(e) => tried.push(e.to_string()),
            }
        }
        bail!("moto did not start: {}", tried.join("; "))
    }

    /// moto's server on a chosen port (`make local`'s fixed endpoints).
    pub fn start_on(tools: &Tools, port: u16) -> Result<Moto> {
        let process = Supervised::spawn(
            &tools.bin.join("moto_server"),
            &[
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ],
            &[],
            scratch_dir().join(format!("moto-{}-{port}.log", std::process::id())),
        )?;
        // Its own log says it listens: anything else on the port could be
        // another test process's moto.
        let listening = format!("Running on http://127.0.0.1:{port}");
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let log = process.log_text();
            if log.contains(&listening) {
                break;
            }
            if log.contains("Address already in use") || Instant::now() > until {
                bail!("moto did not listen on port {port}; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Moto {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
        })
    }
}

/// The standard variables that point the SDK at a local stack: the
/// emulator for CodeArtifact and IoT, moto for SQS and S3, and `dynamodb`
/// (moto, or a proxy in front of it) for DynamoDB.
pub fn aws_env(emulator: &str, moto: &str, dynamodb: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL_CODEARTIFACT", emulator),
        ("AWS_ENDPOINT_URL_IOT", emulator),
        ("AWS_ENDPOINT_URL_SQS", moto),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
        ("AWS_ENDPOINT_URL_S3", moto),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The emulator and moto, and the standard variables that point the SDK at
/// them.
pub struct Stack {
    pub emulator: Running,
    pub moto: Moto,
    /// DynamoDB goes through it, to moto: a test may fail chosen writes.
    pub dynamodb_proxy: proxy::FaultProxy,
}

impl Stack {
    pub fn start(tools: &Tools, state: State) -> Result<Stack> {
        let emulator = Running::start(state, "127.0.0.1:0")?;
        let moto = Moto::start(tools)?;
        let dynamodb_proxy = proxy::FaultProxy::start(&moto.url);
        Ok(Stack {
            emulator,
            moto,
            dynamodb_proxy,
        })
    }

    /// What the function's process needs to reach the stack.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        aws_env(
            &self.emulator.url(),
            &self.moto.url,
            &self.dynamodb_proxy.url,
        )
    }

    /// Puts the standard variables in this process's environment. Call once,
    /// before any SDK config is loaded (the e2e tests share one stack).
    pub fn export_env(&self) {
        for (k, v) in self.aws_env() {
            std::env::set_var(k, v);
        }
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&packprune::sdk::sdk_config().await)
    }
}

static QUEUE_SEQ: AtomicU32 = AtomicU32::new(0);

/// A dead-letter queue and a work queue of one's own.
#[derive(Clone, Debug)]
pub struct Queues {
    pub dead_letter: String,
    pub work: String,
}

impl Queues {
    pub async fn create(sqs: &aws_sdk_sqs::Client, tag: &str) -> Result<Queues> {
        let n = QUEUE_SEQ.fetch_add(1, Ordering::SeqCst);
        let mut urls = Vec::new();
        for kind in ["dlq", "work"] {
            let out = sqs
                .create_queue()
                .queue_name(format!("{tag}-{kind}-{n}"))
                .send()
                .await?;
            urls.push(out.queue_url().unwrap().to_owned());
        }
        Ok(Queues {
            dead_letter: urls[0].clone(),
            work: urls[1].clone(),
        })
    }

    /// The function's configuration for these queues, from environment-style
    /// settings (`overrides` may add MAX_CONCURRENCY and the like).
    pub fn config(&self, overrides: &[(&str, &str)]) -> Config {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DEAD_LETTER_QUEUE_URL".to_owned(), self.dead_letter.clone()),
            ("WORK_QUEUE_URL".to_owned(), self.work.clone()),
        ]);
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(|k| vars.get(k).cloned()).expect("valid configuration")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DEAD_LETTER_QUEUE_URL".into(), self.dead_letter.clone()),
            ("WORK_QUEUE_URL".into(), self.work.clone()),
        ]
    }
}

/// The function in-process, built as `main` builds it: clients from the
/// loaded SDK config (SDK retries off for the package APIs).
pub async fn in_process_handler(config: Config) -> Handler {
    let sdk = packprune::sdk::sdk_config().await;
    Handler::new(Clients::from_sdk_config(&sdk), config)
}

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

/// A Lambda context whose deadline is `left` from now.
pub fn context(left: Duration) -> lambda_runtime::Context {
    let mut ctx = lambda_runtime::Context::default();
    ctx.request_id = format!("local-{}", QUEUE_SEQ.fetch_add(1, Ordering::SeqCst));
    // The emulator's account, as a deployed function's ARN carries its own.
    ctx.invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:packprune".into();
    ctx.deadline = (std::time::SystemTime::now() + left)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ctx
}

/// The function under `cargo lambda watch`: the real Lambda Runtime API.
///
/// In the integration tests, cargo-lambda serves only the Runtime API
/// (`--only-lambda-apis`) and the function is the `packprune` binary this
/// test run built (`CARGO_BIN_EXE_packprune`), polling it as Lambda's
/// bootstrap does. Under `cargo lambda watch --bin packprune` the function
/// would be built again by `cargo run`, without the test build's
/// dev-dependency features, so `make test` would compile the whole SDK
/// twice. The examples (`make demo`, `make local`) have no such binary and
/// let cargo-lambda build and start the function.
pub struct LambdaWatch {
    pub port: u16,
    tools: Tools,
    process: Supervised,
    function: Option<Supervised>,
}

/// The name the function is invoked by and polls the Runtime API as.
const FUNCTION: &str = "packprune";

impl LambdaWatch {
    pub fn start(tools: &Tools, env: &[(String, String)]) -> Result<LambdaWatch> {
        LambdaWatch::start_on(tools, env, free_port())
    }

    /// `cargo lambda watch` on a chosen invoke port.
    pub fn start_on(tools: &Tools, env: &[(String, String)], port: u16) -> Result<LambdaWatch> {
        let built = option_env!("CARGO_BIN_EXE_packprune").map(PathBuf::from);
        let mut args: Vec<String> = vec![
            "lambda".into(),
            "watch".into(),
            "--ignore-changes".into(),
            "--quiet".into(),
            "--invoke-address".into(),
            "127.0.0.1".into(),
            "--invoke-port".into(),
            port.to_string(),
        ];
        match built {
            Some(_) => args.push("--only-lambda-apis".into()),
            None => args.extend(["--bin".into(), FUNCTION.into()]),
        }
        for (k, v) in env {
            args.push("--env-var".into());
            args.push(format!("{k}={v}"));
        }
        let path = format!(
            "{}:{}",
            tools.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child_env = vec![
            ("PATH".to_owned(), path),
            ("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned()),
        ];
        let process = Supervised::spawn(
            &tools.bin.join("cargo-lambda"),
            &args,
            &child_env,
            scratch_dir().join(format!("watch-{}-{port}.log", std::process::id())),
        )?;
        wait_for_port(port, Duration::from_secs(120))
            .map_err(|e| anyhow!("{e}; cargo lambda watch's log:\n{}", process.log_text()))?;
        let function = match built {
            Some(binary) => {
                // What cargo-lambda sets for a function it starts itself.
                let mut fenv = child_env.clone();
                fenv.extend(env.iter().cloned());
                for (k, v) in [
                    (
                        "AWS_LAMBDA_RUNTIME_API",
                        format!("http://127.0.0.1:{port}/.rt/{FUNCTION}"),
                    ),
                    ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION.to_owned()),
                    ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
                    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096".to_owned()),
                ] {
                    fenv.push((k.to_owned(), v));
                }
                Some(Supervised::spawn(
                    &binary,
                    &[],
                    &fenv,
                    scratch_dir().join(format!("function-{}-{port}.log", std::process::id())),
                )?)
            }
            None => None,
        };
        Ok(LambdaWatch {
            port,
            tools: tools.clone(),
            process,
            function,
        })
    }

    /// `cargo lambda invoke` with a JSON payload; returns the function's result.
    pub fn invoke(&self, payload: &Value) -> Result<Value> {
        let file = scratch_dir().join(format!(
            "invoke-{}-{}.json",
            self.port,
            QUEUE_SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&file, payload.to_string())?;
        let out = Command::new(self.tools.bin.join("cargo-lambda"))
            .args([
                "lambda",
                "invoke",
                "packprune",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .args(["--output-format", "json"])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.tools.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .current_dir(ROOT)
            .output()?;
        if !out.status.success() {
            bail!(
                "cargo lambda invoke failed: {}{}\nwatch log:\n{}\nfunction log:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.process.log_text(),
                self.function
                    .as_ref()
                    .map(Supervised::log_text)
                    .unwrap_or_default()
            );
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("invoke printed {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// What the function wrote (and, with cargo-lambda starting it,
    /// cargo-lambda's own lines).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The file the function's log goes to.
    pub fn log_path(&self) -> &Path {
        match &self.function {
            Some(f) => &f.log,
            None => &self.process.log,
        }
    }
}

// ---- The stack the end-to-end tests of one test binary share, one test at a time.

static STACK: OnceLock<Stack> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::const_new(());

/// The shared stack, reset to `state`, held for this test alone.
pub async fn stack(
    test: &str,
    state: State,
) -> Option<(MutexGuard<'static, ()>, &'static Stack, Tools)> {
    let tools = Tools::or_skip(test)?;
    let guard = SERIAL.lock().await;
    let stack = STACK.get_or_init(|| {
        let s = Stack::start(&tools, State::default()).expect("the local stack starts");
        s.export_env();
        s
    });
    stack.emulator.shared.set_state(state);
    stack.emulator.shared.clear_calls();
    Some((guard, stack, tools))
}

pub fn demo_seed() -> State {
    State::from_seed(&std::fs::read_to_string(format!("{ROOT}/emulator/seeds/demo.json")).unwrap())
        .unwrap()
}

pub fn read_event(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/events/{name}")).unwrap())
        .unwrap()
}

pub fn seed(v: Value) -> State {
    let mut s: State = serde_json::from_value(v).expect("a valid seed");
    s.normalize(packprune_emulator::state::now());
    s
}

/// The operations the emulator was asked that are not reads (`List*`,
/// `Describe*`, `Get*`, `Search*`), in order: what a read-only run must
/// leave empty.
pub fn write_calls(stack: &Stack) -> Vec<String> {
    let reads = ["List", "Describe", "Get", "Search"];
    stack
        .emulator
        .shared
        .calls()
        .into_iter()
        .map(|c| c.operation)
        .filter(|op| !reads.iter().any(|p| op.starts_with(p)))
        .collect()
}

pub fn ca_versions(stack: &Stack, repo: &str, package: &str) -> Option<Vec<String>> {
    let state = stack.emulator.shared.state();
    state.codeartifact.domains["acme"].repositories[repo]
        .packages
        .iter()
        .find(|p| p.package == package)
        .map(|p| p.versions.iter().map(|v| v.version.clone()).collect())
}

pub fn iot_versions(stack: &Stack, package: &str) -> Option<(Option<String>, Vec<String>)> {
    stack
        .emulator
        .shared
        .state()
        .iot
        .packages
        .get(package)
        .map(|p| {
            (
                p.default_version.clone(),
                p.versions.keys().cloned().collect(),
            )
        })
}

/// An SQS event of `records`, each a new message (its own `messageId`:
/// the function works on a message id once, with `DOWNLOADS_TABLE`).
pub fn sqs_event(records: &[Value]) -> Value {
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

pub async fn invoke(
    handler: &packprune::Handler,
    event: Value,
    left: Duration,
) -> packprune::testkit::handler::Processed {
    let out = handler
        .process(LambdaEvent::new(event, context(left)))
        .await
        .expect("the invocation succeeds");
    assert!(
        out.summary.balanced(),
        "accounting invariant broken: {:?}",
        out.summary
    );
    out
}
