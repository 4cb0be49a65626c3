//! The chaos suites' harness (`tests/chaos.rs`, `tests/spin.rs`, each
//! including it as `harness` beside `support`): the
//! emulator with faults, moto's SQS played as Lambda's event source would
//! play it (failed records back after a visibility timeout, a redrive
//! policy after 10 receives, 20% of deliveries twice, short deadlines), an
//! SQS outage through a proxy, and the checks every run must pass: nothing
//! lost, nothing unrequested deleted, policies keep what they promise,
//! summaries add up. Each run writes its figures to `target/chaos/`.
//!
//! - `outage`: the proxy in front of moto that SQS's outage takes down
//! - `poller`: the event source, played on moto
//! - `outcome`: what the emulator holds, and what the dead letters say

mod outage;
mod outcome;
mod poller;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use aws_sdk_sqs::types::QueueAttributeName;
use packprune::testkit::account::Summary;
use packprune_emulator::{Fault, Running};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::*;
use outage::Proxy;
use outcome::{dead_lettered, holdings};
use poller::{poll, Tally};

/// One run of the suite.
pub struct Options {
    /// Where the figures go, under `target/chaos/`.
    pub report: &'static str,
    /// The emulator's seed (domain `acme`, repository `chaos`) and the
    /// messages, with what they ask for.
    pub workload: (Value, Plan),
    pub faults: BTreeMap<String, Fault>,
    /// Every invocation's deadline; `None`: 30 s, and 10% very short.
    pub deadline: Option<Duration>,
    /// `RATE_LIMITS`; `None` leaves the function's defaults.
    pub rate_limits: Option<&'static str>,
    /// SQS goes down for 3 s, 10 s in.
    pub outage: bool,
    /// Execution environments: each has a handler of its own (its own
    /// pacers and what it learned), shared by the pollers given to it.
    pub containers: usize,
    /// The run fails if the work queue has not drained by then.
    pub timeout: Duration,
    /// `DOWNLOADS_TABLE` set, to a table on moto: the function's memory
    /// (a message delivered twice is worked on once).
    pub table: bool,
}

/// What the run asked for, to check the outcome against.
#[derive(Default)]
pub struct Plan {
    /// (service:package) → versions named by explicit lists.
    pub requested: BTreeMap<String, BTreeSet<String>>,
    /// (service:package) → the newest versions its policy must keep.
    pub keeps: BTreeMap<String, BTreeSet<String>>,
    /// Versions the emulator refuses to delete (deleteAllowed false, IoT
    /// defaults), with the code they must be dead-lettered with.
    pub refused: BTreeMap<(String, String), &'static str>,
    pub bodies: Vec<Value>,
    pub never_existed: usize,
}

/// The runs set the process's `AWS_ENDPOINT_URL_*`: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the suite with `o`, checks what issue 9 asks, writes the figures,
/// and returns them.
pub async fn run(tools: &Tools, o: Options) -> Result<Value> {
    let _one_at_a_time = SERIAL.lock().await;
    let (seed_json, plan) = o.workload;
    let mut state = seed(seed_json);
    state.faults = o.faults.clone();
    let emulator = Running::start(state, "127.0.0.1:0")?;
    let moto = Moto::start(tools)?;
    let proxy = Proxy::start(moto.url.clone()).await?;
    for (k, v) in [
        ("AWS_ENDPOINT_URL_CODEARTIFACT", emulator.url()),
        ("AWS_ENDPOINT_URL_IOT", emulator.url()),
        ("AWS_ENDPOINT_URL_SQS", proxy.url.clone()),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.url.clone()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ] {
        std::env::set_var(k, v);
    }
    let before = holdings(&emulator);
    // The harness talks to moto directly: the outage is the function's.
    let sdk = packprune::sdk::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .endpoint_url(&moto.url)
            .build(),
    );
    let queues = Queues::create(&sqs, "chaos").await?;
    let redrive = sqs
        .create_queue()
        .queue_name("chaos-redrive")
        .send()
        .await?
        .queue_url
        .unwrap();
    let redrive_arn = crate::support::template::queue_arn(&sqs, &redrive).await?;
    sqs.set_queue_attributes()
        .queue_url(&queues.work)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": redrive_arn, "maxReceiveCount": 10}).to_string(),
        )
        .send()
        .await?;
    for chunk in plan.bodies.chunks(10) {
        let mut batch = sqs.send_message_batch().queue_url(&queues.work);
        for (i, b) in chunk.iter().enumerate() {
            batch = batch.entries(
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(b.to_string())
                    .build()?,
            );
        }
        batch.send().await?;
    }
    let mut settings = vec![("MAX_CONCURRENCY", "8"), ("DEADLINE_MARGIN_MS", "500")];
    settings.extend(o.rate_limits.map(|r| ("RATE_LIMITS", r)));
    let table = match o.table {
        true => Some(crate::support::downloads::create_downloads_table("chaos").await?),
        false => None,
    };
    settings.extend(table.as_deref().map(|t| ("DOWNLOADS_TABLE", t)));
    let mut handlers = Vec::new();
    for _ in 0..o.containers.max(1) {
        handlers.push(Arc::new(in_process_handler(queues.config(&settings)).await));
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let outage = async {
        if !o.outage {
            return;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        proxy.set_down(true);
        tokio::time::sleep(Duration::from_secs(3)).await;
        proxy.set_down(false);
    };
    let pollers = futures::future::try_join_all((0..3).map(|i| {
        tokio::spawn(poll(
            sqs.clone(),
            queues.work.clone(),
            handlers[i as usize % handlers.len()].clone(),
            tally.clone(),
            (i, o.deadline),
        ))
    }));
    let (_, done) = tokio::join!(outage, tokio::time::timeout(o.timeout, pollers));
    // Out of time: the figures are still written, with the problem.
    let timed_out = done.is_err();
    if let Ok(done) = done {
        for r in done? {
            r?;
        }
    }
    let elapsed = started.elapsed();
    let left_over = depth(&sqs, &queues.work).await?;
    let after = holdings(&emulator);
    let dlq = take_all(&sqs, &queues.dead_letter).await?;
    let redriven = take_all(&sqs, &redrive).await?;
    let (dead, dead_items) = dead_lettered(&dlq);
    let calls = emulator.shared.calls();
    let t = tally.lock().unwrap();

    let mut problems: Vec<String> = Vec::new();
    if timed_out {
        problems.push(format!(
            "the work queue did not drain within {} s",
            o.timeout.as_secs()
        ));
    }
    // Nothing moved by the redrive policy: the function always decides.
    if !redriven.is_empty() {
        problems.push(format!(
            "{} messages reached the redrive queue",
            redriven.len()
        ));
    }
    // Every requested version is deleted, already absent, or dead-lettered
    // with a reason; the refused ones with theirs.
    for (pkg, versions) in &plan.requested {
        for v in versions {
            let there = after[pkg].contains(v);
            let codes = dead.get(&(pkg.clone(), v.clone()));
            if there && codes.is_none() {
                let (service, package) = pkg.split_once(':').unwrap();
                let touched: Vec<String> = calls
                    .iter()
                    .filter(|c| {
                        c.service == service
                            && c.package.as_deref() == Some(package)
                            && c.versions.contains(v)
                    })
                    .map(|c| format!("{} {} {:?}", c.operation, c.status, c.error))
                    .collect();
                problems.push(format!(
                    "lost: {pkg} {v} is neither deleted nor dead-lettered; calls: {touched:?}"
                ));
            }
            if let Some(code) = plan.refused.get(&(pkg.clone(), v.clone())) {
                if !codes.is_some_and(|c| c.contains(*code)) {
                    problems.push(format!(
                        "{pkg} {v} should be dead-lettered {code}, got {codes:?}"
                    ));
                }
            }
        }
    }
    // Nothing unrequested is deleted; policies keep what they promise.
    for (pkg, had) in &before {
        for v in had.difference(&after[pkg]) {
            let asked = plan.requested.get(pkg).is_some_and(|r| r.contains(v));
            let selected = plan.keeps.get(pkg).is_some_and(|keep| !keep.contains(v));
            if !asked && !selected {
                problems.push(format!("deleted unrequested: {pkg} {v}"));
            }
        }
        if let Some(keep) = plan.keeps.get(pkg) {
            if !keep.is_subset(&after[pkg]) {
                problems.push(format!(
                    "{pkg}'s policy did not keep its newest {}",
                    keep.len()
                ));
            }
        }
    }
    // What a policy selected and left in place, not dead-lettered: kept by
    // a rule the plan does not know of (an IoT default version) or lost.
    let mut policy_left = Vec::new();
    for (pkg, keep) in &plan.keeps {
        for v in after[pkg].difference(keep) {
            if !dead.contains_key(&(pkg.clone(), v.clone())) {
                policy_left.push(format!("{pkg} {v}"));
            }
        }
    }
    // No version both deleted and dead-lettered.
    for ((pkg, v), codes) in &dead {
        if v != "*" && before[pkg].contains(v) && !after[pkg].contains(v) {
            problems.push(format!("{pkg} {v} deleted and dead-lettered {codes:?}"));
        }
    }
    // RETRIES_EXHAUSTED only where every delete of the version was refused.
    let exhausted: Vec<&(String, String)> = dead
        .iter()
        .filter(|(_, c)| c.contains("RETRIES_EXHAUSTED"))
        .map(|(k, _)| k)
        .collect();
    for (pkg, v) in &exhausted {
        let (service, package) = pkg.split_once(':').unwrap();
        let ok = calls.iter().any(|c| {
            c.service == service
                && c.package.as_deref() == Some(package)
                && c.operation.starts_with("DeletePackageVersion")
                && c.versions.contains(v)
                && c.status == 200
        });
        if ok {
            problems.push(format!(
                "{pkg} {v} RETRIES_EXHAUSTED although a delete succeeded"
            ));
        }
    }
    // The summaries add up.
    let mut total = Summary::default();
    for s in &t.summaries {
        if !s.balanced() {
            problems.push(format!("unbalanced summary {s:?}"));
        }
        for (a, b) in [
            (&mut total.requested, s.requested),
            (&mut total.deleted, s.deleted),
            (&mut total.already_absent, s.already_absent),
            (&mut total.kept, s.kept),
            (&mut total.dead_lettered, s.dead_lettered),
            (&mut total.handed_on, s.handed_on),
            (&mut total.invalid_requests, s.invalid_requests),
            (&mut total.records_redelivered, s.records_redelivered),
            (&mut total.hand_on_messages, s.hand_on_messages),
            (&mut total.dead_letter_messages, s.dead_letter_messages),
        ] {
            *a += b;
        }
    }
    if total.dead_lettered != dead_items {
        problems.push(format!(
            "summaries count {} dead-lettered items, the dead-letter queue holds {dead_items}",
            total.dead_lettered
        ));
    }
    let removed: usize = before
        .iter()
        .map(|(p, had)| had.difference(&after[p]).count())
        .sum();
    if (removed as u64) > total.deleted + total.already_absent {
        problems.push(format!(
            "{removed} versions removed, but only {} reported deleted or absent",
            total.deleted + total.already_absent
        ));
    }
    if total.invalid_requests != 0 {
        problems.push(format!(
            "{} requests refused as invalid",
            total.invalid_requests
        ));
    }

    let mut faults_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls {
        if let Some(e) = &c.error {
            *faults_by_kind.entry(e.clone()).or_default() += 1;
        }
    }
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    let mut answered: BTreeMap<String, usize> = BTreeMap::new();
    // What each operation took of the quota: every call not throttled.
    let mut admitted: BTreeMap<String, usize> = BTreeMap::new();
    for c in &calls {
        *by_operation.entry(c.operation.clone()).or_default() += 1;
        if c.status == 200 {
            *answered.entry(c.operation.clone()).or_default() += 1;
        }
        if !matches!(c.error.as_deref(), Some("ThrottlingException" | "DROPPED")) {
            *admitted.entry(c.operation.clone()).or_default() += 1;
        }
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for cs in dead.values() {
        for c in cs {
            *codes.entry(c.clone()).or_default() += 1;
        }
    }
    let versions: usize = before.values().map(BTreeSet::len).sum();
    let report = json!({
        "versions": versions,
        "messages": plan.bodies.len(),
        "explicitlyRequested": plan.requested.values().map(BTreeSet::len).sum::<usize>(),
        "neverExisted": plan.never_existed,
        "policyPackages": plan.keeps.len(),
        "removed": removed,
        "lost": problems.iter().filter(|p| p.starts_with("lost")).count(),
        "invocations": t.invocations,
        "duplicateDeliveries": t.duplicates,
        "shortDeadlines": t.short_deadlines,
        "sqsOutageSeconds": if o.outage { 3 } else { 0 },
        "deadlineSeconds": o.deadline.map(|d| d.as_secs()),
        "rateLimits": o.rate_limits,
        "calls": calls.len(),
        "callsByOperation": by_operation,
        "answeredByOperation": answered,
        "admittedByOperation": admitted,
        "faultsByKind": faults_by_kind,
        "deadLettersByCode": codes,
        // Why, for the first few: what each dead letter says ate the time.
        "deadLetterReasons": dlq
            .iter()
            .take(10)
            .map(|b| format!("{} {} {}: {}", b["package"], b["versions"], b["failure"]["code"], b["failure"]["message"]))
            .collect::<Vec<_>>(),
        "summary": total,
        "seconds": elapsed.as_secs_f64().round(),
        "leftOnTheWorkQueue": left_over,
        "policyLeft": policy_left,
        "problems": problems,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/chaos");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(o.report), serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(report)
}
