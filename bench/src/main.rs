//! `make bench`: packprune's release binary, run by a local Lambda Runtime
//! API as the SQS event source runs it (and as its SQS endpoint), against
//! the emulator's token-bucket quotas, with 1, 3 and 10 invocations at once;
//! beside it a naive sequential loop with the SDK's standard retries. Also
//! cold start, peak RSS, binary sizes and the TLS stack. Writes
//! BENCHMARKS.md.
//!
//! `packprune-bench [--out BENCHMARKS.md] [--only iot|jobs|jobs-no-table|mixed|scope|downloads|cold]`;
//! the binaries it measures are built by `make bench` first. `--only` runs one
//! workload (`cold`: none, the cold starts alone) and writes its report to `target/bench/partial.md` unless
//! `--out` is given. Every run's call log is kept in
//! `target/bench/*.calls.json`, what it dead-lettered (nothing, if all
//! goes well) in `target/bench/*.dead-letters.json`.

mod downloads;
mod jobs;
mod naive;
mod quotas;
mod report;
mod run;
mod runtime_api;
mod sqs;
mod targets;
mod workload;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use packprune_emulator::Running;
use run::{file_name, peak_rss_kib, Run};
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

fn function_binary() -> PathBuf {
    Path::new(ROOT).join("target/release/packprune")
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
async fn run_packprune(w: &Workload, concurrent: u32) -> Result<Run> {
    let emulator = emulator_for(w)?;
    let source = EventSource::start(TIMEOUT).await?;
    let mut env = function_env(&emulator.url(), &source, concurrent);
    // The function's table, on a moto of the run's own.
    let moto = match w.table {
        true => Some(downloads::moto_with_table().await?),
        false => None,
    };
    if let Some((_, url)) = &moto {
        env.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), url.clone()));
        env.push(("DOWNLOADS_TABLE".into(), downloads::TABLE.into()));
    }
    let logs = Path::new(ROOT).join("target/bench");
    std::fs::create_dir_all(&logs)?;
    let mut children = Vec::new();
    for i in 0..concurrent {
        let log = logs.join(format!("{}-{concurrent}-{i}.log", file_name(w.name)));
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
    if !delivered.dead_letters.is_empty() {
        let name = file_name(&format!("{} {who}", w.name));
        let path = logs.join(format!("{name}.dead-letters.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&delivered.dead_letters)?)?;
    }
    Ok(Run {
        invocations: delivered.invocations,
        redelivered: delivered.redelivered + delivered.errors,
        sent_to_work_queue: delivered.sent_to_work_queue,
        dead_lettered: delivered.dead_letters.len(),
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

#[tokio::main]
async fn main() -> Result<()> {
    let mut out = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(args.next().context("--out takes a path")?)),
            "--only" => only = Some(args.next().context("--only takes a workload")?),
            _ => bail!(
                "usage: packprune-bench [--out BENCHMARKS.md] [--only iot|jobs|jobs-no-table|mixed|scope|downloads|cold]"
            ),
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
    let workloads: [(&str, Build); 5] = [
        ("iot", workload::iot_only),
        ("jobs", || jobs::iot_jobs(true)),
        ("jobs-no-table", || jobs::iot_jobs(false)),
        ("mixed", workload::mixed),
        ("scope", workload::scope),
    ];
    if let Some(o) = only.as_deref() {
        if o != "downloads" && o != "cold" && !workloads.iter().any(|(key, _)| *key == o) {
            bail!(
                "--only takes iot, jobs, jobs-no-table, mixed, scope, downloads or cold, not {o:?}"
            );
        }
    }
    // The jobs without the table run only when asked for: at 10
    // invocations each process describes all 300 jobs, five minutes of the
    // shared DescribeJob quota.
    let asked = |key: &str| match only.as_deref() {
        Some(o) => o == key,
        None => key != "jobs-no-table",
    };
    for (_, build) in workloads.into_iter().filter(|(key, _)| asked(key)) {
        let w = build();
        for concurrent in CONCURRENCY {
            eprintln!("{}: packprune, {concurrent} at once ...", w.name);
            let r = run_packprune(&w, concurrent).await?;
            r.say();
            runs.push(r);
        }
        // The naive loop checks nothing for use: no baseline for a
        // workload whose work is the check.
        if w.first.is_none() {
            eprintln!("{}: naive ...", w.name);
            let r = run_naive(&w).await?;
            r.say();
            runs.push(r);
        }
    }
    let recording = match only.as_deref() {
        None | Some("downloads") => {
            eprintln!(
                "downloads: recording {} events, then a policy over the scope ...",
                downloads::EVENTS
            );
            let r = downloads::run().await?;
            eprintln!("{r:?}");
            Some(r)
        }
        Some(_) => None,
    };
    eprintln!("cold start ...");
    let cold = cold_starts(20).await?;
    let mut sorted = cold.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!("cold start: median {:.1} ms", sorted[sorted.len() / 2]);
    let text = report::render(&runs, &cold, recording.as_ref())?;
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
