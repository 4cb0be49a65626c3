//! `make bench`: packprune's release binary, run by a local Lambda Runtime
//! API as the SQS event source runs it, against the emulator's token-bucket
//! quotas; beside it a naive sequential loop with the SDK's standard
//! retries. Also cold start, peak RSS, binary sizes and the TLS stack.
//! Writes BENCHMARKS.md.
//!
//! `packprune-bench [--out BENCHMARKS.md] [--only iot|mixed]`; the binaries
//! it measures are built by `make bench` first. `--only` runs one workload
//! and writes its report to `target/bench/partial.md` unless `--out` is given.
//! Every run's call log is kept in `target/bench/*.calls.json`.

mod naive;
mod report;
mod runtime_api;
mod workload;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use packprune_emulator::Running;
use runtime_api::EventSource;
use workload::{Victims, Workload};

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The function's timeout in the runs (the template's default is 300 s).
const TIMEOUT: Duration = Duration::from_secs(300);

/// One run's figures.
#[derive(Debug, Clone)]
pub struct Run {
    pub workload: &'static str,
    pub who: String,
    pub versions: usize,
    pub wall: f64,
    pub bound: f64,
    pub calls: usize,
    pub throttles: usize,
    pub left_behind: usize,
    pub unrequested_deleted: usize,
    pub invocations: u64,
    /// Records the event source delivered again (in `batchItemFailures`, or
    /// of a failed invocation).
    pub redelivered: u64,
    pub peak_rss_kib: Option<u64>,
}

impl Run {
    /// A run's figures from the emulator after it: calls, throttles and
    /// what is left (the call log kept under the run's name).
    fn measured(w: &Workload, who: String, emulator: &Running, wall: f64) -> Run {
        let (calls, throttles) = count_calls(emulator, &format!("{} {who}", w.name));
        let (left_behind, unrequested_deleted) = verify(w, emulator);
        Run {
            workload: w.name,
            who,
            versions: w.versions(),
            wall,
            bound: w.bound_secs(),
            calls,
            throttles,
            left_behind,
            unrequested_deleted,
            invocations: 0,
            redelivered: 0,
            peak_rss_kib: None,
        }
    }

    pub fn ratio(&self) -> f64 {
        self.bound / self.wall
    }

    fn say(&self) {
        eprintln!(
            "  {:.1} s, ratio {:.2}, {} throttles, {} left",
            self.wall,
            self.ratio(),
            self.throttles,
            self.left_behind
        );
    }
}

fn function_binary() -> PathBuf {
    Path::new(ROOT).join("target/release/packprune")
}

/// The function's environment: endpoints through `AWS_ENDPOINT_URL_*` only.
fn function_env(emulator: &str, runtime_api: &str, shared_by: u32) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", "packprune"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_ENDPOINT_URL_CODEARTIFACT", emulator),
        ("AWS_ENDPOINT_URL_IOT", emulator),
        // Nothing is dead-lettered or handed on in these runs; a send would
        // fail here and show as a redelivered record.
        ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9"),
        (
            "DEAD_LETTER_QUEUE_URL",
            "http://127.0.0.1:9/111122223333/packprune-dlq",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([(
        "EVENT_SOURCE_MAX_CONCURRENCY".to_owned(),
        shared_by.to_string(),
    )])
    .collect()
}

fn spawn_function(env: &[(String, String)], log: &Path) -> Result<tokio::process::Child> {
    let log = std::fs::File::create(log)?;
    tokio::process::Command::new(function_binary())
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", function_binary().display()))
}

/// VmHWM of a process: its peak resident set, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Versions still present that had to go, and versions gone that had to stay.
fn verify(w: &Workload, emulator: &Running) -> (usize, usize) {
    let state = emulator.shared.state();
    let mut left = 0;
    let iot = &state.iot.packages;
    let ca: Vec<_> = state
        .codeartifact
        .domains
        .values()
        .flat_map(|d| d.repositories.values())
        .flat_map(|r| r.packages.iter())
        .collect();
    let mut remaining = 0usize;
    for v in &w.victims {
        match v {
            Victims::Iot { package, versions } => {
                let present = iot.get(package).map(|p| &p.versions);
                left += versions
                    .iter()
                    .filter(|v| present.is_some_and(|p| p.contains_key(*v)))
                    .count();
            }
            Victims::CodeArtifact { package, versions } => {
                let present = ca.iter().find(|p| &p.package == package);
                left += versions
                    .iter()
                    .filter(|v| {
                        present.is_some_and(|p| p.versions.iter().any(|x| &x.version == *v))
                    })
                    .count();
            }
        }
    }
    remaining += iot.values().map(|p| p.versions.len()).sum::<usize>();
    remaining += ca.iter().map(|p| p.versions.len()).sum::<usize>();
    let seeded = w
        .seed
        .iot
        .packages
        .values()
        .map(|p| p.versions.len())
        .sum::<usize>()
        + w.seed
            .codeartifact
            .domains
            .values()
            .flat_map(|d| d.repositories.values())
            .flat_map(|r| r.packages.iter())
            .map(|p| p.versions.len())
            .sum::<usize>();
    let should_remain = seeded - w.versions();
    let unrequested = (should_remain + left).saturating_sub(remaining);
    (left, unrequested)
}

fn emulator_for(w: &Workload) -> Result<Running> {
    let mut state = w.seed.clone();
    state.faults = w.quotas.faults();
    Ok(Running::start(state, "127.0.0.1:0")?)
}

/// Counts calls and throttles, and keeps the call log (arrival times, answers)
/// in `target/bench/<run>.calls.json` for a closer look at a run.
fn count_calls(emulator: &Running, run: &str) -> (usize, usize) {
    let calls = emulator.shared.calls();
    let logs = Path::new(ROOT).join("target/bench");
    if std::fs::create_dir_all(&logs).is_ok() {
        if let Ok(json) = serde_json::to_vec(&calls) {
            let name = run.replace([' ', ',', ':'], "-");
            let _ = std::fs::write(logs.join(format!("{name}.calls.json")), json);
        }
    }
    let throttles = calls
        .iter()
        .filter(|c| c.error.as_deref() == Some("ThrottlingException"))
        .count();
    (calls.len(), throttles)
}

/// packprune: `invocations` function processes polling one event source.
async fn run_packprune(w: &Workload, concurrent: u32) -> Result<Run> {
    let emulator = emulator_for(w)?;
    let source = EventSource::start(TIMEOUT).await?;
    let env = function_env(&emulator.url(), &source.addr.to_string(), concurrent);
    let logs = Path::new(ROOT).join("target/bench");
    std::fs::create_dir_all(&logs)?;
    let mut children = Vec::new();
    for i in 0..concurrent {
        let log = logs.join(format!("{}-{concurrent}-{i}.log", w.name.replace(' ', "-")));
        children.push(spawn_function(&env, &log)?);
    }
    // Every process is up and polling before the clock starts.
    let ready = Instant::now() + Duration::from_secs(30);
    while source.first_poll().is_none() {
        if Instant::now() > ready {
            bail!("the function did not poll the Runtime API within 30 s; see target/bench/*.log");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    emulator.shared.clear_calls();
    let start = Instant::now();
    source.send(w.messages.iter().cloned());
    let delivered = tokio::time::timeout(Duration::from_secs(900), source.drained())
        .await
        .context("the run did not finish within 15 minutes")?;
    let wall = start.elapsed().as_secs_f64();
    let peak = children
        .iter()
        .filter_map(|c| c.id().and_then(peak_rss_kib))
        .max();
    for mut c in children {
        let _ = c.kill().await;
    }
    let who = format!(
        "packprune, {concurrent} invocation{} at once",
        if concurrent == 1 { "" } else { "s" }
    );
    Ok(Run {
        invocations: delivered.invocations,
        redelivered: delivered.redelivered + delivered.errors,
        peak_rss_kib: peak,
        ..Run::measured(w, who, &emulator, wall)
    })
}

async fn run_naive(w: &Workload) -> Result<Run> {
    let emulator = emulator_for(w)?;
    let start = Instant::now();
    naive::delete_all(&emulator.url(), &w.victims).await?;
    let wall = start.elapsed().as_secs_f64();
    Ok(Run::measured(
        w,
        "naive: sequential, SDK standard retries".to_owned(),
        &emulator,
        wall,
    ))
}

/// Process start to the first Runtime API poll, `n` times.
async fn cold_starts(n: usize) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(n);
    let logs = Path::new(ROOT).join("target/bench");
    std::fs::create_dir_all(&logs)?;
    for _ in 0..n {
        let source = EventSource::start(TIMEOUT).await?;
        let env = function_env("http://127.0.0.1:9", &source.addr.to_string(), 1);
        let start = Instant::now();
        let mut child = spawn_function(&env, &logs.join("cold-start.log"))?;
        let until = start + Duration::from_secs(10);
        let first = loop {
            if let Some(t) = source.first_poll() {
                break t;
            }
            if Instant::now() > until {
                bail!("no poll within 10 s; see target/bench/cold-start.log");
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        out.push((first - start).as_secs_f64() * 1000.0);
        let _ = child.kill().await;
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut out = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().context("--out takes a path")?)),
            "--only" => only = Some(args.next().context("--only takes a workload")?),
            _ => bail!("usage: packprune-bench [--out BENCHMARKS.md] [--only iot|mixed]"),
        }
    }
    let out = out.unwrap_or_else(|| {
        let root = PathBuf::from(ROOT);
        match only {
            Some(_) => root.join("target/bench/partial.md"),
            None => root.join("BENCHMARKS.md"),
        }
    });
    if !function_binary().exists() {
        bail!(
            "{} is missing: run `make bench`, which builds it",
            function_binary().display()
        );
    }
    let mut runs = Vec::new();
    let workloads = [workload::iot_only(), workload::mixed()];
    for w in workloads.into_iter().filter(|w| {
        only.as_deref()
            .is_none_or(|o| w.name.to_lowercase().starts_with(o))
    }) {
        for concurrent in [1, 3] {
            eprintln!("{}: packprune, {concurrent} at once ...", w.name);
            let r = run_packprune(&w, concurrent).await?;
            r.say();
            runs.push(r);
        }
        eprintln!("{}: naive ...", w.name);
        let r = run_naive(&w).await?;
        r.say();
        runs.push(r);
    }
    eprintln!("cold start ...");
    let cold = cold_starts(20).await?;
    let text = report::render(&runs, &cold)?;
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
