//! `make local`: the whole local stack, for one's own requests.
//!
//! Starts the emulator (CodeArtifact and IoT, the demo seed) on port 4510,
//! moto (SQS, DynamoDB, S3) on port 4566 with the queues, the downloads
//! table and the reports bucket created as `template.yaml` defines them,
//! and the function under `cargo lambda watch` on port 9000. A poller then
//! plays Lambda's event source mappings: it feeds the work queue and the
//! usage queue to the function in batches of 10, deleting what the
//! function acknowledged, until interrupted. The endpoints are also
//! written to `target/local/env`, which `make invoke`, `make dlq` and
//! `make redrive` read.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use anyhow::Result;
use packprune_emulator::{Running, State};
use serde_json::{json, Value};
use support::template::create_queue;
use support::*;

const EMULATOR_PORT: u16 = 4510;
const MOTO_PORT: u16 = 4566;
const FUNCTION_PORT: u16 = 9000;

async fn run(tools: Tools) -> Result<()> {
    let seed = std::fs::read_to_string(format!("{ROOT}/emulator/seeds/demo.json"))?;
    let emulator = Running::start(
        State::from_seed(&seed)?,
        &format!("127.0.0.1:{EMULATOR_PORT}"),
    )?;
    let moto = Moto::start_on(&tools, MOTO_PORT)?;
    let env = aws_env(&emulator.url(), &moto.url, &moto.url);
    for (k, v) in &env {
        std::env::set_var(k, v);
    }
    let sqs = aws_sdk_sqs::Client::new(&packprune::sdk::sdk_config().await);
    let (dlq, dlq_arn) = create_queue(&sqs, "DeadLetterQueue", "packprune-dlq", None).await?;
    let (work, _) = create_queue(&sqs, "WorkQueue", "packprune-work", Some(&dlq_arn)).await?;
    let usage_dlq = "packprune-usage-dlq";
    let (usage_dlq, usage_dlq_arn) =
        create_queue(&sqs, "UsageDeadLetterQueue", usage_dlq, None).await?;
    let (usage, _) =
        create_queue(&sqs, "UsageQueue", "packprune-usage", Some(&usage_dlq_arn)).await?;
    let table = downloads::create_downloads_table("packprune-downloads").await?;
    let bucket = reports::create_bucket_from_template("packprune-reports").await?;
    let mut function_env = env.clone();
    function_env.extend([
        ("DEAD_LETTER_QUEUE_URL".to_owned(), dlq.clone()),
        ("WORK_QUEUE_URL".to_owned(), work.clone()),
        ("DOWNLOADS_TABLE".to_owned(), table.clone()),
        ("REPORTS_BUCKET".to_owned(), bucket.clone()),
        (
            "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
            "packprune".to_owned(),
        ),
    ]);
    println!("── starting the function (cargo lambda watch, port {FUNCTION_PORT})");
    let watch = LambdaWatch::start_on(&tools, &function_env, FUNCTION_PORT)?;
    let dir = std::path::Path::new(ROOT).join("target/local");
    std::fs::create_dir_all(&dir)?;
    // A stable name for the function's log (its file is named per process).
    let log = dir.join("function.log");
    let _ = std::fs::remove_file(&log);
    std::os::unix::fs::symlink(watch.log_path(), &log)?;
    let lines: Vec<String> = function_env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain([
            format!("USAGE_QUEUE_URL={usage}"),
            format!("EMULATOR_URL={}", emulator.url()),
            format!("FUNCTION_PORT={FUNCTION_PORT}"),
        ])
        .collect();
    std::fs::write(dir.join("env"), lines.join("\n") + "\n")?;
    println!(
        "── the local stack is up (Ctrl-C stops it)
   emulator (CodeArtifact + IoT)   {emulator}   state: GET|PUT {emulator}/_emulator/state
   moto (SQS, DynamoDB, S3)        {moto}
   function (Lambda Runtime API)   127.0.0.1:{FUNCTION_PORT}
   dead-letter queue               {dlq}
   work queue                      {work}   (polled: batches of 10)
   usage queue                     {usage}   (polled: batches of 10)
   usage dead-letter queue         {usage_dlq}
   downloads table                 {table}
   reports bucket                  s3://{bucket}/reports/
   function log                    target/local/function.log ({log})

   send a request:     make invoke EVENT=events/scheduled-codeartifact-policy.json
                       make invoke REQUEST='{{\"service\":\"iot\",\"package\":\"sensor-fw\",\"policy\":{{\"keepLatest\":1}},\"dryRun\":true}}'
   preview with the CLI (read calls only; docs/cli.md):
                       make plan EVENT=events/scheduled-codeartifact-policy.json
                       or: set -a; . target/local/env; set +a; target/debug/packprune-cli plan <request.json>
   read dead letters:  make dlq          (make redrive sends them back to the work queue)
   walk-through:       README.md, \"Try your own request\"",
        emulator = emulator.url(),
        moto = moto.url,
        log = watch.log_path().display(),
    );
    std::fs::write(dir.join("ready"), "")?;
    loop {
        for queue in [&work, &usage] {
            poll(&sqs, &watch, queue).await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One batch of up to 10 from `queue`, run through the function; what it
/// acknowledged is deleted, the rest returns when its visibility ends.
async fn poll(sqs: &aws_sdk_sqs::Client, watch: &LambdaWatch, queue: &str) -> Result<()> {
    let batch = receive(sqs, queue, 10).await?;
    if batch.is_empty() {
        return Ok(());
    }
    let records: Vec<Value> = batch.iter().map(|m| sqs_record(queue, m)).collect();
    let response = watch.invoke(&json!({ "Records": records }))?;
    let failed: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["itemIdentifier"].as_str())
        .collect();
    for m in &batch {
        if !failed.contains(&m.message_id().unwrap_or_default()) {
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await?;
        }
    }
    let name = queue.rsplit('/').next().unwrap_or(queue);
    println!(
        "   {name}: ran {} record(s), {} returned to the queue",
        batch.len(),
        failed.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let tools = Tools::find().map_err(|why| anyhow::anyhow!("{why}"))?;
    let dir = std::path::Path::new(ROOT).join("target/local");
    forget(&dir);
    let result = tokio::select! {
        r = run(tools) => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\nstopping the local stack");
            Ok(())
        }
    };
    // `make invoke` and the others then say the stack is not running,
    // instead of failing to connect.
    forget(&dir);
    result
}

/// Removes what says the stack is up (`env`, `ready`).
fn forget(dir: &std::path::Path) {
    for f in ["env", "ready"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
}
