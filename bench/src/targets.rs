//! "Against the targets": issue 16's targets, each checked against this
//! `make bench`'s figures, and the figures before it they are held to.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::report::percentile;
use crate::{Run, ROOT};

/// The figures before issue 16, from BENCHMARKS.md of 2026-11-21 (written
/// by `make bench` on the same 2-core machine): the cold-start median, the
/// peak RSS of the function processes, and the release binaries' sizes.
pub const BEFORE_COLD_START_MS: f64 = 6.5;
pub const BEFORE_PEAK_RSS_MIB: f64 = 13.1;
pub const BEFORE_X86_64_BYTES: u64 = 10_037_184;
pub const BEFORE_ARM64_BYTES: u64 = 8_112_368;
/// Timing noise allowed on the cold-start median: a few tenths of a
/// millisecond move from one `make bench` to the next.
const COLD_START_NOISE: f64 = 0.10;

pub const X86_64_BINARY: &str = "target/release/packprune";
pub const ARM64_BINARY: &str = "target/lambda/packprune/bootstrap";

/// The least ratio of every packprune run of these workloads.
const RATIO_TARGET: f64 = 0.9;
const RATIO_WORKLOADS: [&str; 2] = ["IoT only", "mixed"];

/// The largest VmHWM of the function processes over every run.
pub fn peak_rss_kib(runs: &[Run]) -> Option<u64> {
    runs.iter().filter_map(|r| r.peak_rss_kib).max()
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "**no**"
    }
}

fn bytes(path: &str) -> Option<u64> {
    std::fs::metadata(Path::new(ROOT).join(path))
        .ok()
        .map(|m| m.len())
}

pub fn targets(s: &mut String, runs: &[Run], cold: &[f64]) -> Result<()> {
    writeln!(s, "## Against the targets\n")?;
    writeln!(
        s,
        "Issue 16's targets. \"Before\" is BENCHMARKS.md of 2026-11-21.\n"
    )?;
    writeln!(s, "| target | figure | met |\n|---|---|---|")?;
    for r in runs
        .iter()
        .filter(|r| r.who.starts_with("packprune") && RATIO_WORKLOADS.contains(&r.workload))
    {
        writeln!(
            s,
            "| {}, {}: at least {RATIO_TARGET} of the bound | {:.2} | {} |",
            r.workload,
            r.who,
            r.ratio(),
            mark(r.ratio() >= RATIO_TARGET)
        )?;
    }
    let left: usize = runs.iter().map(|r| r.left_behind).sum();
    writeln!(
        s,
        "| nothing left behind, every run | {left} | {} |",
        mark(left == 0)
    )?;
    let unrequested: usize = runs.iter().map(|r| r.unrequested_deleted).sum();
    writeln!(
        s,
        "| nothing deleted unrequested, every run | {unrequested} | {} |",
        mark(unrequested == 0)
    )?;
    let dead: usize = runs.iter().map(|r| r.dead_lettered).sum();
    writeln!(
        s,
        "| nothing dead-lettered, every run | {dead} | {} |",
        mark(dead == 0)
    )?;
    let mut sorted = cold.to_vec();
    sorted.sort_by(f64::total_cmp);
    if !sorted.is_empty() {
        let median = percentile(&sorted, 0.5);
        writeln!(
            s,
            "| cold start (median) no worse than before ({BEFORE_COLD_START_MS} ms, with {:.0}% for timing noise) | {median:.1} ms | {} |",
            COLD_START_NOISE * 100.0,
            mark(median <= BEFORE_COLD_START_MS * (1.0 + COLD_START_NOISE))
        )?;
    }
    if let Some(kib) = peak_rss_kib(runs) {
        let mib = kib as f64 / 1024.0;
        writeln!(
            s,
            "| peak RSS, all runs, no worse than before ({BEFORE_PEAK_RSS_MIB} MiB) | {mib:.1} MiB | {} |",
            // At the figure's precision, as "before" was written.
            mark((mib * 10.0).round() / 10.0 <= BEFORE_PEAK_RSS_MIB)
        )?;
    }
    for (what, path, before) in [
        ("x86_64", X86_64_BINARY, BEFORE_X86_64_BYTES),
        ("arm64", ARM64_BINARY, BEFORE_ARM64_BYTES),
    ] {
        let (figure, met) = match bytes(path) {
            Some(n) => (
                format!("{n} bytes ({:+} bytes)", n as i64 - before as i64),
                mark(n <= before),
            ),
            None => (format!("not built (`{path}` missing)"), "not measured"),
        };
        writeln!(
            s,
            "| release binary, {what}, no larger than before ({before} bytes) | {figure} | {met} |"
        )?;
    }
    writeln!(s)?;
    writeln!(s, "{}", include_str!("targets-notes.md"))?;
    Ok(())
}
