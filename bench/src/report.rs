//! BENCHMARKS.md: the figures of one `make bench`, with the method and the
//! machine.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::workload::{Quotas, LATENCY_MS};
use crate::{Run, ROOT};

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

fn quotas_line(q: &Quotas) -> String {
    format!(
        "CodeArtifact {} writes/s, {} list calls/s, {} reads/s; IoT {} writes/s, {} reads/s",
        q.ca_write, q.ca_list, q.ca_read, q.iot_write, q.iot_read
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn render(runs: &[Run], cold: &[f64]) -> Result<String> {
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
    writeln!(s, "## Method\n")?;
    writeln!(s, "- **Function.** The release binary (`target/release/packprune`, x86_64), started as Lambda starts it and driven through a local **Lambda Runtime API that plays the SQS event source** (`bench/src/runtime_api.rs`): each poll of `/next` gets up to 10 records, records named in `batchItemFailures` go back on the queue. With 3 invocations at once, three processes poll the same queue and each gets `EVENT_SOURCE_MAX_CONCURRENCY=3`. Function timeout {} s. `RATE_LIMITS` is left at its defaults.", crate::TIMEOUT.as_secs())?;
    writeln!(s, "- **Services.** The emulator, in the bench process, with one token bucket per quota class (shared by the operations of that class), a burst of one second's worth of tokens, and {LATENCY_MS} ms latency on every call. CodeArtifact's throttles carry `Retry-After` (the seconds until a token is back, rounded up); IoT's carry none.")?;
    writeln!(s, "- **Naive baseline.** `bench/src/naive.rs`: one call at a time, the SDK's standard retries (`RetryConfig::standard()`: 3 attempts, jittered backoff, retry quota); a call that still fails is sent again until it succeeds. It deletes exactly the versions the function must delete (the policies' selections included), so it does no listing.")?;
    writeln!(s, "- **Lower bound.** The write calls the work needs at the least, at the write quota of the slowest class, without the first second's burst: CodeArtifact at 100 versions a DeletePackageVersions call, IoT at one DeletePackageVersion a version. Ratio = bound / wall time (1.0 is the quota; a little over 1.0 is possible through the burst).")?;
    writeln!(s, "- **Calls and throttles** are the emulator's call log over the run (every operation, reads included). **Left behind** counts versions that had to be deleted and remain; **unrequested** counts versions that had to stay and are gone (both must be 0).")?;
    writeln!(s, "- **Wall time** runs from the first message on the queue to the last acknowledgement, with the processes already started.\n")?;
    writeln!(s, "## Quota-bound runs\n")?;
    let mut last = "";
    for r in runs {
        if r.workload != last {
            last = r.workload;
            let q = crate::workload::QUOTAS;
            let what = match r.workload {
                "IoT only" => "300 IoT versions in 10 packages, 30 requests of 10 versions.",
                _ => "20,000 CodeArtifact versions in 200 packages (100 explicit lists of 100; 100 keep-latest-50 policies over 150 versions) and 500 IoT versions in 20 packages (10 explicit lists of 25; 10 keep-latest-5 policies over 30), 220 requests.",
            };
            writeln!(
                s,
                "### {}\n\n{what} Quotas: {}.\n",
                r.workload,
                quotas_line(&q)
            )?;
            writeln!(s, "| run | versions | wall (s) | lower bound (s) | ratio | calls/s | throttles | left behind | unrequested | invocations | redelivered |")?;
            writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        }
        writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {} | {} | {} | {} | {} |",
            r.who,
            r.versions,
            r.wall,
            r.bound,
            r.ratio(),
            r.calls as f64 / r.wall,
            r.throttles,
            r.left_behind,
            r.unrequested_deleted,
            if r.invocations == 0 {
                "-".to_owned()
            } else {
                r.invocations.to_string()
            },
            if r.invocations == 0 {
                "-".to_owned()
            } else {
                r.redelivered.to_string()
            }
        )?;
        if runs
            .iter()
            .rfind(|x| x.workload == r.workload)
            .is_some_and(|x| std::ptr::eq(x, r))
        {
            writeln!(s)?;
        }
    }
    targets(&mut s, runs, cold)?;
    let peak = runs
        .iter()
        .filter(|r| r.workload == "mixed")
        .filter_map(|r| r.peak_rss_kib)
        .max();
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
            "| peak RSS, mixed run | {:.1} MiB | the largest VmHWM of the function processes |",
            kib as f64 / 1024.0
        )?;
    }
    writeln!(
        s,
        "| release binary, x86_64 | {} | `cargo build --release --bin packprune` |",
        size("target/release/packprune")
    )?;
    writeln!(
        s,
        "| release binary, arm64 | {} | `make build` (`cargo lambda build --release --arm64`) |\n",
        size("target/lambda/packprune/bootstrap")
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

/// The targets, each checked against this run's figures.
fn targets(s: &mut String, runs: &[Run], cold: &[f64]) -> Result<()> {
    writeln!(s, "## Against the targets\n")?;
    writeln!(s, "| target | figure | met |\n|---|---|---|")?;
    let mark = |ok: bool| if ok { "yes" } else { "**no**" };
    for r in runs.iter().filter(|r| r.who.starts_with("packprune")) {
        let naive = runs
            .iter()
            .find(|n| n.workload == r.workload && n.who.starts_with("naive"));
        writeln!(
            s,
            "| {}, {}: at least 0.85 of the bound | {:.2} | {} |",
            r.workload,
            r.who,
            r.ratio(),
            mark(r.ratio() >= 0.85)
        )?;
        if let (Some(n), "IoT only") = (naive, r.workload) {
            writeln!(
                s,
                "| {}, {}: faster than the naive loop | {:.1} s vs {:.1} s ({:+.1} s) | {} |",
                r.workload,
                r.who,
                r.wall,
                n.wall,
                r.wall - n.wall,
                mark(r.wall < n.wall)
            )?;
        }
    }
    let left: usize = runs
        .iter()
        .map(|r| r.left_behind + r.unrequested_deleted)
        .sum();
    writeln!(
        s,
        "| nothing left behind or deleted unrequested, every run | {left} | {} |",
        mark(left == 0)
    )?;
    let mut sorted = cold.to_vec();
    sorted.sort_by(f64::total_cmp);
    if !sorted.is_empty() {
        let median = percentile(&sorted, 0.5);
        writeln!(
            s,
            "| cold start under 20 ms (median) | {median:.1} ms | {} |",
            mark(median < 20.0)
        )?;
    }
    if let Some(kib) = runs.iter().filter_map(|r| r.peak_rss_kib).max() {
        let mib = kib as f64 / 1024.0;
        writeln!(
            s,
            "| peak RSS under 64 MB | {mib:.1} MiB | {} |",
            mark(mib < 61.0)
        )?;
    }
    writeln!(s)?;
    Ok(())
}
