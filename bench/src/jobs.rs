//! Issue 26's workload: IoT deletes with in-use protection on and 300
//! unfinished jobs in the account, which every execution environment must
//! know before it can clear a version. With the function's table, the
//! environments describe each job once between them.

use packprune_emulator::State;
use serde_json::{json, Map, Value};

use crate::workload::{
    interleave, iot_explicit, iot_needs, iot_package, names, Victims, Workload, QUOTAS,
};

/// Unfinished jobs in the account.
pub const JOBS: usize = 300;
/// Of them, jobs that deploy a version of a workload package that no
/// request deletes.
const NAMING_WORKLOAD: usize = 60;

fn arn(package: &str, version: &str) -> String {
    format!("arn:aws:iot:us-east-1:111122223333:package/{package}/version/{version}")
}

/// 300 IoT versions in 10 packages, 100 requests of 3 (10 SQS batches);
/// 300 unfinished jobs, 60 of them deploying versions of these packages
/// that no request names (`3.0.0` … `3.0.5`), the rest other packages'.
pub fn iot_jobs(table: bool) -> Workload {
    let all = names(30);
    let kept: Vec<String> = (0..NAMING_WORKLOAD / 10)
        .map(|i| format!("3.0.{i}"))
        .collect();
    let mut seeded = all.clone();
    seeded.extend(kept.iter().cloned());
    let mut packages = Map::new();
    let mut groups = Vec::new();
    let mut victims = Vec::new();
    let mut jobs = Map::new();
    for p in 0..10 {
        let name = format!("fw-{p:02}");
        packages.insert(name.clone(), iot_package(&seeded));
        groups.push(all.chunks(3).map(|c| iot_explicit(&name, c)).collect());
        for v in &kept {
            let id = format!("rollout-{}", jobs.len());
            jobs.insert(
                id,
                json!({"status": "IN_PROGRESS", "destinationPackageVersions": [arn(&name, v)]}),
            );
        }
        victims.push(Victims::Iot {
            package: name,
            versions: all.clone(),
        });
    }
    while jobs.len() < JOBS {
        let i = jobs.len();
        // One in six scheduled, the rest in progress (ListJobs asks for both).
        let status = if i.is_multiple_of(6) {
            "SCHEDULED"
        } else {
            "IN_PROGRESS"
        };
        jobs.insert(
            format!("rollout-{i}"),
            json!({"status": status, "destinationPackageVersions": [arn(&format!("sensor-{}", i % 40), "1.0.0")]}),
        );
    }
    let iot =
        json!({"packages": packages, "indexing": {}, "things": {}, "jobs": Value::Object(jobs)});
    let seed = State::from_seed(&json!({ "iot": iot }).to_string()).expect("seed");
    let mut needs = iot_needs(300, 10);
    // 250 jobs in progress fit one ListJobs page; the scheduled, another.
    needs.retain(|n| n.class != "iot.jobs.list");
    needs.push(QUOTAS.need("iot.jobs.list", 2));
    Workload {
        name: if table {
            "IoT, 300 unfinished jobs"
        } else {
            "IoT, 300 unfinished jobs, no table"
        },
        about: if table {
            "300 IoT versions in 10 packages, 100 requests of 3 (10 SQS batches of 10), in-use protection on, and 300 unfinished jobs in the account (250 in progress, 50 scheduled), 60 of them deploying versions of these packages that no request deletes (`3.0.0` to `3.0.5`), none a version to delete. No version can be cleared before every job is known. `DOWNLOADS_TABLE` is set (moto's DynamoDB, the template's key schema): the processes claim and describe the jobs between them."
        } else {
            "The same, without `DOWNLOADS_TABLE`: each process describes every job itself (what a deployment with `RecordDownloads=false` does)."
        },
        seed,
        quotas: QUOTAS,
        messages: interleave(groups),
        victims,
        needs,
        // Every job described once, before any version can be cleared.
        first: Some(QUOTAS.need("iot.jobs.describe", JOBS)),
        table,
    }
}
