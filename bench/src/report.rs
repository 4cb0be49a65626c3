//! BENCHMARKS.md: the figures of one `make bench`, with the method and the
//! machine.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::quotas::{Quotas, CLASSES, LATENCY_MS, QUOTAS};
use crate::{targets, Run, CONCURRENCY, ROOT};

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {mem_gib:.0} GiB, Linux {}; {rustc}",
        std::env::consts::ARCH
    )
}

fn size(path: &str) -> String {
    match std::fs::metadata(Path::new(ROOT).join(path)) {
        Ok(m) => format!("{} bytes ({:.1} MiB)", m.len(), m.len() as f64 / 1048576.0),
        Err(_) => format!("not built (`{path}` missing)"),
    }
}

/// Distinct versions of the crates that make a TLS stack, in the function's
/// normal dependency tree.
fn tls_stack() -> Vec<(String, Vec<String>)> {
    let out = Command::new("cargo")
        .args([
            "tree",
            "-p",
            "packprune",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--target",
            "all",
        ])
        .current_dir(ROOT)
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    [
        "hyper",
        "rustls",
        "ring",
        "aws-lc-rs",
        "aws-sdk-sso",
        "aws-sdk-ssooidc",
    ]
    .into_iter()
    .map(|name| {
        let mut versions: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                (it.next() == Some(name)).then(|| it.next().unwrap_or("").to_owned())
            })
            .collect();
        versions.sort();
        versions.dedup();
        (name.to_owned(), versions)
    })
    .collect()
}

/// Every quota class with its quota, by the function's names for them.
fn quotas_line(q: &Quotas) -> String {
    CLASSES
        .iter()
        .map(|(class, _)| format!("{class} {}/s", q.rate(class)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every quota class, its quota and the operations its bucket covers.
fn classes_text(q: &Quotas) -> String {
    CLASSES
        .iter()
        .map(|(class, ops)| {
            let ops: Vec<&str> = ops
                .iter()
                .map(|o| o.split_once(':').map_or(*o, |(_, op)| op))
                .collect();
            format!("`{class}` {}/s ({})", q.rate(class), ops.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn method(s: &mut String) -> Result<()> {
    let mut counts: Vec<String> = CONCURRENCY.iter().map(u32::to_string).collect();
    let last = counts.pop().unwrap_or_default();
    let counts = format!("{} and {last}", counts.join(", "));
    writeln!(s, "## Method\n")?;
    writeln!(s, "- **Function.** The release binary (`target/release/packprune`, x86_64), started as Lambda starts it and driven through a local **Lambda Runtime API that plays the SQS event source** (`bench/src/runtime_api.rs`): each poll of `/next` gets up to 10 records, records named in `batchItemFailures` go back on the queue. Each workload runs with {counts} invocations at once: that many processes poll the same queue, each with `EVENT_SOURCE_MAX_CONCURRENCY` set to that number (as the template sets it from the event source mapping's `MaximumConcurrency`). Function timeout {} s. `RATE_LIMITS` is left at its defaults, which are the quotas below. **Protection of what is in use is on** (`protectInUse` defaults to true): the function searches the fleet index (SearchIndex) for every IoT version it deletes (twelve versions a query, their terms joined by `OR`), reads the fleet-indexing configuration and lists the unfinished jobs (ListJobs) at most once per invocation, and describes (DescribeJob) only jobs its execution environment, or with `DOWNLOADS_TABLE` any environment, has not described before.", crate::TIMEOUT.as_secs())?;
    writeln!(s, "- **The function's table.** Of the quota-bound runs, only the unfinished-jobs workload sets `DOWNLOADS_TABLE` (a moto server of the run's own, the template's key schema), as a deployment with `RecordDownloads=true` does: there each SQS record's message is also claimed before its work and marked handled after (two conditional writes per record), so that a message delivered twice is worked on once. The template keeps the table the opt-in it was (issue 26 asked whether to always deploy it): its download-recording marker (`recordingSince`, per domain) lives in the table, and a table kept while recording was switched off and on again would claim reads were recorded across the gap, so `notDownloadedForDays` could delete a version downloaded in it; a table that goes with `RecordDownloads=false` (and is retained, detached, on the way) cannot. What duplicates cost without the table is in RELIABILITY.md (the never-spin run, with and without it).")?;
    writeln!(s, "- **SQS.** The event source is also the function's SQS endpoint (`AWS_ENDPOINT_URL_SQS`; `bench/src/sqs.rs`): it answers SendMessageBatch (awsJson1_0). What the function sends to `WORK_QUEUE_URL`, a scope's fan-out (one policy request per package) or work handed on, goes on the queue the processes poll, after its `DelaySeconds`; what it sends to `DEAD_LETTER_QUEUE_URL` is counted (it must be nothing).")?;
    writeln!(s, "- **Services.** The emulator, in the bench process, with one token bucket per quota class, shared by the operations the class covers, a burst of one second's worth of tokens, and {LATENCY_MS} ms latency on every call. The classes, by the function's names for them, at the published quotas (IoT publishes none for the software package catalog; the function assumes 10/s): {}. CodeArtifact's throttles carry `Retry-After` (the seconds until a token is back, rounded up); IoT's carry none.", classes_text(&QUOTAS))?;
    writeln!(s, "- **Seeds.** Where there are IoT packages, fleet indexing indexes `$package`, things run versions no request deletes, and a finished job names a version to delete: every IoT version deleted is searched and none is protected.")?;
    writeln!(s, "- **Naive baseline.** `bench/src/naive.rs`, one run per workload (none for the unfinished-jobs workloads, whose work is the check the naive loop does not make): one call at a time, the SDK's standard retries (`RetryConfig::standard()`: 3 attempts, jittered backoff, retry quota); a call that still fails is sent again until it succeeds. It deletes exactly the versions the function must delete (the policies' selections included), so it does no listing and checks nothing for use.")?;
    writeln!(s, "- **Lower bound.** For each quota class the work involves, the calls it needs at the least, at the class's quota, without the first second's burst; the bound is the largest of these, and **bound by** names its class. The calls: CodeArtifact, one DeletePackageVersions per 100 versions of a package, one ListPackageVersions per policy's package, one ListPackages per scope; IoT, one DeletePackageVersion per version and one SearchIndex per twelve, one GetPackage and one ListPackageVersions per package, and the two ListJobs (in progress, scheduled). Where the work cannot start before other calls are answered (no IoT version can be cleared before every unfinished job is described), the bound is those calls' time, then the largest of the rest: **bound by** says \"then\". Ratio = bound / wall time (1.0 is the quota; a little over 1.0 is possible through the burst).")?;
    writeln!(s, "- **Calls and throttles** are the emulator's call log over the run (every operation, reads included; SQS not). **Left behind** counts versions that had to be deleted and remain; **unrequested** counts versions that had to stay and are gone (both must be 0). **To work queue** counts the messages the function sent to the work queue.")?;
    writeln!(s, "- **Wall time** runs from the first message on the queue to the last acknowledgement (of the fanned-out messages too), with the processes already started.\n")?;
    Ok(())
}

fn runs_table(s: &mut String, runs: &[Run]) -> Result<()> {
    writeln!(s, "## Quota-bound runs\n")?;
    let dash = |on: bool, n: u64| if on { n.to_string() } else { "-".to_owned() };
    let mut last = "";
    for r in runs {
        if r.workload != last {
            last = r.workload;
            writeln!(
                s,
                "### {}\n\n{} Quotas: {}.\n",
                r.workload,
                r.about,
                quotas_line(&QUOTAS)
            )?;
            writeln!(s, "| run | versions | bound (s) | bound by | wall (s) | ratio | calls/s | throttles | left behind | unrequested | invocations | redelivered | to work queue | peak RSS (MiB) |")?;
            writeln!(
                s,
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
            )?;
        }
        let function = r.invocations > 0;
        writeln!(
            s,
            "| {} | {} | {:.1} | {} | {:.1} | {:.2} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            r.who,
            r.versions,
            r.bound,
            r.bound_by,
            r.wall,
            r.ratio(),
            r.calls as f64 / r.wall,
            r.throttles,
            r.left_behind,
            r.unrequested_deleted,
            dash(function, r.invocations),
            dash(function, r.redelivered),
            dash(function, r.sent_to_work_queue),
            r.peak_rss_kib
                .map_or("-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
        )?;
        if runs
            .iter()
            .rfind(|x| x.workload == r.workload)
            .is_some_and(|x| std::ptr::eq(x, r))
        {
            writeln!(s)?;
            jobs_table(s, runs, r.workload)?;
        }
    }
    Ok(())
}

/// For a workload with unfinished jobs: how often each job was described.
fn jobs_table(s: &mut String, runs: &[Run], workload: &str) -> Result<()> {
    let runs: Vec<&Run> = runs
        .iter()
        .filter(|r| r.workload == workload && r.describe_job.1 > 0)
        .collect();
    if runs.is_empty() || !workload.contains("jobs") {
        return Ok(());
    }
    writeln!(s, "| run | DescribeJob answered | per job | DescribeJob calls (throttled included) |\n|---|---|---|---|")?;
    for r in runs {
        let (answered, made) = r.describe_job;
        writeln!(
            s,
            "| {} | {answered} | {:.2} | {made} |",
            r.who,
            answered as f64 / crate::jobs::JOBS as f64
        )?;
    }
    writeln!(s)?;
    Ok(())
}

/// The sections beside the quota-bound runs, those that ran.
pub struct Extra<'a> {
    pub downloads: Option<&'a crate::downloads::Report>,
    pub backfills: Option<&'a [crate::backfill::BackfillRun]>,
    pub protection: Option<&'a crate::dependencies::Protection>,
}

impl Extra<'_> {
    fn render(&self, s: &mut String) -> std::fmt::Result {
        if let Some(d) = self.downloads {
            crate::downloads::render(s, d)?;
        }
        if let Some(b) = self.backfills {
            crate::dependencies::render_backfill(s, b)?;
        }
        if let Some(p) = self.protection {
            crate::dependencies::render_protection(s, p)?;
        }
        Ok(())
    }
}

pub fn render(runs: &[Run], cold: &[f64], extra: Extra<'_>) -> Result<String> {
    let mut s = String::new();
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    writeln!(s, "# Benchmarks\n")?;
    writeln!(s, "Written by `make bench` ({date}) on {}. Rerun it to reproduce every figure below except the one-off TLS-stack comparison at the end, which says how it was measured.\n", machine())?;
    method(&mut s)?;
    runs_table(&mut s, runs)?;
    targets::targets(&mut s, runs, cold)?;
    extra.render(&mut s)?;
    let peak = targets::peak_rss_kib(runs);
    let mut cold_sorted = cold.to_vec();
    cold_sorted.sort_by(f64::total_cmp);
    writeln!(s, "## Cold start, memory, size\n")?;
    writeln!(s, "| what | figure | how |\n|---|---|---|")?;
    if !cold_sorted.is_empty() {
        writeln!(s, "| cold start | median {:.1} ms, p90 {:.1} ms, max {:.1} ms | process start to its first Runtime API poll, {} starts |",
            percentile(&cold_sorted, 0.5), percentile(&cold_sorted, 0.9), cold_sorted[cold_sorted.len() - 1], cold_sorted.len())?;
    }
    if let Some(kib) = peak {
        writeln!(
            s,
            "| peak RSS, all runs | {:.1} MiB | the largest VmHWM of the function processes |",
            kib as f64 / 1024.0
        )?;
    }
    writeln!(
        s,
        "| release binary, x86_64 | {} | `cargo build --release --bin packprune` |",
        size(targets::X86_64_BINARY)
    )?;
    writeln!(
        s,
        "| release binary, arm64 | {} | `make build` (`cargo lambda build --release --arm64`) |\n",
        size(targets::ARM64_BINARY)
    )?;
    writeln!(s, "## TLS stack\n")?;
    writeln!(s, "The function's normal dependency tree now (`cargo tree -p packprune -e normal`); `make lint` fails if a second rustls appears in it or in the test build:\n")?;
    writeln!(s, "| crate | versions |\n|---|---|")?;
    for (name, versions) in tls_stack() {
        writeln!(
            s,
            "| {name} | {} |",
            if versions.is_empty() {
                "none".to_owned()
            } else {
                versions.join(", ")
            }
        )?;
    }
    writeln!(s, "\n{}", include_str!("tls-change.md"))?;
    Ok(s)
}
