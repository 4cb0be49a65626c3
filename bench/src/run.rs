//! One run's figures, and how they are read off the emulator and the
//! function processes after it: calls, throttles, what is left, peak RSS.

use std::path::Path;

use packprune_emulator::Running;

use crate::workload::{Victims, Workload};
use crate::ROOT;

/// One run's figures.
#[derive(Debug, Clone)]
pub struct Run {
    pub workload: &'static str,
    /// What the workload is, for the report.
    pub about: &'static str,
    pub who: String,
    pub versions: usize,
    pub wall: f64,
    pub bound: f64,
    /// The need that sets the bound, as "class: calls at quota".
    pub bound_by: String,
    pub calls: usize,
    pub throttles: usize,
    pub left_behind: usize,
    pub unrequested_deleted: usize,
    pub invocations: u64,
    /// Records the event source delivered again (in `batchItemFailures`, or
    /// of a failed invocation).
    pub redelivered: u64,
    /// Messages the function sent to the work queue (fan-outs, hand-ons).
    pub sent_to_work_queue: u64,
    /// Messages the function sent to the dead-letter queue.
    pub dead_lettered: usize,
    pub peak_rss_kib: Option<u64>,
    /// DescribeJob calls answered (200), and all made.
    pub describe_job: (usize, usize),
}

impl Run {
    /// A run's figures from the emulator after it: calls, throttles and
    /// what is left (the call log kept under the run's name).
    pub fn measured(w: &Workload, who: String, emulator: &Running, wall: f64) -> Run {
        let (calls, throttles) = count_calls(emulator, &format!("{} {who}", w.name));
        let log = emulator.shared.calls();
        let describes = log.iter().filter(|c| c.operation == "DescribeJob");
        let describe_job = (
            describes.clone().filter(|c| c.status == 200).count(),
            describes.count(),
        );
        let (left_behind, unrequested_deleted) = verify(w, emulator);
        Run {
            workload: w.name,
            about: w.about,
            who,
            versions: w.versions(),
            wall,
            bound: w.bound_secs(),
            bound_by: w.bound_label(),
            calls,
            throttles,
            left_behind,
            unrequested_deleted,
            invocations: 0,
            redelivered: 0,
            sent_to_work_queue: 0,
            dead_lettered: 0,
            peak_rss_kib: None,
            describe_job,
        }
    }

    pub fn ratio(&self) -> f64 {
        self.bound / self.wall
    }

    pub fn say(&self) {
        eprintln!(
            "  {:.1} s (bound {:.1} s), ratio {:.2}, {} throttles, {} left, {} unrequested, {} dead-lettered{}",
            self.wall,
            self.bound,
            self.ratio(),
            self.throttles,
            self.left_behind,
            self.unrequested_deleted,
            self.dead_lettered,
            self.peak_rss_kib
                .map_or_else(String::new, |k| format!(", peak RSS {:.1} MiB", k as f64 / 1024.0))
        );
    }
}

/// VmHWM of a process: its peak resident set, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
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
    let releases: Vec<_> = state
        .codeartifact
        .domains
        .values()
        .filter_map(|d| d.repositories.get("releases"))
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
                // Every workload's victims are in `releases` (another
                // repository may hold the same package: `storage`).
                let present = releases.iter().find(|p| &p.package == package);
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

/// Counts calls and throttles, and keeps the call log (arrival times, answers)
/// in `target/bench/<run>.calls.json` for a closer look at a run.
pub(crate) fn count_calls(emulator: &Running, run: &str) -> (usize, usize) {
    let calls = emulator.shared.calls();
    let logs = Path::new(ROOT).join("target/bench");
    if std::fs::create_dir_all(&logs).is_ok() {
        if let Ok(json) = serde_json::to_vec(&calls) {
            let name = file_name(run);
            let _ = std::fs::write(logs.join(format!("{name}.calls.json")), json);
        }
    }
    let throttles = calls
        .iter()
        .filter(|c| c.error.as_deref() == Some("ThrottlingException"))
        .count();
    (calls.len(), throttles)
}

/// A run's name as a file name.
pub fn file_name(run: &str) -> String {
    run.replace([' ', ',', ':'], "-")
}
