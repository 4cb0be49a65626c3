//! `make bench`: packprune's release binary, run by a local Lambda Runtime
//! API as the SQS event source runs it (and as its SQS endpoint), against
//! the emulator's token-bucket quotas, with 1, 3 and 10 invocations at once;
//! beside it a naive sequential loop with the SDK's standard retries. Also
//! cold start, peak RSS, binary sizes and the TLS stack. Writes
//! BENCHMARKS.md.
//!
//! `packprune-bench [--out BENCHMARKS.md] [--only iot|jobs|jobs-no-table|mixed|scope|storage|downloads|backfill|protected|cold] [--no-moto] [--at-once 1,3,10]`;
//! the binaries it measures are built by `make bench` first. `--only` runs one
//! workload (`cold`: none, the cold starts alone) and writes its report to `target/bench/partial.md` unless
//! `--out` is given. Every run's call log is kept in
//! `target/bench/*.calls.json`, what it dead-lettered (nothing, if all
//! goes well) in `target/bench/*.dead-letters.json`.

mod backfill;
mod dependencies;
mod downloads;
mod dynamodb;
mod fleet;
mod graph;
mod jobs;
mod naive;
mod protected;
mod quotas;
mod report;
mod run;
mod runtime_api;
mod sqs;
mod storage;
mod table;
mod targets;
mod workload;

// The tests' proxy; the bench only counts through it.
#[allow(dead_code)]
#[path = "../../tests/support/proxy.rs"]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fleet::Fleet;
use packprune_emulator::Running;
use run::{file_name, Run};
use runtime_api::EventSource;
use workload::Workload;

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The function's timeout in the runs (the template's default is 300 s).
const TIMEOUT: Duration = Duration::from_secs(300);
/// The invocations at once of each workload's packprune runs, each given as
/// `EVENT_SOURCE_MAX_CONCURRENCY` (the template sets it from the event
/// source mapping's `MaximumConcurrency`).
pub const CONCURRENCY: [u32; 3] = [1, 3, 10];

/// Builds a workload (its seed is large: only those that run are built).
type Build = fn() -> Workload;

/// The release binary `make bench` builds: under `CARGO_TARGET_DIR` when
/// that is set, as cargo builds it there.
fn function_binary() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(ROOT).join("target"), PathBuf::from)
        .join("release/packprune")
}

/// The function's environment: endpoints through `AWS_ENDPOINT_URL_*` only;
/// SQS is the event source, which delivers what is sent to the work queue.
/// Protection of what is in use is on (`protectInUse` defaults to true).
fn function_env(emulator: &str, source: &EventSource, shared_by: u32) -> Vec<(String, String)> {
    let runtime_api = source.addr.to_string();
    let sqs = source.sqs_endpoint();
    let work = source.work_queue_url();
    let dead = source.dead_letter_queue_url();
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
        ("AWS_LAMBDA_FUNCTION_NAME", "packprune"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_ENDPOINT_URL_CODEARTIFACT", emulator),
        ("AWS_ENDPOINT_URL_IOT", emulator),
        ("AWS_ENDPOINT_URL_SQS", sqs.as_str()),
        ("WORK_QUEUE_URL", work.as_str()),
        ("DEAD_LETTER_QUEUE_URL", dead.as_str()),
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

fn emulator_for(w: &Workload) -> Result<Running> {
    let mut state = w.seed.clone();
    state.faults = w.quotas.faults();
    Ok(Running::start(state, "127.0.0.1:0")?)
}

/// packprune: `invocations` function processes polling one event source.
/// A workload with the table gets a moto of the run's own.
async fn run_packprune(w: &Workload, concurrent: u32) -> Result<Run> {
    let moto = match w.table {
        true => Some(downloads::moto_with_table().await?),
        false => None,
    };
    let env = moto
        .as_ref()
        .map_or_else(Vec::new, |(_, url)| table::env(url));
    run_with(w, concurrent, &env).await
}

/// packprune, with `extra` in the processes' environment (the table's).
pub(crate) async fn run_with(
    w: &Workload,
    concurrent: u32,
    extra: &[(String, String)],
) -> Result<Run> {
    let mut fleet = Fleet::start(w, w.name, concurrent, extra).await?;
    let start = Instant::now();
    fleet.source.send(w.messages.iter().cloned());
    let delivered = fleet.drained().await?;
    let wall = start.elapsed().as_secs_f64();
    let peak = fleet.peak_rss_kib();
    fleet.stop().await;
    let who = fleet::who(concurrent);
    if !delivered.dead_letters.is_empty() {
        let name = file_name(&format!("{} {who}", w.name));
        let path = Path::new(ROOT).join(format!("target/bench/{name}.dead-letters.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&delivered.dead_letters)?)?;
    }
    Ok(Run {
        invocations: delivered.invocations,
        redelivered: delivered.redelivered + delivered.errors,
        sent_to_work_queue: delivered.sent_to_work_queue,
        dead_lettered: delivered.dead_letters.len(),
        peak_rss_kib: peak,
        ..Run::measured(w, who, &fleet.emulator, wall)
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
        let env = function_env("http://127.0.0.1:9", &source, 1);
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

/// `--only`'s workloads beside the quota-bound ones.
const OTHERS: [&str; 4] = ["downloads", "backfill", "protected", "cold"];
const USAGE: &str = "usage: packprune-bench [--out BENCHMARKS.md] [--only iot|jobs|jobs-no-table|mixed|scope|downloads|backfill|protected|cold] [--no-moto] [--at-once 1,3,10]";

/// The command line.
struct Args {
    out: PathBuf,
    only: Option<String>,
    /// The dependency workloads' runs: on moto too, and at how many
    /// invocations at once on the stand-in.
    deps: dependencies::Options,
}

fn args() -> Result<Args> {
    let (mut out, mut only) = (None, None);
    let mut deps = dependencies::Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().context("--out takes a path")?)),
            "--only" => only = Some(args.next().context("--only takes a workload")?),
            "--no-moto" => deps.moto = false,
            "--at-once" => {
                let list = args.next().context("--at-once takes a list: 1,3,10")?;
                // Empty: no run on the stand-in (moto's alone).
                deps.at_once = (list.split(',').filter(|n| !n.trim().is_empty()))
                    .map(|n| n.trim().parse().context("--at-once takes a list: 1,3,10"))
                    .collect::<Result<_>>()?;
            }
            _ => bail!(USAGE),
        }
    }
    let root = PathBuf::from(ROOT);
    let out = out.unwrap_or_else(|| match only {
        Some(_) => root.join("target/bench/partial.md"),
        None => root.join("BENCHMARKS.md"),
    });
    Ok(Args { out, only, deps })
}

/// The quota-bound workloads `--only` asks for (all but the jobs without
/// the table when it asks for none), each with 1, 3 and 10 invocations at
/// once, and the naive loop.
async fn quota_runs(only: Option<&str>) -> Result<Vec<Run>> {
    let workloads: [(&str, Build); 6] = [
        ("iot", workload::iot_only),
        ("jobs", || jobs::iot_jobs(true)),
        ("jobs-no-table", || jobs::iot_jobs(false)),
        ("mixed", workload::mixed),
        ("scope", workload::scope),
        ("storage", storage::workload),
    ];
    if let Some(o) = only {
        if !OTHERS.contains(&o) && !workloads.iter().any(|(key, _)| *key == o) {
            bail!("--only takes iot, jobs, jobs-no-table, mixed, scope, storage, downloads, backfill, protected or cold, not {o:?}");
        }
    }
    // The jobs without the table run only when asked for: at 10
    // invocations each process describes all 300 jobs, five minutes of the
    // shared DescribeJob quota.
    let asked = |key: &str| match only {
        Some(o) => o == key,
        None => key != "jobs-no-table",
    };
    let mut runs = Vec::new();
    for (key, build) in workloads.into_iter().filter(|(key, _)| asked(key)) {
        let w = build();
        for concurrent in CONCURRENCY {
            eprintln!("{}: packprune, {concurrent} at once ...", w.name);
            let r = run_packprune(&w, concurrent).await?;
            r.say();
            runs.push(r);
        }
        // The naive loop checks nothing for use, nor measures: no
        // baseline for a workload whose work is the check or the count.
        if w.first.is_none() && key != "storage" {
            eprintln!("{}: naive ...", w.name);
            let r = run_naive(&w).await?;
            r.say();
            runs.push(r);
        }
    }
    Ok(runs)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args { out, only, deps } = args()?;
    if !function_binary().exists() {
        bail!(
            "{} is missing: run `make bench`, which builds it",
            function_binary().display()
        );
    }
    let runs = quota_runs(only.as_deref()).await?;
    let asked = |key: &str| only.as_deref().is_none_or(|o| o == key);
    let recording = match asked("downloads") {
        true => {
            eprintln!(
                "downloads: recording {} events, then a policy over the scope ...",
                downloads::EVENTS
            );
            let r = downloads::run().await?;
            eprintln!("{r:?}");
            Some(r)
        }
        false => None,
    };
    let backfills = match asked("backfill") {
        true => Some(dependencies::backfills(&deps).await?),
        false => None,
    };
    let protection = match asked("protected") {
        true => Some(dependencies::protection(&deps).await?),
        false => None,
    };
    eprintln!("cold start ...");
    let cold = cold_starts(20).await?;
    let mut sorted = cold.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!("cold start: median {:.1} ms", sorted[sorted.len() / 2]);
    let extra = report::Extra {
        downloads: recording.as_ref(),
        backfills: backfills.as_deref(),
        protection: protection.as_ref(),
    };
    let text = report::render(&runs, &cold, extra)?;
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
