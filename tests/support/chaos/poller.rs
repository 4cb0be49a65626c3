//! The SQS event source, played on moto: batches of up to 10, 20% of
//! deliveries twice, short deadlines, failed records back after a short
//! visibility timeout. What it saw goes in a `Tally`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use packprune::testkit::account::Summary;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::support::*;

#[derive(Default)]
pub(super) struct Tally {
    pub(super) summaries: Vec<Summary>,
    pub(super) invocations: usize,
    pub(super) duplicates: usize,
    pub(super) short_deadlines: usize,
}

/// Plays the SQS event source on `queue` until it is empty.
pub(super) async fn poll(
    sqs: aws_sdk_sqs::Client,
    queue: String,
    handler: Arc<packprune::Handler>,
    tally: Arc<Mutex<Tally>>,
    (seed, deadline): (u64, Option<Duration>),
) -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let margin = Duration::from_millis(500);
    loop {
        let batch = receive(&sqs, &queue, 10).await?;
        if batch.is_empty() {
            if depth(&sqs, &queue).await? == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let records: Vec<Value> = batch.iter().map(|m| sqs_record(&queue, m)).collect();
        let short = deadline.is_none() && rng.random::<f64>() < 0.1;
        let left = match deadline {
            Some(d) => d,
            None if short => margin + Duration::from_millis(300),
            None => Duration::from_secs(30),
        };
        let twice: Vec<Value> = records
            .iter()
            .filter(|_| rng.random::<f64>() < 0.2)
            .cloned()
            .collect();
        let invoke = |records: Vec<Value>, left| {
            let h = handler.clone();
            // On the heap: two invocations at once in one task would
            // overflow a worker thread's stack in a debug build.
            async move {
                Box::pin(h.process(lambda_runtime::LambdaEvent::new(
                    json!({"Records": records}),
                    context(left),
                )))
                .await
            }
        };
        let (out, dup) = tokio::join!(invoke(records, left), async {
            if twice.is_empty() {
                None
            } else {
                Some(invoke(twice.clone(), deadline.unwrap_or(Duration::from_secs(30))).await)
            }
        });
        let out = out?;
        if std::env::var_os("CHAOS_VERBOSE").is_some() {
            let s = &out.summary;
            eprintln!(
                "invocation: requested {} deleted {} absent {} kept {} dead {} handed on {} ({} messages) redelivered {}",
                s.requested, s.deleted, s.already_absent, s.kept, s.dead_lettered, s.handed_on, s.hand_on_messages, s.records_redelivered
            );
            for p in handler.pace_stats() {
                eprintln!(
                    "  {} rate {:.1} calls {} throttles {}",
                    p.class, p.rate, p.calls, p.throttles
                );
            }
        }
        {
            let mut t = tally.lock().unwrap();
            t.invocations += 1;
            t.short_deadlines += usize::from(short);
            t.summaries.push(out.summary.clone());
            if let Some(d) = dup {
                t.invocations += 1;
                t.duplicates += twice.len();
                t.summaries.push(d?.summary);
            }
        }
        let failed: BTreeSet<&str> = out.response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap())
            .collect();
        for m in &batch {
            let handle = m.receipt_handle().unwrap();
            if failed.contains(m.message_id().unwrap()) {
                // Back after a (short) visibility timeout, as from Lambda.
                sqs.change_message_visibility()
                    .queue_url(&queue)
                    .receipt_handle(handle)
                    .visibility_timeout(2)
                    .send()
                    .await?;
            } else {
                sqs.delete_message()
                    .queue_url(&queue)
                    .receipt_handle(handle)
                    .send()
                    .await?;
            }
        }
    }
}
