//! One run's moving parts: the emulator seeded with the workload, the
//! event source, and the function processes polling it, up and polling
//! before the clock starts.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use packprune_emulator::Running;

use crate::run::{file_name, peak_rss_kib};
use crate::runtime_api::{Delivered, EventSource};
use crate::workload::Workload;
use crate::{emulator_for, function_env, spawn_function, ROOT, TIMEOUT};

/// The emulator, the event source and `concurrent` function processes.
pub struct Fleet {
    pub emulator: Running,
    pub source: Arc<EventSource>,
    children: Vec<tokio::process::Child>,
}

/// How long a run may take before the bench gives up on it.
pub const RUN_LIMIT: Duration = Duration::from_secs(900);

impl Fleet {
    /// Starts them, the processes with `extra` in their environment (the
    /// table's), and clears the emulator's call log once every process
    /// polls. Logs: `target/bench/<name>-<concurrent>-<i>.log`.
    pub async fn start(
        w: &Workload,
        name: &str,
        concurrent: u32,
        extra: &[(String, String)],
    ) -> Result<Fleet> {
        let emulator = emulator_for(w)?;
        let source = EventSource::start(TIMEOUT).await?;
        let mut env = function_env(&emulator.url(), &source, concurrent);
        env.extend(extra.iter().cloned());
        let logs = Path::new(ROOT).join("target/bench");
        std::fs::create_dir_all(&logs)?;
        let mut children = Vec::new();
        for i in 0..concurrent {
            let log = logs.join(format!("{}-{concurrent}-{i}.log", file_name(name)));
            children.push(spawn_function(&env, &log)?);
        }
        // Every process is up and polling before the clock starts.
        let ready = Instant::now() + Duration::from_secs(30);
        while source.first_poll().is_none() {
            if Instant::now() > ready {
                bail!(
                    "the function did not poll the Runtime API within 30 s; see target/bench/*.log"
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        emulator.shared.clear_calls();
        Ok(Fleet {
            emulator,
            source,
            children,
        })
    }

    /// Waits until every message was delivered and acknowledged.
    pub async fn drained(&self) -> Result<Delivered> {
        tokio::time::timeout(RUN_LIMIT, self.source.drained())
            .await
            .context("the run did not finish within 15 minutes")
    }

    /// The largest peak resident set of the processes, KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.children
            .iter()
            .filter_map(|c| c.id().and_then(peak_rss_kib))
            .max()
    }

    /// Ends the processes; the emulator stays for reading.
    pub async fn stop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill().await;
        }
    }
}

/// "packprune, 3 invocations at once".
pub fn who(concurrent: u32) -> String {
    format!(
        "packprune, {concurrent} invocation{} at once",
        if concurrent == 1 { "" } else { "s" }
    )
}
