//! The workloads: what the emulator is seeded with, the requests that go on
//! the queue, and the versions that must end deleted.

use packprune_emulator::{Fault, State, Throttle};
use serde_json::{json, Value};

/// The emulator's quotas: one token bucket per quota class, a second's worth
/// of burst, and 20 ms of latency on every call.
pub struct Quotas {
    pub ca_write: f64,
    pub ca_list: f64,
    pub ca_read: f64,
    pub iot_write: f64,
    pub iot_read: f64,
}

pub const LATENCY_MS: u64 = 20;

/// The quotas of both workloads: CodeArtifact's published defaults, and IoT
/// at the 10 calls a second the issue measured.
pub const QUOTAS: Quotas = Quotas {
    ca_write: 100.0,
    ca_list: 200.0,
    ca_read: 800.0,
    iot_write: 10.0,
    iot_read: 10.0,
};

impl Quotas {
    pub fn faults(&self) -> std::collections::BTreeMap<String, Fault> {
        let classes: [(&str, f64, &[&str]); 5] = [
            (
                "codeartifact-write",
                self.ca_write,
                &[
                    "codeartifact:DeletePackageVersions",
                    "codeartifact:DeletePackage",
                    "codeartifact:UpdatePackageVersionsStatus",
                ],
            ),
            (
                "codeartifact-list",
                self.ca_list,
                &[
                    "codeartifact:ListPackageVersions",
                    "codeartifact:ListPackages",
                ],
            ),
            (
                "codeartifact-read",
                self.ca_read,
                &["codeartifact:DescribePackageVersion"],
            ),
            (
                "iot-write",
                self.iot_write,
                &[
                    "iot:DeletePackageVersion",
                    "iot:DeletePackage",
                    "iot:UpdatePackage",
                ],
            ),
            (
                "iot-read",
                self.iot_read,
                &[
                    "iot:GetPackage",
                    "iot:ListPackageVersions",
                    "iot:ListPackages",
                    "iot:GetPackageVersion",
                ],
            ),
        ];
        let mut faults = std::collections::BTreeMap::new();
        for (bucket, rate, ops) in classes {
            for op in ops {
                faults.insert(
                    (*op).to_owned(),
                    Fault {
                        throttle: Some(Throttle {
                            rate_per_second: rate,
                            burst: rate,
                            retry_after_seconds: None,
                            bucket: Some(bucket.to_owned()),
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

/// Versions of one package that must end deleted.
#[derive(Debug, Clone)]
pub enum Victims {
    CodeArtifact {
        package: String,
        versions: Vec<String>,
    },
    Iot {
        package: String,
        versions: Vec<String>,
    },
}

pub struct Workload {
    pub name: &'static str,
    pub seed: State,
    pub quotas: Quotas,
    /// Request bodies, in queue order.
    pub messages: Vec<String>,
    pub victims: Vec<Victims>,
    /// The write calls the work needs at the least, per quota: CodeArtifact
    /// (100 versions a call) and IoT (one call a version).
    pub ca_write_calls: usize,
    pub iot_write_calls: usize,
}

impl Workload {
    /// The quota-limited lower bound: the write calls of the slowest class
    /// at its quota (without the first second's burst).
    pub fn bound_secs(&self) -> f64 {
        (self.ca_write_calls as f64 / self.quotas.ca_write)
            .max(self.iot_write_calls as f64 / self.quotas.iot_write)
    }

    pub fn versions(&self) -> usize {
        self.victims
            .iter()
            .map(|v| match v {
                Victims::CodeArtifact { versions, .. } | Victims::Iot { versions, .. } => {
                    versions.len()
                }
            })
            .sum()
    }
}

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("1.{}.{}", i / 100, i % 100))
        .collect()
}

fn iot_package(versions: &[String]) -> Value {
    let v: serde_json::Map<String, Value> = versions
        .iter()
        .enumerate()
        .map(|(i, name)| {
            // Older versions were created further back.
            let age = (versions.len() - i) as f64;
            (
                name.clone(),
                json!({"status": "PUBLISHED", "createdDaysAgo": age}),
            )
        })
        .collect();
    json!({ "versions": v })
}

fn ca_package(name: &str, versions: &[String]) -> Value {
    let v: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"version": n, "publishedDaysAgo": (versions.len() - i) as f64}))
        .collect();
    json!({"format": "npm", "package": name, "versions": v})
}

fn iot_explicit(package: &str, versions: &[String]) -> String {
    json!({"service": "iot", "package": package, "versions": versions}).to_string()
}

fn ca_target() -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm"})
}

/// Interleaves the messages of different packages, as a queue filled by
/// several producers would hold them.
fn interleave(groups: Vec<Vec<String>>) -> Vec<String> {
    let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| groups.iter().filter_map(move |g| g.get(i).cloned()))
        .collect()
}

/// 300 IoT versions in 10 packages, 10 versions a message.
pub fn iot_only() -> Workload {
    let all = names(30);
    let mut packages = serde_json::Map::new();
    let mut groups = Vec::new();
    let mut victims = Vec::new();
    for p in 0..10 {
        let name = format!("fw-{p:02}");
        packages.insert(name.clone(), iot_package(&all));
        groups.push(all.chunks(10).map(|c| iot_explicit(&name, c)).collect());
        victims.push(Victims::Iot {
            package: name,
            versions: all.clone(),
        });
    }
    let seed = State::from_seed(&json!({"iot": {"packages": packages}}).to_string()).expect("seed");
    Workload {
        name: "IoT only",
        seed,
        quotas: QUOTAS,
        messages: interleave(groups),
        victims,
        ca_write_calls: 0,
        iot_write_calls: 300,
    }
}

/// 20,000 CodeArtifact versions in 200 packages (100 by explicit lists of
/// 100, 100 by a keep-latest-50 policy over 150) and 500 IoT versions in 20
/// packages (10 explicit lists of 25, 10 keep-latest-5 policies over 30).
pub fn mixed() -> Workload {
    let mut ca_packages = Vec::new();
    let mut iot_packages = serde_json::Map::new();
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut victims = Vec::new();
    let hundred = names(100);
    let one_fifty = names(150);
    for p in 0..100 {
        let name = format!("ex-{p:03}");
        ca_packages.push(ca_package(&name, &hundred));
        let mut req = ca_target();
        req["package"] = json!(name);
        req["versions"] = json!(hundred);
        groups.push(vec![req.to_string()]);
        victims.push(Victims::CodeArtifact {
            package: name,
            versions: hundred.clone(),
        });
        let name = format!("po-{p:03}");
        ca_packages.push(ca_package(&name, &one_fifty));
        let mut req = ca_target();
        req["package"] = json!(name);
        req["policy"] = json!({"keepLatest": 50});
        groups.push(vec![req.to_string()]);
        // Published oldest first: the first 100 are the oldest.
        victims.push(Victims::CodeArtifact {
            package: name,
            versions: one_fifty[..100].to_vec(),
        });
    }
    let twenty_five = names(25);
    let thirty = names(30);
    for p in 0..10 {
        let name = format!("gw-{p:02}");
        iot_packages.insert(name.clone(), iot_package(&twenty_five));
        groups.push(vec![iot_explicit(&name, &twenty_five)]);
        victims.push(Victims::Iot {
            package: name,
            versions: twenty_five.clone(),
        });
        let name = format!("pol-{p:02}");
        iot_packages.insert(name.clone(), iot_package(&thirty));
        groups.push(vec![json!({"service": "iot", "package": name,
            "policy": {"keepLatest": 5}})
        .to_string()]);
        victims.push(Victims::Iot {
            package: name,
            versions: thirty[..25].to_vec(),
        });
    }
    let seed = json!({
        "codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": ca_packages}}}}},
        "iot": {"packages": iot_packages}
    });
    // Spread the IoT requests through the queue among the CodeArtifact ones.
    let (iot, ca): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|g| g[0].contains("\"service\":\"iot\""));
    let mut messages = Vec::new();
    let per = ca.len() / iot.len().max(1);
    let mut ca = ca.into_iter();
    for i in iot {
        messages.extend(i);
        messages.extend(ca.by_ref().take(per).flatten());
    }
    messages.extend(ca.flatten());
    Workload {
        name: "mixed",
        seed: State::from_seed(&seed.to_string()).expect("seed"),
        quotas: QUOTAS,
        messages,
        victims,
        ca_write_calls: 200,
        iot_write_calls: 500,
    }
}
