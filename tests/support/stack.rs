//! The local stack: moto, the emulator beside it, the standard variables
//! that point the SDK at them, queues of one's own, and the stack the
//! end-to-end tests of one test binary share.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use packprune::Config;
use packprune_emulator::{Running, State};
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

use super::process::{free_port, scratch_dir, Supervised, Tools};
use super::{proxy, QUEUE_SEQ, ROOT};

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
