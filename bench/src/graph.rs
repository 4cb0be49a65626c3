//! Who depends on what, for the dependency workloads: npm packages whose
//! versions each declare 1 to 3 dependencies on other packages of the
//! domain (what the emulator's ListPackageVersionDependencies answers), the
//! emulator's seed, and the index items the function must write for them
//! (`src/downloads/dependencies.rs`: the edges, the versions' own items).

use std::collections::BTreeMap;

use packprune_emulator::State;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::dynamodb::Item;

pub const OWNER: &str = "111122223333";
pub const DOMAIN: &str = "acme";
pub const REPOSITORY: &str = "releases";

/// One declared dependency.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The package depended on (an index into the graph's packages).
    pub on: usize,
    pub kind: &'static str,
    pub requirement: String,
}

#[derive(Debug, Clone)]
pub struct Package {
    /// The npm scope, without `@`.
    pub namespace: Option<String>,
    pub name: String,
    /// Oldest first, each with what it declares.
    pub versions: Vec<(String, Vec<Declared>)>,
}

impl Package {
    /// How the function labels a dependent version.
    fn label(&self, version: &str) -> String {
        let name = match &self.namespace {
            Some(ns) => format!("@{ns}/{}", self.name),
            None => self.name.clone(),
        };
        format!("{name}@{version} in {REPOSITORY}")
    }

    fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The `packageKey` of the edges on this package.
    pub fn edges_partition(&self) -> String {
        format!("depends#{OWNER}/{DOMAIN}/npm/{}/{}", self.ns(), self.name)
    }

    fn own_partition(&self) -> String {
        format!(
            "dependent#{OWNER}/{DOMAIN}/{REPOSITORY}/npm/{}/{}",
            self.ns(),
            self.name
        )
    }
}

/// `n` distinct packages other than `of`, at random.
pub fn others(rng: &mut StdRng, of: usize, packages: usize, n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(n);
    while out.len() < n {
        let p = rng.random_range(0..packages);
        if p != of && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// A seeded generator, the same every run.
pub fn rng() -> StdRng {
    StdRng::seed_from_u64(28)
}

/// An npm requirement as package.json files write them, on a package whose
/// versions are `1.<minor>.<patch>`, with minor below `minors`.
pub fn requirement(rng: &mut StdRng, minors: u32) -> String {
    let (minor, patch) = (rng.random_range(0..minors), rng.random_range(0..5));
    match rng.random_range(0..20) {
        0..=8 => format!("^1.{minor}.{patch}"),
        9..=12 => format!("~1.{minor}.{patch}"),
        13..=15 => format!("1.{minor}.{patch}"),
        16..=17 => format!(">=1.{minor}.0 <2.0.0"),
        _ => format!("1.{minor}.x"),
    }
}

/// A dependency type, as npm's are spread: mostly regular.
pub fn kind(rng: &mut StdRng) -> &'static str {
    match rng.random_range(0..20) {
        0..=13 => "regular",
        14..=17 => "dev",
        18 => "peer",
        _ => "optional",
    }
}

/// The emulator's seed: the packages in `acme/releases`, published oldest
/// first, a day apart.
pub fn seed(packages: &[Package]) -> State {
    let listed: Vec<Value> = packages
        .iter()
        .map(|p| {
            let n = p.versions.len();
            let versions: Vec<Value> = (p.versions.iter().enumerate())
                .map(|(i, (v, declared))| {
                    let deps: Vec<Value> =
                        declared.iter().map(|d| dependency(packages, d)).collect();
                    json!({"version": v, "publishedDaysAgo": (n - i) as f64, "dependencies": deps})
                })
                .collect();
            let mut pkg = json!({"format": "npm", "package": p.name, "versions": versions});
            if let Some(ns) = &p.namespace {
                pkg["namespace"] = json!(ns);
            }
            pkg
        })
        .collect();
    let seed = json!({"codeartifact": {"domains": {DOMAIN: {"repositories": {REPOSITORY: {"packages": listed}}}}}});
    State::from_seed(&seed.to_string()).expect("seed")
}

fn dependency(packages: &[Package], d: &Declared) -> Value {
    let on = &packages[d.on];
    let mut v =
        json!({"package": on.name, "dependencyType": d.kind, "versionRequirement": d.requirement});
    if let Some(ns) = &on.namespace {
        v["namespace"] = json!(ns);
    }
    v
}

fn s(v: &str) -> Value {
    json!({ "S": v })
}

/// The index's items the function must write for these packages (every
/// version present): `(packageKey, version)` → the whole item.
pub fn expected(packages: &[Package]) -> BTreeMap<(String, String), Item> {
    let mut out = BTreeMap::new();
    for p in packages {
        for (v, declared) in &p.versions {
            let sk = format!("{REPOSITORY}/{}/{}/{v}", p.ns(), p.name);
            let mut on: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for d in declared {
                let req = json!({"M": {"dependencyType": s(d.kind), "versionRequirement": s(&d.requirement)}});
                on.entry(packages[d.on].edges_partition())
                    .or_default()
                    .push(req);
            }
            for (pk, reqs) in &on {
                let edge = json!({"packageKey": s(pk), "version": s(&sk), "dependent": s(&p.label(v)),
                    "dependentVersion": s(v), "requirements": {"L": reqs}});
                out.insert((pk.clone(), sk.clone()), as_item(edge));
            }
            let depends_on: Vec<Value> = on.keys().map(|k| s(k)).collect();
            let own = json!({"packageKey": s(&p.own_partition()), "version": s(v), "dependsOn": {"L": depends_on}});
            out.insert((p.own_partition(), v.clone()), as_item(own));
        }
    }
    out
}

fn as_item(v: Value) -> Item {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("an object"),
    }
}

/// How the table's index compares with what was expected.
#[derive(Debug, Clone, Default)]
pub struct Check {
    pub expected: usize,
    /// Expected items present exactly as expected.
    pub found: usize,
    pub missing: usize,
    /// Present under an expected key, but not as expected.
    pub different: usize,
    /// Index items nobody expected.
    pub unexpected: usize,
    pub edges: usize,
}

/// Compares the table's index items (`depends#`, `dependent#`) with the
/// expected ones.
pub fn check(expected: &BTreeMap<(String, String), Item>, items: &[Item]) -> Check {
    let key = |i: &Item, n: &str| {
        i.get(n)
            .and_then(|a| a["S"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let index: BTreeMap<(String, String), &Item> = items
        .iter()
        .map(|i| ((key(i, "packageKey"), key(i, "version")), i))
        .filter(|((pk, _), _)| pk.starts_with("depends#") || pk.starts_with("dependent#"))
        .collect();
    let mut c = Check {
        expected: expected.len(),
        edges: expected
            .keys()
            .filter(|(pk, _)| pk.starts_with("depends#"))
            .count(),
        ..Check::default()
    };
    for (k, want) in expected {
        match index.get(k) {
            Some(have) if *have == want => c.found += 1,
            Some(_) => c.different += 1,
            None => c.missing += 1,
        }
    }
    c.unexpected = index.keys().filter(|k| !expected.contains_key(*k)).count();
    c
}

impl Check {
    pub fn complete(&self) -> bool {
        self.found == self.expected && self.unexpected == 0
    }
}
