//! The demo's download-aware retention: a burst of CloudTrail
//! `ReadFromRepository` events through the usage queue into the downloads
//! table, then a policy with `notDownloadedForDays` that fails closed (the
//! window is longer than recording) and one that keeps what builds read.

use anyhow::Result;
use serde_json::{json, Value};

use crate::support::downloads::days_ago;
use crate::support::*;
use packprune_emulator::cloudtrail::{read_event, Download};

/// Builds of `acme-cli` over the last 45 days: which version they
/// installed, how many times, how long ago; and npm's metadata reads.
const READS: [(&str, usize, f64); 5] = [
    ("3.0.0", 3, 45.0),
    ("3.4.0", 15, 2.0),
    ("3.9.0", 5, 10.0),
    ("3.12.0", 4, 40.0),
    ("3.23.0", 10, 0.5),
];

fn burst() -> Vec<Value> {
    let mut out = Vec::new();
    for (version, n, days) in READS {
        for i in 0..n {
            out.push(read_event(&Download {
                domain_owner: "111122223333",
                domain: "acme",
                repository: "releases",
                format: "npm",
                namespace: None,
                namespace_field: false,
                package: "acme-cli",
                version: Some(version),
                time: &days_ago(days + i as f64 * 0.01),
                seq: out.len() as u64,
            }));
        }
    }
    for i in 0..3 {
        let mut e = out[i].clone();
        e["detail"]["requestParameters"]
            .as_object_mut()
            .unwrap()
            .remove("packageVersion");
        out.push(e);
    }
    out
}

fn policy(days: u32, dry_run: bool) -> Value {
    json!({"service": "codeartifact", "domain": "acme", "domainOwner": "111122223333",
           "repository": "releases", "format": "npm", "package": "acme-cli",
           "policy": {"olderThanDays": 30, "notDownloadedForDays": days}, "dryRun": dry_run})
}

/// Sends the burst to the usage queue and runs it through the function,
/// ten records an invocation; then the two policies.
pub async fn run(
    watch: &LambdaWatch,
    sqs: &aws_sdk_sqs::Client,
    usage: &str,
    table: &str,
) -> Result<()> {
    let events = burst();
    println!(
        "── downloads: {} ReadFromRepository events (builds of acme-cli over 45 days) through the usage queue",
        events.len()
    );
    // A table that has been recording for 45 days (a first batch alone
    // would date recording from now, less 15 minutes).
    crate::support::downloads::recording_since(table, "acme", 45.0).await?;
    for e in &events {
        sqs.send_message()
            .queue_url(usage)
            .message_body(e.to_string())
            .send()
            .await?;
    }
    loop {
        let batch = receive(sqs, usage, 10).await?;
        if batch.is_empty() {
            break;
        }
        let records: Vec<Value> = batch.iter().map(|m| sqs_record(usage, m)).collect();
        let response = watch.invoke(&json!({ "Records": records }))?;
        assert_eq!(response, json!({"batchItemFailures": []}));
        for m in &batch {
            sqs.delete_message()
                .queue_url(usage)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await?;
        }
    }
    let recorded: Vec<Value> = watch
        .log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "download recorded")
        .collect();
    for (version, _, _) in READS {
        let reads: u64 = recorded
            .iter()
            .filter(|v| v["version"] == version)
            .map(|v| v["reads"].as_u64().unwrap_or(0))
            .sum();
        let last = recorded
            .iter()
            .filter(|v| v["version"] == version)
            .filter_map(|v| v["last_read"].as_str())
            .max()
            .unwrap_or("?");
        println!("   acme-cli {version:<8} {reads:>3} download(s), last {last}");
    }
    for (days, what) in [
        (
            60,
            "notDownloadedForDays 60, recording covers 45 days: fails closed",
        ),
        (30, "olderThanDays 30, notDownloadedForDays 30"),
    ] {
        let response = watch.invoke(&policy(days, days == 60))?;
        println!("   {what}");
        for plan in response["plans"].as_array().into_iter().flatten() {
            let unknown = plan["keep"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|k| k["rule"] == "DOWNLOADS_UNKNOWN")
                .collect::<Vec<_>>();
            println!(
                "       dry run: would delete {}; {} kept as DOWNLOADS_UNKNOWN: {}",
                plan["delete"].as_array().map_or(0, Vec::len),
                unknown.len(),
                unknown
                    .first()
                    .and_then(|k| k["detail"].as_str())
                    .unwrap_or("")
            );
        }
        if days == 30 {
            println!(
                "       → deleted {}, kept {}",
                response["deleted"], response["kept"]
            );
        }
    }
    Ok(())
}
