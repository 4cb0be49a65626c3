//! The workloads: what the emulator is seeded with, the requests that go on
//! the queue, the versions that must end deleted, and the calls the work
//! needs at the least per quota.

use packprune_emulator::State;
use serde_json::{json, Map, Value};

pub use crate::quotas::{Quotas, QUOTAS};

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

/// Calls of one quota class the work needs at the least.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// The function's name for the class (`RATE_LIMITS`, metrics).
    pub class: &'static str,
    pub calls: usize,
    /// The class's quota in the emulator, calls a second.
    pub quota: f64,
}

impl Need {
    pub fn secs(&self) -> f64 {
        self.calls as f64 / self.quota
    }

    /// "iot.write: 300 calls at 10/s".
    pub fn label(&self) -> String {
        format!("{}: {} calls at {}/s", self.class, self.calls, self.quota)
    }
}

#[derive(Clone)]
pub struct Workload {
    pub name: &'static str,
    /// What the workload is, for the report.
    pub about: &'static str,
    pub seed: State,
    pub quotas: Quotas,
    /// Request bodies, in queue order.
    pub messages: Vec<String>,
    pub victims: Vec<Victims>,
    /// The calls the work needs at the least, per quota class involved.
    pub needs: Vec<Need>,
    /// Calls that must all be answered before any of `needs` can be: the
    /// bound is their time, then the largest of the needs'.
    pub first: Option<Need>,
    /// The function's table (`DOWNLOADS_TABLE`) is deployed: moto's
    /// DynamoDB, with the template's key schema.
    pub table: bool,
}

impl Workload {
    /// The quota-limited lower bound: the largest of the needs' calls at
    /// their quota (without the first second's burst).
    pub fn bound_secs(&self) -> f64 {
        self.first.map_or(0.0, |f| f.secs()) + self.bound_by().map_or(0.0, |n| n.secs())
    }

    /// The bound's calls, as "class: calls at quota" (the first, then).
    pub fn bound_label(&self) -> String {
        let by = self.bound_by().map_or_else(String::new, |n| n.label());
        match self.first {
            Some(f) => format!("{}, then {by}", f.label()),
            None => by,
        }
    }

    /// The need that sets the bound.
    pub fn bound_by(&self) -> Option<Need> {
        self.needs
            .iter()
            .copied()
            .max_by(|a, b| a.secs().total_cmp(&b.secs()))
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

pub(crate) fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("1.{}.{}", i / 100, i % 100))
        .collect()
}

/// The version no request names, newest of its package, installed on
/// things: every search finds nothing on a victim, and this one stays.
const INSTALLED: &str = "2.0.0";

pub(crate) fn iot_package(versions: &[String]) -> Value {
    let v: Map<String, Value> = versions
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

/// The IoT part of a seed: the packages, fleet indexing of `$package` on,
/// `things` (each reporting package → version in `$package`) and one
/// finished job that names `finished` (a finished job protects nothing).
fn iot_seed(packages: Map<String, Value>, things: Value, finished: (&str, &str)) -> Value {
    let arn = format!(
        "arn:aws:iot:us-east-1:111122223333:package/{}/version/{}",
        finished.0, finished.1
    );
    json!({
        "packages": packages,
        "indexing": {},
        "things": things,
        "jobs": {"rollout-1": {"status": "COMPLETED", "destinationPackageVersions": [arn]}},
    })
}

fn ca_package(name: &str, versions: &[String]) -> Value {
    let v: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"version": n, "publishedDaysAgo": (versions.len() - i) as f64}))
        .collect();
    json!({"format": "npm", "package": name, "versions": v})
}

fn ca_seed(packages: Vec<Value>) -> Value {
    json!({"domains": {"acme": {"repositories": {"releases": {"packages": packages}}}}})
}

pub(crate) fn iot_explicit(package: &str, versions: &[String]) -> String {
    json!({"service": "iot", "package": package, "versions": versions}).to_string()
}

fn ca_target() -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm"})
}

/// Interleaves the messages of different packages, as a queue filled by
/// several producers would hold them.
pub(crate) fn interleave(groups: Vec<Vec<String>>) -> Vec<String> {
    let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| groups.iter().filter_map(move |g| g.get(i).cloned()))
        .collect()
}

/// The IoT needs of deleting `deletes` versions of `packages` packages with
/// protection on: a delete per version, a search per twelve versions (the
/// most terms a fleet-indexing query holds), a GetPackage and a listing per
/// package, and the two ListJobs (in progress, scheduled).
pub(crate) fn iot_needs(deletes: usize, packages: usize) -> Vec<Need> {
    vec![
        QUOTAS.need("iot.write", deletes),
        QUOTAS.need("iot.search", deletes.div_ceil(12)),
        QUOTAS.need("iot.read", 2 * packages),
        QUOTAS.need("iot.jobs.list", 2),
    ]
}

/// 300 IoT versions in 10 packages, 10 versions a message; a thing runs
/// each package's 2.0.0, which no message names.
pub fn iot_only() -> Workload {
    let all = names(30);
    let mut seeded = all.clone();
    seeded.push(INSTALLED.to_owned());
    let mut packages = Map::new();
    let mut things = Map::new();
    let mut groups = Vec::new();
    let mut victims = Vec::new();
    for p in 0..10 {
        let name = format!("fw-{p:02}");
        packages.insert(name.clone(), iot_package(&seeded));
        things.insert(format!("device-{p:02}"), json!({ &name: INSTALLED }));
        groups.push(all.chunks(10).map(|c| iot_explicit(&name, c)).collect());
        victims.push(Victims::Iot {
            package: name,
            versions: all.clone(),
        });
    }
    let iot = iot_seed(packages, Value::Object(things), ("fw-00", &all[0]));
    let seed = State::from_seed(&json!({ "iot": iot }).to_string()).expect("seed");
    Workload {
        name: "IoT only",
        about: "300 IoT versions in 10 packages, 30 requests of 10 versions. Each package also has a version 2.0.0 that no request names, installed on a thing; `$package` is indexed and a finished job names a version to delete, so every deleted version is searched and none is protected.",
        seed,
        quotas: QUOTAS,
        messages: interleave(groups),
        victims,
        needs: iot_needs(300, 10),
        first: None,
        table: false,
    }
}

/// 20,000 CodeArtifact versions in 200 packages (100 by explicit lists of
/// 100, 100 by a keep-latest-50 policy over 150) and 500 IoT versions in 20
/// packages (10 explicit lists of 25, 10 keep-latest-5 policies over 30),
/// with things running versions no request deletes.
pub fn mixed() -> Workload {
    let mut ca_packages = Vec::new();
    let mut iot_packages = Map::new();
    let mut things = Map::new();
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
    let mut explicit_seeded = twenty_five.clone();
    explicit_seeded.push(INSTALLED.to_owned());
    let thirty = names(30);
    for p in 0..10 {
        let name = format!("gw-{p:02}");
        iot_packages.insert(name.clone(), iot_package(&explicit_seeded));
        groups.push(vec![iot_explicit(&name, &twenty_five)]);
        let policy = format!("pol-{p:02}");
        // The newest of the 30, one of the five the policy keeps.
        things.insert(
            format!("gateway-{p:02}"),
            json!({ &name: INSTALLED, &policy: thirty[29] }),
        );
        victims.push(Victims::Iot {
            package: name,
            versions: twenty_five.clone(),
        });
        iot_packages.insert(policy.clone(), iot_package(&thirty));
        groups.push(vec![json!({"service": "iot", "package": policy,
            "policy": {"keepLatest": 5}})
        .to_string()]);
        victims.push(Victims::Iot {
            package: policy,
            versions: thirty[..25].to_vec(),
        });
    }
    let seed = json!({
        "codeartifact": ca_seed(ca_packages),
        "iot": iot_seed(iot_packages, Value::Object(things), ("gw-00", &twenty_five[0])),
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
    let mut needs = vec![
        QUOTAS.need("codeartifact.write", 200),
        // The policies' listings; explicit lists are not listed.
        QUOTAS.need("codeartifact.list", 100),
    ];
    needs.extend(iot_needs(500, 20));
    Workload {
        name: "mixed",
        about: "20,000 CodeArtifact versions in 200 packages (100 explicit lists of 100; 100 keep-latest-50 policies over 150 versions) and 500 IoT versions in 20 packages (10 explicit lists of 25 beside a 2.0.0 no request names; 10 keep-latest-5 policies over 30), 220 requests. Things run each explicit package's 2.0.0 and each policy package's newest version; `$package` is indexed and a finished job names a version to delete, so every deleted IoT version is searched and none is protected.",
        seed: State::from_seed(&seed.to_string()).expect("seed"),
        quotas: QUOTAS,
        messages,
        victims,
        needs,
        first: None,
        table: false,
    }
}

/// One keep-latest-2 policy over a repository of 1,000 npm packages of 12
/// versions: the function lists the packages and fans out one policy
/// request per package to the work queue.
pub fn scope() -> Workload {
    let twelve = names(12);
    let mut packages = Vec::new();
    let mut victims = Vec::new();
    for p in 0..1000 {
        let name = format!("lib-{p:04}");
        packages.push(ca_package(&name, &twelve));
        // Published oldest first: the first 10 are the oldest.
        victims.push(Victims::CodeArtifact {
            package: name,
            versions: twelve[..10].to_vec(),
        });
    }
    let mut req = ca_target();
    req["policy"] = json!({"keepLatest": 2});
    let seed = json!({ "codeartifact": ca_seed(packages) });
    Workload {
        name: "scope fan-out",
        about: "10,000 CodeArtifact versions: one keep-latest-2 policy over the repository `acme/releases`, which holds 1,000 npm packages of 12 versions. The function lists the packages (ListPackages) and fans out one policy request per package to the work queue (SendMessageBatch to the bench's SQS endpoint); each lists its package and deletes 10 versions in one call.",
        seed: State::from_seed(&seed.to_string()).expect("seed"),
        quotas: QUOTAS,
        messages: vec![req.to_string()],
        victims,
        needs: vec![
            QUOTAS.need("codeartifact.write", 1000),
            QUOTAS.need("codeartifact.list", 1001),
        ],
        first: None,
        table: false,
    }
}
