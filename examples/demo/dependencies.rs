//! The demo's dependency protection: a routine policy on `@acme/core`
//! (`keepLatest: 3`) would delete every 1.x, and break `@acme/ui`, whose
//! kept versions need `^1.4.0` and `1.2.0`. With `protectDependencies`, a
//! domain never indexed keeps everything; after the backfill (fanned out
//! over the work queue), the policy keeps exactly what `ui` needs.

use anyhow::Result;
use serde_json::{json, Value};

use crate::support::*;

fn core_policy(protect: bool, dry_run: bool) -> Value {
    json!({"service": "codeartifact", "domain": "acme", "domainOwner": "111122223333", "repository": "libs", "format": "npm",
           "namespace": "acme", "package": "core", "dryRun": dry_run,
           "policy": {"keepLatest": 3, "protectDependencies": protect}})
}

/// The versions a plan applies its action to, and those kept by `rule`
/// (with the first one's detail).
fn summary(response: &Value, rule: &str) -> (Vec<String>, Vec<String>, String) {
    let plan = &response["plans"][0];
    let words = |v: &Value| -> Vec<String> {
        (v.as_array().into_iter().flatten())
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    let keep: Vec<&Value> = (plan["keep"].as_array().into_iter().flatten())
        .filter(|k| k["rule"] == rule)
        .collect();
    let detail = keep
        .first()
        .and_then(|k| k["detail"].as_str())
        .unwrap_or("");
    let kept = keep
        .iter()
        .filter_map(|k| k["version"].as_str().map(str::to_owned))
        .collect();
    (words(&plan["delete"]), kept, detail.to_owned())
}

/// Runs the work queue's messages through the function until it is empty.
async fn drain(watch: &LambdaWatch, sqs: &aws_sdk_sqs::Client, work: &str) -> Result<()> {
    loop {
        let batch = receive(sqs, work, 10).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let records: Vec<Value> = batch.iter().map(|m| sqs_record(work, m)).collect();
        let response = watch.invoke(&json!({ "Records": records }))?;
        assert_eq!(response, json!({"batchItemFailures": []}));
        for m in &batch {
            sqs.delete_message()
                .queue_url(work)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await?;
        }
    }
}

pub async fn run(watch: &LambdaWatch, sqs: &aws_sdk_sqs::Client, work: &str) -> Result<()> {
    println!("── dependencies: a policy on @acme/core (keepLatest 3) that would break @acme/ui");
    let response = watch.invoke(&core_policy(false, true))?;
    let (delete, _, _) = summary(&response, "keepLatest");
    println!(
        "   without protectDependencies, dry run: would delete {} ({})",
        delete.len(),
        delete.join(", ")
    );
    println!("       but @acme/ui@3.1.0 (apps) requires ^1.4.0 and @acme/ui@3.0.0 requires 1.2.0");
    let response = watch.invoke(&core_policy(true, true))?;
    let (delete, unknown, why) = summary(&response, "DEPENDENCIES_UNKNOWN");
    println!(
        "   protectDependencies, domain not indexed yet: would delete {}; {} kept as DEPENDENCIES_UNKNOWN: {why}",
        delete.len(),
        unknown.len()
    );
    let response = watch.invoke(&json!({"service": "codeartifact", "domain": "acme", "domainOwner": "111122223333", "indexDependencies": true}))?;
    println!(
        "   backfill {{\"indexDependencies\":true}}: {} part(s) fanned out over the work queue",
        response["packagesFannedOut"]
    );
    let mark = watch.log_text().len();
    drain(watch, sqs, work).await?;
    let log = watch.log_text();
    let lines: Vec<Value> = log[mark..]
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let edges: u64 = (lines.iter())
        .filter(|l| l["message"] == "backfill part indexed")
        .filter_map(|l| l["edges"].as_u64())
        .sum();
    let versions = (lines.iter())
        .filter(|l| l["message"] == "version outcome" && l["outcome"] == "indexed")
        .count();
    let complete = lines
        .iter()
        .any(|l| l["message"] == "the index of dependencies is complete");
    println!("       indexed {versions} version(s), {edges} edge(s); index complete: {complete}");
    let response = watch.invoke(&core_policy(true, false))?;
    let kept = log_outcomes(watch, "DEPENDED_ON");
    println!(
        "   protectDependencies: deleted {}, kept {} by DEPENDED_ON:",
        response["deleted"],
        kept.len()
    );
    for k in kept {
        println!("       {k}");
    }
    Ok(())
}

/// The distinct `version: detail` of the log's version outcomes kept by
/// `rule` for `@acme/core`.
fn log_outcomes(watch: &LambdaWatch, rule: &str) -> std::collections::BTreeSet<String> {
    watch
        .log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "version outcome" && l["code"] == rule)
        .filter(|l| {
            l["package"]
                .as_str()
                .is_some_and(|p| p.ends_with("acme/core"))
        })
        .map(|l| {
            format!(
                "{}: {}",
                l["version"].as_str().unwrap_or("?"),
                l["detail"].as_str().unwrap_or("")
            )
        })
        .collect()
}
