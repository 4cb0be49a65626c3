//! `make demo`: the function end to end on a local AWS stack.
//!
//! Starts the emulator (seeded from emulator/seeds/demo.json) and moto's SQS
//! server, runs the function under `cargo lambda watch` (the real Lambda
//! Runtime API), invokes it with every file in events/, and prints what was
//! deleted, what was dead-lettered and why, and what remains. Everything it
//! started stops when it ends, even when interrupted.

#[path = "../../tests/support/mod.rs"]
mod support;

mod dependencies;
mod downloads;
mod groups;
mod reports;
mod show;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use packprune_emulator::State;
use serde_json::{json, Value};
use support::*;

/// package label → versions, for everything in the emulator.
fn inventory(state: &State) -> BTreeMap<String, Vec<String>> {
    show::statuses(state)
        .into_iter()
        .map(|(label, vs)| (label, vs.into_iter().map(|(v, _)| v).collect()))
        .collect()
}

fn strip_default(label: &str) -> &str {
    label.split(" (default").next().unwrap_or(label)
}

fn short(versions: &[String]) -> String {
    if versions.len() <= 6 {
        versions.join(", ")
    } else {
        format!(
            "{}, … {} more",
            versions[..5].join(", "),
            versions.len() - 5
        )
    }
}

async fn run(tools: Tools) -> Result<()> {
    let seed = std::fs::read_to_string(format!("{ROOT}/emulator/seeds/demo.json"))?;
    let state = State::from_seed(&seed)?;
    println!("── starting the local stack");
    let stack = Stack::start(&tools, state)?;
    stack.export_env();
    println!("   emulator (CodeArtifact + IoT)  {}", stack.emulator.url());
    println!("   moto (SQS, DynamoDB, S3)       {}", stack.moto.url);
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "packprune").await?;
    println!("   dead-letter queue              {}", queues.dead_letter);
    println!("   work queue                     {}", queues.work);
    let table = support::downloads::create_downloads_table("packprune-downloads").await?;
    let usage = sqs
        .create_queue()
        .queue_name("packprune-usage")
        .send()
        .await?
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    println!("   downloads table (DynamoDB)     {table}  (key schema from template.yaml)");
    println!("   usage queue                    {usage}");
    let bucket = support::reports::create_bucket("packprune-reports").await?;
    println!("   reports bucket (S3)            s3://{bucket}/reports/");
    let before = inventory(&stack.emulator.shared.state());

    let mut env = stack.aws_env();
    env.extend(queues.env());
    env.push(("DOWNLOADS_TABLE".into(), table.clone()));
    env.push(("REPORTS_BUCKET".into(), bucket.clone()));
    // CodeArtifact publish events apply this policy to their package.
    env.push((
        "EVENT_POLICY".into(),
        r#"{"policy":{"keepLatest":25}}"#.into(),
    ));
    println!("── cargo lambda watch (the real Lambda Runtime API)");
    let watch = LambdaWatch::start(&tools, &env)?;

    dependencies::run(&watch, &sqs, &queues.work).await?;

    let mut files: Vec<_> = std::fs::read_dir(format!("{ROOT}/events"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    // Which invocation each delivery (`source`) came in, for the dead letters.
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        let payload: Value = serde_json::from_str(&std::fs::read_to_string(f)?)?;
        let name = f.file_name().unwrap().to_string_lossy();
        let mark = watch.log_text().len();
        let response = watch
            .invoke(&payload)
            .with_context(|| format!("invoking {name}"))?;
        note_sources(&watch, mark, &format!("events/{name}"), &mut sources);
        println!("   invoke events/{name:<36} → {}", describe(&response));
        for plan in response["plans"].as_array().into_iter().flatten() {
            let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
            for k in plan["keep"].as_array().into_iter().flatten() {
                *rules.entry(k["rule"].as_str().unwrap_or("?")).or_default() += 1;
            }
            let action = plan["action"].as_str().unwrap_or("delete");
            let delete: Vec<String> = plan[action]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            println!(
                "       dry run {}: would {action} {} ({}); keeps {:?}",
                plan["package"].as_str().unwrap_or("?"),
                delete.len(),
                short(&delete),
                rules
            );
        }
    }

    println!("── archive first (reversible), then delete what devices do not run");
    let staged = [
        (
            "archive web's versions older than 30 days, keeping the newest 10",
            json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm",
                   "namespace": "acme", "package": "web", "action": "archive",
                   "policy": {"keepLatest": 10, "olderThanDays": 30}}),
        ),
        (
            "retention on gateway-fw: keep 3 (things run 2.2.0 and 3.1.0; job rollout-42 deploys 2.3.0)",
            json!({"service": "iot", "package": "gateway-fw", "policy": {"keepLatest": 3}}),
        ),
    ];
    for (what, payload) in staged {
        let response = watch.invoke(&payload).with_context(|| what.to_owned())?;
        println!("   {what}\n       → {}", describe(&response));
    }
    downloads::run(&watch, &sqs, &usage, &table).await?;
    groups::run(&watch).await?;
    reports::run(&watch, &stack).await?;
    print_protected(&watch);
    show::metrics(&watch);

    let after = inventory(&stack.emulator.shared.state());
    println!("\n── deleted");
    let after_by_name: BTreeMap<&str, &Vec<String>> =
        after.iter().map(|(k, v)| (strip_default(k), v)).collect();
    for (label, versions) in &before {
        let remaining = after_by_name.get(strip_default(label));
        let gone: Vec<String> = versions
            .iter()
            .filter(|v| remaining.is_none_or(|r| !r.contains(v)))
            .cloned()
            .collect();
        match remaining {
            None => println!(
                "   {:<55} the whole package ({} versions)",
                strip_default(label),
                versions.len()
            ),
            Some(_) if !gone.is_empty() => {
                println!("   {:<55} {}", strip_default(label), short(&gone))
            }
            Some(_) => {}
        }
    }

    println!("\n── dead-lettered (each message is a replayable request)");
    let dead = take_all(&sqs, &queues.dead_letter).await?;
    if dead.is_empty() {
        println!("   nothing");
    }
    for d in &dead {
        for line in show::dead_letter(d, &sources) {
            println!("{line}");
        }
    }
    let waiting = depth(&sqs, &queues.work).await?;
    println!("\n── handed on to the work queue: {waiting} message(s)");

    show::remains(&stack.emulator.shared.state());
    println!(
        "\nThe function's own log (one JSON line per version outcome): {}",
        watch_log_hint(&watch)
    );
    Ok(())
}

/// The function's JSON log lines that match `keep`.
fn log_lines(watch: &LambdaWatch, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    watch
        .log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| keep(v))
        .collect()
}

/// Versions kept because devices run them, jobs deploy them, builds
/// download them, or `latest` points at them, from the audit lines.
fn print_protected(watch: &LambdaWatch) {
    println!("\n── protected (from the audit lines)");
    let protected = [
        "IN_USE",
        "IN_USE_UNKNOWN",
        "DEFAULT_DISPLAY_VERSION",
        "DEFAULT_VERSION",
        "RECENTLY_DOWNLOADED",
    ];
    let lines = log_lines(watch, |v| {
        v["message"] == "version outcome" && protected.contains(&v["code"].as_str().unwrap_or(""))
    });
    let mut seen = std::collections::BTreeSet::new();
    for l in lines {
        let key = format!("{} {} {}", l["package"], l["version"], l["code"]);
        if seen.insert(key) {
            println!(
                "   {:<28} {:<10} {:<12} {:<24} {}",
                l["package"].as_str().unwrap_or("?"),
                l["version"].as_str().unwrap_or("?"),
                l["outcome"].as_str().unwrap_or("?"),
                l["code"].as_str().unwrap_or("?"),
                l["detail"].as_str().unwrap_or("")
            );
        }
    }
}

/// Maps the `source` of every log line written since `mark` to `label`.
fn note_sources(
    watch: &LambdaWatch,
    mark: usize,
    label: &str,
    sources: &mut BTreeMap<String, String>,
) {
    let text = watch.log_text();
    for line in text.get(mark..).unwrap_or_default().lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(src) = v["source"].as_str() {
                sources
                    .entry(src.to_owned())
                    .or_insert_with(|| label.to_owned());
            }
        }
    }
}

/// An invocation's result in one line.
fn describe(response: &Value) -> String {
    if let Some(f) = response.get("batchItemFailures") {
        return format!("batchItemFailures {f}");
    }
    let n = |k: &str| response[k].as_u64().unwrap_or(0);
    format!(
        "requested {}, deleted {}, archived {}, already absent {}, kept {}, dead-lettered {}, handed on {}, fanned out {}, ignored {}",
        n("requested"), n("deleted"), n("archived"), n("alreadyAbsent"), n("kept"), n("deadLettered"), n("handedOn"), n("packagesFannedOut"), n("ignoredEvents")
    )
}

fn watch_log_hint(watch: &LambdaWatch) -> String {
    let lines = watch
        .log_text()
        .lines()
        .filter(|l| l.contains("\"version outcome\""))
        .count();
    format!("{lines} audit lines in {}", watch.log_path().display())
}

#[tokio::main]
async fn main() -> Result<()> {
    let tools = Tools::find().map_err(|why| anyhow::anyhow!("{why}"))?;
    tokio::select! {
        r = run(tools) => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ninterrupted: stopping everything the demo started");
            Ok(())
        }
    }
}
