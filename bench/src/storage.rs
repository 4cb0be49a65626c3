//! Issue 29's measurement: the scope workload's policy (keep the latest 2
//! of each of 1,000 npm packages of 12 versions in `acme/releases`) with
//! `measureStorage`, beside the same scope without it (the `scope`
//! workload). Each version has one asset of known size; a second
//! repository, `mirror`, holds the two oldest versions of every fourth
//! package, so their bytes are shared.

use packprune_emulator::State;
use serde_json::{json, Value};

use crate::workload::{names, Victims, Workload, QUOTAS};

const PACKAGES: usize = 1000;
/// The versions a keep-latest-2 policy deletes: the 10 oldest of 12.
const OLD: usize = 10;

/// Version `i` of package `p`: published oldest first, with one asset.
fn version(p: usize, i: usize, name: &str) -> Value {
    json!({"version": name, "publishedDaysAgo": (12 - i) as f64,
           "assets": [{"name": "package.tgz", "size": 1000 + 37 * p + i}]})
}

/// The measured scope: every package's 10 oldest versions must go, their
/// assets read first, and the mirror listed once per package.
pub fn workload() -> Workload {
    let twelve = names(12);
    let mut releases = Vec::new();
    let mut mirror = Vec::new();
    let mut victims = Vec::new();
    for p in 0..PACKAGES {
        let name = format!("lib-{p:04}");
        let versions: Vec<Value> = (twelve.iter().enumerate())
            .map(|(i, v)| version(p, i, v))
            .collect();
        if p % 4 == 0 {
            mirror.push(json!({"format": "npm", "package": name, "versions": versions[..2]}));
        }
        releases.push(json!({"format": "npm", "package": name, "versions": versions}));
        victims.push(Victims::CodeArtifact {
            package: name,
            versions: twelve[..OLD].to_vec(),
        });
    }
    let seed = json!({"codeartifact": {"domains": {"acme": {"repositories": {
        "releases": {"packages": releases},
        "mirror": {"packages": mirror}
    }}}}});
    let req = json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
        "format": "npm", "policy": {"keepLatest": 2}, "measureStorage": true});
    Workload {
        name: "scope fan-out, measureStorage",
        about: "The scope fan-out's 1,000 packages with `measureStorage`: before its delete, each package request reads its 10 versions' assets (ListPackageVersionAssets, 200/s) and lists the package in the domain's other repository, `mirror` (ListPackageVersions, sharing the list quota with the package's own listing), which holds the two oldest versions of every fourth package; the domain's repositories are listed once per invocation (ListRepositoriesInDomain). The same scope without `measureStorage` is the table above.",
        seed: State::from_seed(&seed.to_string()).expect("seed"),
        quotas: QUOTAS,
        messages: vec![req.to_string()],
        victims,
        needs: vec![
            QUOTAS.need("codeartifact.write", PACKAGES),
            // The scope's listing, each package's, and each package in `mirror`.
            QUOTAS.need("codeartifact.list", 1 + 2 * PACKAGES),
            QUOTAS.need("codeartifact.assets", PACKAGES * OLD),
        ],
        first: None,
        table: false,
    }
}
