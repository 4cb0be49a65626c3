//! Never spin (issue 26): quotas shared as the services share them, faults
//! and 5 s deadlines, and every version must still settle.
//!
//! - 30 CodeArtifact packages of 40 versions: three explicit lists of 8
//!   each, then `keepLatest: 5`; 8 IoT packages of 30 versions: three
//!   explicit lists of 5 each, then `keepLatest: 3` (in-use protection on,
//!   fleet indexing indexing `$package`, no things, no jobs). 152 messages,
//!   1,266 versions to delete, in SQS batches of 10; 20% of deliveries
//!   twice.
//! - Every IoT call shares one token bucket of 4.5 calls a second (burst
//!   1.5), reads and writes alike; every CodeArtifact call one of 12 a
//!   second (burst 3, `Retry-After: 1`). `RATE_LIMITS` is left at its
//!   defaults, which are far above these: the function finds the rate.
//! - 20 ms of latency, 5% 500s, 2% of connections dropped before the work,
//!   1% after it. Every invocation's deadline is 5 s.
//! - Three execution environments (a handler each), each polled by one
//!   event source poller, sharing `DOWNLOADS_TABLE` (moto's DynamoDB): a
//!   message delivered twice is worked on once.
//!
//! It must drain within 15 minutes: every version deleted, kept by its
//! policy, or dead-lettered with its reason; and, with nothing refused but
//! the rate and the faults, no `NO_PROGRESS` and no `RETRIES_EXHAUSTED`.
//! Figures in `target/chaos/spin-run.json` (RELIABILITY.md). `make
//! test-spin` runs it alone.

#[path = "support/chaos/mod.rs"]
mod harness;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use harness::{run, Options, Plan};
use packprune_emulator::{Fault, Throttle};
use serde_json::{json, Value};
use support::*;

/// (packages, versions each, versions per explicit list, lists, keepLatest).
const CODEARTIFACT: (usize, usize, usize, usize, usize) = (30, 40, 8, 3, 5);
const IOT: (usize, usize, usize, usize, usize) = (8, 30, 5, 3, 3);

fn version(i: usize) -> String {
    format!("1.0.{i}")
}

fn request(service: &str, package: &str, what: Value) -> Value {
    let mut r = match service {
        "codeartifact" => json!({"service": "codeartifact", "domain": "acme",
            "repository": "chaos", "format": "npm", "package": package}),
        _ => json!({"service": "iot", "package": package}),
    };
    r.as_object_mut()
        .unwrap()
        .extend(what.as_object().unwrap().clone());
    r
}

/// The seed and the messages: each package's explicit lists (oldest
/// versions first), then its policy.
fn workload() -> (Value, Plan) {
    let mut plan = Plan::default();
    let mut ca_packages = Vec::new();
    let mut iot_packages = serde_json::Map::new();
    for (service, (packages, n, per_list, lists, keep)) in
        [("codeartifact", CODEARTIFACT), ("iot", IOT)]
    {
        for p in 0..packages {
            let name = format!("{}-{p}", if service == "iot" { "fw" } else { "ca" });
            let key = format!("{service}:{name}");
            if service == "iot" {
                let versions: serde_json::Map<String, Value> = (0..n)
                    .map(|i| (version(i), json!({"createdDaysAgo": (n - i) as f64})))
                    .collect();
                iot_packages.insert(name.clone(), json!({"versions": versions}));
            } else {
                let versions: Vec<Value> = (0..n)
                    .map(|i| json!({"version": version(i), "publishedDaysAgo": (n - i) as f64}))
                    .collect();
                ca_packages.push(json!({"format": "npm", "package": name, "versions": versions}));
            }
            for l in 0..lists {
                let versions: Vec<String> =
                    (l * per_list..(l + 1) * per_list).map(version).collect();
                plan.requested
                    .entry(key.clone())
                    .or_default()
                    .extend(versions.iter().cloned());
                plan.bodies
                    .push(request(service, &name, json!({"versions": versions})));
            }
            plan.keeps.insert(key, (n - keep..n).map(version).collect());
            plan.bodies.push(request(
                service,
                &name,
                json!({"policy": {"keepLatest": keep}}),
            ));
        }
    }
    let seed = json!({"accountId": "123456789012",
        "codeartifact": {"domains": {"acme": {"repositories": {"chaos": {"packages": ca_packages}}}}},
        "iot": {"packages": iot_packages}});
    (seed, plan)
}

/// One bucket per service, every operation in it, and the faults.
fn shared_quotas() -> BTreeMap<String, Fault> {
    let fault = |rate, burst, retry_after, bucket: &str| Fault {
        throttle: Some(Throttle {
            rate_per_second: rate,
            burst,
            retry_after_seconds: retry_after,
            bucket: Some(bucket.to_owned()),
        }),
        error_rate: 0.05,
        drop_rate: 0.02,
        drop_after_rate: 0.01,
        latency_ms: 20,
        ..Fault::default()
    };
    BTreeMap::from([
        ("iot:*".to_owned(), fault(4.5, 1.5, None, "iot")),
        (
            "codeartifact:*".to_owned(),
            fault(12.0, 3.0, Some(1), "codeartifact"),
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shared_bucket_per_service_and_five_second_deadlines_still_settle_everything(
) -> Result<()> {
    let test = "one_shared_bucket_per_service_and_five_second_deadlines_still_settle_everything";
    let Some(tools) = Tools::or_skip(test) else {
        return Ok(());
    };
    let report = run(
        &tools,
        Options {
            report: "spin-run.json",
            workload: workload(),
            faults: shared_quotas(),
            deadline: Some(Duration::from_secs(5)),
            rate_limits: None,
            outage: false,
            containers: 3,
            timeout: Duration::from_secs(15 * 60),
            table: true,
        },
    )
    .await?;
    assert_eq!(
        report["policyLeft"],
        json!([]),
        "every version a policy selected is deleted or dead-lettered"
    );
    for code in ["NO_PROGRESS", "RETRIES_EXHAUSTED"] {
        assert_eq!(
            report["deadLettersByCode"].get(code),
            None,
            "nothing but the rate and the faults was refused: {}",
            report["deadLettersByCode"]
        );
    }
    assert!(
        report["faultsByKind"]["ThrottlingException"].as_u64() > Some(0),
        "the shared buckets throttled: {}",
        report["faultsByKind"]
    );
    Ok(())
}
