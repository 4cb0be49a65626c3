//! Speed and memory of the pure core: planning a retention policy, decoding
//! an SQS batch, accounting for a batch's outcomes.
//!
//! `cargo bench --bench core` measures (release profile) and prints a table;
//! under `cargo test` (no `--bench` flag) each case runs once, as a smoke
//! check. Timings are printed, never asserted.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use packprune::testkit::account::{account, Entry, RequestResult, Settings, UnitResult};
use packprune::testkit::decode::{self, Origin};
use packprune::testkit::error::{DeleteError, ErrorClass};
use packprune::testkit::execute::{Done, ItemOutcome};
use packprune::testkit::plan::{self, Listed};
use packprune::testkit::policy::Retention;
use packprune::testkit::request::{Format, Job, RawRequest, Service};
use serde_json::json;

fn listing(n: usize) -> Vec<Listed> {
    (0..n)
        .map(|rank| {
            let snapshot = if rank % 3 == 0 { "" } else { "-SNAPSHOT" };
            Listed::new(format!("1.{}.{}{snapshot}", rank / 100, rank % 100), rank)
                .origin("INTERNAL")
                .old(rank > n / 4)
                .display(rank == 0)
        })
        .collect()
}

fn retention() -> Retention {
    let raw: RawRequest = serde_json::from_value(json!({
        "service": "codeartifact", "domain": "acme", "repository": "releases", "format": "maven",
        "namespace": "com.acme", "package": "lib", "maxDeletions": 5000,
        "policy": {"keepLatest": 10, "olderThanDays": 30, "match": "-SNAPSHOT$",
                   "exclude": "^1\\.0\\.", "prerelease": true}
    }))
    .expect("request");
    let job = raw.validate_job().expect("valid request");
    job.retention().expect("a policy").clone()
}

fn sqs_batch(records: usize, versions: usize) -> serde_json::Value {
    let vs: Vec<String> = (0..versions).map(|i| format!("1.0.{i}")).collect();
    let records: Vec<_> = (0..records)
        .map(|i| {
            let body = json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"npm",
                              "namespace":"acme","package":format!("pkg-{i}"),"versions":vs}).to_string();
            json!({"messageId": format!("m-{i}"), "receiptHandle": "rh", "body": body, "attributes": {"ApproximateReceiveCount": "1"},
                   "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:work", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

fn outcomes_unit(n: usize) -> UnitResult {
    let raw: RawRequest = serde_json::from_value(json!({"service":"codeartifact","domain":"acme","repository":"releases",
        "format":"npm","package":"web","versions": (0..n).map(|i| format!("1.0.{i}")).collect::<Vec<_>>()})).unwrap();
    let request = raw.validate().unwrap();
    let throttled = Arc::new(DeleteError::Api {
        service: Service::CodeArtifact,
        operation: "DeletePackageVersions",
        code: "ThrottlingException".into(),
        class: ErrorClass::ThrottledWithHint(Duration::from_secs(5)),
        source: "slow down".into(),
    });
    let refused = Arc::new(DeleteError::VersionRefused {
        code: "NOT_ALLOWED".into(),
        message: "no".into(),
    });
    let outcomes = plan::items(&request)
        .into_iter()
        .enumerate()
        .map(|(i, item)| ItemOutcome {
            item,
            result: match i % 10 {
                0 => Err(refused.clone()),
                1 | 2 => Err(throttled.clone()),
                _ => Ok(Done::Deleted),
            },
            attempts: 1,
            detail: None,
        })
        .collect();
    UnitResult {
        source: "m-1".into(),
        sender: None,
        origin: Origin::Sqs {
            fifo: false,
            receive_count: 1,
        },
        entries: vec![Entry::Executed(Box::new(RequestResult {
            request: Job::One(request),
            outcomes,
            plan: None,
            package_not_found: false,
            learned: false,
            edges_written: 0,
        }))],
    }
}

/// Runs `f` for about `budget` (at least once) and returns the mean time.
fn measure(budget: Duration, mut f: impl FnMut()) -> (Duration, u32) {
    let start = Instant::now();
    let mut n = 0u32;
    while n == 0 || start.elapsed() < budget {
        f();
        n += 1;
    }
    (start.elapsed() / n, n)
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let budget = if measuring {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    let r = retention();
    let settings = Settings {
        has_work_queue: true,
        max_attempts: 8,
        no_progress_limit: 5,
        spent: String::new(),
    };
    println!("{:<48} {:>12} {:>8}", "case", "mean", "runs");
    for n in [100usize, 1_000, 10_000] {
        let versions = listing(n);
        let (t, runs) = measure(budget, || {
            black_box(plan::retention(
                plan::Package::codeartifact(black_box(&versions), Format::Maven),
                &r,
                plan::Guards::default().max_deletions(r.max_deletions),
            ));
        });
        println!(
            "{:<48} {:>12?} {:>8}",
            format!("plan a policy over {n} versions"),
            t,
            runs
        );
    }
    let batch = sqs_batch(10, 100);
    let (t, runs) = measure(budget, || {
        black_box(
            decode::decode(
                black_box(batch.clone()),
                "req",
                &decode::EventRules::default(),
            )
            .expect("decodes"),
        );
    });
    println!(
        "{:<48} {:>12?} {:>8}",
        "decode an SQS batch (10 records x 100 versions)", t, runs
    );
    let unit = outcomes_unit(1_000);
    let (t, runs) = measure(budget, || {
        black_box(account(black_box(&unit), &settings, SystemTime::UNIX_EPOCH));
    });
    println!(
        "{:<48} {:>12?} {:>8}",
        "account for 1000 outcomes (10% dead, 20% handed on)", t, runs
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak resident memory: {kib} KiB");
    }
}
