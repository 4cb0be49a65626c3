//! Issue 28's second measurement: the scope workload's policy (keep the
//! latest 2 of each of 1,000 npm packages of 12 versions in
//! `acme/releases`) with `protectDependencies`, beside the same policy
//! without it. The domain is indexed first, by the function's own backfill
//! (run once on the stand-in, untimed); its items are then loaded into each
//! run's table before the run. In 250 packages the newest version pins an
//! old version of another package (a `regular` dependency on an exact
//! version), so the guard keeps 250 versions the policy would delete; every
//! other requirement (`^1.0.0`, or an exact version as a `dev`
//! dependency) keeps nothing beyond the latest 2.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use rand::Rng;
use serde_json::json;

use crate::backfill::{self, BackfillRun};
use crate::dynamodb::Item;
use crate::graph::{self, Declared, Package};
use crate::run::Run;
use crate::table::{Kind, Table};
use crate::workload::{names, Victims, Workload, QUOTAS};

const PACKAGES: usize = 1000;
/// The versions a keep-latest-2 policy deletes: the 10 oldest of 12.
const OLD: usize = 10;

/// The package whose old version `p`'s newest version pins, if it pins one.
fn pin(p: usize) -> Option<(usize, String)> {
    // 7p + 13 is never p modulo 1,000 (6p is even, -13 is odd).
    p.is_multiple_of(4)
        .then(|| ((p * 7 + 13) % PACKAGES, format!("1.0.{}", (p / 4) % OLD)))
}

/// The scope workload's packages (`lib-0000` …, versions `1.0.0` to
/// `1.0.11`), each version declaring 1 to 3 dependencies.
pub fn packages() -> Vec<Package> {
    let mut rng = graph::rng();
    let twelve = names(12);
    (0..PACKAGES)
        .map(|p| {
            let versions = twelve
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let n = rng.random_range(1..=3);
                    let pinned = pin(p).filter(|_| i == twelve.len() - 1);
                    let mut on = graph::others(&mut rng, p, PACKAGES, n);
                    let mut declared: Vec<Declared> = Vec::new();
                    if let Some((target, version)) = &pinned {
                        on.retain(|o| o != target);
                        on.truncate(n - 1);
                        declared.push(Declared {
                            on: *target,
                            kind: "regular",
                            requirement: version.clone(),
                        });
                    }
                    for o in on {
                        let kind = graph::kind(&mut rng);
                        let requirement = match kind {
                            "dev" => format!("1.0.{}", rng.random_range(0..12)),
                            _ => "^1.0.0".to_owned(),
                        };
                        declared.push(Declared {
                            on: o,
                            kind,
                            requirement,
                        });
                    }
                    (v.clone(), declared)
                })
                .collect();
            Package {
                namespace: None,
                name: format!("lib-{p:04}"),
                versions,
            }
        })
        .collect()
}

/// The versions the guard must keep: package → version.
pub fn pinned() -> BTreeSet<(String, String)> {
    (0..PACKAGES)
        .filter_map(pin)
        .map(|(p, v)| (format!("lib-{p:04}"), v))
        .collect()
}

/// The policy over the scope, with `protectDependencies` or without it.
pub fn workload(packages: &[Package], protect: bool) -> Workload {
    let kept = if protect { pinned() } else { BTreeSet::new() };
    let twelve = names(12);
    let victims = packages
        .iter()
        .map(|p| Victims::CodeArtifact {
            package: p.name.clone(),
            versions: (twelve[..OLD].iter())
                .filter(|v| !kept.contains(&(p.name.clone(), (*v).clone())))
                .cloned()
                .collect(),
        })
        .collect();
    let mut policy = json!({"keepLatest": 2});
    if protect {
        policy["protectDependencies"] = json!(true);
    }
    let req = json!({"service": "codeartifact", "domain": graph::DOMAIN, "repository": graph::REPOSITORY, "format": "npm", "policy": policy});
    Workload {
        name: if protect {
            "scope, protectDependencies"
        } else {
            "scope, without protectDependencies"
        },
        about: "",
        seed: graph::seed(packages),
        quotas: QUOTAS,
        messages: vec![req.to_string()],
        victims,
        needs: vec![
            QUOTAS.need("codeartifact.write", PACKAGES),
            QUOTAS.need("codeartifact.list", PACKAGES + 1),
        ],
        first: None,
        table: true,
    }
}

/// The domain's index, made by the function's own backfill (10
/// invocations at once, on the stand-in) and checked whole: its items
/// (edges, versions' own items, the domain's marker), and the run.
pub async fn index(packages: &[Package]) -> Result<(Vec<Item>, BackfillRun)> {
    let w = backfill::workload(packages);
    let expected = graph::expected(packages);
    let (run, items) = backfill::run(&w, &expected, 10, Kind::StandIn).await?;
    if !run.check.complete() || run.marked.is_err() {
        bail!(
            "the backfill of the scope's domain did not index it whole: {:?}",
            run.check
        );
    }
    let index = items
        .into_iter()
        .filter(|i| {
            let pk = i
                .get("packageKey")
                .and_then(|a| a["S"].as_str())
                .unwrap_or("");
            ["depends#", "dependent#", "domain#"]
                .iter()
                .any(|p| pk.starts_with(p))
        })
        .collect();
    Ok((index, run))
}

/// One policy run.
#[derive(Debug, Clone)]
pub struct ProtectedRun {
    pub run: Run,
    pub protect: bool,
    /// The table, if any: `None` runs without `DOWNLOADS_TABLE`.
    pub table: Option<Kind>,
    pub dynamodb: BTreeMap<String, u64>,
}

impl ProtectedRun {
    /// The run's name in the report.
    pub fn variant(&self) -> String {
        let policy = if self.protect {
            "`protectDependencies`"
        } else {
            "without `protectDependencies`"
        };
        match self.table {
            None => format!("{policy}, no table"),
            Some(k) => format!("{policy}, {}", k.label()),
        }
    }
}

/// The policy with `concurrent` invocations at once; the table (loaded
/// with `index`) on `kind`, or none.
pub async fn run(
    w: &Workload,
    concurrent: u32,
    kind: Option<Kind>,
    index: &[Item],
) -> Result<ProtectedRun> {
    let table = match kind {
        Some(k) => {
            let t = Table::start(k).await?;
            t.load(index.to_vec()).await?;
            t.reset_calls();
            Some(t)
        }
        None => None,
    };
    let env = table.as_ref().map_or_else(Vec::new, Table::env);
    let named = Workload {
        name: run_name(w.name, kind),
        ..w.clone()
    };
    let mut run = crate::run_with(&named, concurrent, &env).await?;
    run.workload = w.name;
    let dynamodb = match &table {
        Some(t) => {
            t.keep_log(&format!("{} {}", named.name, run.who));
            t.check()?;
            t.calls()
        }
        None => BTreeMap::new(),
    };
    Ok(ProtectedRun {
        run,
        protect: w.messages[0].contains("protectDependencies"),
        table: kind,
        dynamodb,
    })
}

/// The run's name for its logs: the table in it.
fn run_name(name: &'static str, kind: Option<Kind>) -> &'static str {
    match (
        name.contains("protectDependencies") && !name.contains("without"),
        kind,
    ) {
        (true, Some(Kind::StandIn)) => "protected stand-in",
        (true, Some(Kind::Moto)) => "protected moto",
        (true, None) => "protected no-table",
        (false, Some(Kind::StandIn)) => "unprotected stand-in",
        (false, Some(Kind::Moto)) => "unprotected moto",
        (false, None) => "unprotected no-table",
    }
}
