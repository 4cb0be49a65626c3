//! Issue 28's backfill: `indexDependencies` over a domain of 1,000 npm
//! packages of 20 versions, each version declaring 1 to 3 dependencies on
//! other packages of the domain. Measured until the domain's marker
//! (`dependenciesIndexed`) is written; then every expected index item is
//! looked for in the table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use rand::Rng;
use serde_json::json;

use crate::dynamodb::Item;
use crate::fleet::{self, Fleet, RUN_LIMIT};
use crate::graph::{self, Check, Declared, Package, DOMAIN, OWNER};
use crate::run::count_calls;
use crate::runtime_api::Delivered;
use crate::table::{Kind, Table};
use crate::workload::{Workload, QUOTAS};

pub const PACKAGES: usize = 1000;
pub const VERSIONS: usize = 20;
/// The domain marker's key (`src/downloads/backfill.rs`).
pub const INDEXED: &str = "dependenciesIndexed";

pub fn marker_partition() -> String {
    format!("domain#{OWNER}/{DOMAIN}")
}

/// 1,000 packages (the first 500 in the npm scope `@acme`), versions
/// `1.0.0` to `1.1.9`, each declaring 1 to 3 dependencies on others.
pub fn packages() -> Vec<Package> {
    let mut rng = graph::rng();
    (0..PACKAGES)
        .map(|p| {
            let versions = (0..VERSIONS)
                .map(|i| {
                    let n = rng.random_range(1..=3);
                    let declared = graph::others(&mut rng, p, PACKAGES, n)
                        .into_iter()
                        .map(|on| Declared {
                            on,
                            kind: graph::kind(&mut rng),
                            requirement: graph::requirement(&mut rng, 2),
                        })
                        .collect();
                    (format!("1.{}.{}", i / 10, i % 10), declared)
                })
                .collect();
            Package {
                namespace: (p < PACKAGES / 2).then(|| "acme".to_owned()),
                name: format!("pkg-{p:04}"),
                versions,
            }
        })
        .collect()
}

/// The backfill request, and what it needs at the least.
pub fn workload(packages: &[Package]) -> Workload {
    let versions = packages.iter().map(|p| p.versions.len()).sum::<usize>();
    Workload {
        name: "dependency backfill",
        about: "",
        seed: graph::seed(packages),
        quotas: QUOTAS,
        messages: vec![
            json!({"service": "codeartifact", "domain": DOMAIN, "indexDependencies": true})
                .to_string(),
        ],
        victims: Vec::new(),
        // A ListPackageVersionDependencies per version and the
        // ListRepositoriesInDomain; a ListPackageVersions per package and
        // the ListPackages.
        needs: vec![
            QUOTAS.need("codeartifact.read", versions + 1),
            QUOTAS.need("codeartifact.list", packages.len() + 1),
        ],
        first: None,
        table: true,
    }
}

/// What one backfill run measured.
#[derive(Debug, Clone)]
pub struct BackfillRun {
    pub who: String,
    pub table: Kind,
    pub versions: usize,
    /// Parts recorded done (of one per package).
    pub parts_done: usize,
    /// Seconds from the request on the queue to the marker in the table,
    /// or why the run was stopped before it.
    pub marked: Result<f64, String>,
    /// Seconds to the last acknowledgement (or to the stop).
    pub drained: f64,
    pub bound: f64,
    pub bound_by: String,
    /// CodeArtifact calls by operation (throttled ones included).
    pub codeartifact: BTreeMap<String, usize>,
    pub throttles: usize,
    pub dynamodb: BTreeMap<String, u64>,
    pub check: Check,
    /// What the event source saw, once drained (not for a stopped run).
    pub delivered: Option<Delivered>,
    pub peak_rss_kib: Option<u64>,
    /// moto's resident set at the end (KiB).
    pub table_rss_kib: Option<u64>,
}

impl BackfillRun {
    pub fn ratio(&self) -> Option<f64> {
        self.marked.as_ref().ok().map(|m| self.bound / m)
    }

    pub fn codeartifact_calls(&self) -> usize {
        self.codeartifact.values().sum()
    }

    pub fn dynamodb_calls(&self) -> u64 {
        self.dynamodb.values().sum()
    }
}

/// How long moto may take, and how large it may grow, before the run on it
/// is stopped: its Query walks every item of the table, so each part's
/// count of the parts done costs more than the last, and moto's memory is
/// the machine's.
pub const MOTO_LIMIT: Duration = Duration::from_secs(300);
pub const MOTO_RSS_LIMIT_KIB: u64 = 4 << 20;

/// Polls the table for the domain's marker: the seconds since `start`, or
/// why the run was stopped first.
async fn marker(table: &Table, start: Instant, kind: Kind) -> Result<Result<f64, String>> {
    // moto answers the bench's polls in the same Python process as the
    // function's calls: a poll every 200 ms there, every 5 ms here.
    let (every, limit) = match kind {
        Kind::StandIn => (Duration::from_millis(5), RUN_LIMIT),
        Kind::Moto => (Duration::from_millis(200), MOTO_LIMIT),
    };
    loop {
        let item = table.get(&marker_partition(), INDEXED).await?;
        let t = start.elapsed();
        if item.is_some_and(|i| i.contains_key("at")) {
            return Ok(Ok(t.as_secs_f64()));
        }
        if t > limit {
            return Ok(Err(format!("stopped at {:.0} s", t.as_secs_f64())));
        }
        if table
            .server_rss_kib()
            .is_some_and(|k| k > MOTO_RSS_LIMIT_KIB)
        {
            return Ok(Err(format!(
                "stopped at {:.0} s, moto's RSS over {} GiB",
                t.as_secs_f64(),
                MOTO_RSS_LIMIT_KIB >> 20
            )));
        }
        tokio::time::sleep(every).await;
    }
}

/// One backfill with `concurrent` invocations at once, the table on
/// `kind`. Returns the run and the table's items after it.
pub async fn run(
    w: &Workload,
    expected: &BTreeMap<(String, String), Item>,
    concurrent: u32,
    kind: Kind,
) -> Result<(BackfillRun, Vec<Item>)> {
    let table = Table::start(kind).await?;
    let name = format!("{} {}", w.name, file_kind(kind));
    let mut fleet = Fleet::start(w, &name, concurrent, &table.env()).await?;
    table.reset_calls();
    let start = Instant::now();
    fleet.source.send(w.messages.iter().cloned());
    let marked = marker(&table, start, kind).await?;
    let delivered = match marked {
        Ok(_) => Some(fleet.drained().await?),
        Err(_) => None,
    };
    let wall = start.elapsed().as_secs_f64();
    let peak_rss_kib = fleet.peak_rss_kib();
    let table_rss_kib = table.server_rss_kib();
    fleet.stop().await;
    table.check()?;
    let dynamodb = table.calls();
    let items = table.items().await?;
    let who = fleet::who(concurrent);
    table.keep_log(&format!("{name} {who}"));
    let (_, throttles) = count_calls(&fleet.emulator, &format!("{name} {who}"));
    let mut codeartifact = BTreeMap::new();
    for c in &fleet.emulator.shared.calls() {
        *codeartifact.entry(c.operation.clone()).or_default() += 1;
    }
    let run = BackfillRun {
        who,
        table: kind,
        versions: w.needs[0].calls - 1,
        parts_done: parts_done(&items),
        marked,
        drained: wall,
        bound: w.bound_secs(),
        bound_by: w.bound_label(),
        codeartifact,
        throttles,
        dynamodb,
        check: graph::check(expected, &items),
        delivered,
        peak_rss_kib,
        table_rss_kib,
    };
    Ok((run, items))
}

/// The parts a backfill recorded done (`backfill#…`, `part#…`).
fn parts_done(items: &[Item]) -> usize {
    let s = |i: &Item, n: &str| {
        i.get(n)
            .and_then(|a| a["S"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    (items.iter())
        .filter(|i| {
            s(i, "packageKey").starts_with("backfill#") && s(i, "version").starts_with("part#")
        })
        .count()
}

/// A table kind in a log file's name.
pub fn file_kind(kind: Kind) -> &'static str {
    match kind {
        Kind::StandIn => "stand-in",
        Kind::Moto => "moto",
    }
}

impl BackfillRun {
    pub fn say(&self) {
        eprintln!(
            "  marker at {} s (bound {:.1} s), drained {:.1} s; {} parts; {} CodeArtifact calls ({} throttled), {} DynamoDB calls; index {}/{} ({} missing, {} different, {} unexpected); {:?}",
            self.marked.as_ref().map_or_else(|e| e.clone(), |m| format!("{m:.1}")),
            self.bound,
            self.drained,
            self.parts_done,
            self.codeartifact_calls(),
            self.throttles,
            self.dynamodb_calls(),
            self.check.found,
            self.check.expected,
            self.check.missing,
            self.check.different,
            self.check.unexpected,
            self.delivered,
        );
    }
}
