//! The quotas of the runs: the emulator's token buckets, one per quota
//! class the function knows, with the operations each covers.

use packprune_emulator::{Fault, Throttle};

use crate::workload::Need;

/// The emulator's quotas: one token bucket per quota class, a second's worth
/// of burst, and 20 ms of latency on every call.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub ca_write: f64,
    pub ca_list: f64,
    pub ca_read: f64,
    pub ca_assets: f64,
    pub iot_write: f64,
    pub iot_read: f64,
    pub iot_search: f64,
    pub iot_jobs_list: f64,
    pub iot_jobs_describe: f64,
}

pub const LATENCY_MS: u64 = 20;

/// The quotas of every workload: the published defaults (CodeArtifact's
/// writes, list calls, reads and asset listings; IoT's SearchIndex, ListJobs and
/// DescribeJob), and the software package catalog at the 10 calls a second
/// the function assumes (IoT publishes no rate for it). The function's own
/// `RATE_LIMITS` defaults are the same (`src/retry/quota.rs`).
pub const QUOTAS: Quotas = Quotas {
    ca_write: 100.0,
    ca_list: 200.0,
    ca_read: 800.0,
    ca_assets: 200.0,
    iot_write: 10.0,
    iot_read: 10.0,
    iot_search: 15.0,
    iot_jobs_list: 10.0,
    iot_jobs_describe: 10.0,
};

/// The operations of each quota class, by the function's names for the
/// classes (`src/retry/quota.rs`); each class is one emulator bucket.
pub const CLASSES: [(&str, &[&str]); 9] = [
    (
        "codeartifact.write",
        &[
            "codeartifact:DeletePackageVersions",
            "codeartifact:DeletePackage",
            "codeartifact:UpdatePackageVersionsStatus",
        ],
    ),
    (
        "codeartifact.list",
        &[
            "codeartifact:ListPackageVersions",
            "codeartifact:ListPackages",
        ],
    ),
    // The account's read quota: these have none of their own
    // (`../shared/aws-api-facts.md`, section J).
    (
        "codeartifact.read",
        &[
            "codeartifact:DescribePackageVersion",
            "codeartifact:ListPackageVersionDependencies",
            "codeartifact:ListRepositoriesInDomain",
            "codeartifact:ListAssociatedPackages",
            "codeartifact:GetAssociatedPackageGroup",
        ],
    ),
    (
        "codeartifact.assets",
        &["codeartifact:ListPackageVersionAssets"],
    ),
    (
        "iot.write",
        &[
            "iot:DeletePackageVersion",
            "iot:DeletePackage",
            "iot:UpdatePackage",
            "iot:UpdatePackageVersion",
        ],
    ),
    (
        "iot.read",
        &[
            "iot:GetPackage",
            "iot:ListPackageVersions",
            "iot:ListPackages",
            "iot:GetPackageVersion",
        ],
    ),
    (
        "iot.search",
        &["iot:SearchIndex", "iot:GetIndexingConfiguration"],
    ),
    ("iot.jobs.list", &["iot:ListJobs"]),
    ("iot.jobs.describe", &["iot:DescribeJob"]),
];

impl Quotas {
    /// The quota of a class, by the function's name for it.
    pub fn rate(&self, class: &str) -> f64 {
        match class {
            "codeartifact.write" => self.ca_write,
            "codeartifact.list" => self.ca_list,
            "codeartifact.read" => self.ca_read,
            "codeartifact.assets" => self.ca_assets,
            "iot.write" => self.iot_write,
            "iot.read" => self.iot_read,
            "iot.search" => self.iot_search,
            "iot.jobs.list" => self.iot_jobs_list,
            "iot.jobs.describe" => self.iot_jobs_describe,
            other => panic!("no quota class {other}"),
        }
    }

    /// `calls` of `class` at its quota.
    pub fn need(&self, class: &'static str, calls: usize) -> Need {
        Need {
            class,
            calls,
            quota: self.rate(class),
        }
    }

    /// The emulator's buckets, one per class, shared by its operations.
    pub fn faults(&self) -> std::collections::BTreeMap<String, Fault> {
        let mut faults = std::collections::BTreeMap::new();
        for (class, ops) in CLASSES {
            let rate = self.rate(class);
            for op in ops {
                faults.insert(
                    (*op).to_owned(),
                    Fault {
                        throttle: Some(Throttle {
                            rate_per_second: rate,
                            burst: rate,
                            retry_after_seconds: None,
                            bucket: Some(class.to_owned()),
                        }),
                        latency_ms: LATENCY_MS,
                        ..Fault::default()
                    },
                );
            }
        }
        faults
    }
}
